"""kam-anki init: a deck of your own, sharing nothing with the shipped KAM deck but the code."""

from __future__ import annotations

import json
import sqlite3
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import Result

from anki_helpers import import_apkg, open_collection
from helpers import CONTENT, SHIPPED_APKG, git, kam
from kam_anki.model import DeckConfig
from kam_anki.notetype import FIELDS, NAME, TEMPLATE_NAME
from kam_anki.package import list_notetype_id
from kam_anki.state import LOCK_NAME

KAM = tomllib.loads((CONTENT / "deck.toml").read_text(encoding="utf-8"))
KAM_CONFIG = DeckConfig(KAM["name"], KAM["deck_id"], KAM["notetype_id"])


def run(folder: Path, *args: str, expect: int = 0) -> Result:
    """The command line in ``folder``, as a user in a shell there."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        result = kam(list(args))
    assert result.exit_code == expect, result.output
    return result


def package_ids(apkg: Path, scratch: Path) -> tuple[set[int], set[int]]:
    """The deck and note-type ids a package holds."""
    with zipfile.ZipFile(apkg) as package:
        package.extract("collection.anki2", scratch)
    db = sqlite3.connect(scratch / "collection.anki2")
    try:
        decks, models = db.execute("SELECT decks, models FROM col").fetchone()
    finally:
        db.close()
    return {int(key) for key in json.loads(decks)}, {int(key) for key in json.loads(models)}


def test_init_then_build_ships_the_example_card_only_under_new_ids(tmp_path: Path) -> None:
    run(tmp_path, "init", "statistik", "--name", "Statistik")
    project = tmp_path / "statistik"
    assert sorted(p.name for p in (project / "content").iterdir()) == ["cards.md", "deck.toml"]
    result = run(project, "build")
    assert "1 card: 1 added, 0 changed, 0 removed, 0 unchanged" in result.output

    config = tomllib.loads((project / "content/deck.toml").read_text(encoding="utf-8"))
    assert config["name"] == "Statistik"
    assert config["deck_id"] != KAM["deck_id"]
    assert config["notetype_id"] != KAM["notetype_id"]
    decks, notetypes = package_ids(project / "build/kam.apkg", tmp_path)
    ours = DeckConfig(config["name"], config["deck_id"], config["notetype_id"])
    # The question/answer note type and the list note type derived from it (list notes).
    assert config["deck_id"] in decks
    assert set(notetypes) == {config["notetype_id"], list_notetype_id(ours)}
    assert not set(notetypes) & {KAM["notetype_id"], list_notetype_id(KAM_CONFIG)}
    col = open_collection(tmp_path / "learner.anki2")
    try:
        log = import_apkg(col, project / "build/kam.apkg")
        assert len(log.new) == 1
        (note_id,) = col.find_notes("")
        note = col.get_note(note_id)
        assert note.mid == config["notetype_id"]
        notetype = col.models.get(note.mid)
        assert notetype["name"] == "Statistik (kam-anki)"
        assert [f["name"] for f in notetype["flds"]] == list(FIELDS)
        assert [t["name"] for t in notetype["tmpls"]] == [TEMPLATE_NAME]
        assert 'lang="en"' in notetype["tmpls"][0]["qfmt"]
        assert note["Quelle"] == "cards.md#how-kam-anki-makes-a-card"
        assert note.tags == ["statistik"]
        answer = note["Antwort"]
        assert '<span class="math">' in answer and "<table>" in answer
        assert '<code class="language-python"><span class="nb">print</span>' in answer
        (card,) = note.cards()
        assert col.decks.name(card.did) == "Statistik::Getting started"
        names = {deck.name for deck in col.decks.all_names_and_ids()}
        assert not any(name.startswith("KAM") or "Entfernt" in name for name in names)
        assert col.find_notes("tag:kam::entfernt") == []
    finally:
        col.close()


def test_each_init_draws_its_own_ids(tmp_path: Path) -> None:
    ids = set()
    for name in ("a", "b", "c"):
        run(tmp_path, "init", name, "--name", name.upper())
        config = tomllib.loads((tmp_path / name / "content/deck.toml").read_text("utf-8"))
        ids |= {config["deck_id"], config["notetype_id"]}
        assert all(1 << 30 <= config[key] < 1 << 31 for key in ("deck_id", "notetype_id"))
    assert len(ids) == 6


def test_init_without_a_name_and_no_terminal_takes_the_folder_name(tmp_path: Path) -> None:
    (tmp_path / "Organische Chemie").mkdir()
    run(tmp_path / "Organische Chemie", "init")
    config = (tmp_path / "Organische Chemie/content/deck.toml").read_text(encoding="utf-8")
    assert 'name = "Organische Chemie"' in config
    assert 'tags = ["organische-chemie"]' in config


def test_init_never_writes_over_a_project(tmp_path: Path) -> None:
    run(tmp_path, "init", "deck", "--name", "Mein Stapel")
    before = (tmp_path / "deck/content/deck.toml").read_bytes()
    result = run(tmp_path, "init", "deck", "--name", "Anders", expect=1)
    assert "deck/content: error: exists already" in result.output
    assert (tmp_path / "deck/content/deck.toml").read_bytes() == before


def test_init_refuses_a_name_deck_toml_would_refuse(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "deck", "--name", "A::::B", expect=1)
    assert "deck.toml:3: error: 'name' has an empty part around '::'" in result.output
    assert not (tmp_path / "deck").exists()


def test_init_refuses_a_folder_where_git_remembers_another_decks_lock(tmp_path: Path) -> None:
    """A copy of the KAM project with content/ deleted: its lock's history would come back
    as removed cards in the new deck."""
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / LOCK_NAME).write_text("{}\n", encoding="utf-8")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "kam")
    git(tmp_path, "rm", "-q", "-r", "content")
    result = run(tmp_path, "init", ".", "--name", "Neu", expect=1)
    assert "git remembers a lock file here" in result.output
    assert not (tmp_path / "content").exists()


def test_the_shipped_deck_keeps_its_frozen_names_and_ids(tmp_path: Path) -> None:
    decks, notetypes = package_ids(SHIPPED_APKG, tmp_path)
    assert KAM["deck_id"] in decks
    assert notetypes == {KAM["notetype_id"], list_notetype_id(KAM_CONFIG)}
    assert NAME == "KAM-Anki Frage/Antwort"
    assert FIELDS == ("Frage", "Antwort", "Kapitel", "Quelle")
    assert "notetype_name" not in KAM and "language" not in KAM
