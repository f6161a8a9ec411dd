"""Edits in Markdown reach the existing notes in Anki; nothing else moves."""

from __future__ import annotations

import time
from pathlib import Path

from anki_helpers import import_apkg, notes_by_source, open_collection, scheduling
from helpers import RunBuild, edit


def test_edited_answer_updates_that_note_in_place_and_leaves_the_others(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    col = open_collection(tmp_path / "desktop.anki2")
    first = import_apkg(col, tmp_path / "kam.apkg")
    assert len(first.new) == 8
    before = {
        key: (note.id, note.mod, note["Antwort"]) for key, note in notes_by_source(col).items()
    }
    cards_before = scheduling(col)

    edit(content / "key-account-management.md", "- Erfolgsmessung", "- Erfolgsmessung und Review")
    result = build()
    assert "1 changed" in result.output and "7 unchanged" in result.output

    second = import_apkg(col, tmp_path / "kam.apkg")
    edited = "kam-zirkel-schritte-im-rahmen-der-realisierung-5"
    assert second.updated == (before[edited][0],)
    assert len(second.duplicate) == 7 and not second.new and not second.conflicting
    after = notes_by_source(col)
    assert after[edited].id == before[edited][0]
    assert "<li>Erfolgsmessung und Review</li>" in after[edited]["Antwort"]
    assert after[edited].mod > before[edited][1]
    for key, (note_id, mod, answer) in before.items():
        if key != edited:
            assert (after[key].id, after[key].mod, after[key]["Antwort"]) == (note_id, mod, answer)
    assert scheduling(col) == cards_before
    col.close()


def test_rebuild_without_changes_keeps_every_note_time(content: Path, build: RunBuild) -> None:
    build(now=1_900_000_000)
    lock = (content / "kam-anki.lock").read_bytes()
    result = build(now=2_000_000_000)
    assert "0 added, 0 changed, 0 removed, 8 unchanged" in result.output
    assert (content / "kam-anki.lock").read_bytes() == lock


def test_source_date_epoch_sets_only_a_first_builds_time(content: Path, build: RunBuild) -> None:
    (content / "kam-anki.lock").unlink()
    build(now=1_700_000_000)
    lock = (content / "kam-anki.lock").read_text(encoding="utf-8")
    assert lock.count('"mod": 1700000000') == 9  # 8 cards and the note type
    assert '"epoch": 1700000000' in lock
    edit(content / "key-account-management.md", "- Erfolgsmessung", "- Erfolgskontrolle")
    started = int(time.time())
    build(now=1_700_000_000)  # ignored now: the edit must beat edits made in Anki meanwhile
    (changed,) = [
        line
        for line in (content / "kam-anki.lock").read_text(encoding="utf-8").splitlines()
        if "realisierung" in line
    ]
    assert int(changed.split('"mod": ')[1].split(",")[0]) >= started
