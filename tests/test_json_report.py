"""``--json`` on ``build`` and ``check``: one JSON document on stdout, its shape pinned here
exactly as the README documents it; and the report a person reads, cut short on a terminal
(:func:`kam_anki.report.build_report` with a limit)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import Result

from helpers import edit, kam
from kam_anki.assemble import Result as BuildResult
from kam_anki.model import DeckConfig
from kam_anki.report import build_report
from kam_anki.stamps import CardChange, Changes
from kam_anki.state import Stamp, State

CHAPTER = "content/key-account-management.md"
SEARCH = '"deck:KAM" tag:kam::entfernt'
COUNT_WARNINGS = [
    {
        "path": CHAPTER,
        "line": 14,
        "message": "question says (8) but the answer lists 10 items",
    },
    {"path": CHAPTER, "line": 27, "message": "question says (5) but the answer lists 6 items"},
]


@pytest.fixture
def here(list_content: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped content (list cards, lock) as ``content/`` of the working directory."""
    monkeypatch.chdir(list_content.parent)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return list_content


def run(*args: str) -> Result:
    return kam(args)


def test_build_json_lists_every_change_with_its_place_and_the_package(here: Path) -> None:
    # --forget-removed: the item notes of the design before list notes, retired once, are
    # gone, so this document shows one build's changes only.
    first = run("build", "--content", "content", "-o", "build/kam.apkg", "--forget-removed")
    assert first.exit_code == 0
    chapter = here / "key-account-management.md"
    edit(
        chapter,
        "Ebenen des erfolgreichen KAM: Funktionales und organisatorisches KAM",
        "Ebenen des erfolgreichen KAM: funktional und organisatorisch",
    )
    text = chapter.read_text(encoding="utf-8")
    removed = "## Bestandteile und Inhalte des organisatorischen KAM?"
    chapter.write_text(text[: text.index(removed)], encoding="utf-8")
    (here / "neu.md").write_text(
        "# Neu\n\n## Was ist neu? {#was-ist-neu .liste}\n\n- eins\n- zwei\n"
    )

    result = run("build", "--content", "content", "-o", "build/kam.apkg", "--json")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    digest = hashlib.sha256(Path("build/kam.apkg").read_bytes()).hexdigest()
    assert json.loads(result.stdout) == {
        "command": "build",
        "ok": True,
        "counts": {
            "cards": 8,
            "added": 1,
            "changed": 1,
            "removed": 1,
            "unchanged": 6,
            "item_cards": 28,
            "list_notes": 5,
            "warnings": 2,
            "errors": 0,
        },
        "notetype_changed": False,
        "added": [
            {"id": "was-ist-neu", "question": "Was ist neu?", "file": "content/neu.md", "line": 3},
        ],
        "changed": [
            {
                "id": "kurze-beschreibung-des-st-galler-kam",
                "question": "Kurze Beschreibung des St. Galler KAM",
                "file": CHAPTER,
                "line": 36,
            }
        ],
        "removed": [
            {
                "id": "bestandteile-und-inhalte-des-organisatorischen-kam",
                "question": "Bestandteile und Inhalte des organisatorischen KAM?",
                "file": None,
                "line": None,
            }
        ],
        "items": {
            "added": [
                {
                    "id": "was-ist-neu",
                    "cloze": 1,
                    "text": "eins",
                    "file": "content/neu.md",
                    "line": 3,
                },
                {
                    "id": "was-ist-neu",
                    "cloze": 2,
                    "text": "zwei",
                    "file": "content/neu.md",
                    "line": 3,
                },
            ],
            "changed": [],
            "removed": [],
        },
        "tombstones": {"count": 1, "search": SEARCH},
        "warnings": COUNT_WARNINGS,
        "errors": [],
        "package": {"path": "build/kam.apkg", "sha256": digest},
    }
    # The JSON is the whole of stdout: one document, nothing printed around it.
    assert result.stdout.startswith("{\n") and result.stdout.endswith("}\n")


def test_a_dry_run_and_check_write_no_package_and_say_so(here: Path) -> None:
    for args in (["build", "--dry-run"], ["check"]):
        result = run(*args, "--content", "content", "--json")
        assert result.exit_code == 0
        document = json.loads(result.stdout)
        assert document["command"] == args[0]
        assert document["package"] is None
        assert document["counts"]["unchanged"] == 8 and document["warnings"] == COUNT_WARNINGS
        assert document["counts"]["item_cards"] == 26
    assert not Path("build/kam.apkg").exists()


