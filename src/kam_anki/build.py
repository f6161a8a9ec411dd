"""Content -> package: the build pipeline, pure (the clock comes in as ``now``)."""

from __future__ import annotations

import hashlib
import posixpath
import re
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from kam_anki.cache import FileCache, file_key
from kam_anki.errors import ContentError, Diagnostic
from kam_anki.ids import question_key
from kam_anki.items import ItemKeys, item_id
from kam_anki.listcards import list_items, opted_in
from kam_anki.model import Assets, Card, Checked, DeckConfig, ListItem, Note, Place, SourceFile
from kam_anki.notetype import NoteType
from kam_anki.parse import REMOVED_CHAPTER, read_cards
from kam_anki.render import Blocks, render_answer, render_question, render_text
from kam_anki.state import LOCK_NAME, Changes, Issued, Stamp, Stamper, State

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

REMOVED_TAG = "kam::entfernt"
REMOVED_ANSWER = (
    "<p><em>Diese Karte ist nicht mehr in den Markdown-Quellen des Stapels. "
    "Sie kann gelöscht werden.</em></p>"
)
IMAGE_TYPES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"})
_COUNT_HINT = re.compile(r"\((\d{1,3})\)[\s?.:!]*$")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


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


def removed_search(config: DeckConfig) -> str:
    """What to paste into Anki's browser to find the cards removed from the Markdown."""
    return f'"deck:{config.name}" tag:{REMOVED_TAG}'


def media_name(path: str, data: bytes) -> str:
    """Content-addressed: equal names mean equal bytes, so images never collide."""
    suffix = posixpath.splitext(path)[1].lower()
    return f"kam-{hashlib.sha256(data).hexdigest()[:20]}{suffix}"


@dataclass(frozen=True, slots=True)
class _Context:
    """What checking a file needs besides the file: shared by every file of a build."""

    config: DeckConfig
    assets: Assets
    cache: FileCache | None


@dataclass(slots=True)
class _FileChecker:
    """Renders and checks the cards of one file, collecting notes, media and problems."""

    context: _Context
    notes: list[Note] = field(default_factory=list)
    cards: list[tuple[Place, str]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    found: list[Diagnostic] = field(default_factory=list)
    items: list[tuple[ListItem, ...]] = field(default_factory=list)

    def add(self, card: Card, parsed: Blocks | None) -> None:
        config = self.context.config

        def at(line: int) -> int:
            return card.answer_line + line - 1

        def image(src: str, line: int) -> str:
            resolved, problem = self._resolve(card.path, unquote(src))
            if problem:
                self.found.append(Diagnostic(card.path, at(line), "error", problem))
                return src
            data = self.context.assets.files[resolved]
            name = media_name(resolved, data)
            self.media[name] = data
            return name

        answer = render_answer(
            card.answer,
            allow_html=config.allow_html,
            images=image,
            parsed=parsed,
            first=card.answer_line - 1,
        )

        def warn(line: int, message: str) -> None:
            self.found.append(Diagnostic(card.path, line, "warning", message))

        hint = _COUNT_HINT.search(card.question)
        if hint and int(hint.group(1)) != answer.top_level_items:
            warn(
                card.line,
                f"question says ({hint.group(1)}) but the answer lists "
                f"{answer.top_level_items} items",
            )
        for line in answer.empty_items:
            warn(at(line), "empty list item")
        if not config.allow_html:
            for line in answer.raw_html:
                warn(at(line), "raw HTML is shown as text (allow_html = true in deck.toml)")
        question = render_question(card.question, allow_html=config.allow_html)
        items: tuple[ListItem, ...] = ()
        if opted_in(card, answer, config):
            items, problem = list_items(card, answer, question, allow_html=config.allow_html)
            if problem:
                self.found.append(Diagnostic(card.path, card.line, "error", problem))
        self.items.append(items)
        self.notes.append(
            Note(
                card_id=card.id,
                fields=(
                    question,
                    answer.html,
                    render_text(card.chapter),
                    render_text(card.source),
                ),
                tags=config.tags,
                deck=f"{config.name}::{card.chapter}",
            )
        )
        self.cards.append((Place(card.id, card.path, card.line), card.question))

    def _resolve(self, page: str, target: str) -> tuple[str, str | None]:
        """An image path relative to its Markdown file, checked to stay inside content/."""
        if _URL_SCHEME.match(target):
            return (
                "",
                f"image {target!r} is not a file: put it into content/ and link it relatively",
            )
        if target.startswith("/") or "\\" in target:
            return "", f"image {target!r}: use a relative path with '/' inside content/"
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page), target))
        if path == ".." or path.startswith("../"):
            return "", f"image {target!r} points outside content/"
        if path in self.context.assets.escaping:
            return "", f"image {target!r} is a symlink leading outside content/"
        if posixpath.splitext(path)[1].lower() not in IMAGE_TYPES:
            return "", f"image {target!r}: not a PNG, JPEG, GIF, SVG or WebP file"
        if path not in self.context.assets.files:
            return "", f"image {target!r} not found (looked for content/{path})"
        return path, None


