"""A learner who changed the note type in Anki (here: added a field) still gets every edit,
with the import dialog's "Merge note types" option, and keeps their field."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from anki_helpers import import_apkg, new_learner, notes_by_source, scheduling
from helpers import NOTETYPE_ID, RunBuild, edit

CARD = "kam-zirkel-schritte-im-rahmen-der-realisierung-5"


def test_learner_with_an_own_field_gets_edits_by_merging_note_types(
    content: Path, tmp_path: Path, build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    apkg = tmp_path / "kam.apkg"
    build()
    col, reviewed = new_learner(tmp_path / "learner.anki2", apkg)
    notetype = col.models.get(NOTETYPE_ID)
    col.models.add_field(notetype, col.models.new_field("Meine Notizen"))
    col.models.update_dict(notetype)
    notes = notes_by_source(col)
    note, other = notes[CARD], notes["ziele-des-kam-5"]
    for own in (note, other):
        own["Meine Notizen"] = "Eselsbrücke: KASKE"
        col.update_note(own)

    edit(content / "key-account-management.md", "- Erfolgsmessung", "- Erfolgsmessung und Review")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 60)  # the author builds a minute later
    assert "1 changed" in build().output
    monkeypatch.undo()

    plain = import_apkg(col, apkg)  # the dialog's defaults
    assert len(plain.conflicting) == 8 and not plain.updated
    assert "Review" not in notes_by_source(col)[CARD]["Antwort"]

    merged = import_apkg(col, apkg, merge_notetypes=True)
    assert merged.updated == (note.id,) and not merged.conflicting and not merged.new
    after = notes_by_source(col)
    assert "<li>Erfolgsmessung und Review</li>" in after[CARD]["Antwort"]
    # The field stays; what the learner wrote in it stays on every note the import leaves
    # alone, and is emptied on a note it updates (the package has nothing for that field):
    # the README says so.
    fields = [field.name for field in col._backend.get_notetype(NOTETYPE_ID).fields]
    assert fields == ["Frage", "Antwort", "Kapitel", "Quelle", "Meine Notizen"]
    assert after["ziele-des-kam-5"]["Meine Notizen"] == "Eselsbrücke: KASKE"
    assert after[CARD]["Meine Notizen"] == ""
    assert scheduling(col) == reviewed
    assert len(col.find_notes("")) == 8
