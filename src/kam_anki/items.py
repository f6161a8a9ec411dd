"""Which item of an edited list is which: a stable key per list item; pure.

A list card's list is one cloze note, and an item's key is its cloze number: its card in
Anki, with its scheduling. Keys must survive inserting, removing and reordering items and
rewording other items, and a small rewording of the item itself; an item that comes back
(the same or nearly the same text, anywhere in the list, any number of builds later) gets
its old key back. A key once used is never given to another item: that would hand it the
old item's reviews. Every key ever given, with its last text, is kept in the lock
(``items``), in the lock's git history and in the record beside the output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from kam_anki.characters import text_key

# Two texts this similar (Sørensen-Dice coefficient of their sets of letter pairs) are the
# same item, reworded: "Abstimmung mit (dem) Flächenvertrieb" 0.94, "Leistung(en)" 0.80;
# two items of the shipped deck, such as "Marktforschung/Projektabwicklung mit Kunden",
# score 0.54 at the most. Sets of letter pairs: one comparison is a set intersection, in C,
# whatever the length of the texts, so every unmatched old item is compared with every
# unmatched new one, for any list size and any number of reworded items.
SIMILAR = 0.6


def item_id(card_id: str, key: int) -> str:
    """``"aufgaben-des-kam-8/3"``: a ``/`` never occurs in a card id, so this cannot clash."""
    return f"{card_id}/{key}"


def split_item_id(note_id: str) -> tuple[str, int] | None:
    """``"card/3"`` -> ``("card", 3)``; None for a card's own id."""
    card_id, slash, key = note_id.rpartition("/")
    if not slash or not key.isascii() or not key.isdigit():
        return None
    return card_id, int(key)


def assign_keys(
    previous: Mapping[int, str],
    highest: int,
    texts: Sequence[str],
    gone: Mapping[int, str] | None = None,
) -> list[int]:
    """The key of each item in ``texts``, in order.

    ``previous`` are the items the list had at its last build (key -> text), ``gone`` the
    items it had before and lost (they may come back), ``highest`` the highest key ever
    used for the card. Exact matches of the normalised text first (the last build's items
    before gone ones, equal texts paired in order), then the most similar remaining pairs,
    then new keys counting up from the highest.
    """
    gone = gone or {}
    keys: list[int | None] = [None] * len(texts)
    free: dict[str, list[int]] = {}
    for key in [*sorted(previous), *sorted(k for k in gone if k not in previous)]:
        text = previous[key] if key in previous else gone[key]
        free.setdefault(text_key(text), []).append(key)
    folded = [text_key(text) for text in texts]
    for index, text in enumerate(folded):
        waiting = free.get(text)
        if waiting:
            keys[index] = waiting.pop(0)
    left = {key: text_key({**gone, **previous}[key]) for w in free.values() for key in w}
    unmatched = {index: folded[index] for index, key in enumerate(keys) if key is None}
    if left and unmatched:
        for index, key in _similar_pairs(left, unmatched, set(previous)):
            keys[index] = key
    fresh = max([highest, *previous, *gone], default=0)
    result: list[int] = []
    for found in keys:
        if found is None:
            fresh += 1
        result.append(fresh if found is None else found)
    return result


def _similar_pairs(
    old: Mapping[int, str], new: Mapping[int, str], live: set[int]
) -> Iterable[tuple[int, int]]:
    """(new index, old key) pairs, most similar first (the last build's items before gone
    ones), each side used once."""
    before = {key: _pairs(text) for key, text in old.items()}
    scored: list[tuple[float, bool, int, int]] = []
    for index, text in new.items():
        after = _pairs(text)
        for key, pairs in before.items():
            total = len(after) + len(pairs)
            # What the smaller side could share at best: most pairs need no intersection.
            if 2 * min(len(after), len(pairs)) < SIMILAR * total:
                continue
            score = 2 * len(after & pairs) / total
            if score >= SIMILAR:
                scored.append((-score, key not in live, index, key))
    taken_index: set[int] = set()
    taken_key: set[int] = set()
    for _, _, index, key in sorted(scored):
        if index not in taken_index and key not in taken_key:
            taken_index.add(index)
            taken_key.add(key)
            yield index, key


def _pairs(text: str) -> frozenset[str]:
    """The text's letter pairs, its ends included (so a one-letter item has some)."""
    padded = f" {text} "
    return frozenset(padded[i : i + 2] for i in range(len(padded) - 1))


class ItemKeys:
    """Keys for the items of every list card of a build, from what was shipped before."""

    def __init__(
        self,
        live: Mapping[str, str],
        gone: Mapping[str, str],
        reserved: Iterable[str],
    ) -> None:
        """By item id (``card/key``): ``live`` the items of the last build's lists, ``gone``
        every other item ever given a key (with its last text), ``reserved`` any other
        item id ever shipped (its key is never given again)."""
        self.previous: dict[str, dict[int, str]] = {}
        self.gone: dict[str, dict[int, str]] = {}
        self.highest: dict[str, int] = {}
        for table, ids in ((self.previous, live), (self.gone, gone)):
            for item, text in ids.items():
                parts = split_item_id(item)
                if parts is not None:
                    table.setdefault(parts[0], {})[parts[1]] = text
        for item in reserved:
            parts = split_item_id(item)
            if parts is not None:
                card_id, key = parts
                self.highest[card_id] = max(key, self.highest.get(card_id, 0))

    def keys(self, card_id: str, texts: Sequence[str]) -> list[int]:
        return assign_keys(
            self.previous.get(card_id, {}),
            self.highest.get(card_id, 0),
            texts,
            self.gone.get(card_id, {}),
        )
