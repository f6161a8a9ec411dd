"""Every package ``build`` writes is one the Anki engine imports, whatever the characters:
arbitrary Unicode in questions, answers, chapter titles and the deck name either builds a
package that Anki imports, checks and keeps as written, or stops with ``path:line: error:``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from anki_helpers import import_apkg, open_collection
from helpers import examples, kam

# Each example imports into a new collection: a modest number by default, more with
# HYPOTHESIS_PROFILE=ci.
EXAMPLES = examples(400)
Deck = tuple[str, list[str], list[tuple[str, str]]]


def decks(characters: st.SearchStrategy[str]) -> st.SearchStrategy[Deck]:
    """A deck name, chapter titles, and (question, answer) pairs for each chapter."""
    text = st.text(characters, max_size=12)
    cards = st.lists(st.tuples(text, text), min_size=1, max_size=3)
    return st.tuples(text, st.lists(text, min_size=1, max_size=2), cards)


# Any character but lone surrogates; in half the decks no control characters but tab and
# newline, so that many decks build.
ANY = st.characters(blacklist_categories=["Cs"])
FEW_CONTROLS = st.characters(
    blacklist_categories=["Cs"],
    blacklist_characters=[*map(chr, range(9)), *"\x0b\x0c\x7f", *map(chr, range(0x0E, 0x20))],
)
DIAGNOSTIC = re.compile(r"^.+:\d+: (error|warning): .+$")


def toml_string(text: str) -> str:
    """A TOML basic string holding ``text`` exactly (controls, quotes and all)."""
    escaped = "".join(
        f"\\u{ord(c):04X}" if c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F else c for c in text
    )
    return f'"{escaped}"'


def package_notes(apkg: Path) -> dict[str, tuple[list[str], str]]:
    """Every note of a package by GUID: its fields and its card's deck name, read straight
    from the package's SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(apkg) as archive:
            archive.extract("collection.anki2", folder)
        db = sqlite3.connect(Path(folder, "collection.anki2"))
        (decks,) = db.execute("select decks from col").fetchone()
        rows = db.execute(
            "select n.guid, n.flds, c.did from notes n join cards c on c.nid = n.id"
        ).fetchall()
        db.close()
    names = {int(deck_id): deck["name"] for deck_id, deck in json.loads(decks).items()}
    return {guid: (fields.split("\x1f"), names[deck_id]) for guid, fields, deck_id in rows}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decks(FEW_CONTROLS) | decks(ANY))
def test_a_built_package_imports_into_anki_and_keeps_its_text(generated: Deck) -> None:
    deck, chapters, cards = generated
    with tempfile.TemporaryDirectory() as folder:
        content = Path(folder, "content")
        content.mkdir()
        (content / "deck.toml").write_text(
            f"name = {toml_string('K' + deck)}\ndeck_id = 11\nnotetype_id = 12\n",
            encoding="utf-8",
        )
        for number, chapter in enumerate(chapters):
            body = "".join(
                f"## F{question} {{#k-{number}-{index}}}\n\nA{answer}\n\n"
                for index, (question, answer) in enumerate(cards)
            )
            (content / f"{number}.md").write_text(f"# C{chapter}\n\n{body}", encoding="utf-8")
        apkg = Path(folder, "k.apkg")
        result = kam(["build", "--content", str(content), "-o", str(apkg)])
        assert "Traceback" not in result.output and "internal error" not in result.output
        event(f"exit {result.exit_code}")
        if result.exit_code != 0:
            assert result.exit_code == 1
            lines = result.output.splitlines()
            assert lines and all(DIAGNOSTIC.match(line) for line in lines), result.output
            assert any(": error: " in line for line in lines)
            return
        written = package_notes(apkg)
        col = open_collection(Path(folder, "desktop.anki2"))
        try:
            log = import_apkg(col, apkg)
            assert len(log.new) == len(written) and not log.conflicting and not log.other
            message, ok = col.fix_integrity()
            assert ok, message
            assert len(col.find_notes("")) == len(written)
            rows = col.db.all(
                "select n.guid, n.id, c.did from notes n join cards c on c.nid = n.id"
            )
            kept = {
                guid: (col.get_note(nid).fields, col.decks.name(did)) for guid, nid, did in rows
            }
            assert kept == written
        finally:
            col.close()