def note_digest(note: Note) -> str:
    """Everything an import writes into the note: fields and tags (not the deck)."""
    # Anki's own separators: they cannot occur inside a field or a tag.
    payload = "\x1f".join(note.fields) + "\x1e" + " ".join(note.tags)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def tombstone_note(config: DeckConfig, card_id: str, stamp: Stamp) -> Note:
    return Note(
        card_id=card_id,
        fields=(
            render_question(stamp.question, allow_html=config.allow_html),
            REMOVED_ANSWER,
            "entfernt",
            render_text(f"#{card_id}"),
        ),
        tags=(*config.tags, REMOVED_TAG),
        # Cards already in a collection stay where they are; a new learner finds these
        # in a subdeck that says what they are.
        deck=f"{config.name}::{REMOVED_CHAPTER}",
        mod=stamp.mod,
    )


def check_file(context: _Context, source: SourceFile, key: str) -> Checked:
    """Parse, render and check one file, or take it from the cache: the unit of work, in
    this process or a worker."""
    cache = context.cache
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached
    cards, answers, found = read_cards(source, allow_html=context.config.allow_html)
    checker = _FileChecker(context, found=found)
    for card, parsed in zip(cards, answers, strict=True):
        checker.add(card, parsed)
    checked = Checked(
        tuple(checker.notes),
        tuple(checker.cards),
        checker.media,
        tuple(checker.found),
        tuple(checker.items),
    )
    # Images tie a file to other files, and a file with errors is not built at all.
    cacheable = "![" not in source.text and all(d.severity != "error" for d in checked.found)
    if cache is not None and cacheable:
        cache.put(key, checked)
    return checked


_STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _serve(context: _Context, tasks: Connection, parents_ends: list[Connection]) -> None:
    """A worker process: checks the files it is sent until its pipe closes."""
    for pipe in parents_ends:  # inherited: with them open here, no worker would see its end
        pipe.close()
    # The parent handles Ctrl-C and cleans up; it ends its workers with SIGTERM, which
    # (or SIGHUP) must simply end them (not run a handler inherited from the command line).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)  # held by the parent for the fork
    while True:
        try:
            task = tasks.recv()
        except EOFError:
            return
        try:
            tasks.send((True, check_file(context, *task)))
        except Exception as exc:  # a bug: raised in the parent, which reports it
            tasks.send((False, exc))


