"""Shared fixtures: a private copy of the shipped content and real Anki collections."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from card_layout import HARD_CARDS, Side, anki_sides, build_deck
from helpers import CHAPTER_FILE, CONTENT, Build, Repo, copy_content, git
from kam_anki.cli import main
from kam_anki.state import LOCK_NAME

# CI (``.ci/run`` sets CI=true) runs the full property tests; locally a quick pass
# (see helpers.examples for the tests that set their own number).
settings.register_profile("ci", print_blob=True)
settings.register_profile("dev", max_examples=10)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


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
    # The earlier design's item notes the shipped deck retires: gone after one release.
    build_deck(content, workdir / "kam.apkg", "--forget-removed")
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
