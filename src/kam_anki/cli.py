"""The command line: parses arguments, calls :mod:`kam_anki.api` and prints; errors become
messages in one place (:func:`_run`). Sets the signal handlers of a command."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from kam_anki import __version__, interrupts
from kam_anki.errors import ContentError, Diagnostic, KamError, PathError, UsageError, printable

if TYPE_CHECKING:
    from kam_anki.api import Outcome, Project

DEFAULT_OUTPUT = Path("build/kam.apkg")
PREVIEW = Path("build/preview.html")
DEBUG = "KAM_ANKI_DEBUG"  # set to 1: an internal error shows its traceback
_reader_left = False  # the reader of the output has gone (a watch then stops)
P = ParamSpec("P")
F = TypeVar("F", bound=Callable[..., object])

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


def _run(action: Callable[[], object], root: Path) -> int:
    """Run ``action``; a problem a user can cause becomes ``path:line: error: message``.
    Returns the exit status: 0, 1, or 2 for a wrong call."""
    try:
        action()
        return 0
    except ContentError as exc:
        _show(root, exc.diagnostics)
    except UsageError as exc:
        _echo(f"error: {exc}", err=True)
        return 2
    except PathError as exc:
        _echo(str(exc), err=True)
    except KamError as exc:
        _echo(f"error: {exc}", err=True)
    except BrokenPipeError:  # a write outside _echo: the command did not finish
        _reader_gone()
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
    return 1


def _reporting(command: Callable[P, None]) -> Callable[P, None]:
    """A command whose errors :func:`_run` prints, ending with its exit status."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        root = click.get_current_context().params.get("content_dir", Path("content"))
        status = _run(lambda: command(*args, **kwargs), root)
        if status:
            sys.exit(status)

    return wrapper


def _echo(text: str, *, err: bool = False) -> None:
    """Paths may hold bytes that are not UTF-8: shown escaped, as the messages name them.

    A reader that has gone (``build | head -1``) changes nothing: the command goes on and
    ends with its own exit status, whatever the size of its report."""
    try:
        click.echo(printable(text), err=err)
    except BrokenPipeError:
        _reader_gone()


def _reader_gone() -> None:
    """Nobody reads any more: later output (and Python's own flush at exit) goes nowhere."""
    global _reader_left  # one flag: a process has one stdout
    _reader_left = True
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            os.dup2(devnull, stream.fileno())


def _show(root: Path, diagnostics: Sequence[Diagnostic]) -> None:
    """Diagnostics name files relative to the content folder; the user sees them from here."""
    lines = [str(replace(d, path=(root / d.path).as_posix())) for d in diagnostics]
    if lines:
        _echo("\n".join(lines), err=True)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=f"""\b
Examples:
  kam-anki build                 content/ -> build/kam.apkg
  kam-anki build --dry-run       show what an import would change, write nothing
  kam-anki check --strict        validate; warnings count as errors
  kam-anki ids                   add a card id to every heading without one
  kam-anki preview --open        see every card before importing
  kam-anki watch                 rebuild deck and preview on every save
\b
An internal error (a bug) is reported in one line; {DEBUG}=1 shows its traceback.
""",
)
@click.version_option(__version__, prog_name="kam-anki")
def main() -> None:
    """Keep an Anki deck as plain Markdown: a reproducible .apkg whose notes update in place."""
    # A terminated build (or one whose terminal closed) cleans up like an interrupted one
    # (Ctrl-C): no scratch or half-written files; a watch stops.
    interrupts.install()


@main.command(epilog="\b\nExample:\n  kam-anki build --content content -o build/kam.apkg")
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
    from kam_anki import api

    project = api.load(content_dir, output)
    if dry_run:
        _report(project, api.check(project, forget_removed=forget_removed), dry_run=True)
    else:
        _report(project, api.write(project, forget_removed=forget_removed), dry_run=False)


