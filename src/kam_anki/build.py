"""The build: every file's cards checked and rendered, checked across files, and stamped.

Takes the content as data and the clock as ``now``; reads and writes nothing itself except
through the file cache it is given (and the worker processes of :mod:`kam_anki.workers`).
Use it through :mod:`kam_anki.api`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from kam_anki.cache import FileCache, file_key
from kam_anki.clock import clock_warnings
from kam_anki.errors import ContentError, Diagnostic
from kam_anki.ids import question_key
from kam_anki.items import ItemKeys, item_id, split_item_id
from kam_anki.listcards import MAX_ITEMS, cloze_field
from kam_anki.model import Assets, Checked, DeckConfig, ListCard, Note, Place, SourceFile
from kam_anki.notes import FileContext, list_tombstone_note, note_digest, tombstone_note
from kam_anki.notetype import Fields, NoteType
from kam_anki.state import REMOVED, Changes, Issued, Item, Stamp, Stamper, State
from kam_anki.workers import checked_files

# A list note's id in the lock and its GUID's input: a card id never holds a "/".
LIST_SUFFIX = "/liste"
LIST_TAG = "kam::liste"


def list_note_id(card_id: str) -> str:
    return card_id + LIST_SUFFIX


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


@dataclass(frozen=True)
class Result:
    """A checked build: the next state, what changed, and what the package needs besides
    the notes (which went to the sink)."""

    state: State
    changes: Changes
    places: tuple[Place, ...]  # where each live card is in content/
    warnings: tuple[Diagnostic, ...]
    media: Mapping[str, bytes]  # by the name the notes use
    cache_keys: frozenset[str]  # the file cache entries this build used
    items: ItemChanges = ItemChanges()


@dataclass
class _Across:
    """What the checks across files remember while the files come in, one by one."""

    stamper: Stamper
    sink: Callable[[Note], None] | None
    config: DeckConfig
    problems: list[Diagnostic] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    first_id: dict[str, Place] = field(default_factory=dict)
    first_question: dict[bytes, Place] = field(default_factory=dict)
    first_deck: dict[str, tuple[str, Place]] = field(default_factory=dict)
    spellings: set[str] = field(default_factory=set)
    lists: _Lists | None = None  # made for the first list card: most decks have none
    notes: int = 0  # stamped so far (list notes included)

    def take(self, checked: Checked) -> None:
        """One file's notes: checked against the files before it, stamped, passed on; each
        list card's list note right after it."""
        self.problems += checked.found
        self.media.update(checked.media)
        for note, (place, question), listed in zip(
            checked.notes, checked.cards, checked.lists, strict=True
        ):
            self.problems += _duplicates(place, question, self.first_id, self.first_question)
            if note.deck not in self.spellings:
                self.spellings.add(note.deck)
                self.problems += _same_deck(note.deck, place, self.first_deck)
            self.places.append(place)
            self._emit(note, question)
            if isinstance(listed, ListCard):
                self._list_note(note, place, listed, question)
            elif listed and self._had_list(place.id):
                self.problems.append(_stops_qualifying(place, listed, self.config.list_cards))

    def _lists(self) -> _Lists:
        if self.lists is None:
            self.lists = _Lists.of(self.stamper)
        return self.lists

    def _had_list(self, card_id: str) -> bool:
        shipped = self.stamper.issued.cards.get(list_note_id(card_id))
        return shipped is not None and shipped.digest != REMOVED

    def _list_note(self, note: Note, place: Place, listed: ListCard, question: str) -> None:
        lists = self._lists()
        shipped = self.stamper.issued.cards.get(list_note_id(place.id))
        keys = lists.assign(
            place.id, listed, back=shipped is not None and shipped.digest == REMOVED
        )
        fields = Fields(
            question=note.fields.question,
            answer=cloze_field(listed, keys),
            chapter=note.fields.chapter,
            source=note.fields.source + LIST_SUFFIX,
        )
        tags = (*note.tags, LIST_TAG)
        list_note = Note(list_note_id(place.id), fields, tags, note.deck, clozes=tuple(keys))
        self._emit(list_note, question)

    def _emit(self, note: Note, question: str) -> None:
        mod = self.stamper.stamp(note.card_id, note_digest(note), question)
        self.notes += 1
        if self.sink is not None:
            self.sink(dataclasses.replace(note, mod=mod))

    def tombstones(self, removed: Mapping[str, Stamp]) -> None:
        """The removed notes, last in the package; a list note's stays of its note type,
        its cards asking their items (the ones of its last build)."""
        if self.sink is None:
            return
        for note_id, stamp in removed.items():
            if note_id.endswith(LIST_SUFFIX):
                listed = self._lists().of_card(note_id[: -len(LIST_SUFFIX)])
                items = [(key, item.text) for key, item in sorted(listed.items()) if item.live]
                note = list_tombstone_note(self.config, note_id, stamp, items)
            else:
                note = tombstone_note(self.config, note_id, stamp)
            self.sink(note)


