"""``kam-anki ids``: readable, unique ids; every other byte of the file stays as it was."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kam_anki.characters import decode
from kam_anki.headings import CARD_ID
from kam_anki.ids import add_ids, slugify
from kam_anki.model import SourceFile
from kam_anki.parse import parse_file


def test_slug_is_readable_german() -> None:
    assert slugify("Ziele des KAM? (5)") == "ziele-des-kam-5"
    assert slugify("Größe & Übersicht") == "groesse-uebersicht"
    assert slugify("???") == "karte"


def test_ids_are_unique_against_taken_and_each_other() -> None:
    text = "# K\n\n## Frage\n\na\n\n## Frage\n\nb\n"
    new, added = add_ids(text, {"frage"})
    assert added == ["frage-2", "frage-3"]
    assert new == "# K\n\n## Frage {#frage-2}\n\na\n\n## Frage {#frage-3}\n\nb\n"


def test_only_headings_without_id_change_and_line_ends_stay() -> None:
    text = "# K\r\n## Eins {#eins}\r\n- a\r\n## Zwei  \r\n```\r\n## nicht\r\n```\r\n"
    new, added = add_ids(text, set())
    assert added == ["zwei"]
    assert new == text.replace("## Zwei  \r\n", "## Zwei {#zwei}  \r\n")


LINE = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=30,
)


@given(st.lists(LINE.filter(lambda q: "{#" not in q), min_size=1, max_size=8))
def test_generated_ids_round_trip_through_the_parser(questions: list[str]) -> None:
    body = "".join(f"## {q}\n\nAntwort\n\n" for q in questions)
    new, added = add_ids("# K\n\n" + body, set())
    assert len(set(added)) == len(added)
    assert all(CARD_ID.fullmatch(card_id) for card_id in added)
    cards, _ = parse_file(SourceFile("k.md", decode(new.encode("utf-8"), "k.md")))
    assert [c.id for c in cards if c.id] == added
