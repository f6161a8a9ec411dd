"""The command line: turns requests into calls and errors into messages; no logic."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from kam_anki import __version__
from kam_anki.errors import (
    ContentError,
    Diagnostic,
    KamError,
    PathError,
    UsageError,
    printable,
)

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

    from kam_anki.build import Result
    from kam_anki.files import Content, DirectoryCache
    from kam_anki.model import Note
    from kam_anki.notetype import NoteType
    from kam_anki.state import Issued

DEFAULT_OUTPUT = Path("build/kam.apkg")
PREVIEW = Path("build/preview.html")
DEBUG = "KAM_ANKI_DEBUG"  # set to 1: an internal error shows its traceback
P = ParamSpec("P")
F = TypeVar("F", bound=Callable[..., object])
R = TypeVar("R")

CONTENT = click.option(
    "--content",
    "content_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("content"),
    show_default=True,
    help="Folder with deck.toml and the Markdown files.",
)


def _file_option(*names: str, default: Path, help: str) -> Callable[[F], F]:
    return click.option(
        *names,
        type=click.Path(path_type=Path, dir_okay=False),
        default=default,
        show_default=True,
        help=help,
    )


def _reporting(command: Callable[P, R]) -> Callable[P, R]:
    """Problems a user can cause become ``path:line: error: message`` and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ContentError as exc:
            root = click.get_current_context().params.get("content_dir", Path("content"))
            _show(root, exc.diagnostics)
        except UsageError as exc:
            _echo(f"error: {exc}", err=True)
            sys.exit(2)
        except PathError as exc:
            _echo(str(exc), err=True)
        except KamError as exc:
            _echo(f"error: {exc}", err=True)
        except BrokenPipeError:
            # The reader has gone (``| head -1``); what was built stays built. Nobody can
            # read a message, and Python's own flush at exit must not fail either.
            devnull = os.open(os.devnull, os.O_WRONLY)
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    os.dup2(devnull, stream.fileno())
            raise _OutputGone(1) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _echo(f"{where}error: {exc.strerror or exc}", err=True)
        except Exception as exc:  # a bug: still no traceback for the user, but a report
            _echo(
                f"error: internal error ({type(exc).__name__}: {exc}); please report it "
                f"together with the content that caused it ({DEBUG}=1 shows where it happened)",
                err=True,
            )
            if os.environ.get(DEBUG):
                _echo(traceback.format_exc().rstrip("\n"), err=True)
        sys.exit(1)

    return wrapper


class _OutputGone(SystemExit):
    """The output was closed: a watch ends too."""


def _echo(text: str, *, err: bool = False) -> None:
    """Paths may hold bytes that are not UTF-8: shown escaped, as the messages name them."""
    click.echo(printable(text), err=err)


def _show(root: Path, diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    """Diagnostics name files relative to the content folder; the user sees them from here."""
    lines = [str(replace(d, path=(root / d.path).as_posix())) for d in diagnostics]
    if lines:
        _echo("\n".join(lines), err=True)


@dataclass(frozen=True)
class _Built:
    cache: DirectoryCache
    result: Result


def _build(
    content: Content,
    notetype: NoteType,
    output: Path,
    now: int,
    *,
    writes: bool = False,
    sink: Callable[[Note], None] | None = None,
    forget_removed: bool = False,
    issued: Issued | None = None,
) -> _Built:
    """What ``build``, ``check``, ``preview`` and ``watch`` share: check and render, with
    the file cache that lives beside ``output`` (filled only if the command ``writes``)."""
    from kam_anki.build import build, jobs_for
    from kam_anki.cache import CACHE_DIR
    from kam_anki.files import DirectoryCache

    cache = DirectoryCache(output.parent / CACHE_DIR, writable=writes)
    result = build(
        content.config,
        notetype,
        content.sources(),
        content.previous,
        now,
        assets=content.assets,
        cache=cache,
        forget_removed=forget_removed,
        issued=issued if issued is not None else _issued(content, output),
        jobs=jobs_for(_cores(), content.markdown_bytes(), len(cache)),
        sink=sink,
    )
    return _Built(cache, result)


def _cores() -> int:
    """Cores this process may use (all of the machine's where that cannot be asked)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _now(content: Content) -> int:
    from kam_anki.state import build_time

    return build_time(time.time(), os.environ.get("SOURCE_DATE_EPOCH"), content.previous)


def _issued(content: Content, output: Path) -> Issued:
    from kam_anki.files import read_issued

    return read_issued(content.root, output.parent)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""\b
Examples:
  kam-anki build                 content/ -> build/kam.apkg
  kam-anki build --dry-run       show what an import would change, write nothing
  kam-anki check --strict        validate; warnings count as errors
  kam-anki ids                   add a card id to every heading without one
  kam-anki preview --open        see every card before importing
  kam-anki watch                 rebuild deck and preview on every save
""",
)
@click.version_option(__version__, prog_name="kam-anki")
def main() -> None:
    """Keep an Anki deck as plain Markdown: a reproducible .apkg whose notes update in place."""
    # A terminated build (or one whose terminal closed) cleans up like an interrupted one
    # (Ctrl-C): no scratch or half-written files; a watch stops.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    signal.signal(signal.SIGALRM, _interrupt)
    sys.unraisablehook = _unraisable


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt


