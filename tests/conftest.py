"""Shared fixtures: a private copy of the shipped content and real Anki collections."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

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
