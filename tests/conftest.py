"""Shared fixtures: a private copy of the shipped content and real Anki collections."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from card_layout import HARD_CARDS, Side, anki_sides, build_deck
from kam_anki.cli import main

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
SHIPPED_APKG = REPO / "build" / "kam.apkg"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the shipped content: tests edit it freely, the repo's lock stays untouched."""
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    return copy


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
