"""What git and wrong clocks do to the loop: every change since a learner's last import
reaches them, a learner's own edit survives unchanged rebuilds, and what cannot hold is said.

Each test drives the CLI on a git checkout of the shipped content and imports into the
official Anki engine.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anki_helpers import import_apkg, new_learner, notes_by_source, open_collection, scheduling
from helpers import CHAPTER, Repo, git, kam

CARD = "kam-zirkel-schritte-im-rahmen-der-realisierung-5"
ORIGINAL = "- Erfolgsmessung\n"
EDITED = "- Erfolgsmessung und Review\n"


class Learner:
    """One Anki collection that imports every build it is given and reviews every card."""

    def __init__(self, path: Path, apkg: Path) -> None:
        self.col, self.scheduled = new_learner(path, apkg)

    def answer(self) -> str:
        return str(notes_by_source(self.col)[CARD]["Antwort"])

    def edits(self) -> None:
        """The learner adds a note of their own to the card's answer, in Anki."""
        note = notes_by_source(self.col)[CARD]
        note["Antwort"] += "<p>Meine Notiz</p>"
        self.col.update_note(note)

    def imports(self, apkg: Path) -> Any:
        log = import_apkg(self.col, apkg)
        assert scheduling(self.col) == self.scheduled  # no import touches a review
        return log


def revert(repo: Repo) -> None:
    repo.commit("edit")
    git(repo.root, "revert", "--no-edit", "HEAD")


def checkout(repo: Repo) -> None:  # a build that was never committed, then thrown away
    git(repo.root, "checkout", "--", "content/")


def reset(repo: Repo) -> None:
    repo.commit("edit")
    git(repo.root, "reset", "-q", "--hard", "HEAD~1")


def stash(repo: Repo) -> None:
    git(repo.root, "stash", "-q")


def fresh_clone(repo: Repo) -> None:
    """Revert, then build in a new clone: no record of earlier builds beside the output,
    only the git history of the lock."""
    revert(repo)
    clone = repo.root.parent / "clone"
    git(repo.root.parent, "clone", "-q", str(repo.root), str(clone))
    repo.root = clone
    repo.apkg = clone / "build" / "kam.apkg"


UNDO: dict[str, Callable[[Repo], None]] = {
    "git revert": revert,
    "git checkout -- content/": checkout,
    "git reset --hard": reset,
    "git stash": stash,
    "git revert, then a fresh clone": fresh_clone,
}


@pytest.mark.parametrize("undo", sorted(UNDO))
def test_undoing_a_shipped_edit_with_git_reaches_the_learner(
    undo: str, repo: Repo, tmp_path: Path
) -> None:
    learner = Learner(tmp_path / "learner.anki2", repo.apkg)
    repo.edit(ORIGINAL, EDITED)
    assert "1 changed" in repo.build().output
    assert learner.imports(repo.apkg).updated
    assert "<li>Erfolgsmessung und Review</li>" in learner.answer()

    UNDO[undo](repo)
    assert EDITED not in (repo.root / CHAPTER).read_text(encoding="utf-8")
    result = repo.build()
    assert "1 changed" in result.output and f"~ {CARD}" in result.output
    log = learner.imports(repo.apkg)
    assert len(log.updated) == 1 and not log.new and not log.conflicting
    assert "<li>Erfolgsmessung</li>" in learner.answer()
    assert "Review" not in learner.answer()

    # Settled again: the next rebuild changes nothing, and a learner's own edit survives it.
    learner.edits()
    assert "0 changed" in repo.build().output
    assert not learner.imports(repo.apkg).updated
    assert learner.answer().endswith("<p>Meine Notiz</p>")


def test_a_merge_that_keeps_the_other_side_of_a_conflict_reaches_every_learner(
    repo: Repo, tmp_path: Path
) -> None:
    """Two branches edit the same card; the merge keeps the side built first. A learner
    who imported the later build (the other side) gets the merged text."""
    git(repo.root, "checkout", "-q", "-b", "feature")
    repo.edit(ORIGINAL, "- Erfolgsmessung (Feature)\n")
    repo.build()
    repo.commit("feature edit")
    git(repo.root, "checkout", "-q", "main")
    repo.edit(ORIGINAL, "- Erfolgsmessung (Main)\n")
    repo.build()
    repo.commit("main edit")
    learner = Learner(tmp_path / "learner.anki2", repo.apkg)  # has main's version
    assert "(Main)" in learner.answer()

    merge = subprocess.run(
        ["git", "-C", str(repo.root), "merge", "-q", "feature"], capture_output=True, check=False
    )
    assert merge.returncode != 0  # both sides changed the card and the lock
    for path in (CHAPTER, "content/kam-anki.lock"):
        git(repo.root, "checkout", "--theirs", "--", path)
    repo.commit("merge feature, keep its text")
    result = repo.build()
    assert "1 changed" in result.output
    log = learner.imports(repo.apkg)
    assert len(log.updated) == 1
    assert "(Feature)" in learner.answer()


