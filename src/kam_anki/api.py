"""The pipeline as one API: load the content, build it, write the outcome, add ids, preview,
pull. The command line (:mod:`kam_anki.cli`), ``watch`` and the tests all go through here.
The public names are in ``__all__``; the README's "From a Python script" has an example.

Everything a user can cause (bad content, a file or folder that cannot be read or written,
a wrong clock) raises :class:`kam_anki.errors.KamError`, never a bare ``OSError``; nothing
here prints.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, ParamSpec, TypeVar

from kam_anki import clock as clocks
from kam_anki.build import LIST_SUFFIX, ItemChange, ItemChanges, Result, build
from kam_anki.cache import CACHE_DIR
from kam_anki.characters import decode
from kam_anki.errors import Diagnostic, KamError, PathError
from kam_anki.files import (
    DEFAULT_OUTPUT,
    HISTORY_CACHE,
    Content,
    Shipped,
    read_bytes,
    read_content,
    read_issued,
    read_record,
    read_shipped_digests,
    relative,
)
from kam_anki.history import ISSUED_NAME, dump_cache, extended_record
from kam_anki.ids import add_ids as add_ids_to_text
from kam_anki.learner import Forecast
from kam_anki.media import media_name
from kam_anki.model import Assets, DeckConfig, Note, SourceFile
from kam_anki.notetype import NoteType, default_notetype
from kam_anki.output import (
    DirectoryCache,
    as_text,
    temporary_file,
    write_atomic,
    write_together,
    writing,
)
from kam_anki.parse import parse_file
from kam_anki.progress import SILENT, Progress
from kam_anki.pull import Images, Pulled, Target, plan
from kam_anki.state import CardChange, Changes, dump_state, first_epoch
from kam_anki.tombstones import REMOVED_TAG
from kam_anki.workers import cores, jobs_for

__all__ = [
    "DEFAULT_OUTPUT",
    "Built",
    "CardChange",
    "Changes",
    "Diagnostic",
    "IdsAdded",
    "ItemChange",
    "ItemChanges",
    "KamError",
    "NoteType",
    "Outcome",
    "Project",
    "PullOutcome",
    "add_ids",
    "check",
    "init",
    "load",
    "preview",
    "pull",
    "write",
    "write_preview",
]

_BOM = b"\xef\xbb\xbf"
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _documented_errors(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """A file or folder that cannot be read or written ends as :class:`PathError` (a
    :class:`KamError`, as documented), naming it; a reader that went away stays itself."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except BrokenPipeError:
            raise
        except OSError as exc:
            where = str(exc.filename) if exc.filename else ""
            raise PathError(where, exc.strerror or str(exc)) from exc

    return wrapper


@dataclass(frozen=True)
class Project:
    """The content as read, with this build's time and where its outputs go.

    ``output`` is the package; its folder holds the file cache and the record of what was
    shipped (for a preview alone: the page, whose folder is read the same way).
    """

    content: Content
    notetype: NoteType
    output: Path
    now: int

    @property
    def folder(self) -> Path:
        return self.output.parent


@dataclass(frozen=True)
class Outcome:
    """A checked build: its result and every note as built (with its time), in package order.

    ``changes``: what importing the package will do, as :class:`CardChange` records
    (``card_id``, ``question``); ``warnings``: :class:`Diagnostic` records."""

    result: Result
    notes: tuple[Note, ...]

    @property
    def changes(self) -> Changes:
        return self.result.changes

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return self.result.warnings


@dataclass(frozen=True)
class Built(Outcome):
    """A build that wrote the package: also its path and its sha256."""

    package: Path
    sha256: str


@dataclass(frozen=True)
class IdsAdded:
    """The ids :func:`add_ids` wrote into one file."""

    path: Path
    added: tuple[str, ...]
    restored: tuple[str, ...]  # of those, ids the lock knew (a card coming back)


