"""What a Markdown reader sees is what Anki gets: CommonMark decides which lines are cards."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from anki_helpers import import_apkg, open_collection
from helpers import kam


def small_deck(tmp_path: Path, markdown: str, *, allow_html: bool = False) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    (content / "deck.toml").write_text(
        f'name = "T"\ndeck_id = 11\nnotetype_id = 12\nallow_html = {str(allow_html).lower()}\n',
        encoding="utf-8",
    )
    (content / "k.md").write_text(markdown, encoding="utf-8")
    return content


def build(content: Path, apkg: Path) -> Result:
    return kam(["build", "--content", str(content), "-o", str(apkg)])


def fields_in_anki(tmp_path: Path, apkg: Path) -> dict[str, list[str]]:
    """Every note's fields after an import, by card id."""
    col = open_collection(tmp_path / "desktop.anki2")
    try:
        log = import_apkg(col, apkg)
        assert not log.conflicting and not log.other
        notes = [col.get_note(note_id) for note_id in col.find_notes("")]
        return {note["Quelle"].split("#", 1)[1]: list(note.fields) for note in notes}
    finally:
        col.close()


def test_a_fence_opened_in_a_list_item_ends_with_it_and_the_next_card_arrives(
    tmp_path: Path,
) -> None:
    content = small_deck(
        tmp_path,
        "# K\n\n## Liste {#liste}\n\n- Punkt\n  ```\n  code\n## Danach {#danach}\n\n- a\n",
    )
    result = build(content, tmp_path / "k.apkg")
    assert result.exit_code == 0, result.output
    assert "2 cards: 2 added" in result.output
    notes = fields_in_anki(tmp_path, tmp_path / "k.apkg")
    assert sorted(notes) == ["danach", "liste"]
    assert notes["liste"][1] == "<ul>\n<li>Punkt<pre><code>code</code></pre>\n</li>\n</ul>\n"
    assert notes["danach"][1] == "<ul>\n<li>a</li>\n</ul>\n"


COMMENTED = (
    "# K\n\n## Eins {#eins}\n\n- a\n\n<!--\n## Zwei {#zwei}\n\n- b\n-->\n\n"
    "## Drei <!-- still --> {#drei}\n\n- c <!-- leise --> d\n"
)


@pytest.mark.parametrize("allow_html", [False, True], ids=["html-off", "html-on"])
def test_a_card_inside_an_html_comment_is_reported_and_not_shipped(
    tmp_path: Path, allow_html: bool
) -> None:
    content = small_deck(tmp_path, COMMENTED, allow_html=allow_html)
    result = build(content, tmp_path / "k.apkg")
    assert result.exit_code == 0, result.output
    path = (content / "k.md").as_posix()
    assert (
        f"{path}:8: warning: card 'zwei' is commented out (inside <!-- -->): not in the deck"
        in result.output
    )
    assert "2 cards: 2 added" in result.output
    notes = fields_in_anki(tmp_path, tmp_path / "k.apkg")
    assert sorted(notes) == ["drei", "eins"]
    for fields in notes.values():
        for field in fields:
            assert "<!--" not in field and "&lt;!--" not in field
            assert not {"Zwei", "still", "leise"} & set(field.split()), field
    assert notes["eins"][1] == "<ul>\n<li>a</li>\n</ul>\n"
    assert notes["drei"][1] == "<ul>\n<li>c  d</li>\n</ul>\n"


def test_a_comment_gives_no_raw_html_warning_and_check_reports_the_commented_card(
    tmp_path: Path,
) -> None:
    content = small_deck(tmp_path, COMMENTED)
    result = kam(["check", "--strict", "--content", str(content)])
    path = (content / "k.md").as_posix()
    assert result.exit_code == 1  # the warning counts under --strict
    assert result.output.count("warning:") == 1
    assert f"{path}:8: warning: card 'zwei' is commented out" in result.output
