"""Helpers the test modules share (fixtures are in conftest.py): paths, git, a deck in a
git checkout, editing a file, and how many examples a property test tries."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kam_anki.cli import main
from kam_anki.state import LOCK_NAME, dump_state, load_state

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
SHIPPED_APKG = REPO / "build" / "kam.apkg"
# The shipped deck: 8 seed cards, and a list note for each of its four list cards, with an
# item card (a cloze) per item. It still carries the 26 item notes of the design before list
# notes as tombstones (retired once; a later release drops them with --forget-removed).
SEED_CARDS = 8
ITEM_CARDS = {
    "aufgaben-des-kam-8": 10,
    "ziele-des-kam-5": 6,
    "kam-zirkel-schritte-im-rahmen-der-analyse-5": 5,
    "kam-zirkel-schritte-im-rahmen-der-realisierung-5": 5,
}
SHIPPED_CARDS = SEED_CARDS + sum(ITEM_CARDS.values())  # cards in Anki, item cards included
RETIRED_ITEM_NOTES = sum(ITEM_CARDS.values())
SHIPPED_NOTES = SEED_CARDS + len(ITEM_CARDS) + RETIRED_ITEM_NOTES
CHAPTER_FILE = "key-account-management.md"
NOTETYPE_ID = 1886530249  # the shipped deck's note type (content/deck.toml)
# The program as a user starts it, in a process of its own (signals, pipes, watch).
KAM_ANKI = (sys.executable, "-m", "kam_anki")
_LIST_CLASSES = re.compile(r" \.(?:liste|folge)\}")


def copy_content(target: Path, *, list_cards: bool = False) -> Path:
    """A copy of the shipped content. Without ``list_cards`` its four list cards are plain
    cards (no item cards): the 8 seed cards, for the tests of everything but list cards."""
    shutil.copytree(CONTENT, target)
    if not list_cards:
        path = target / CHAPTER_FILE
        path.write_text(_LIST_CLASSES.sub("}", path.read_text(encoding="utf-8")), "utf-8")
        lock = target / LOCK_NAME
        state = load_state(lock.read_bytes(), LOCK_NAME)
        seed = {k: v for k, v in state.cards.items() if "/" not in k}
        kept = {k: v for k, v in state.removed.items() if "/" not in k}
        with lock.open("w", encoding="utf-8") as out:
            dump_state(dataclasses.replace(state, cards=seed, removed=kept, items={}), out)
    return target


RunBuild = Callable[..., Result]  # the `build` fixture: runs `kam-anki build` with these arguments


def kam(
    args: Sequence[str | os.PathLike[str]], env: Mapping[str, str | None] | None = None
) -> Result:
    """``kam-anki ARGS`` run in this process: the one way tests call the command line in
    process (see :data:`KAM_ANKI` for a process of its own). Stdout and stderr are kept
    apart in the result (``.stdout``, ``.stderr``) and together in ``.output``."""
    return CliRunner().invoke(main, [os.fspath(arg) for arg in args], env=env)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def examples(full: int) -> int:
    """A property test's examples: all of them in CI (``CI`` set, as ``.ci/run`` runs), a
    tenth for a quick local run."""
    return full if os.environ.get("CI") else max(10, full // 10)


CHAPTER = "content/key-account-management.md"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


class Repo:
    """A git checkout holding ``content/``, built to ``build/kam.apkg`` as the README says.

    Builds run on a clock an hour behind, a minute apart: in life a learner imports and
    edits after the build, not within the same second (when a change gets the next
    second, and a learner's edit in that very second would lose).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.apkg = root / "build" / "kam.apkg"
        self.builds = 0

    def build(self, *args: str, clock: float | None = None, expect: int = 0) -> Result:
        """``clock``: how far this build's clock is off the real time, in seconds."""
        real = time.time
        self.builds += 1
        offset = -3600 + 60 * self.builds if clock is None else clock
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(time, "time", lambda: real() + offset)
            result = kam(
                ["build", "--content", str(self.root / "content"), "-o", str(self.apkg), *args],
            )
        assert result.exit_code == expect, result.output
        return result

    def edit(self, old: str, new: str) -> None:
        edit(self.root / CHAPTER, old, new)

    def commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)