@_documented_errors
def load(
    content_dir: Path,
    output: Path = DEFAULT_OUTPUT,
    *,
    clock: Callable[[], float] | None = None,
    notetype: NoteType | None = None,
) -> Project:
    """Read ``content_dir`` (deck settings, lock, Markdown, images) and take the time.

    ``clock`` (seconds since 1970; the system clock unless given) and ``notetype`` (the note
    type to build with, named for the deck; kam-anki's own unless given) are the seams a
    test or a script may set."""
    content = read_content(content_dir)
    config = content.config
    base = default_notetype() if notetype is None else notetype
    now = clocks.now(content.previous, None if clock is None else clock())
    return Project(content, base.for_deck(config.notetype_name, config.language), output, now)


@_documented_errors
def check(
    project: Project, *, forget_removed: bool = False, progress: Progress = SILENT
) -> Outcome:
    """Check, render and stamp in memory: the file cache is read, nothing is written."""
    notes: list[Note] = []
    result = _build(project, sink=notes.append, forget_removed=forget_removed, progress=progress)
    return Outcome(result, tuple(notes))


@_documented_errors
def write(project: Project, *, forget_removed: bool = False, progress: Progress = SILENT) -> Built:
    """Build and write the package, the lock and the record of what was shipped, as one
    transaction: all three or none change; a failed build leaves the last good ones.
    ``progress`` hears of each step as it goes: files checked, the package written."""
    from kam_anki.package import PackageWriter  # genanki: only a command that writes pays

    content, folder, output = project.content, project.folder, project.output
    notes: list[Note] = []
    epoch = first_epoch(content.previous, project.now)
    with (
        writing(output, content.root) as scratch,
        PackageWriter(content.config, project.notetype, epoch, scratch) as package,
    ):
        record = read_record(folder)
        shipped = read_issued(content.root, record, folder)
        cache = DirectoryCache(folder / CACHE_DIR, writable=True)
        result = _build(
            project,
            sink=_both(package.add, notes.append),
            forget_removed=forget_removed,
            shipped=shipped,
            cache=cache,
            progress=progress,
        )
        notetype_mod = result.state.notetype.mod

        def write_package(out: BinaryIO) -> None:
            def on_bytes(done: int, total: int) -> None:
                if done:
                    progress.advance(done, f"{done / 2**20:.1f}/{total / 2**20:.1f} MiB")
                else:
                    progress.start("writing package", total)

            package.write(out, notetype_mod, result.media, on_bytes)

        # The package and the lock change together or not at all: all three are written in
        # full in the output folder first. The record of what was shipped moves first
        # (alone, it only makes a later build stamp anew), the package last (content/ may
        # refuse the lock; the output folder just took a file).
        write_together(
            [
                (folder / ISSUED_NAME, extended_record(record, shipped.issued, result.state)),
                (content.lock_path, as_text(lambda out: dump_state(result.state, out))),
                (output, write_package),
            ],
            stage_in=folder,
        )
        cache.keep_only(result.cache_keys)
        if shipped.history is not None:  # what git said, for the next build to go on
            history = dump_cache(shipped.history)
            write_atomic(folder / CACHE_DIR / HISTORY_CACHE, history, durable=False)
    with output.open("rb") as written:
        digest = hashlib.file_digest(written, "sha256").hexdigest()
    return Built(result, tuple(notes), output, digest)


@_documented_errors
def package_bytes(
    config: DeckConfig,
    sources: Iterable[SourceFile],
    now: int,
    *,
    scratch: Path,
    assets: Assets | None = None,
    jobs: int = 1,
) -> tuple[bytes, Outcome]:
    """A first build of content held in memory (no lock, no cache, nothing shipped before),
    into package bytes, with its notes; ``scratch`` is a folder for the package's collection
    while it fills. For scripts and tests that make content on the fly."""
    from kam_anki.package import PackageWriter

    notetype = default_notetype().for_deck(config.notetype_name, config.language)
    notes: list[Note] = []
    with (
        temporary_file(scratch, ".anki2") as path,
        PackageWriter(config, notetype, now, path) as package,
    ):
        sink = _both(package.add, notes.append)
        result = build(config, notetype, sources, None, now, assets=assets, jobs=jobs, sink=sink)
        out = io.BytesIO()
        package.write(out, result.state.notetype.mod, result.media)
    return out.getvalue(), Outcome(result, tuple(notes))


