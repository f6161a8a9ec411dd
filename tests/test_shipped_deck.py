"""The shipped deck: every seed card word for word, in the right deck, as Anki imports it."""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from anki_helpers import import_apkg, open_collection, text_lines
from helpers import CONTENT, ITEM_CARDS, KAM_ANKI, REPO, SEED_CARDS, SHIPPED_APKG, SHIPPED_CARDS

SEED = Path(__file__).with_name("seed.txt")
BULLET = re.compile(r"^[-•]\s+")
DECK = "KAM::Key Account Manager Flashcards"


def seed_lines() -> list[str]:
    """The seed without its title and with pasted bullets stripped: what a reader sees."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    return [BULLET.sub("", line).strip() for line in lines[1:] if line.strip()]


# The seed as the project was given it (shared/seed/000_562a0bfd030166c5.txt): its digest
# holds the copy to it in any clone, with or without shared/ beside it.
SEED_SHA256 = "15f12d767d86e86c1a83b54676b95aaba27d33c3cc98c7a9e0301c93b12241e3"


def test_seed_copy_is_the_shared_seed() -> None:
    assert hashlib.sha256(SEED.read_bytes()).hexdigest() == SEED_SHA256
    shared = REPO.parent / "shared" / "seed" / "000_562a0bfd030166c5.txt"
    if shared.exists():
        assert shared.read_bytes() == SEED.read_bytes()


def test_committed_deck_holds_every_seed_card_word_for_word(tmp_path: Path) -> None:
    col = open_collection(tmp_path / "desktop.anki2")
    log = import_apkg(col, SHIPPED_APKG)
    assert len(log.new) == SHIPPED_CARDS and not log.updated and not log.duplicate
    notes = sorted(
        (col.get_note(nid) for nid in col.find_notes("")), key=lambda n: n.cards()[0].due
    )
    seed = [note for note in notes if "/" not in note["Quelle"]]
    assert len(seed) == SEED_CARDS
    seen: list[str] = []
    for note in seed:
        question = text_lines(note["Frage"])
        assert len(question) == 1
        seen += question + text_lines(note["Antwort"])
    assert seen == seed_lines()
    assert SEED.read_text(encoding="utf-8").splitlines()[0] == "Key Account Manager Flashcards"
    decks = {col.decks.name(col.get_card(cid).did) for cid in col.find_cards("")}
    assert decks == {DECK}
    col.close()


def test_committed_deck_has_one_item_card_per_item_of_its_four_lists(tmp_path: Path) -> None:
    col = open_collection(tmp_path / "desktop.anki2")
    import_apkg(col, SHIPPED_APKG)
    notes = sorted(
        (col.get_note(nid) for nid in col.find_notes("")), key=lambda n: n.cards()[0].due
    )
    by_card: dict[str, list[Any]] = {}
    for note in notes:
        card_id, _, key = note["Quelle"].split("#", 1)[1].partition("/")
        if key:
            by_card.setdefault(card_id, []).append(note)
    assert {card_id: len(items) for card_id, items in by_card.items()} == ITEM_CARDS
    cards = {note["Quelle"].split("#", 1)[1]: note for note in notes if "/" not in note["Quelle"]}
    for card_id, items in by_card.items():
        answer = text_lines(cards[card_id]["Antwort"])
        for position, note in enumerate(items, start=1):
            # In the card's order, each asking for the next item: the gap in the question,
            # the same item marked in the answer, which is the card's whole list.
            asked = re.findall(r'<li class="gefragt">(.*?)</li>', note["Antwort"])
            assert [html.unescape(a) for a in asked] == [answer[position - 1]]
            assert text_lines(note["Antwort"]) == answer
            assert note["Frage"].count('class="luecke"') == 1
            assert f"({position}/{len(items)})" in note["Frage"]
            assert answer[position - 1] not in text_lines(note["Frage"])
            assert note["Kapitel"] == cards[card_id]["Kapitel"]
    col.close()


def test_answer_lists_are_html_lists_in_anki(tmp_path: Path) -> None:
    col = open_collection(tmp_path / "desktop.anki2")
    import_apkg(col, SHIPPED_APKG)
    answers = {
        text_lines(col.get_note(nid)["Frage"])[0]: col.get_note(nid)["Antwort"]
        for nid in col.find_notes("")
    }
    tasks = answers["Aufgaben des KAM? (8)"]
    assert tasks.count("<ul>") == 1 and tasks.count("<li>") == 10
    organisational = answers["Bestandteile und Inhalte des organisatorischen KAM?"]
    assert '<p class="label">Integration:</p>\n<ul>\n<li>Keine Insellösung' in organisational
    assert organisational.count("<li>") == 2
    assert "•" not in organisational
    first = answers["Kurze Beschreibung eines Key Account Managers"]
    assert first.count("<ul>") == 2 and first.count("<li>") == 5
    col.close()


def _build_in(directory: Path, env: dict[str, str]) -> bytes:
    shutil.copytree(CONTENT, directory / "content")
    subprocess.run(
        [*KAM_ANKI, "build"],
        cwd=directory,
        env=env,
        check=True,
        capture_output=True,
    )
    return (directory / "build" / "kam.apkg").read_bytes()


def test_fresh_build_of_committed_sources_is_byte_identical_to_committed_deck(
    tmp_path: Path,
) -> None:
    built = _build_in(tmp_path, dict(os.environ))
    assert (
        hashlib.sha256(built).hexdigest() == hashlib.sha256(SHIPPED_APKG.read_bytes()).hexdigest()
    )
    assert (tmp_path / "content" / "kam-anki.lock").read_bytes() == (
        CONTENT / "kam-anki.lock"
    ).read_bytes()


def test_build_is_byte_identical_whatever_clock_zone_locale_hash_seed_or_path(
    tmp_path: Path,
) -> None:
    base = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    one = _build_in(
        tmp_path / "a",
        {**base, "TZ": "UTC", "LC_ALL": "C", "PYTHONHASHSEED": "1", "SOURCE_DATE_EPOCH": "1"},
    )
    two = _build_in(
        tmp_path / "b" / "deeper path with spaces",
        {
            **base,
            "TZ": "Pacific/Kiritimati",
            "LC_ALL": "de_DE.UTF-8",
            "PYTHONHASHSEED": "4242",
            "SOURCE_DATE_EPOCH": "2000000000",
        },
    )
    assert hashlib.sha256(one).hexdigest() == hashlib.sha256(two).hexdigest()