class _Workers:
    """Forked processes that check files, each one file at a time over its own pipe.

    No queue, lock or helper thread is shared (multiprocessing.Pool has all three): a signal
    at any moment, or a worker that is gone, can never leave the parent waiting.
    """

    def __init__(self, context: _Context, jobs: int) -> None:
        import multiprocessing  # only here: a small build never pays for importing it

        fork = multiprocessing.get_context("fork")
        self.pipes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        try:
            for _ in range(jobs):
                mine, theirs = fork.Pipe()
                self.pipes.append(mine)
                process = fork.Process(
                    target=_serve, args=(context, theirs, list(self.pipes)), daemon=True
                )
                # A signal during a fork would be handled in an at-fork callback, where
                # Python drops the KeyboardInterrupt it raises: hold it until after.
                old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
                try:
                    process.start()
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, old)
                self.processes.append(process)
                theirs.close()  # so that a worker's end shows as the pipe's end
        except BaseException:
            self.stop(finished=False)
            raise

    def check(self, tasks: Iterable[tuple[SourceFile, str]]) -> Iterator[Checked]:
        """Checked files in the order of ``tasks``; a few are in flight at a time."""
        from multiprocessing.connection import wait

        pending = iter(tasks)
        idle = list(self.pipes)
        busy: dict[Connection, int] = {}
        results: dict[int, Checked] = {}
        sent = done = 0
        while True:
            while idle and sent - done < 4 * len(self.pipes):
                task = next(pending, None)
                if task is None:
                    break
                pipe = idle.pop()
                pipe.send(task)
                busy[pipe] = sent
                sent += 1
            while done in results:
                yield results.pop(done)
                done += 1
            if not busy:
                return
            ready = wait(list(busy))
            for pipe in [pipe for pipe in busy if pipe in ready]:
                try:
                    ok, value = pipe.recv()
                except EOFError:
                    raise RuntimeError("a worker process ended unexpectedly") from None
                if not ok:
                    raise value
                results[busy.pop(pipe)] = value
                idle.append(pipe)

    def stop(self, *, finished: bool) -> None:
        """Closed pipes end idle workers; after an interruption busy ones are ended too."""
        for pipe in self.pipes:
            pipe.close()
        for process in self.processes:
            if not finished:
                process.terminate()
            process.join()


@contextmanager
def _checked_files(
    context: _Context, tasks: Iterable[tuple[SourceFile, str]], jobs: int
) -> Iterator[Iterable[Checked]]:
    """Checked files in the order of ``tasks``; with ``jobs`` > 1 from worker processes.

    Workers are forked: they start with the context without copying it through a pipe.
    """
    if jobs <= 1 or "fork" not in _start_methods():
        yield (check_file(context, *task) for task in tasks)
        return
    workers = _Workers(context, jobs)
    finished = False
    try:
        yield workers.check(tasks)
        finished = True
    finally:
        workers.stop(finished=finished)


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def jobs_for(cores: int, markdown_bytes: int, cached: int) -> int:
    """How many processes to render with. Rendering is most of a cold build; a second
    process pays for its start from about a thousand cards (~150 KB of Markdown). A build
    with a warm cache renders little, so it stays in one process."""
    if cached or markdown_bytes < 150_000:
        return 1
    return max(1, min(cores, 4))


