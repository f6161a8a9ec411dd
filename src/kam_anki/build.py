"""The build: every file's cards checked and rendered, checked across files, and stamped.

Takes the content as data and the clock as ``now``; reads and writes nothing itself except
through the file cache it is given (and the worker processes of :mod:`kam_anki.workers`).
Use it through :mod:`kam_anki.api`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from kam_anki.cache import FileCache, file_key
from kam_anki.clock import clock_warnings
from kam_anki.errors import ContentError, Diagnostic
from kam_anki.ids import question_key
from kam_anki.items import ItemKeys, item_id
from kam_anki.model import Assets, Checked, DeckConfig, ListItem, Note, Place, SourceFile
from kam_anki.notes import FileContext, note_digest, tombstone_note
from kam_anki.notetype import Fields, NoteType
from kam_anki.state import Changes, Issued, Stamper, State
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


@dataclass
class _Across:
    """What the checks across files remember while the files come in, one by one."""

    stamper: Stamper
    sink: Callable[[Note], None] | None
    problems: list[Diagnostic] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    first_id: dict[str, Place] = field(default_factory=dict)
    first_question: dict[bytes, Place] = field(default_factory=dict)
    first_deck: dict[str, tuple[str, Place]] = field(default_factory=dict)
    spellings: set[str] = field(default_factory=set)
    item_keys: ItemKeys | None = None  # made for the first list card: most decks have none
    notes: int = 0  # stamped so far (item cards included)

    def take(self, checked: Checked) -> None:
        """One file's notes: checked against the files before it, stamped, passed on; each
        card's item cards (list cards) right after it."""
        self.problems += checked.found
        self.media.update(checked.media)
        for note, (place, question), items in zip(
            checked.notes, checked.cards, checked.items, strict=True
        ):
            self.problems += _duplicates(place, question, self.first_id, self.first_question)
            if note.deck not in self.spellings:
                self.spellings.add(note.deck)
                self.problems += _same_deck(note.deck, place, self.first_deck)
            self.places.append(place)
            self._emit(note, question)
            if items:
                self._take_items(note, place, items)

    def _take_items(self, note: Note, place: Place, items: tuple[ListItem, ...]) -> None:
        if self.item_keys is None:
            live = {k: v.question for k, v in self.stamper.old.cards.items()}
            self.item_keys = ItemKeys(live, self.stamper.issued.cards)
        texts = [item.text for item in items]
        for key, item in zip(self.item_keys.keys(place.id, texts), items, strict=True):
            fields = Fields(
                question=item.question,
                answer=item.answer,
                chapter=note.fields.chapter,
                source=f"{note.fields.source}/{key}",
            )
            self._emit(Note(item_id(place.id, key), fields, note.tags, note.deck), item.text)

    def _emit(self, note: Note, question: str) -> None:
        mod = self.stamper.stamp(note.card_id, note_digest(note), question)
        self.notes += 1
        if self.sink is not None:
            self.sink(Note(note.card_id, note.fields, note.tags, note.deck, mod))


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

    across = _Across(Stamper(previous, now, issued), sink)
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
    state, changes = across.stamper.finish(notetype.digest, forget_removed=forget_removed)
    problems += clock_warnings(previous, state, changes, now)
    if sink is not None:
        for card_id, stamp in state.removed.items():
            sink(tombstone_note(config, card_id, stamp))
    problems += _renamed(changes, across.places)
    return Result(
        state,
        changes,
        tuple(across.places),
        tuple(sorted(problems)),
        dict(sorted(across.media.items())),
        frozenset(keys),
    )


def _renamed(changes: Changes, places: list[Place]) -> list[Diagnostic]:
    """A card that lost its id and got a new one looks like a new card with the old one's
    question: the learner's reviews stay with the old note, which becomes a tombstone."""
    if not changes.added or not changes.removed:
        return []
    gone = {question_key(question): card_id for card_id, question in changes.removed}
    new = {place.id: place for place in places}
    found: list[Diagnostic] = []
    for card_id, question in changes.added:
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