def _report(project: Project, outcome: Outcome, *, dry_run: bool) -> None:
    """Printed only once the build is done: a closed pipe (``| head -1``) cannot undo it."""
    from kam_anki.report import build_report

    content = project.content
    _show(content.root, outcome.result.warnings)
    first = content.previous is None
    _echo(
        "\n".join(build_report(outcome.result, content.config, first_build=first, dry_run=dry_run))
    )
    if outcome.sha256 is not None:
        _echo(f"sha256 {outcome.sha256}  {project.output.as_posix()}")


@main.command(epilog="\b\nExample:\n  kam-anki check --strict")
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
    from kam_anki import api

    result = api.check(api.load(content_dir, output)).result
    _show(content_dir, result.warnings)
    if strict and result.warnings:
        sys.exit(1)
    _echo(f"{len(result.state.cards)} cards ok, {len(result.warnings)} warning(s)")


@main.command(epilog="\b\nExample:\n  kam-anki ids --content content")
@CONTENT
@_reporting
def ids(content_dir: Path) -> None:
    """Add a readable id to every card heading that has none; nothing else in the files changes."""
    from kam_anki import api

    total = 0
    for done in api.add_ids(content_dir):
        note = f" ({', '.join(done.restored)} restored from the lock file)" if done.restored else ""
        added = ", ".join(done.added)
        _echo(f"{done.path.as_posix()}: added {len(done.added)} id(s): {added}{note}")
        total += len(done.added)
    _echo(f"{total} id(s) added")


@main.command(epilog="\b\nExample:\n  kam-anki preview --open")
@CONTENT
@_file_option("-o", "--output", default=PREVIEW, help="Where to write the page.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser.")
@_reporting
def preview(content_dir: Path, output: Path, open_page: bool) -> None:
    """Write one HTML page with every card, front and back, as Anki shows them."""
    from kam_anki import api

    # The page's own folder is where `build` keeps its cache when both keep their defaults.
    project = api.load(content_dir, output)
    outcome = api.check(project, keep_notes=True)
    api.write_preview(project, outcome, output)
    warnings = outcome.result.warnings
    _show(content_dir, warnings)
    _echo(f"preview: {len(outcome.notes)} cards, {len(warnings)} warning(s)  {output.as_posix()}")
    if open_page:
        import webbrowser

        webbrowser.open(output.resolve().as_uri())


@main.command(epilog="\b\nExample:\n  kam-anki watch --preview build/preview.html")
@CONTENT
@_file_option("-o", "--output", default=DEFAULT_OUTPUT, help="Where to write the package.")
@_file_option("--preview", "preview_path", default=PREVIEW, help="Where to write the preview.")
@_reporting
def watch(content_dir: Path, output: Path, preview_path: Path) -> None:
    """Rebuild the deck and the preview whenever a file in CONTENT changes; Ctrl-C stops."""
    from kam_anki import api
    from kam_anki.files import require_folder
    from kam_anki.watch import watch_content

    require_folder(content_dir)

    def once() -> None:
        """One build: the deck as `kam-anki build` writes it, and the preview from its notes
        (whose warnings are the build's, already shown)."""
        started = time.monotonic()
        project = api.load(content_dir, output)
        outcome = api.write(project, keep_notes=True)
        _report(project, outcome, dry_run=False)
        api.write_preview(project, outcome, preview_path)
        _echo(f"preview: {len(outcome.notes)} cards  {preview_path.as_posix()}")
        _echo(f"[{time.strftime('%H:%M:%S')}] rebuilt in {time.monotonic() - started:.2f} s")

    def rebuild() -> None:
        if _run(once, content_dir):
            _echo("build failed: the last good deck and preview stay", err=True)
        if _reader_left:  # nobody sees what a watch says any more: stop, as Ctrl-C does
            raise KeyboardInterrupt

    def ready() -> None:
        rebuild()
        _echo(f"watching {content_dir.as_posix()}/ for changes (Ctrl-C to stop)")

    def changed(names: list[str]) -> None:
        _echo(f"changed: {', '.join(names)}")
        rebuild()

    with contextlib.suppress(KeyboardInterrupt):
        watch_content(content_dir, changed, on_ready=ready)
    _echo("stopped")
