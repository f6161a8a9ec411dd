"""The learner's real loop, with Anki's own engine and its own sync server:
import, review, sync to a phone, edit the Markdown, regenerate, import again, sync again."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

from anki_helpers import (
    first_sync,
    import_apkg,
    new_learner,
    notes_by_source,
    notetype_css,
    open_collection,
    review_all,
    scheduling,
    status_name,
    sync,
    sync_server,
)
from helpers import NOTETYPE_ID, Repo, RunBuild, edit, git
from kam_anki import api, notetype

CHAPTER = "key-account-management.md"


def test_edit_regenerate_import_sync_keeps_every_review(  # noqa: PLR0915
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    apkg = tmp_path / "kam.apkg"
    build()
    desktop = open_collection(tmp_path / "desktop.anki2")
    assert len(import_apkg(desktop, apkg).new) == 8
    answered = review_all(desktop, "KAM")
    assert answered >= 8
    reviewed = scheduling(desktop)
    assert all(state[0] == 2 for state in reviewed.values())  # every card is in review now

    with sync_server(tmp_path / "server") as server:
        auth, mobile, mobile_auth = first_sync(desktop, server, tmp_path / "mobile.anki2")
        assert scheduling(mobile) == reviewed
        assert {k: n.fields for k, n in notes_by_source(mobile).items()} == {
            k: n.fields for k, n in notes_by_source(desktop).items()
        }

        # On the phone, two cards come due and get reviewed before the next regeneration.
        phone_cards = sorted(reviewed)[:2]
        mobile.sched.set_due_date(phone_cards, "0")
        assert review_all(mobile, "KAM") == 2
        after_phone = scheduling(mobile)
        assert all(after_phone[c] != reviewed[c] for c in phone_cards)
        assert sync(mobile, mobile_auth) == "NO_CHANGES"

        # The author edits the Markdown: each kind of change the learner makes.
        source = content / CHAPTER
        edit(source, "- Erfolgsmessung", "- Erfolgsmessung\n- Lessons learned")  # answer
        edit(source, "## Ziele des KAM? (5)", "## Welche Ziele verfolgt das KAM? (5)")  # question
        text = source.read_text(encoding="utf-8")
        moved_start = text.index("## Kurze Beschreibung des St. Galler KAM")
        moved_end = text.index("## KAM Zirkel: Schritte im Rahmen der Analyse")
        moved = text[moved_start:moved_end]
        source.write_text(text[:moved_start] + text[moved_end:] + "\n" + "\n", encoding="utf-8")
        (content / "st-galler-modell.md").write_text(
            "# St. Galler KAM-Modell\n\n"
            + moved
            + "## Was misst die Erfolgsmessung? {#erfolgsmessung}\n\n- Umsatz\n- Deckungsbeitrag\n",
            encoding="utf-8",
        )
        text = source.read_text(encoding="utf-8")  # and one card moves up within its file
        start = text.index("## Bestandteile und Inhalte des funktionalen KAM?")
        end = text.index("## Bestandteile und Inhalte des organisatorischen KAM?")
        top = text.index("## Kurze Beschreibung eines Key Account Managers")
        text = text[:top] + text[start:end] + text[top:start] + text[end:]
        source.write_text(text, encoding="utf-8")
        shipped = notetype.default_notetype()
        redesigned = dataclasses.replace(shipped, css=shipped.css + "\n.frage { color: #b00; }\n")
        changes = api.write(api.load(content, apkg, notetype=redesigned)).changes
        counts = (len(changes.added), len(changes.changed), len(changes.removed))
        assert (counts, changes.unchanged, changes.notetype_changed) == ((1, 3, 0), 5, True)

        before = notes_by_source(desktop)
        log = import_apkg(desktop, apkg)
        changed = {
            "kam-zirkel-schritte-im-rahmen-der-realisierung-5",
            "ziele-des-kam-5",
            "kurze-beschreibung-des-st-galler-kam",
        }
        assert set(log.updated) == {before[key].id for key in changed}
        assert len(log.new) == 1 and len(log.duplicate) == 5
        assert not log.conflicting and log.other == 0
        after = notes_by_source(desktop)
        assert len(after) == 9 and len(desktop.find_notes("")) == 9  # nothing duplicated
        assert all(after[key].id == note.id for key, note in before.items())
        rescheduled = [
            c for c, s in scheduling(desktop).items() if c in reviewed and s != reviewed[c]
        ]
        print(
            f"\nreviewed {len(reviewed)} cards ({answered} answers) on desktop, 2 on mobile; "
            f"re-import: {len(log.updated)} updated, {len(log.new)} new, "
            f"{len(log.duplicate)} unchanged, {len(log.conflicting)} conflicting, "
            f"{len(desktop.find_notes(''))} notes; scheduling changed on {len(rescheduled)} cards; "
            f"the next sync needs: {status_name(desktop, auth)}"
        )
        assert rescheduled == []
        assert ".frage { color: #b00; }" in notetype_css(desktop, NOTETYPE_ID)
        assert len(desktop.models.all_names_and_ids()) == len(mobile.models.all_names_and_ids())

        assert status_name(desktop, auth) == "NORMAL_SYNC"
        # Normal syncs carry it all across, and the phone's reviews survive on both sides.
        assert sync(desktop, auth) == "NO_CHANGES"
        assert sync(mobile, mobile_auth) == "NO_CHANGES"
        expected = {**reviewed, **{c: after_phone[c] for c in phone_cards}}
        for col in (desktop, mobile):
            states = scheduling(col)
            assert {c: states[c] for c in reviewed} == expected
            assert len(states) == 9
        phone = notes_by_source(mobile)
        assert (
            "<li>Lessons learned</li>"
            in phone["kam-zirkel-schritte-im-rahmen-der-realisierung-5"]["Antwort"]
        )
        assert phone["ziele-des-kam-5"]["Frage"] == "Welche Ziele verfolgt das KAM? (5)"
        assert phone["kurze-beschreibung-des-st-galler-kam"]["Kapitel"] == "St. Galler KAM-Modell"
        assert ".frage { color: #b00; }" in notetype_css(mobile, NOTETYPE_ID)

        # An unchanged rebuild is byte-identical and a no-op; the learner's own edit survives.
        learner = after["aufgaben-des-kam-8"]
        learner["Antwort"] += "<p>Meine Notiz</p>"
        desktop.update_note(learner)
        digest = hashlib.sha256(apkg.read_bytes()).hexdigest()
        again_built = api.write(api.load(content, apkg, notetype=redesigned))  # same design
        changes = again_built.changes
        assert (changes.unchanged, changes.removed, changes.notetype_changed) == (9, (), False)
        assert hashlib.sha256(apkg.read_bytes()).hexdigest() == digest
        again = import_apkg(desktop, apkg)
        assert not again.updated and not again.new and len(again.duplicate) == 9
        assert desktop.get_note(learner.id)["Antwort"].endswith("<p>Meine Notiz</p>")
        assert sync(desktop, auth) == "NO_CHANGES"
        assert sync(mobile, mobile_auth) == "NO_CHANGES"
        assert mobile.get_note(learner.id)["Antwort"].endswith("<p>Meine Notiz</p>")
        mobile.close()
    desktop.close()


def test_git_revert_and_a_clock_an_hour_ahead_reach_the_phone_by_normal_sync(
    repo: Repo, tmp_path: Path
) -> None:
    """The loop again, on a git checkout: an edit built on a clock an hour ahead, then
    reverted with git and built on the right clock. Both reach desktop and phone, the
    reviews stay, and the build says what the clock did."""
    card = "kam-zirkel-schritte-im-rahmen-der-realisierung-5"
    desktop, reviewed = new_learner(tmp_path / "desktop.anki2", repo.apkg)
    with sync_server(tmp_path / "server") as server:
        auth, mobile, mobile_auth = first_sync(desktop, server, tmp_path / "mobile.anki2")

        def answer(col: Any) -> str:
            return str(notes_by_source(col)[card]["Antwort"])

        repo.edit("- Erfolgsmessung\n", "- Erfolgsmessung und Review\n")
        assert "1 changed" in repo.build(clock=3600).output
        repo.commit("edit, built on a clock an hour ahead")
        assert len(import_apkg(desktop, repo.apkg).updated) == 1
        assert sync(desktop, auth) == "NO_CHANGES" and sync(mobile, mobile_auth) == "NO_CHANGES"
        assert "Review" in answer(mobile)

        git(repo.root, "revert", "--no-edit", "HEAD")
        result = repo.build(clock=0)
        assert "1 changed" in result.output and f"~ {card}" in result.output
        ahead = r"1 time\(s\) in this deck lie up to (1 h 0 min|59 min) ahead of this machine's"
        assert re.search(ahead + rf" clock \(.*\): {card}\.", result.output)
        log = import_apkg(desktop, repo.apkg)
        assert len(log.updated) == 1 and not log.conflicting and not log.new
        assert status_name(desktop, auth) == "NORMAL_SYNC"
        assert sync(desktop, auth) == "NO_CHANGES" and sync(mobile, mobile_auth) == "NO_CHANGES"
        for col in (desktop, mobile):
            assert "<li>Erfolgsmessung</li>" in answer(col) and "Review" not in answer(col)
            assert scheduling(col) == reviewed
        mobile.close()
    desktop.close()
