"""List notes in a build: their ids and tag, each list card's items keyed (the keys kept
from what was shipped before, :mod:`kam_anki.items`), and what an import does to the item
cards (:class:`ItemChanges`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from kam_anki.errors import Diagnostic
from kam_anki.items import ItemKeys, item_id, split_item_id
from kam_anki.listcards import MAX_ITEMS
from kam_anki.model import ListCard, Place
from kam_anki.stamps import Stamper
from kam_anki.state import Item

# A list note's id in the lock and its GUID's input: a card id never holds a "/".
LIST_SUFFIX = "/liste"


LIST_TAG = "kam::liste"


def list_note_id(card_id: str) -> str:
    return card_id + LIST_SUFFIX


def is_list_note(note_id: str) -> bool:
    return note_id.endswith(LIST_SUFFIX)


def list_note_card(note_id: str) -> str:
    """The card a list note's id belongs to (the inverse of :func:`list_note_id`)."""
    return note_id.removesuffix(LIST_SUFFIX)


class ItemChange(NamedTuple):
    """One item card of a list note: its card's id, its cloze number, its text."""

    card_id: str
    key: int
    text: str


@dataclass(frozen=True)
class ItemChanges:
    """What an import does to the list notes' cards, item by item; a removed item's card
    stays, empty, until *Tools > Empty Cards*."""

    added: tuple[ItemChange, ...] = ()
    reworded: tuple[ItemChange, ...] = ()
    removed: tuple[ItemChange, ...] = ()
    cards: int = 0  # item cards in the package
    notes: int = 0  # list notes in the package


@dataclass
class ListKeys:
    """The list items of a build: keys from what was shipped before, and what changed."""

    keys: ItemKeys
    known: dict[str, dict[int, Item]]  # by card: every item ever keyed, updated as lists come in
    added: list[ItemChange] = field(default_factory=list)
    reworded: list[ItemChange] = field(default_factory=list)
    removed: list[ItemChange] = field(default_factory=list)
    cards: int = 0
    notes: int = 0

    @classmethod
    def of(cls, stamper: Stamper) -> ListKeys:
        old, shipped = stamper.old, stamper.shipped
        items = {k: Item(t, k in old.items and old.items[k].live) for k, t in shipped.items.items()}
        known: dict[str, dict[int, Item]] = {}
        for item, found in items.items():
            parts = split_item_id(item)
            if parts is not None:
                known.setdefault(parts[0], {})[parts[1]] = found
        # Before list notes, each item was a note ``card/key``: the same item keeps its key.
        legacy = {
            k: s.text
            for k, s in old.cards.items()
            if split_item_id(k) is not None and k not in items
        }
        live = {**legacy, **{k: v.text for k, v in items.items() if v.live}}
        gone = {k: v.text for k, v in items.items() if not v.live}
        return cls(ItemKeys(live, gone, [*shipped.cards, *items]), known)

    def of_card(self, card_id: str) -> dict[int, Item]:
        return dict(self.known.get(card_id, {}))

    def table(self) -> dict[str, Item]:
        """Every item ever keyed, by item id, for the lock."""
        return {
            item_id(card_id, key): item
            for card_id, items in sorted(self.known.items())
            for key, item in sorted(items.items())
        }

    def assign(self, card_id: str, listed: ListCard, *, back: bool = False) -> list[int]:
        """The keys of a card's items; ``back``: its list note was removed before, so every
        item arrives again (with the card its key had). An item of the last build that is
        not in the list is removed: its card is left empty."""
        keys = self.keys.keys(card_id, [item.text for item in listed.items])
        before = self.of_card(card_id)
        for key, item in zip(keys, listed.items, strict=True):
            was = before.get(key)
            if back or was is None or not was.live:
                self.added.append(ItemChange(card_id, key, item.shown))
            elif was.text != item.text:
                self.reworded.append(ItemChange(card_id, key, item.shown))
            self.known.setdefault(card_id, {})[key] = Item(item.text)
        for key, was in sorted(before.items()):
            if was.live and key not in keys:
                self.removed.append(ItemChange(card_id, key, was.text))
                self.known[card_id][key] = Item(was.text, live=False)
        self.cards += len(keys)
        self.notes += 1
        return keys

    def changes(self) -> ItemChanges:
        return ItemChanges(
            tuple(self.added), tuple(self.reworded), tuple(self.removed), self.cards, self.notes
        )


def stops_qualifying(place: Place, reason: str, minimum: int) -> Diagnostic:
    message = (
        f"card {place.id!r} has item cards, but {reason}: the next build removes its list "
        f"note (a tombstone; the item cards' reviews go when you delete it); to keep them, "
        f"make the answer one list of {minimum} to {MAX_ITEMS} items again, or add .liste "
        f"to its heading"
    )
    return Diagnostic(place.path, place.line, "warning", message)
