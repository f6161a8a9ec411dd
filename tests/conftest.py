"""Shared fixtures: a private copy of the shipped content and real Anki collections."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from card_layout import HARD_CARDS, Side, anki_sides, build_deck
from kam_anki.cli import main
from kam_anki.state import LOCK_NAME, dump_state, load_state

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
SHIPPED_APKG = REPO / "build" / "kam.apkg"
# The shipped deck: 8 seed cards, and an item card per item of its four list cards.
SEED_CARDS = 8
ITEM_CARDS = {
    "aufgaben-des-kam-8": 10,
    "ziele-des-kam-5": 6,
    "kam-zirkel-schritte-im-rahmen-der-analyse-5": 5,
    "kam-zirkel-schritte-im-rahmen-der-realisierung-5": 5,
}
SHIPPED_CARDS = SEED_CARDS + sum(ITEM_CARDS.values())


CHAPTER_FILE = "key-account-management.md"
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
        with lock.open("w", encoding="utf-8") as out:
            dump_state(dataclasses.replace(state, cards=seed), out)
    return target


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The 8 seed cards (see copy_content): tests edit them freely, the repo's lock stays
    untouched."""
    return copy_content(tmp_path / "content")


@pytest.fixture
def list_content(content: Path) -> Path:
    """The same folder with the shipped content as it is, list cards and lock included."""
    for name in (CHAPTER_FILE, LOCK_NAME):
        shutil.copy(CONTENT / name, content / name)
    return content


Build = Callable[..., Result]


@pytest.fixture
def build(content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Build:
    """Run ``kam-anki build`` on the copied content, writing ``tmp_path/kam.apkg``.

    ``now`` sets SOURCE_DATE_EPOCH, the time a first build (no lock file) gives its notes.
    """

    def run(*args: str, now: int | None = None, expect: int = 0) -> Result:
        if now is None:
            monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            monkeypatch.setenv("SOURCE_DATE_EPOCH", str(now))
        result = CliRunner().invoke(
            main, ["build", "--content", str(content), "-o", str(tmp_path / "kam.apkg"), *args]
        )
        assert result.exit_code == expect, result.output
        return result

    return run


@pytest.fixture
def collection_path(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    yield lambda name: tmp_path / f"{name}.anki2"


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


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
            result = CliRunner().invoke(
                main,
                ["build", "--content", str(self.root / "content"), "-o", str(self.apkg), *args],
            )
        assert result.exit_code == expect, result.output
        return result

    def edit(self, old: str, new: str) -> None:
        path = self.root / CHAPTER
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "deck"
    copy_content(root / "content")
    (root / ".gitignore").write_text("/build/*\n!/build/kam.apkg\n")
    git(root, "init", "-q", "-b", "main")
    made = Repo(root)
    made.build()
    made.commit("first release")
    return made


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Side], Path]:
    """The shipped content, built into a package from a copy, then rendered by Anki."""
    workdir = tmp_path_factory.mktemp("shipped")
    content = workdir / "content"
    shutil.copytree(CONTENT, content)
    build_deck(content, workdir / "kam.apkg")
    return anki_sides(workdir / "kam.apkg", workdir), workdir


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Side], Path]:
    """A card made to break layouts: huge compounds, nested lists, labels, a URL, code."""
    workdir = tmp_path_factory.mktemp("hard")
    content = workdir / "content"
    content.mkdir()
    shutil.copy(CONTENT / "deck.toml", content / "deck.toml")
    (content / "hard.md").write_text(HARD_CARDS, encoding="utf-8")
    build_deck(content, workdir / "kam.apkg")
    return anki_sides(workdir / "kam.apkg", workdir), workdir
