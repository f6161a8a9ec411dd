"""Import never deletes: a card removed from the Markdown stays visible until the learner acts."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

from anki_helpers import import_apkg, notes_by_source, open_collection, scheduling
from helpers import RunBuild

REMOVED = "kurze-beschreibung-des-st-galler-kam"
SEARCH = '"deck:KAM" tag:kam::entfernt'


def remove_card(content: Path) -> None:
    source = content / "key-account-management.md"
    text = source.read_text(encoding="utf-8")
    start = text.index("## Kurze Beschreibung des St. Galler KAM")
    end = text.index("## KAM Zirkel: Schritte im Rahmen der Analyse")
    source.write_text(text[:start] + text[end:], encoding="utf-8")


def guids_in(apkg: Path) -> int:
    with zipfile.ZipFile(apkg) as archive:
        data = archive.read("collection.anki2")
    db = sqlite3.connect(":memory:")
    db.deserialize(data)
    return int(db.execute("select count(*) from notes").fetchone()[0])


def test_removed_card_is_tagged_in_anki_and_found_by_the_printed_search(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    col = open_collection(tmp_path / "desktop.anki2")
    import_apkg(col, tmp_path / "kam.apkg")
    states = scheduling(col)
    note_id = notes_by_source(col)[REMOVED].id

    remove_card(content)
    result = build()
    assert "7 cards: 0 added, 0 changed, 1 removed, 7 unchanged" in result.output
    assert f"- {REMOVED}: Kurze Beschreibung des St. Galler KAM" in result.output
    assert SEARCH in result.output and "--forget-removed" in result.output

    log = import_apkg(col, tmp_path / "kam.apkg")
    assert log.updated == (note_id,) and len(log.duplicate) == 7
    assert col.find_notes(SEARCH) == [note_id]
    assert col.get_note(note_id)["Frage"] == "Kurze Beschreibung des St. Galler KAM"
    assert scheduling(col) == states  # nothing deleted, no review touched

    # Later builds keep the tombstone with the same time: importing again changes nothing.
    assert "1 removed card(s) stay" in build().output
    assert not import_apkg(col, tmp_path / "kam.apkg").updated

    # After the learner deleted it, the tombstone can be forgotten.
    col.remove_notes([note_id])
    forgotten = build("--forget-removed")
    assert "stay in the package" not in forgotten.output
    assert guids_in(tmp_path / "kam.apkg") == 7
    assert '"removed": {}' in (content / "kam-anki.lock").read_text(encoding="utf-8")
    assert import_apkg(col, tmp_path / "kam.apkg").new == ()
    col.close()


def test_tombstone_in_a_fresh_collection_lands_in_the_removed_subdeck(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    remove_card(content)
    build()
    col = open_collection(tmp_path / "new-learner.anki2")
    import_apkg(col, tmp_path / "kam.apkg")
    (card_id,) = col.find_cards(SEARCH)
    assert col.decks.name(col.get_card(card_id).did) == "KAM::Entfernt"
    assert col.find_cards('"deck:KAM::Entfernt"') == [card_id]
    col.close()


def test_dry_run_reports_changes_and_writes_nothing(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    apkg = (tmp_path / "kam.apkg").read_bytes()
    lock = (content / "kam-anki.lock").read_bytes()
    remove_card(content)
    result = build("--dry-run")
    assert "1 removed" in result.output and "dry run: nothing written" in result.output
    assert "sha256" not in result.output
    assert (tmp_path / "kam.apkg").read_bytes() == apkg
    assert (content / "kam-anki.lock").read_bytes() == lock


def test_forget_removed_still_gives_a_card_removed_in_the_same_build_its_tombstone(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    remove_card(content)
    result = build("--forget-removed")
    assert "1 removed" in result.output and SEARCH in result.output
    assert REMOVED in (content / "kam-anki.lock").read_text(encoding="utf-8")
    assert guids_in(tmp_path / "kam.apkg") == 8
