"""Shared fixtures: a private copy of the shipped content and real Anki collections."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import settings

from helpers import CHAPTER_FILE, CONTENT, Repo, RunBuild, copy_content, git, kam
from kam_anki.state import LOCK_NAME

# CI (``.ci/run`` sets CI=true) runs the full property tests; locally a quick pass
# (see helpers.examples for the tests that set their own number).
settings.register_profile("ci", print_blob=True)
settings.register_profile("dev", max_examples=10)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The files that make `pytest -m "not slow"` (the quick loop) slow, and why. CI runs all.
SLOW = {
    "test_desktop.py": "the real Anki desktop under Xvfb: minutes",
    "test_desktop_math.py": "the real Anki desktop typesets math (MathJax)",
    "test_browser_tables_math_code.py": "tables, math and code in Chromium and WebKitGTK",
    "test_browser.py": "Chromium and WebKitGTK, a browser per test",
    "test_preview.py": "Chromium renders the preview page",
    "test_watch.py": "watch processes, rebuilds of thousands of cards",
    "test_killed_build.py": "a build killed at each file replacement, rebuilt each time",
    "test_properties.py": "thousands of generated decks in CI",
    "test_anki_characters.py": "a build and an Anki collection per generated deck",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SLOW:
            item.add_marker(pytest.mark.slow)


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
def build(content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunBuild:
    """Run ``kam-anki build`` on the copied content, writing ``tmp_path/kam.apkg``.

    ``now`` sets SOURCE_DATE_EPOCH, the time a first build (no lock file) gives its notes.
    """

    def run(*args: str, now: int | None = None, expect: int = 0) -> Result:
        if now is None:
            monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            monkeypatch.setenv("SOURCE_DATE_EPOCH", str(now))
        result = kam(["build", "--content", str(content), "-o", str(tmp_path / "kam.apkg"), *args])
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