@_documented_errors
def preview(project: Project, page: Path, *, progress: Progress = SILENT) -> Outcome:
    """Check the content (as :func:`check`) and write the page with every card."""
    outcome = check(project, progress=progress)
    write_preview(project, outcome, page, progress=progress)
    return outcome


@_documented_errors
def write_preview(
    project: Project, outcome: Outcome, page: Path, *, progress: Progress = SILENT
) -> None:
    """The page with every card of ``outcome`` (from :func:`check` or :func:`write`),
    written atomically."""
    from kam_anki.preview import render_preview

    result = outcome.result
    cards = len(outcome.notes)
    progress.start("writing preview", cards)

    def on_card(done: int) -> None:
        progress.advance(done, f"{done:,}/{cards:,} cards")

    html = render_preview(
        project.notetype,
        outcome.notes,
        result.places,
        result.warnings,
        title=project.content.config.name,
        media=result.media,
        on_card=on_card,
    )
    write_atomic(page, html.encode("utf-8"))


@_documented_errors
def add_ids(content_dir: Path) -> list[IdsAdded]:
    """Give every card heading without an id a readable one; returns the files written.

    Ids of removed cards stay taken: a new card must not take over an old note's reviews.
    An id the lock knows but the content lacks comes back to a heading with its question.
    """
    content = read_content(content_dir)
    allow_html = content.config.allow_html
    raw = {path: read_bytes(path) for path in content.paths}
    present: set[str] = set()
    for path, data in raw.items():
        name = relative(path, content_dir)
        cards, _ = parse_file(SourceFile(name, decode(data, name)), allow_html=allow_html)
        present.update(card.id for card in cards if card.id)
    previous = content.previous
    locked = {**previous.removed, **previous.cards} if previous is not None else {}
    known = {card_id: stamp.question for card_id, stamp in locked.items() if card_id not in present}
    taken = present | set(locked)
    done: list[IdsAdded] = []
    for path, data in raw.items():
        bom = _BOM if data.startswith(_BOM) else b""
        text, added = add_ids_to_text(data[len(bom) :].decode("utf-8"), taken, known, allow_html)
        if added:
            # A link (inside content/, see files) keeps pointing at the file it names.
            write_atomic(path.resolve(), bom + text.encode("utf-8"))
            restored = tuple(card_id for card_id in added if card_id in known)
            taken.update(added)
            for card_id in restored:
                del known[card_id]
            done.append(IdsAdded(path, tuple(added), restored))
    return done


@_documented_errors
def init(folder: Path, name: str, language: str = "en") -> list[Path]:
    """A new project in ``folder`` (made if missing): ``content/deck.toml`` with fresh random
    ids and ``name``, and one example card; returns the files written. Refuses a folder
    whose ``content/`` exists, or where git remembers a lock file (another deck's history
    would come back as removed cards)."""
    from kam_anki.files import lock_history
    from kam_anki.starter import new_ids, starter_files

    content = folder / "content"
    files = starter_files(name, language, new_ids())
    if content.exists():
        raise PathError(content.as_posix(), "exists already: init makes a new project")
    content.mkdir(parents=True)
    if lock_history(content):
        content.rmdir()
        raise PathError(
            content.as_posix(),
            "git remembers a lock file here (another deck's history): init into a new folder",
        )
    written = []
    for file_name, text in files.items():
        write_atomic(content / file_name, text.encode("utf-8"))
        written.append(content / file_name)
    return written


@dataclass(frozen=True)
class PullOutcome:
    """What :func:`pull` found and did."""

    pulled: Pulled
    before: dict[str, str]  # the files it changes (or, in a dry run, would): their old text
    forecast: Forecast | None  # importing the package into the learner's collection now
    card_ids: dict[str, str]  # note GUID -> card id, for the forecast
    package_stale: bool  # the content changed since the package was built