def _unraisable(info: UnraisableHookArgs) -> None:
    """A signal that arrives while Python runs a finaliser raises where nothing can catch
    it: deliver it again a moment later (as SIGALRM, handled like SIGTERM), when the
    finaliser is done, so that it ends the command where it can."""
    if isinstance(info.exc_value, KeyboardInterrupt):
        signal.setitimer(signal.ITIMER_REAL, 0.01)
    else:
        sys.__unraisablehook__(info)


@main.command()
@CONTENT
@_file_option("-o", "--output", default=DEFAULT_OUTPUT, help="Where to write the package.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--forget-removed",
    is_flag=True,
    help="Drop the tombstones of removed cards (after you deleted them in Anki).",
)
@_reporting
def build(content_dir: Path, output: Path, dry_run: bool, forget_removed: bool) -> None:
    """Build the .apkg from the Markdown in CONTENT."""
    from kam_anki.files import as_text, read_content, write_together, writing
    from kam_anki.history import ISSUED_NAME, dump_issued
    from kam_anki.notetype import default_notetype
    from kam_anki.package import PackageWriter
    from kam_anki.state import dump_state, first_epoch, issued_by, merge_issued

    content, notetype = read_content(content_dir), default_notetype()
    now = _now(content)
    if dry_run:
        result = _build(content, notetype, output, now, forget_removed=forget_removed).result
        _report(content, result, dry_run)
        return
    folder = output.parent
    epoch = first_epoch(content.previous, now)
    with (
        writing(output, content_dir) as scratch,
        PackageWriter(content.config, notetype, epoch, scratch) as package,
    ):
        issued = _issued(content, output)
        built = _build(
            content,
            notetype,
            output,
            now,
            writes=True,
            sink=package.add,
            forget_removed=forget_removed,
            issued=issued,
        )
        result = built.result
        shipped = merge_issued([issued, issued_by(result.state)])
        notetype_mod = result.state.notetype.mod
        # The package and the lock change together or not at all: all three are written in
        # full in the output folder first. The record of what was shipped moves first
        # (alone, it only makes a later build stamp anew), the package last (content/ may
        # refuse the lock; the output folder just took a file).
        write_together(
            [
                (folder / ISSUED_NAME, as_text(lambda out: dump_issued(shipped, out))),
                (content.lock_path, as_text(lambda out: dump_state(result.state, out))),
                (output, lambda out: package.write(out, notetype_mod, result.media)),
            ],
            stage_in=folder,
        )
        built.cache.keep_only(result.cache_keys)
    with output.open("rb") as written:
        digest = hashlib.file_digest(written, "sha256").hexdigest()
    # Only now the report: a closed pipe (``| head -1``) cannot undo a build that is done.
    _report(content, result, dry_run)
    _echo(f"sha256 {digest}  {output.as_posix()}")


def _report(content: Content, result: Result, dry_run: bool) -> None:
    """What the import of this build will do, card by card."""
    from kam_anki.build import removed_search

    _show(content.root, result.warnings)
    changes = result.changes
    _echo(
        f"{len(result.state.cards)} cards: {len(changes.added)} added, "
        f"{len(changes.changed)} changed, {len(changes.removed)} removed, "
        f"{changes.unchanged} unchanged" + (" (dry run: nothing written)" if dry_run else "")
    )
    lines = [
        f"  {mark} {card_id}: {question}"
        for mark, items in (("+", changes.added), ("~", changes.changed), ("-", changes.removed))
        for card_id, question in items
    ]
    if lines:
        _echo("\n".join(lines))
    if changes.notetype_changed and content.previous is not None:
        _echo("  ~ note type (card design) changed")
    if result.state.removed:
        _echo(
            f"{len(result.state.removed)} removed card(s) stay in the package, tagged."
            f"\n  To delete them in Anki: Browse, search  {removed_search(content.config)}"
            "  select all, Notes > Delete.\n  Then run: kam-anki build --forget-removed"
        )


