"""Tables, math and highlighted code, from the Markdown to the note in Anki's own engine."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anki_helpers import import_apkg, notetype_css, open_collection
from helpers import RunBuild, examples, kam
from kam_anki.render import render_answer, render_question
from rich_card import CARD_ID, CODE, DISPLAY_TEX, INLINE_TEX, MARKDOWN, TABLE_TEX

_INLINE = re.compile(r"\\\((.*?)\\\)", re.DOTALL)
_DISPLAY = re.compile(r"\\\[(.*?)\\\]", re.DOTALL)


def formulas(field: str) -> tuple[list[str], list[str]]:
    """The LaTeX inside Anki's inline and display delimiters, as MathJax reads it (the web
    view decodes the entities before MathJax sees the text)."""
    shown = re.sub(r"<(style|script)>.*?</\1>", "", field, flags=re.DOTALL)  # MathJax skips them
    text = html.unescape(re.sub(r"<[^>]+>", "", shown))
    return _INLINE.findall(text), _DISPLAY.findall(text)


def test_table_math_and_code_arrive_in_anki_intact(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    (content / "formeln.md").write_text(MARKDOWN, encoding="utf-8")
    build()
    col = open_collection(tmp_path / "desktop.anki2")
    try:
        import_apkg(col, tmp_path / "kam.apkg")
        (note_id,) = col.find_notes(f"Quelle:formeln.md#{CARD_ID}")
        note = col.get_note(note_id)
        for shown in (str(note["Antwort"]), note.cards()[0].answer()):
            assert "<table>" in shown and shown.count("<tr>") == 3
            assert '<th style="text-align:right">Varianz</th>' in shown
            inline, display = formulas(shown)
            assert inline == [INLINE_TEX, *TABLE_TEX]
            assert display == [DISPLAY_TEX]
            assert '<code class="language-python"><span class="k">def</span>' in shown
            assert '<span class="nf">dichte</span>' in shown
            assert '<span class="c1"># "Glocke"</span>' in shown
            assert "Preis: $5 und $10, im Code <code>$x$</code>." in shown
        css = notetype_css(col, note.mid)
        assert ".antwort pre .k," in css and "--hl-keyword" in css
        assert "overflow-x: auto" in css.split(".antwort table {", 1)[1].split("}", 1)[0]
    finally:
        col.close()


@pytest.mark.parametrize(
    ("markdown", "tex", "display"),
    [
        (r"a $\{x\}_1 \\ y*z*$ b", r"\{x\}_1 \\ y*z*", False),
        (r"a \(\{x\}_1 \\ y_z_\) b", r"\{x\}_1 \\ y_z_", False),
        (r"a $$\sum_{i} x_i^*$$ b", r"\sum_{i} x_i^*", True),
        ("\\[\n\\frac{a}{b} \\\\ \\_\n\\]", "\n\\frac{a}{b} \\\\ \\_\n", True),
        ("- item $x_1 * y_1$", "x_1 * y_1", False),
        ("> $$\n> a & b < c\n> $$", "\na & b < c\n", True),
    ],
)
def test_latex_is_kept_byte_for_byte_inside_anki_delimiters(
    markdown: str, tex: str, display: bool
) -> None:
    inline, shown_display = formulas(render_answer(markdown).html)
    assert (shown_display if display else inline) == [tex]


def test_math_in_the_question_becomes_anki_math_too() -> None:
    assert (
        render_question(r"Was ist $\{x_1\}$?") == r'Was ist <span class="math">\(\{x_1\}\)</span>?'
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "Es kostet $5 und $10.",
        "Preis $ 5 $ netto",
        "im Code `$x$` und `\\(y\\)`",
        "```\n$x$ und $$y$$\n```",
        "ein \\$ und noch ein \\$",
        "$10, oder `$x$`",
    ],
)
def test_a_dollar_in_prose_or_code_stays_a_dollar(markdown: str) -> None:
    answer = render_answer(markdown)
    assert 'class="math' not in answer.html
    assert "$" in answer.html
    assert answer.math == ()


def test_fences_without_a_known_language_stay_as_they_were() -> None:
    plain = render_answer("```\n<b>x</b>\n```").html
    unknown = render_answer("```keine-sprache\n<b>x</b>\n```").html
    assert plain == "<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>\n"
    assert (
        unknown == '<pre><code class="language-keine-sprache">&lt;b&gt;x&lt;/b&gt;\n</code></pre>\n'
    )


def test_highlighted_code_keeps_every_character_of_the_code() -> None:
    fenced = f"```python\n\n{CODE}\n```"
    shown = render_answer(fenced).html
    inner = shown.split('<code class="language-python">', 1)[1].split("</code>", 1)[0]
    assert html.unescape(re.sub(r"<[^>]+>", "", inner)) == f"\n{CODE}\n"


def test_math_that_cannot_be_typeset_is_a_warning_with_its_line(content: Path) -> None:
    (content / "formeln.md").write_text(
        "# Formeln\n\n## Eins $\\frac{1}{2$ {#eins}\n\nText\n\n"
        "## Zwei {#zwei}\n\nOffen \\(x + y\n\nund $$z\n\n"
        "\\[\n\\begin{aligned} a \\end{align}\n\\]\n\n$\\left( x$ gut $y$\n",
        encoding="utf-8",
    )
    result = kam(["check", "--strict", "--content", str(content)])
    assert result.exit_code == 1
    where = f"{content.as_posix()}/formeln.md"
    lines = [line for line in result.output.splitlines() if "formeln.md" in line]
    assert lines == [
        f"{where}:3: warning: in the question: math '\\frac{{1}}{{2': '{{' never closed "
        "with '}': MathJax cannot typeset it",
        f"{where}:9: warning: '\\(' opens math that is never closed with '\\)' "
        "(the card shows the text, not a formula)",
        f"{where}:11: warning: '$$' opens display math that is never closed with '$$' "
        "(the card shows the text, not a formula)",
        f"{where}:13: warning: math '\\begin{{aligned}} a \\end{{align}}': '\\end{{align}}' "
        "without its '\\begin': MathJax cannot typeset it",
        f"{where}:17: warning: math '\\left( x': '\\left' and '\\right' do not pair up: "
        "MathJax cannot typeset it",
    ]


def test_anki_closing_delimiter_inside_math_is_a_warning_and_a_latex_break_is_not() -> None:
    """``$a \\) b$`` is stored as ``\\(a \\) b\\)``: MathJax would end the formula early."""
    found = render_answer("$0 \\) x$ und $$a \\] b$$ und $y \\\\)$").math
    assert found == (
        (1, "math '0 \\) x': '\\)' inside ends the formula early: MathJax cannot typeset it"),
        (1, "math 'a \\] b': '\\]' inside ends the formula early: MathJax cannot typeset it"),
    )


def test_a_card_heading_inside_display_math_is_an_error(content: Path) -> None:
    (content / "formeln.md").write_text(
        "# Formeln\n\n## Eins {#eins}\n\n$$\nx\n## Zwei {#zwei}\n$$\n", encoding="utf-8"
    )
    result = kam(["check", "--content", str(content)])
    assert result.exit_code == 1
    assert (
        "formeln.md:7: error: heading with id 'zwei' is not a card: it is inside the math "
        "opened with '$$' at line 5 (close it with '$$' first)"
    ) in result.output


def test_the_preview_marks_math_as_latex_for_anki(content: Path, tmp_path: Path) -> None:
    (content / "formeln.md").write_text(MARKDOWN, encoding="utf-8")
    page = tmp_path / "preview.html"
    result = kam(["preview", "--content", str(content), "-o", str(page)])
    assert result.exit_code == 0, result.output
    shown = page.read_text(encoding="utf-8")
    assert '.pv .math::before { content: "TeX "' in shown
    assert html.escape(r'<span class="math">\(\mu\)</span>') in shown


# Math, table and code markers mixed with text: no letter may vanish from the card, inside
# math or out (MathJax gets the math's letters, the reader the rest).
_PIECES = st.sampled_from(
    [
        *("$", "$$", "\\(", "\\)", "\\[", "\\]", "\\", "a", "b", " ", "\n", "\n\n", "`"),
        *("{", "}", "|", "| --- |", "-", "*", "_", "```python\n", "\n```\n", "> ", "1. ", "&", "<"),
    ]
)


@settings(max_examples=examples(1500), deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_no_letter_of_the_markdown_vanishes_with_math_tables_and_code(markdown: str) -> None:
    shown = render_answer(markdown).html
    text = html.unescape(re.sub(r"<[^>]+>", "", shown))
    assert Counter(text)["a"] == Counter(markdown)["a"]
    assert Counter(text)["b"] == Counter(markdown)["b"]


@pytest.mark.parametrize("line", ["$$a", "\\[a", "\\(a ", "$a ", "$$a$$ $$", "| a | b |"], ids=repr)
def test_thousands_of_unclosed_delimiters_stay_text(line: str) -> None:
    """Huge input made of delimiters that never close: every one stays on the card as text
    (and the rules look ahead a bounded distance: this runs in well under a second)."""
    markdown = "\n".join([line] * 5000) + "\n"
    answer = render_answer(markdown)
    text = html.unescape(re.sub(r"<[^>]+>", "", answer.html))
    assert Counter(text)["a"] == 5000


@pytest.mark.parametrize(
    "markdown", ["\\\\(x\\\\) und \\\\[y\\\\]", "&#92;(x&#92;) und &#92;[y&#92;]"]
)
def test_a_delimiter_written_as_text_is_no_math_for_mathjax(markdown: str) -> None:
    """MathJax would typeset any '\\(' in the card's text: one written as text (an escaped
    backslash, an entity) is split by an empty element, which ends MathJax's search there."""
    shown = render_answer(markdown).html
    split = "\\<span></span>"
    assert shown == f"<p>{split}(x{split}) und {split}[y{split}]</p>\n"
    assert 'class="math' not in shown


@pytest.mark.parametrize(
    "markdown",
    [
        "$\\href{javascript:alert(1)}{x}$",
        "\\(\\href{ Java\tScript:alert(1)}{x}\\)",
        "$$\n\\url{data:text/html,<b>}\n$$",
    ],
)
def test_math_with_a_link_to_a_script_stays_text(markdown: str) -> None:
    """MathJax turns \\href into a live link: one to a script stays text, as raw HTML does."""
    answer = render_answer(markdown)
    assert 'class="math' not in answer.html
    assert "href" in answer.html or "url" in answer.html
    assert any("a link to a script in math" in problem for _, problem in answer.math)
    assert render_answer("$\\href{https://example.org}{x}$").math == ()
