"""``kam-anki pull`` of the Markdown people write (issue 21's dialect): a formula, a table and
highlighted code edited in Anki come back as Markdown the build renders to what the learner
sees, through the official Anki engine."""

from __future__ import annotations

from pathlib import Path

from anki_helpers import import_apkg, notes_by_source, open_collection
from helpers import RunBuild, kam
from test_pull import changed_lines, export

RICH = """
## Formeln und Tabellen {#rich}

Umsatz $U = p \\cdot x_{1}$ und Menge $x$.

$$
\\sum_{i=1}^{n} \\{a_i\\} \\\\ b*c
$$

| Kunde | Umsatz |
| :-- | --: |
| A [x] | 10 $ |

```python
def umsatz(p, x):
    return p * x
```
"""


def test_a_formula_a_table_cell_and_code_edited_in_anki_come_back_as_markdown(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    chapter = content / "key-account-management.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + RICH, encoding="utf-8")
    build()
    desktop = open_collection(tmp_path / "desktop.anki2")
    import_apkg(desktop, tmp_path / "kam.apkg")
    note = notes_by_source(desktop)["rich"]
    answer = note["Antwort"]
    assert "\\(U = p \\cdot x_{1}\\)" in answer and "<table>" in answer
    assert '<span class="k">def</span>' in answer  # highlighted
    # The learner: a formula's LaTeX, a table cell, a word of the code (inside Pygments'
    # spans, as the editor keeps them).
    for old, new in [
        ("x_{1}", "x_{2}"),
        (">10 $<", ">12 $<"),
        ('<span class="nf">umsatz</span>', '<span class="nf">erloes</span>'),
    ]:
        assert answer.count(old) == 1
        answer = answer.replace(old, new)
    note["Antwort"] = answer
    desktop.update_note(note)
    source = export(desktop, tmp_path / "export.apkg")
    desktop.close()
    original = chapter.read_text(encoding="utf-8")

    result = kam(["pull", "--content", str(content), "-o", str(tmp_path / "kam.apkg"), str(source)])
    assert result.exit_code == 0, result.output
    assert "pulled: rich: answer as the learner wrote it" in result.output
    pulled = chapter.read_text(encoding="utf-8")
    # Only those lines; the author's other "$x$", the display math and the code's language
    # stay as written.
    assert changed_lines(original, pulled) == [
        ("Umsatz $U = p \\cdot x_{1}$ und Menge $x$.",
         "Umsatz \\(U = p \\cdot x_{2}\\) und Menge \\(x\\)."),
        ("| A [x] | 10 $ |", "| A \\[x] | 12 \\$ |"),
        ("def umsatz(p, x):", "def erloes(p, x):"),
    ]  # fmt: skip
    again = build()
    assert "1 changed" in again.output
    assert (
        "0 pulled"
        in kam(
            ["pull", "--content", str(content), "-o", str(tmp_path / "kam.apkg"), str(source)]
        ).output
    )
