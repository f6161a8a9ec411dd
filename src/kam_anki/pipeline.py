"""The pipeline the API runs: a project loaded, its files checked, rendered and stamped
(with the file cache and what was shipped before), the package, lock and record written as
one transaction, the preview page. :mod:`kam_anki.api` is its public face (errors
documented); this module assumes nothing about who calls it."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from kam_anki import clock as clocks
from kam_anki.assemble import AssemblyInputs, Result, assemble
from kam_anki.cache import CACHE_DIR, FileCache
from kam_anki.errors import Diagnostic
from kam_anki.files import (
    DEFAULT_OUTPUT,
    HISTORY_CACHE,
    Content,
    Shipped,
    read_content,
    read_record,
    read_shipped,
)
from kam_anki.history import RECORD_NAME, dump_cache, extended_record
from kam_anki.model import Assets, DeckConfig, Note, SourceFile
from kam_anki.notetype import NoteType, default_notetype
from kam_anki.output import (
    as_text,
    temporary_file,
    write_atomic,
    write_together,
    writing,
)
from kam_anki.progress import SILENT, Progress
from kam_anki.stamps import Changes, first_epoch
from kam_anki.state import dump_state
from kam_anki.workers import cores, jobs_for


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

    @property
    def epoch(self) -> int:
        """The deck's first build time, the base of the package's ids (the build's too)."""
        return first_epoch(self.content.previous, self.now)


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


def check(
    project: Project, *, forget_removed: bool = False, progress: Progress = SILENT
) -> Outcome:
    """Check, render and stamp in memory: the file cache is read, nothing is written."""
    notes: list[Note] = []
    result = _assemble(project, sink=notes.append, forget_removed=forget_removed, progress=progress)
    return Outcome(result, tuple(notes))


def write(project: Project, *, forget_removed: bool = False, progress: Progress = SILENT) -> Built:
    """Build and write the package, the lock and the record of what was shipped, as one
    transaction: all three or none change; a failed build leaves the last good ones.
    ``progress`` hears of each step as it goes: files checked, the package written."""
    from kam_anki.package import PackageWriter  # genanki: only a command that writes pays

    content, folder, output = project.content, project.folder, project.output
    notes: list[Note] = []
    with (
        writing(output, content.root) as scratch,
        PackageWriter(content.config, project.notetype, project.epoch, scratch) as package,
    ):
        record = read_record(folder)
        shipped = read_shipped(content.root, record, folder)
        cache = FileCache(folder, _write_cache_entry)
        result = _assemble(
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
                (folder / RECORD_NAME, extended_record(record, shipped.stamps, result.state)),
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
        inputs = AssemblyInputs(config, notetype, None, now, assets or Assets(), jobs=jobs)
        result = assemble(inputs, sources, sink=sink)
        out = io.BytesIO()
        package.write(out, result.state.notetype.mod, result.media)
    return out.getvalue(), Outcome(result, tuple(notes))


def preview(project: Project, page: Path, *, progress: Progress = SILENT) -> Outcome:
    """Check the content (as :func:`check`) and write the page with every card."""
    outcome = check(project, progress=progress)
    write_preview(project, outcome, page, progress=progress)
    return outcome


def write_preview(
    project: Project, outcome: Outcome, page: Path, *, progress: Progress = SILENT
) -> None:
    """The page with every card of ``outcome`` (from :func:`check` or :func:`write`),
    written atomically."""
    from kam_anki.preview import Shown, render_preview

    result = outcome.result
    cards = len(outcome.notes)
    progress.start("writing preview", cards)

    def on_card(done: int) -> None:
        progress.advance(done, f"{done:,}/{cards:,} cards")

    shown = Shown(outcome.notes, result.places, result.warnings, result.media)
    html = render_preview(
        project.notetype, shown, title=project.content.config.name, on_card=on_card
    )
    write_atomic(page, html.encode("utf-8"))


def _assemble(
    project: Project,
    *,
    sink: Callable[[Note], None] | None,
    forget_removed: bool,
    shipped: Shipped | None = None,
    cache: FileCache | None = None,
    progress: Progress = SILENT,
) -> Result:
    """Check, render and stamp, with the file cache beside the output (read-only unless
    ``cache`` is given) and what was shipped before (read unless ``shipped`` is given); the
    warnings about what was shipped come first."""
    content = project.content
    if cache is None:
        cache = FileCache(project.folder)
    total = len(content.paths)
    progress.start("checking files", total)

    def on_file(files: int, notes: int) -> None:
        progress.advance(files, f"{files:,}/{total:,} files, {notes:,} cards")

    if shipped is None:
        shipped = read_shipped(content.root, read_record(project.folder), project.folder)
    inputs = AssemblyInputs(
        content.config,
        project.notetype,
        content.previous,
        project.now,
        content.assets,
        shipped=shipped.stamps,
        cache=cache,
        forget_removed=forget_removed,
        jobs=jobs_for(cores(), content.markdown_bytes(), len(cache)),
        epoch=project.epoch,
    )
    result = assemble(inputs, content.sources(), sink=sink, on_file=on_file)
    return replace(result, warnings=(*shipped.warnings, *result.warnings))


def _write_cache_entry(path: Path, data: bytes) -> None:
    write_atomic(path, data, durable=False)  # a lost entry is checked again


def _both(first: Callable[[Note], None], second: Callable[[Note], None]) -> Callable[[Note], None]:
    def both(note: Note) -> None:
        first(note)
        second(note)

    return both