@main.command()
@CONTENT
@_file_option(
    "-o",
    "--output",
    default=DEFAULT_OUTPUT,
    help="The package 'build' writes: its file cache (beside it) is read, never written.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@_reporting
def check(content_dir: Path, output: Path, strict: bool) -> None:
    """Validate the content; write nothing."""
    from kam_anki.files import read_content
    from kam_anki.notetype import default_notetype

    content = read_content(content_dir)
    result = _build(content, default_notetype(), output, _now(content)).result
    _show(content_dir, result.warnings)
    if strict and result.warnings:
        sys.exit(1)
    _echo(f"{len(result.state.cards)} cards ok, {len(result.warnings)} warning(s)")


@main.command()
@CONTENT
@_reporting
def ids(content_dir: Path) -> None:
    """Add a readable id to every card heading that has none; nothing else in the files changes."""
    from kam_anki.files import read_bytes, read_content, relative, write_atomic
    from kam_anki.ids import add_ids
    from kam_anki.model import SourceFile
    from kam_anki.parse import decode, parse_file

    content = read_content(content_dir)
    allow_html = content.config.allow_html
    raw: dict[Path, bytes] = {p: read_bytes(p) for p in content.paths}
    present: set[str] = set()
    for path, data in raw.items():
        name = relative(path, content_dir)
        cards, _ = parse_file(SourceFile(name, decode(data, name)), allow_html=allow_html)
        present.update(card.id for card in cards if card.id)
    # Ids of removed cards stay taken: a new card must not take over an old note's reviews.
    # An id the lock knows but the content lacks comes back to a heading with its question.
    previous = content.previous
    locked = {**previous.removed, **previous.cards} if previous is not None else {}
    known = {card_id: stamp.question for card_id, stamp in locked.items() if card_id not in present}
    taken = present | set(locked)
    total = 0
    for path, data in raw.items():
        bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
        text, added = add_ids(data[len(bom) :].decode("utf-8"), taken, known, allow_html)
        if added:
            write_atomic(path, bom + text.encode("utf-8"))
            restored = [card_id for card_id in added if card_id in known]
            note = f" ({', '.join(restored)} restored from the lock file)" if restored else ""
            _echo(f"{path.as_posix()}: added {len(added)} id(s): {', '.join(added)}{note}")
            taken.update(added)
            for card_id in restored:
                del known[card_id]
            total += len(added)
    _echo(f"{total} id(s) added")


def _write_preview(
    content_dir: Path, output: Path, cache_beside: Path
) -> tuple[int, tuple[Diagnostic, ...]]:
    """Build in memory (reading the file cache beside ``cache_beside``, writing nothing else)
    and write the preview page: what ``preview`` and ``watch`` share. Returns the number
    of cards and the warnings."""
    from kam_anki.files import read_content, write_atomic
    from kam_anki.notetype import default_notetype
    from kam_anki.preview import render_preview

    content, notetype = read_content(content_dir), default_notetype()
    notes: list[Note] = []
    result = _build(content, notetype, cache_beside, _now(content), sink=notes.append).result
    page = render_preview(
        notetype,
        notes,
        result.places,
        result.warnings,
        title=content.config.name,
        media=result.media,
    )
    write_atomic(output, page.encode("utf-8"))
    return len(notes), result.warnings


@main.command()
@CONTENT
@_file_option("-o", "--output", default=PREVIEW, help="Where to write the page.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser.")
@_reporting
def preview(content_dir: Path, output: Path, open_page: bool) -> None:
    """Write one HTML page with every card, front and back, as Anki shows them."""
    # The page's own folder is where `build` keeps its cache when both keep their defaults.
    count, warnings = _write_preview(content_dir, output, cache_beside=output)
    _show(content_dir, warnings)
    _echo(f"preview: {count} cards, {len(warnings)} warning(s)  {output.as_posix()}")
    if open_page:
        import webbrowser

        webbrowser.open(output.resolve().as_uri())


@main.command()
@CONTENT
@_file_option("-o", "--output", default=DEFAULT_OUTPUT, help="Where to write the package.")
@_file_option("--preview", "preview_path", default=PREVIEW, help="Where to write the preview.")
@click.pass_context
@_reporting
def watch(ctx: click.Context, content_dir: Path, output: Path, preview_path: Path) -> None:
    """Rebuild the deck and the preview whenever a file in CONTENT changes; Ctrl-C stops."""
    from kam_anki.watch import watch_content

    if not content_dir.is_dir():
        _echo(f"{content_dir.as_posix()}: error: not a folder", err=True)
        sys.exit(1)
    write_preview = _reporting(_write_preview)

    def rebuild() -> None:
        started = time.monotonic()
        try:
            # The very command `kam-anki build` runs, output and all; the preview's warnings
            # are the build's, already shown.
            ctx.invoke(build, content_dir=content_dir, output=output)
            count, _ = write_preview(content_dir, preview_path, cache_beside=output)
        except _OutputGone:
            raise
        except SystemExit as exc:
            if exc.code:  # the command has printed why
                _echo("build failed: the last good deck and preview stay", err=True)
            return
        took = time.monotonic() - started
        _echo(f"preview: {count} cards  {preview_path.as_posix()}")
        _echo(f"[{time.strftime('%H:%M:%S')}] rebuilt in {took:.2f} s")

    def ready() -> None:
        rebuild()
        _echo(f"watching {content_dir.as_posix()}/ for changes (Ctrl-C to stop)")

    def changed(names: list[str]) -> None:
        _echo(f"changed: {', '.join(names)}")
        rebuild()

    with contextlib.suppress(KeyboardInterrupt):
        watch_content(content_dir, changed, on_ready=ready)
    _echo("stopped")
