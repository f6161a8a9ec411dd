"""The command line: turns requests into calls and errors into messages; no logic."""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from kam_anki import __version__
from kam_anki.errors import ContentError, Diagnostic, KamError

if TYPE_CHECKING:
    from kam_anki.build import Result
    from kam_anki.files import Content, DirectoryCache
    from kam_anki.model import Note
    from kam_anki.notetype import NoteType

DEFAULT_OUTPUT = Path("build/kam.apkg")
PREVIEW = Path("build/preview.html")
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
    """Content problems become ``path:line: error: message`` and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ContentError as exc:
            root = click.get_current_context().params.get("content_dir", Path("content"))
            _show(root, exc.diagnostics)
            sys.exit(1)
        except KamError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug: still no traceback for the user, but a report
            click.echo(
                f"error: internal error ({type(exc).__name__}: {exc}); please report it "
                "together with the content that caused it",
                err=True,
            )
            sys.exit(1)

    return wrapper


def _show(root: Path, diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    """Diagnostics name files relative to the content folder; the user sees them from here."""
    lines = [str(replace(d, path=(root / d.path).as_posix())) for d in diagnostics]
    if lines:
        click.echo("\n".join(lines), err=True)


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
    """The clock; for a first build (no lock file yet) ``SOURCE_DATE_EPOCH`` if it is set.

    Later builds take the clock: a changed card must be newer than the learner's own edits.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value or content.previous is not None:
        return int(time.time())
    if not value.isdigit():
        raise click.UsageError(f"SOURCE_DATE_EPOCH must be whole seconds, not {value!r}")
    return int(value)


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
    # A terminated build cleans up like an interrupted one (Ctrl-C): no scratch or
    # half-written files; a watch stops.
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt


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
    from kam_anki.files import as_text, read_content, write_together
    from kam_anki.notetype import default_notetype
    from kam_anki.package import PackageWriter
    from kam_anki.state import dump_state, first_epoch

    content, notetype = read_content(content_dir), default_notetype()
    now = _now(content)
    if dry_run:
        result = _build(content, notetype, output, now, forget_removed=forget_removed).result
        _report(content, result, dry_run)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    epoch = first_epoch(content.previous, now)
    with PackageWriter(content.config, notetype, epoch, output.parent) as package:
        built = _build(
            content,
            notetype,
            output,
            now,
            writes=True,
            sink=package.add,
            forget_removed=forget_removed,
        )
        result = built.result
        _report(content, result, dry_run)
        # The package and the lock change together or not at all.
        write_together(
            [
                (output, lambda out: package.write(out, result.state.notetype.mod, result.media)),
                (content.lock_path, as_text(lambda out: dump_state(result.state, out))),
            ]
        )
    built.cache.keep_only(result.cache_keys)
    with output.open("rb") as written:
        digest = hashlib.file_digest(written, "sha256").hexdigest()
    click.echo(f"sha256 {digest}  {output.as_posix()}")


