"""What the README shows a user, pinned to the character: a build's report, a check, an error.

A change to any of these texts must be a decision (README and these tests change together),
never an accident.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from helpers import edit, kam

DECK = 'name = "Probe"\ndeck_id = 1500000001\nnotetype_id = 1500000002\ntags = ["probe"]\n'
CARDS = "# Kapitel\n\n## Erste Frage? {#erste}\n\n- eins\n\n## Zweite Frage? {#zweite}\n\n- zwei\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-card deck in ``tmp_path/content``, run from ``tmp_path`` with the default paths."""
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "deck.toml").write_text(DECK, encoding="utf-8")
    (tmp_path / "content" / "a.md").write_text(CARDS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_build_report_of_a_first_build_and_of_an_edit(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = kam(["build"], env={"SOURCE_DATE_EPOCH": "1700000000"})
    apkg = project / "build" / "kam.apkg"
    assert (first.exit_code, first.stderr) == (0, "")
    assert first.stdout == (
        "2 cards: 2 added, 0 changed, 0 removed, 0 unchanged\n"
        "  + erste: Erste Frage?\n"
        "  + zweite: Zweite Frage?\n"
        f"sha256 {sha256(apkg)}  build/kam.apkg\n"
    )

    markdown = project / "content" / "a.md"
    edit(markdown, "## Erste Frage? {#erste}\n\n- eins\n\n", "")
    edit(markdown, "- zwei\n", "- zwei!\n\n## Dritte {#dritte}\n\n- drei\n")
    monkeypatch.setattr(time, "time", lambda: 1_700_000_100.0)
    second = kam(["build"])
    assert (second.exit_code, second.stderr) == (0, "")
    assert second.stdout == (
        "2 cards: 1 added, 1 changed, 1 removed, 0 unchanged\n"
        "  + dritte: Dritte\n"
        "  ~ zweite: Zweite Frage?\n"
        "  - erste: Erste Frage?\n"
        "1 removed card(s) stay in the package, tagged.\n"
        '  To delete them in Anki: Browse, search  "deck:Probe" tag:kam::entfernt  '
        "select all, Notes > Delete.\n"
        "  Then run: kam-anki build --forget-removed\n"
        f"sha256 {sha256(apkg)}  build/kam.apkg\n"
    )


def test_check_report(project: Path) -> None:
    result = kam(["check"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "2 cards ok, 0 warning(s)\n",
        "",
    )


def test_an_error_names_file_and_line_and_nothing_else(project: Path) -> None:
    (project / "content" / "b.md").write_text("# K\n\n## Ohne {#ohne}\n", encoding="utf-8")
    result = kam(["build"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "content/b.md:3: error: card 'Ohne' has no answer\n",
    )
    assert not (project / "build" / "kam.apkg").exists()
