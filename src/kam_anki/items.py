"""Which item of an edited list is which: a stable key per list item; pure.

A list card's item cards are notes with the id ``<card-id>/<key>``, so the key is the item's
identity in Anki (its GUID, note and scheduling). Keys must survive inserting, removing and
reordering items and rewording other items, and a small rewording of the item itself. A key
once used is never given to another item: that would hand it the old item's reviews.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

# Two texts this similar (Sørensen-Dice coefficient of their letter pairs) are the same item,
# reworded: "Abstimmung mit (dem) Flächenvertrieb" 0.94, "Leistung(en)" 0.80; two items of the
# shipped deck, such as "Marktforschung/Projektabwicklung mit Kunden", score 0.55 at the most.
# Letter pairs rather than difflib: its cost grows with the square of the text for each pair
# (seconds for one list of repetitive items), theirs with the text.
SIMILAR = 0.6
# Fuzzy matching compares every unmatched old item with every unmatched new one: only when
# both sides are this small, and only this many characters of each, so no list costs more
# than a fixed amount per item.
FUZZY_ITEMS = 64
FUZZY_CHARS = 200


def item_id(card_id: str, key: int) -> str:
    """``"aufgaben-des-kam-8/3"``: a ``/`` never occurs in a card id, so this cannot clash."""
    return f"{card_id}/{key}"


def split_item_id(note_id: str) -> tuple[str, int] | None:
    """``"card/3"`` -> ``("card", 3)``; None for a card's own id."""
    card_id, slash, key = note_id.rpartition("/")
    if not slash or not key.isascii() or not key.isdigit():
        return None
    return card_id, int(key)


def normalise(text: str) -> str:
    """The text as a learner reads it: composed, case and blanks ignored."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def assign_keys(previous: Mapping[int, str], highest: int, texts: Sequence[str]) -> list[int]:
    """The key of each item in ``texts``, in order.

    ``previous`` are the items the card had (key -> text), ``highest`` the highest key ever
    used for the card (tombstones and history included). Exact matches of the normalised text
    first (equal texts paired in order), then the most similar remaining pairs, then new
    keys counting up from ``highest``.
    """
    keys: list[int | None] = [None] * len(texts)
    free: dict[str, list[int]] = {}
    for key in sorted(previous):
        free.setdefault(normalise(previous[key]), []).append(key)
    folded = [normalise(text) for text in texts]
    for index, text in enumerate(folded):
        waiting = free.get(text)
        if waiting:
            keys[index] = waiting.pop(0)
    left = sorted(key for waiting in free.values() for key in waiting)
    unmatched = [index for index, key in enumerate(keys) if key is None]
    if left and unmatched and len(left) <= FUZZY_ITEMS and len(unmatched) <= FUZZY_ITEMS:
        old = {key: normalise(previous[key])[:FUZZY_CHARS] for key in left}
        for index, key in _similar_pairs(old, {i: folded[i][:FUZZY_CHARS] for i in unmatched}):
            keys[index] = key
    fresh = max([highest, *previous], default=0)
    result: list[int] = []
    for found in keys:
        if found is None:
            fresh += 1
        result.append(fresh if found is None else found)
    return result


def _similar_pairs(old: Mapping[int, str], new: Mapping[int, str]) -> Iterable[tuple[int, int]]:
    """(new index, old key) pairs, most similar first, each side used once."""
    before = {key: _pairs(text) for key, text in old.items()}
    scored: list[tuple[float, int, int]] = []
    for index, text in new.items():
        after = _pairs(text)
        size = after.total()
        for key, pairs in before.items():
            total = size + pairs.total()
            # What the smaller side could share at best: most pairs need no counting.
            if 2 * min(size, pairs.total()) < SIMILAR * total:
                continue
            score = 2 * (after & pairs).total() / total
            if score >= SIMILAR:
                scored.append((-score, index, key))
    taken_index: set[int] = set()
    taken_key: set[int] = set()
    for _, index, key in sorted(scored):
        if index not in taken_index and key not in taken_key:
            taken_index.add(index)
            taken_key.add(key)
            yield index, key


def _pairs(text: str) -> Counter[str]:
    """The text's letter pairs, its ends included (so a one-letter item has some)."""
    padded = f" {text} "
    return Counter(padded[i : i + 2] for i in range(len(padded) - 1))


class ItemKeys:
    """Keys for the items of every list card of a build, from what was shipped before."""

    def __init__(self, live: Mapping[str, str], shipped: Iterable[str]) -> None:
        """``live``: the lock's note ids with their text (the question of a stamp: for an
        item, its text); ``shipped``: every note id ever shipped, tombstones included."""
        self.previous: dict[str, dict[int, str]] = {}
        self.highest: dict[str, int] = {}
        for note_id in shipped:
            parts = split_item_id(note_id)
            if parts is not None:
                card_id, key = parts
                self.highest[card_id] = max(key, self.highest.get(card_id, 0))
        for note_id, text in live.items():
            parts = split_item_id(note_id)
            if parts is not None:
                self.previous.setdefault(parts[0], {})[parts[1]] = text

    def keys(self, card_id: str, texts: Sequence[str]) -> list[int]:
        return assign_keys(self.previous.get(card_id, {}), self.highest.get(card_id, 0), texts)