def test_a_build_on_a_clock_an_hour_ahead_is_reported_by_every_later_build(
    repo: Repo, tmp_path: Path
) -> None:
    learner = Learner(tmp_path / "learner.anki2", repo.apkg)
    repo.edit(ORIGINAL, EDITED)
    ahead = repo.build(clock=3600)
    assert "ahead" not in ahead.output  # that clock cannot know it is wrong
    assert learner.imports(repo.apkg).updated

    learner.edits()
    result = repo.build(clock=0)  # the right clock, nothing changed in the Markdown
    assert "0 changed" in result.output
    warning = result.output[result.output.index("warning: 1 time(s)") :]
    assert re.search(r"up to (59 min|1 h 0 min) ahead of this machine's clock", warning)
    assert CARD in warning.splitlines()[0]
    assert "importing this deck replaces a learner's own edits" in warning
    assert "set it right" in warning
    # What the warning says is what happens: the learner's edit is replaced.
    assert learner.imports(repo.apkg).updated
    assert not learner.answer().endswith("<p>Meine Notiz</p>")


def test_a_clock_ten_years_behind_still_moves_times_forward_and_says_so(
    repo: Repo, tmp_path: Path
) -> None:
    # The newest time in the lock is one this test stamps now, on the right clock (the shipped
    # lock's times are days or years old, depending on the day the test runs).
    repo.edit(ORIGINAL, EDITED)
    repo.build(clock=0)
    learner = Learner(tmp_path / "learner.anki2", repo.apkg)
    repo.edit(EDITED, "- Erfolgsmessung und Rückblick\n")
    # Ten years (3652 d 12 h) behind, less half an hour: the seconds between the two builds
    # never reach the next whole hour of the figure.
    result = repo.build(clock=-10 * 365.25 * 86_400 + 1800)
    assert "1 changed" in result.output
    assert "lie up to 3652 d 11 h ahead" in result.output, result.output
    assert "this clock is behind" in result.output
    assert learner.imports(repo.apkg).updated
    assert "<li>Erfolgsmessung und Rückblick</li>" in learner.answer()


@pytest.mark.parametrize(
    "value", ["0", "1", "-5", "abc", "1e9", " ", "１７００００００００", "99999999999"]
)
def test_source_date_epoch_that_anki_cannot_take_is_a_usage_error(
    value: str, content: Path, tmp_path: Path
) -> None:
    (content / "kam-anki.lock").unlink()  # SOURCE_DATE_EPOCH only sets a first build's time
    result = kam(
        ["build", "--content", str(content), "-o", str(tmp_path / "out" / "kam.apkg")],
        env={"SOURCE_DATE_EPOCH": value},
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: SOURCE_DATE_EPOCH")
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert not (content / "kam-anki.lock").exists() and not (tmp_path / "out").exists()


def test_a_lock_with_epoch_zero_gets_ids_anki_accepts(content: Path, tmp_path: Path) -> None:
    """Locks written by kam-anki 0.1 with SOURCE_DATE_EPOCH=0 have note ids from 0."""
    lock = content / "kam-anki.lock"
    lock.write_text(lock.read_text().replace('"epoch": 1795787956', '"epoch": 0'))
    out = tmp_path / "kam.apkg"
    result = kam(["build", "--content", str(content), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "the lock's epoch 0 is no valid base for Anki's note ids" in result.output
    col = open_collection(tmp_path / "fresh.anki2")
    assert len(import_apkg(col, out).new) == 8
    assert min(col.find_notes("")) > 10**12
    problems, ok = col.fix_integrity()
    assert ok, problems


NEW_CARD = "\n## Was misst die Erfolgsmessung? {#erfolgsmessung}\n\n- Umsatz\n- Deckungsbeitrag\n"


def add_card(repo: Repo) -> None:
    path = repo.root / CHAPTER
    path.write_text(path.read_text(encoding="utf-8") + NEW_CARD, encoding="utf-8")


def test_a_card_whose_adding_commit_is_reverted_becomes_a_tombstone(
    repo: Repo, tmp_path: Path
) -> None:
    learner = Learner(tmp_path / "learner.anki2", repo.apkg)
    add_card(repo)
    assert "1 added" in repo.build().output
    repo.commit("new card")
    assert len(import_apkg(learner.col, repo.apkg).new) == 1
    git(repo.root, "revert", "--no-edit", "HEAD")
    result = repo.build()
    assert "1 removed" in result.output and "- erfolgsmessung" in result.output
    assert len(import_apkg(learner.col, repo.apkg).updated) == 1
    assert len(learner.col.find_notes("tag:kam::entfernt")) == 1


def test_a_card_only_another_branch_built_is_no_tombstone_on_this_one(repo: Repo) -> None:
    git(repo.root, "checkout", "-q", "-b", "feature")
    add_card(repo)
    repo.build()
    repo.commit("new card on a branch")
    git(repo.root, "checkout", "-q", "main")
    result = repo.build()
    assert "8 cards: 0 added, 0 changed, 0 removed, 8 unchanged" in result.output
    assert "removed card(s)" not in result.output