def build(
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
) -> Result:
    """Check and render every card; raises :class:`ContentError` with every error found.

    ``sources`` are consumed one file at a time, in the order given (sorted by path).
    ``cache`` holds files checked before; ``jobs`` is how many processes render. ``issued``
    is what was shipped before besides ``previous`` (see :mod:`kam_anki.history`). Each note,
    with its time, goes to ``sink`` in package order as soon as it is ready (tombstones
    last), so a large deck is never held in memory; after an error, discard what it got.
    """
    context = _Context(config, assets or Assets(), cache)
    keys: set[str] = set()

    def tasks() -> Iterator[tuple[SourceFile, str]]:
        for source in sources:
            key = file_key(config, source)
            keys.add(key)
            yield source, key

    found: list[Diagnostic] = []
    places: list[Place] = []
    stamper = Stamper(previous, now, issued)
    media: dict[str, bytes] = {}
    first_id: dict[str, Place] = {}
    first_question: dict[bytes, Place] = {}
    first_deck: dict[str, tuple[str, Place]] = {}
    spellings: set[str] = set()
    item_keys: ItemKeys | None = None  # made for the first list card: most decks have none

    def emit(note: Note, question: str) -> None:
        mod = stamper.stamp(note.card_id, note_digest(note), question)
        if sink is not None:
            sink(Note(note.card_id, note.fields, note.tags, note.deck, mod))

    with _checked_files(context, tasks(), jobs) as checked_files:
        for checked in checked_files:
            found += checked.found
            media.update(checked.media)
            for note, (place, question), items in zip(
                checked.notes, checked.cards, checked.items, strict=True
            ):
                found += _duplicates(place, question, first_id, first_question)
                if note.deck not in spellings:
                    spellings.add(note.deck)
                    found += _same_deck(note.deck, place, first_deck)
                places.append(place)
                emit(note, question)
                if not items:
                    continue
                if item_keys is None:
                    live = {k: v.question for k, v in stamper.old.cards.items()}
                    item_keys = ItemKeys(live, stamper.issued.cards)
                texts = [item.text for item in items]
                for key, item in zip(item_keys.keys(place.id, texts), items, strict=True):
                    chapter, source = note.fields[2], note.fields[3]
                    fields = (item.question, item.answer, chapter, f"{source}/{key}")
                    item_note = Note(item_id(place.id, key), fields, note.tags, note.deck)
                    emit(item_note, item.text)
    if not keys:
        found.append(Diagnostic("", 1, "error", "no Markdown files (*.md) with cards"))
    problems = sorted(found)
    errors = [d for d in problems if d.severity == "error"]
    if errors:
        raise ContentError(errors)
    state, changes = stamper.finish(notetype.digest, forget_removed=forget_removed)
    problems += _clock_warnings(previous, state, changes, now)
    if sink is not None:
        for card_id, stamp in state.removed.items():
            sink(tombstone_note(config, card_id, stamp))
    problems += _renamed(changes, places)
    return Result(
        state,
        changes,
        tuple(places),
        tuple(sorted(problems)),
        dict(sorted(media.items())),
        frozenset(keys),
    )


def _renamed(changes: Changes, places: list[Place]) -> list[Diagnostic]:
    """A card that lost its id and got a new one looks like a new card with the old one's
    question: the learner's reviews stay with the old note, which becomes a tombstone."""
    if not changes.added or not changes.removed:
        return []
    gone = {question_key(question): card_id for card_id, question in changes.removed}
    new = {place.id: place for place in places}
    found = []
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
    found = []
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


def _clock_warnings(
    previous: State | None, state: State, changes: Changes, now: int
) -> list[Diagnostic]:
    """What a wrong clock did to the times, and what that means for learners."""
    found = []
    if previous is not None and previous.epoch != state.epoch:
        found.append(
            Diagnostic(
                LOCK_NAME,
                1,
                "warning",
                f"the lock's epoch {previous.epoch} is no valid base for Anki's note ids; "
                f"it is now {state.epoch} (notes are matched by GUID: learners lose nothing)",
            )
        )
    if not changes.ahead:
        return found
    latest = max(seconds for _, seconds in changes.ahead)
    names = ", ".join(key or "(note type)" for key, _ in changes.ahead[:10])
    more = f" and {len(changes.ahead) - 10} more" if len(changes.ahead) > 10 else ""
    found.append(
        Diagnostic(
            LOCK_NAME,
            1,
            "warning",
            f"{len(changes.ahead)} time(s) in this deck lie up to {_duration(latest)} ahead of "
            f"this machine's clock ({_utc(now)}): {names}{more}.\n"
            "  Either an earlier build ran on a clock that was ahead, or this clock is behind.\n"
            f"  Until {_utc(now + latest)}, importing this deck replaces a learner's own edits "
            "in Anki to these cards, even where their Markdown did not change; changes to the "
            "Markdown still arrive.\n"
            "  If this clock is behind, set it right (e.g. turn on network time) and build "
            "again. If it is right, tell learners not to edit these cards in Anki before then.",
        )
    )
    return found


def _utc(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
