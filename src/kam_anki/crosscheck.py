"""The checks across files (a cross-file check sees every file's cards; per-file checks are
cached with the file, in :mod:`kam_anki.notes`): ids used twice, the same question twice,
deck names that differ only in case, and, after stamping, a card renamed away from its
reviews."""

from __future__ import annotations

import hashlib

from kam_anki.characters import text_key
from kam_anki.errors import Diagnostic
from kam_anki.listnotes import is_list_note
from kam_anki.model import Place
from kam_anki.stamps import Changes


def renamed_cards(changes: Changes, places: list[Place]) -> list[Diagnostic]:
    """A card that lost its id and got a new one looks like a new card with the old one's
    question: the learner's reviews stay with the old note, which becomes a tombstone."""
    if not changes.added or not changes.removed:
        return []
    # A list note goes with its card: the card's warning says it for both.
    gone = {
        text_key(question): card_id
        for card_id, question in changes.removed
        if not is_list_note(card_id)
    }
    new = {place.id: place for place in places}
    diagnostics: list[Diagnostic] = []
    for card_id, question in changes.added:
        if is_list_note(card_id):
            continue
        old = gone.get(text_key(question))
        if old is not None:
            place = new[card_id]
            message = (
                f"card {card_id!r} has the question of the removed card {old!r}: learners lose "
                f"that card's reviews when they delete its tombstone; to keep them, give this "
                f"card its old id back: {{#{old}}}"
            )
            diagnostics.append(Diagnostic(place.path, place.line, "warning", message))
    return diagnostics


def same_deck(
    deck: str, place: Place, first_deck: dict[str, tuple[str, Place]]
) -> list[Diagnostic]:
    """Anki tells deck names apart without regard to case (``ß`` is ``SS``): two spellings
    would become two decks, one renamed with a ``_``. Called once per spelling."""
    first, where = first_deck.setdefault(deck.casefold(), (deck, place))
    if first == deck:
        return []
    message = (
        f"the chapter makes the deck {deck!r}, which differs from {first!r} ({where.path}:"
        f"{where.line}) only in case: Anki takes them for one deck; spell the titles the same"
    )
    return [Diagnostic(place.path, place.line, "error", message)]


def duplicates(
    place: Place, question: str, first_id: dict[str, Place], first_question: dict[bytes, Place]
) -> list[Diagnostic]:
    """Checks across files: an id is an error when reused, a question a warning."""
    diagnostics: list[Diagnostic] = []
    other = first_id.setdefault(place.id, place) if place.id else place
    if other is not place:
        message = f"duplicate card id {place.id!r}, first used at {other.path}:{other.line}"
        diagnostics.append(Diagnostic(place.path, place.line, "error", message))
    # A short digest stands in for the question: a large deck's questions are not copied.
    folded = hashlib.blake2b(text_key(question).encode(), digest_size=12).digest()
    other = first_question.setdefault(folded, place)
    if other is not place:
        message = f"same question as {other.path}:{other.line} ({other.id})"
        diagnostics.append(Diagnostic(place.path, place.line, "warning", message))
    return diagnostics