@dataclass
class _Lists:
    """The list items of a build: keys from what was shipped before, and what changed."""

    keys: ItemKeys
    known: dict[str, dict[int, Item]]  # by card: every item ever keyed, updated as lists come in
    added: list[ItemChange] = field(default_factory=list)
    reworded: list[ItemChange] = field(default_factory=list)
    removed: list[ItemChange] = field(default_factory=list)
    cards: int = 0
    notes: int = 0

    @classmethod
    def of(cls, stamper: Stamper) -> _Lists:
        old, issued = stamper.old, stamper.issued
        items = {k: Item(t, k in old.items and old.items[k].live) for k, t in issued.items.items()}
        known: dict[str, dict[int, Item]] = {}
        for item, found in items.items():
            parts = split_item_id(item)
            if parts is not None:
                known.setdefault(parts[0], {})[parts[1]] = found
        # Before list notes, each item was a note ``card/key``: the same item keeps its key.
        legacy = {
            k: s.question
            for k, s in old.cards.items()
            if split_item_id(k) is not None and k not in items
        }
        live = {**legacy, **{k: v.text for k, v in items.items() if v.live}}
        gone = {k: v.text for k, v in items.items() if not v.live}
        return cls(ItemKeys(live, gone, [*issued.cards, *items]), known)

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


def _stops_qualifying(place: Place, reason: str, minimum: int) -> Diagnostic:
    message = (
        f"card {place.id!r} has item cards, but {reason}: the next build removes its list "
        f"note (a tombstone; the item cards' reviews go when you delete it); to keep them, "
        f"make the answer one list of {minimum} to {MAX_ITEMS} items again, or add .liste "
        f"to its heading"
    )
    return Diagnostic(place.path, place.line, "warning", message)


# Options are keyword-only: a call names each one. Long for its docstring: the steps of a
# build read best in order, in one place.
def build(  # noqa: PLR0913
    config: DeckConfig,
    notetype: NoteType,
    sources: Iterable[SourceFile],
    previous: State | None,
    now: int,
    *,
    assets: Assets | None = None,
    cache: FileCache | None = None,
    forget_removed: bool = False,
    jobs: int = 1,
    sink: Callable[[Note], None] | None = None,
    issued: Issued | None = None,
    on_file: Callable[[int, int], None] | None = None,
) -> Result:
    """Check and render every card; raises :class:`ContentError` with every error found.

    ``sources`` are consumed one file at a time, in the order given (sorted by path).
    ``cache`` holds files checked before; ``jobs`` is how many processes render. ``issued``
    is what was shipped before besides ``previous`` (see :mod:`kam_anki.history`). Each note,
    with its time, goes to ``sink`` in package order as soon as it is ready (tombstones
    last), so a large deck is never held in memory; after an error, discard what it got.
    ``on_file`` is called after each file with the files and the notes done so far.
    """
    context = FileContext(config, assets or Assets(), cache)
    keys: set[str] = set()

    def tasks() -> Iterator[tuple[SourceFile, str]]:
        for source in sources:
            key = file_key(config, source)
            keys.add(key)
            yield source, key

    across = _Across(Stamper(previous, now, issued), sink, config)
    with checked_files(context, tasks(), jobs) as checked:
        for files, one in enumerate(checked, 1):
            across.take(one)
            if on_file is not None:
                on_file(files, across.notes)
    if not across.places:  # files that are all notes beside the cards make no deck
        across.problems.append(Diagnostic("", 1, "error", "no Markdown files (*.md) with cards"))
    problems = sorted(across.problems)
    errors = [d for d in problems if d.severity == "error"]
    if errors:
        raise ContentError(errors, [d for d in problems if d.severity == "warning"])
    lists = across.lists
    state, changes = across.stamper.finish(
        notetype.digest,
        forget_removed=forget_removed,
        items=lists.table() if lists is not None else None,
    )
    problems += clock_warnings(previous, state, changes, now)
    across.tombstones(state.removed)
    problems += _renamed(changes, across.places)
    return Result(
        state,
        changes,
        tuple(across.places),
        tuple(sorted(problems)),
        dict(sorted(across.media.items())),
        frozenset(keys),
        lists.changes() if lists is not None else ItemChanges(),
    )


def _renamed(changes: Changes, places: list[Place]) -> list[Diagnostic]:
    """A card that lost its id and got a new one looks like a new card with the old one's
    question: the learner's reviews stay with the old note, which becomes a tombstone."""
    if not changes.added or not changes.removed:
        return []
    # A list note goes with its card: the card's warning says it for both.
    gone = {
        question_key(question): card_id
        for card_id, question in changes.removed
        if not card_id.endswith(LIST_SUFFIX)
    }
    new = {place.id: place for place in places}
    found: list[Diagnostic] = []
    for card_id, question in changes.added:
        if card_id.endswith(LIST_SUFFIX):
            continue
        old = gone.get(question_key(question))
        if old is not None:
            place = new[card_id]
            message = (
                f"card {card_id!r} has the question of the removed card {old!r}: learners lose "
                f"that card's reviews when they delete its tombstone; to keep them, give this "
                f"card its old id back: {{#{old}}}"
            )
            found.append(Diagnostic(place.path, place.line, "warning", message))
    return found


def _same_deck(
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


def _duplicates(
    place: Place, question: str, first_id: dict[str, Place], first_question: dict[bytes, Place]
) -> list[Diagnostic]:
    """Checks across files: an id is an error when reused, a question a warning."""
    found: list[Diagnostic] = []
    other = first_id.setdefault(place.id, place) if place.id else place
    if other is not place:
        message = f"duplicate card id {place.id!r}, first used at {other.path}:{other.line}"
        found.append(Diagnostic(place.path, place.line, "error", message))
    # A short digest stands in for the question: a large deck's questions are not copied.
    folded = hashlib.blake2b(question.casefold().encode(), digest_size=12).digest()
    other = first_question.setdefault(folded, place)
    if other is not place:
        message = f"same question as {other.path}:{other.line} ({other.id})"
        found.append(Diagnostic(place.path, place.line, "warning", message))
    return found