@_documented_errors
def pull(project: Project, source: Path, *, dry_run: bool = False) -> PullOutcome:
    """Bring the learner's edits in ``source`` (an exported ``.apkg`` or a
    ``collection.anki2``, read with the Anki engine, never written) into the Markdown;
    ``dry_run`` writes nothing."""
    from kam_anki import learner  # the Anki engine: loaded by pull only
    from kam_anki.package import guid

    content = project.content
    config = content.config
    outcome = check(project)
    changes = outcome.result.changes
    changed = {card_id for card_id, _ in (*changes.added, *changes.changed)}
    cards = {}
    for source_file in content.sources():
        cards.update({c.id: c for c in parse_file(source_file, allow_html=config.allow_html)[0]})
    shipped = read_shipped_digests(content.root, read_record(project.folder))
    locked = {**content.previous.removed, **content.previous.cards} if content.previous else {}
    for card_id, stamp in locked.items():
        shipped.setdefault(card_id, set()).add(stamp.digest)
    targets: dict[str, Target] = {}
    for note in outcome.notes:  # a card's note, and its list note (``card-id/liste``)
        parent = note.card_id.removesuffix(LIST_SUFFIX) if note.clozes else note.card_id
        if parent not in cards or REMOVED_TAG in note.tags:
            continue
        targets[guid(config, note.card_id)] = Target(
            cards[parent],
            note,
            changed=note.card_id in changed,
            shipped=frozenset(shipped.get(note.card_id, ())),
        )
    card_ids = {guid(config, card_id): card_id for card_id in {*locked, *shipped}}
    card_ids.update({key: target.note.card_id for key, target in targets.items()})
    package = project.output if project.output.is_file() else None
    reading = learner.read(source, card_ids.keys(), package)
    boms: dict[str, bytes] = {}
    before: dict[str, str] = {}

    def read(path: str) -> str:
        data = read_bytes(content.root / path)
        boms[path] = _BOM if data.startswith(_BOM) else b""
        # As it is, line ends too (the build, which read it already, found it UTF-8).
        before[path] = data[len(boms[path]) :].decode("utf-8")
        return before[path]

    images = Images({media_name(p, data): p for p, data in content.assets.files.items()})
    pulled = plan(targets, reading.notes, read, allow_html=config.allow_html, images=images)
    if not dry_run:
        for path, text in pulled.texts.items():
            write_atomic(content.root / path, boms[path] + text.encode("utf-8"))
    return PullOutcome(
        pulled,
        {path: before[path] for path in pulled.texts},
        reading.forecast,
        card_ids,
        package_stale=package is not None and bool(changed or changes.removed),
    )


def _build(
    project: Project,
    *,
    sink: Callable[[Note], None] | None,
    forget_removed: bool,
    shipped: Shipped | None = None,
    cache: DirectoryCache | None = None,
    progress: Progress = SILENT,
) -> Result:
    """Check, render and stamp, with the file cache beside the output (read-only unless
    ``cache`` is given) and what was shipped before (read unless ``shipped`` is given); the
    warnings about what was shipped come first."""
    content = project.content
    if cache is None:
        cache = DirectoryCache(project.folder / CACHE_DIR, writable=False)
    total = len(content.paths)
    progress.start("checking files", total)

    def on_file(files: int, notes: int) -> None:
        progress.advance(files, f"{files:,}/{total:,} files, {notes:,} cards")

    if shipped is None:
        shipped = read_issued(content.root, read_record(project.folder), project.folder)
    result = build(
        content.config,
        project.notetype,
        content.sources(),
        content.previous,
        project.now,
        assets=content.assets,
        cache=cache,
        forget_removed=forget_removed,
        issued=shipped.issued,
        jobs=jobs_for(cores(), content.markdown_bytes(), len(cache)),
        sink=sink,
        on_file=on_file,
    )
    return replace(result, warnings=(*shipped.warnings, *result.warnings))


def _both(first: Callable[[Note], None], second: Callable[[Note], None]) -> Callable[[Note], None]:
    def both(note: Note) -> None:
        first(note)
        second(note)

    return both
