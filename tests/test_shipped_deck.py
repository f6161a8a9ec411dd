"""The shipped deck: every seed card word for word, in the right deck, as Anki imports it."""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

from anki_helpers import import_apkg, open_collection, text_lines
from helpers import (
    CONTENT,
    ITEM_CARDS,
    KAM_ANKI,
    REPO,
    SEED_CARDS,
    SHIPPED_APKG,
    SHIPPED_NOTES,
)

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
    assert len(log.new) == SHIPPED_NOTES and not log.updated and not log.duplicate
    notes = sorted(
        (col.get_note(nid) for nid in col.find_notes("-tag:kam::entfernt")),
        key=lambda n: n.cards()[0].due,
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
    decks = {col.decks.name(col.get_card(cid).did) for cid in col.find_cards("-tag:kam::entfernt")}
    assert decks == {DECK}
    col.close()


def test_committed_deck_has_one_list_note_per_list_and_a_card_per_item(tmp_path: Path) -> None:
    col = open_collection(tmp_path / "desktop.anki2")
    import_apkg(col, SHIPPED_APKG)
    lists = {
        col.get_note(nid)["Quelle"].split("#", 1)[1]: col.get_note(nid)
        for nid in col.find_notes("tag:kam::liste")
    }
    assert set(lists) == {f"{card_id}/liste" for card_id in ITEM_CARDS}
    for card_id, count in ITEM_CARDS.items():
        note = lists[f"{card_id}/liste"]
        (card_note,) = col.find_notes(f'"Quelle:*#{card_id}"')
        answer = text_lines(col.get_note(card_note)["Antwort"])
        cards = sorted(note.cards(), key=lambda card: card.ord)
        assert len(cards) == count and [card.ord for card in cards] == list(range(count))
        for position, card in enumerate(cards):
            # In the card's order, each asking for the next item: the gap on the question,
            # the same item marked on the answer, which is the card's whole list.
            asked = re.findall(r'<span class="cloze"[^>]*>(.*?)</span>', card.answer())
            assert [html.unescape(a) for a in asked] == [answer[position]]
            assert card.question().count("[...]") == 1
            assert answer[position] not in text_lines(card.question())
        assert note["Kapitel"] == col.get_note(card_note)["Kapitel"]
    # The earlier design's item notes: tombstones, in the subdeck of removed cards.
    retired = col.find_notes("tag:kam::entfernt")
    assert len(retired) == sum(ITEM_CARDS.values())
    col.close()


def test_answer_lists_are_html_lists_in_anki(tmp_path: Path) -> None:
    col = open_collection(tmp_path / "desktop.anki2")
    import_apkg(col, SHIPPED_APKG)
    answers = {
        text_lines(col.get_note(nid)["Frage"])[0]: col.get_note(nid)["Antwort"]
        for nid in col.find_notes("-tag:kam::liste")
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
    done = subprocess.run(
        [*KAM_ANKI, "build"], cwd=directory, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
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


def _german() -> str:
    """A German UTF-8 locale where the machine has one (Python needs a UTF-8 locale to start
    from a folder with a non-ASCII letter, and falls back to ASCII for a missing one)."""
    try:
        names = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    except OSError:
        names = []
    return next((n for n in names if n.lower().replace("-", "") == "de_de.utf8"), "C.UTF-8")


GERMAN = _german()


def test_build_is_byte_identical_whatever_clock_zone_locale_hash_seed_or_path(
    tmp_path: Path,
) -> None:
    base = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    one = _build_in(
        tmp_path / "a",
        # C.UTF-8, not plain C: under C, Python itself cannot start from a virtual environment
        # whose path has a non-ASCII letter (its site module reads the path as ASCII).
        {**base, "TZ": "UTC", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "1", "SOURCE_DATE_EPOCH": "1"},
    )
    two = _build_in(
        tmp_path / "b" / "deeper path with spaces",
        {
            **base,
            "TZ": "Pacific/Kiritimati",
            "LANG": "de_DE.UTF-8",
            "LC_ALL": GERMAN,
            "PYTHONHASHSEED": "4242",
            "SOURCE_DATE_EPOCH": "2000000000",
        },
    )
    assert hashlib.sha256(one).hexdigest() == hashlib.sha256(two).hexdigest()
