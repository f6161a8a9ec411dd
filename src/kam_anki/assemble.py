"""A deck assembled (the core of a build, before any file is written): every file's cards
checked and rendered, checked across files, and stamped.

Takes the content as data and the clock as ``now``; reads and writes nothing itself except
through the file cache it is given (and the worker processes of :mod:`kam_anki.workers`).
Use it through :mod:`kam_anki.api`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from kam_anki.cache import FileCache
from kam_anki.clock import clock_warnings
from kam_anki.crosscheck import duplicates, renamed_cards, same_deck
from kam_anki.errors import ContentError, Diagnostic
from kam_anki.listcards import cloze_field
from kam_anki.listnotes import (
    LIST_TAG,
    ItemChanges,
    ListKeys,
    is_list_note,
    list_note_card,
    list_note_id,
    stops_qualifying,
)
from kam_anki.model import Assets, DeckConfig, FileResult, ListCard, Note, Place, SourceFile
from kam_anki.notes import FileContext, list_tombstone_note, note_digest, tombstone_note
from kam_anki.notetype import Fields, NoteType, source_field
from kam_anki.render import render_text
from kam_anki.stamps import Changes, Stamper
from kam_anki.state import ShippedStamps, Stamp, State
from kam_anki.workers import checked_files


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
    items: ItemChanges = field(default_factory=ItemChanges)


@dataclass
class DeckAssembler:
    """The deck put together as the files come in, one by one: each file's notes checked
    against the files before it (what the checks across files remember), stamped, passed on."""

    stamper: Stamper
    sink: Callable[[Note], None] | None
    config: DeckConfig
    diagnostics: list[Diagnostic] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    first_id: dict[str, Place] = field(default_factory=dict)
    first_question: dict[bytes, Place] = field(default_factory=dict)
    first_deck: dict[str, tuple[str, Place]] = field(default_factory=dict)
    spellings: set[str] = field(default_factory=set)
    lists: ListKeys | None = None  # made for the first list card: most decks have none
    notes: int = 0  # stamped so far (list notes included)

    def take(self, checked: FileResult) -> None:
        """One file's notes: checked against the files before it, stamped, passed on; each
        list card's list note right after it."""
        self.diagnostics += checked.diagnostics
        self.media.update(checked.media)
        for note, (place, question), listed in zip(
            checked.notes, checked.cards, checked.lists, strict=True
        ):
            self.diagnostics += duplicates(place, question, self.first_id, self.first_question)
            if note.deck not in self.spellings:
                self.spellings.add(note.deck)
                self.diagnostics += same_deck(note.deck, place, self.first_deck)
            self.places.append(place)
            self._emit(note, question)
            if isinstance(listed, ListCard):
                self._list_note(note, place, listed, question)
            elif listed and self._had_list(place.id):
                self.diagnostics.append(stops_qualifying(place, listed, self.config.list_cards))

    def _lists(self) -> ListKeys:
        if self.lists is None:
            self.lists = ListKeys.of(self.stamper)
        return self.lists

    def _had_list(self, card_id: str) -> bool:
        shipped = self.stamper.shipped.cards.get(list_note_id(card_id))
        return shipped is not None and not shipped.is_tombstone

    def _list_note(self, note: Note, place: Place, listed: ListCard, question: str) -> None:
        lists = self._lists()
        shipped = self.stamper.shipped.cards.get(list_note_id(place.id))
        keys = lists.assign(place.id, listed, back=shipped is not None and shipped.is_tombstone)
        fields = Fields(
            question=note.fields.question,
            answer=cloze_field(listed, keys),
            chapter=note.fields.chapter,
            source=render_text(source_field(place.path, list_note_id(place.id))),
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
            if is_list_note(note_id):
                listed = self._lists().of_card(list_note_card(note_id))
                items = [(key, item.text) for key, item in sorted(listed.items()) if item.live]
                note = list_tombstone_note(self.config, note_id, stamp, items)
            else:
                note = tombstone_note(self.config, note_id, stamp)
            self.sink(note)


@dataclass(frozen=True)
class AssemblyInputs:
    """What a build reads besides the Markdown: the deck's settings and note type, the lock
    (``previous``), the time, the images, what was shipped besides the lock (``shipped``, see
    :mod:`kam_anki.history`), the file cache of files checked before, and how many
    processes render (``jobs``)."""

    config: DeckConfig
    notetype: NoteType
    previous: State | None
    now: int
    assets: Assets = field(default_factory=Assets)
    shipped: ShippedStamps | None = None
    cache: FileCache | None = None
    forget_removed: bool = False
    jobs: int = 1
    epoch: int | None = None  # the deck's first build time, if known (else from previous)


def assemble(
    inputs: AssemblyInputs,
    sources: Iterable[SourceFile],
    *,
    sink: Callable[[Note], None] | None = None,
    on_file: Callable[[int, int], None] | None = None,
) -> Result:
    """Check and render every card; raises :class:`ContentError` with every error found.

    ``sources`` are consumed one file at a time, in the order given (sorted by path). Each
    note, with its time, goes to ``sink`` in package order as soon as it is ready
    (tombstones last), so a large deck is never held in memory; after an error, discard
    what it got. ``on_file`` is called after each file with the files and the notes done
    so far.
    """
    config = inputs.config
    context = FileContext(config, inputs.assets, inputs.cache)
    keys: set[str] = set()

    def tasks() -> Iterator[tuple[SourceFile, str]]:
        for source in sources:
            key = FileCache.key(config, source)
            keys.add(key)
            yield source, key

    across = DeckAssembler(
        Stamper(inputs.previous, inputs.now, inputs.shipped, epoch=inputs.epoch), sink, config
    )
    with checked_files(context, tasks(), inputs.jobs) as checked:
        for files, one in enumerate(checked, 1):
            across.take(one)
            if on_file is not None:
                on_file(files, across.notes)
    return _finish(inputs, across, frozenset(keys))


def _finish(inputs: AssemblyInputs, across: DeckAssembler, keys: frozenset[str]) -> Result:
    """Every file taken: stop at errors, else stamp the deck, its tombstones last."""
    if not across.places:  # files that are all notes beside the cards make no deck
        across.diagnostics.append(Diagnostic("", 1, "error", "no Markdown files (*.md) with cards"))
    diagnostics = sorted(across.diagnostics)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise ContentError(errors, [d for d in diagnostics if d.severity == "warning"])
    lists = across.lists
    state, changes = across.stamper.finish(
        inputs.notetype.digest,
        forget_removed=inputs.forget_removed,
        items=lists.table() if lists is not None else None,
    )
    diagnostics += clock_warnings(inputs.previous, state, changes, inputs.now)
    across.tombstones(state.removed)
    diagnostics += renamed_cards(changes, across.places)
    return Result(
        state,
        changes,
        tuple(across.places),
        tuple(sorted(diagnostics)),
        dict(sorted(across.media.items())),
        keys,
        lists.changes() if lists is not None else ItemChanges(),
    )