def _report(content: Content, result: Result, dry_run: bool) -> None:
    """What the import of this build will do, card by card."""
    from kam_anki.build import removed_search

    _show(content.root, result.warnings)
    changes = result.changes
    click.echo(
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
        click.echo("\n".join(lines))
    if changes.notetype_changed and content.previous is not None:
        click.echo("  ~ note type (card design) changed")
    if result.state.removed:
        click.echo(
            f"{len(result.state.removed)} removed card(s) stay in the package, tagged."
            f"\n  To delete them in Anki: Browse, search  {removed_search(content.config)}"
            "  select all, Notes > Delete.\n  Then run: kam-anki build --forget-removed"
        )


@main.command()
@CONTENT
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@_reporting
def check(content_dir: Path, strict: bool) -> None:
    """Validate the content; write nothing."""
    from kam_anki.files import read_content
    from kam_anki.notetype import default_notetype

    content = read_content(content_dir)
    result = _build(content, default_notetype(), DEFAULT_OUTPUT, _now(content)).result
    _show(content_dir, result.warnings)
    if strict and result.warnings:
        sys.exit(1)
    click.echo(f"{len(result.state.cards)} cards ok, {len(result.warnings)} warning(s)")


@main.command()
@CONTENT
@_reporting
def ids(content_dir: Path) -> None:
    """Add a readable id to every card heading that has none; nothing else in the files changes."""
    from kam_anki.files import read_content, relative, write_atomic
    from kam_anki.ids import add_ids
    from kam_anki.model import SourceFile
    from kam_anki.parse import decode, parse_file

    content = read_content(content_dir)
    allow_html = content.config.allow_html
    raw: dict[Path, bytes] = {p: p.read_bytes() for p in content.paths}
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
            click.echo(f"{path.as_posix()}: added {len(added)} id(s): {', '.join(added)}{note}")
            taken.update(added)
            for card_id in restored:
                del known[card_id]
            total += len(added)
    click.echo(f"{total} id(s) added")


def _write_preview(content_dir: Path, output: Path) -> tuple[int, tuple[Diagnostic, ...]]:
    """Build in memory (nothing else is written) and write the preview page: what
    ``preview`` and ``watch`` share. Returns the number of cards and the warnings."""
    from kam_anki.files import read_content, write_atomic
    from kam_anki.notetype import default_notetype
    from kam_anki.preview import render_preview

    content, notetype = read_content(content_dir), default_notetype()
    notes: list[Note] = []
    result = _build(content, notetype, DEFAULT_OUTPUT, _now(content), sink=notes.append).result
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
    count, warnings = _write_preview(content_dir, output)
    _show(content_dir, warnings)
    click.echo(f"preview: {count} cards, {len(warnings)} warning(s)  {output.as_posix()}")
    if open_page:
        import webbrowser

        webbrowser.open(output.resolve().as_uri())


@main.command()
@CONTENT
@_file_option("-o", "--output", default=DEFAULT_OUTPUT, help="Where to write the package.")
@_file_option("--preview", "preview_path", default=PREVIEW, help="Where to write the preview.")
@click.pass_context
def watch(ctx: click.Context, content_dir: Path, output: Path, preview_path: Path) -> None:
    """Rebuild the deck and the preview whenever a file in CONTENT changes; Ctrl-C stops."""
    import traceback

    from kam_anki.watch import watch_content

    if not content_dir.is_dir():
        click.echo(f"error: {content_dir}: not a folder", err=True)
        sys.exit(1)
    write_preview = _reporting(_write_preview)

    def rebuild() -> None:
        started = time.monotonic()
        try:
            # The very command `kam-anki build` runs, output and all; the preview's warnings
            # are the build's, already shown.
            ctx.invoke(build, content_dir=content_dir, output=output)
            count, _ = write_preview(content_dir, preview_path)
        except SystemExit as exc:
            if exc.code:  # the command has printed why
                click.echo("build failed: the last good deck and preview stay", err=True)
            return
        except Exception:  # a bug must not end the watch: show it and wait for the next save
            click.echo(traceback.format_exc(), err=True)
            return
        took = time.monotonic() - started
        click.echo(f"preview: {count} cards  {preview_path.as_posix()}")
        click.echo(f"[{time.strftime('%H:%M:%S')}] rebuilt in {took:.2f} s")

    def ready() -> None:
        rebuild()
        click.echo(f"watching {content_dir.as_posix()}/ for changes (Ctrl-C to stop)")

    def shown(path: Path) -> str:
        try:
            return path.resolve().relative_to(content_dir.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def changed(paths: list[Path]) -> None:
        click.echo(f"changed: {', '.join(shown(p) for p in paths)}")
        rebuild()

    try:
        watch_content(content_dir, changed, on_ready=ready)
    except KeyboardInterrupt:
        click.echo("stopped")