def test_check_json_lists_every_diagnostic_with_path_and_line(here: Path) -> None:
    chapter = here / "key-account-management.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n## Ohne Id\n\n- x\n", "utf-8")
    line = chapter.read_text(encoding="utf-8").splitlines().index("## Ohne Id") + 1
    (here / "b.md").write_text("# B\n\n## Doppelt {#kurze-beschreibung-des-st-galler-kam}\n\n- y\n")

    result = run("check", "--content", "content", "--json")

    assert result.exit_code == 1
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "command": "check",
        "ok": False,
        "counts": None,
        "notetype_changed": None,
        "added": [],
        "changed": [],
        "removed": [],
        "items": None,
        "tombstones": None,
        "warnings": COUNT_WARNINGS,
        "errors": [
            {
                "path": CHAPTER,
                "line": 36,
                "message": "duplicate card id 'kurze-beschreibung-des-st-galler-kam', "
                "first used at b.md:3",
            },
            {
                "path": CHAPTER,
                "line": line,
                "message": "card has no id: run 'kam-anki ids' to add one to every heading",
            },
        ],
        "package": None,
    }


def test_strict_check_json_fails_on_warnings_with_the_counts(here: Path) -> None:
    result = run("check", "--content", "content", "--strict", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert (document["ok"], document["errors"], document["warnings"]) == (
        False,
        [],
        COUNT_WARNINGS,
    )
    assert document["counts"]["cards"] == 8


def test_json_errors_without_a_file_have_null_path_and_keep_the_exit_status(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "kam-anki.lock").unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "gestern")
    result = run("build", "--content", "content", "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["ok"] is False
    [error] = document["errors"]
    assert error["path"] is None and error["line"] is None
    assert "SOURCE_DATE_EPOCH" in error["message"]

    result = run("check", "--content", "nirgends", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == [
        {
            "path": "nirgends",
            "line": None,
            "message": "not a folder (expected the content folder with deck.toml)",
        }
    ]


def _result(added: int, changed: int, removed: int) -> BuildResult:
    def cards(kind: str, count: int) -> tuple[CardChange, ...]:
        return tuple(CardChange(f"{kind}-{i}", f"Frage {i}?") for i in range(count))

    stamp = Stamp("digest", 1_700_000_000, "Frage?")
    gone = cards("removed", removed)
    live = {card_id: stamp for card_id, _ in cards("added", added) + cards("changed", changed)}
    state = State(1_700_000_000, stamp, live, {card_id: stamp for card_id, _ in gone})
    changes = Changes(cards("added", added), cards("changed", changed), gone, 0, False)
    return BuildResult(state, changes, (), (), {}, frozenset())


CONFIG = DeckConfig("KAM", 1, 2)


def test_a_terminal_report_lists_twenty_of_each_kind_and_counts_the_rest() -> None:
    lines = build_report(_result(25, 3, 21), CONFIG, first_build=False, dry_run=False, limit=20)
    assert lines == [
        "28 cards: 25 added, 3 changed, 21 removed, 0 unchanged",
        *(f"  + added-{i}: Frage {i}?" for i in range(20)),
        "  … and 5 more added (--list-all lists every card)",
        *(f"  ~ changed-{i}: Frage {i}?" for i in range(3)),
        *(f"  - removed-{i}: Frage {i}?" for i in range(20)),
        "  … and 1 more removed (--list-all lists every card)",
        "21 removed card(s) stay in the package, tagged.",
        f"  To delete them in Anki: Browse, search  {SEARCH}  select all, Notes > Delete.",
        "  Then run: kam-anki build --forget-removed",
    ]


def test_a_report_without_a_limit_lists_every_card() -> None:
    lines = build_report(_result(25, 0, 0), CONFIG, first_build=True, dry_run=True)
    assert (
        lines[0]
        == "25 cards: 25 added, 0 changed, 0 removed, 0 unchanged (dry run: nothing written)"
    )
    assert lines[1:] == [f"  + added-{i}: Frage {i}?" for i in range(25)]


def test_large_counts_are_written_with_thousands_separators() -> None:
    lines = build_report(_result(20_000, 0, 0), CONFIG, first_build=True, dry_run=False, limit=20)
    assert len(lines) == 22
    assert lines[-1] == "  … and 19,980 more added (--list-all lists every card)"


def test_a_removed_item_is_named_by_its_list_card_and_cloze_number(here: Path) -> None:
    assert run("build", "--content", "content", "-o", "build/kam.apkg").exit_code == 0
    edit(here / "key-account-management.md", "- Kriterien & Messgrößen\n", "")
    result = run("build", "--content", "content", "-o", "build/kam.apkg", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    card = "kam-zirkel-schritte-im-rahmen-der-analyse-5"
    assert document["items"]["removed"] == [
        {"id": card, "cloze": 5, "text": "Kriterien & Messgrößen", "file": CHAPTER, "line": 40}
    ]
    assert {entry["id"] for entry in document["changed"]} == {card}
