"""What the command line says, and where: every line goes through :func:`echo` (a closed
pipe changes nothing), and :func:`run_reporting` is the one place an error becomes
``path:line: error: message`` (or the ``--json`` failure document) and an exit status."""

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
from typing import TYPE_CHECKING, ParamSpec

import click

from kam_anki.errors import ContentError, Diagnostic, KamError, PathError, UsageError, printable
from kam_anki.terminal import is_terminal, progress_line

if TYPE_CHECKING:
    from kam_anki.api import IdsAdded, Outcome, Project, PullOutcome

DEBUG = "KAM_ANKI_DEBUG"  # set to 1: an internal error shows its traceback
_reader_left = False  # the reader of the output has gone (a watch then stops)


def run_reporting(
    action: Callable[[], object], root: Path, *, json_command: str | None = None
) -> int:
    """Run ``action``; a problem a user can cause becomes ``path:line: error: message`` (or,
    for ``--json``, the failure document of ``json_command`` on stdout). Returns the exit
    status: 0, 1, or 2 for a wrong call."""
    try:
        action()
        return 0
    except BrokenPipeError:  # a write outside echo: the command did not finish
        reader_gone()
        return 1
    except Exception as exc:
        status, diagnostics = _diagnostics(exc, root)
        if json_command is not None:
            from kam_anki.report import json_failure

            warnings = exc.warnings if isinstance(exc, ContentError) else ()
            echo(json_failure(json_command, diagnostics, [relative(root, w) for w in warnings]))
        else:
            echo("\n".join(map(_said, diagnostics)), err=True)
        if not isinstance(exc, (KamError, OSError)) and os.environ.get(DEBUG):  # a bug
            echo(traceback.format_exc().rstrip("\n"), err=True)
        return status


def _diagnostics(exc: Exception, root: Path) -> tuple[int, list[Diagnostic]]:
    """The exit status and the errors to show; path "" and line 0: none."""
    if isinstance(exc, ContentError):
        return 1, [relative(root, d) for d in exc.diagnostics]
    if isinstance(exc, UsageError):
        return 2, [Diagnostic("", 0, "error", str(exc))]
    if isinstance(exc, PathError):
        return 1, [Diagnostic(exc.path, 0, "error", exc.message)]
    if isinstance(exc, KamError):
        return 1, [Diagnostic("", 0, "error", str(exc))]
    if isinstance(exc, OSError):
        where = str(exc.filename) if exc.filename else ""
        return 1, [Diagnostic(where, 0, "error", exc.strerror or str(exc))]
    # A bug: still no traceback for the user, but a report.
    message = (
        f"internal error ({type(exc).__name__}: {exc}); please report it "
        f"together with the content that caused it ({DEBUG}=1 shows where it happened)"
    )
    return 1, [Diagnostic("", 0, "error", message)]


def _said(diagnostic: Diagnostic) -> str:
    return str(diagnostic) if diagnostic.path else f"{diagnostic.severity}: {diagnostic.message}"


def echo(text: str, *, err: bool = False) -> None:
    """Paths may hold bytes that are not UTF-8: shown escaped, as the messages name them.

    A reader that has gone (``build | head -1``) changes nothing: the command goes on and
    ends with its own exit status, whatever the size of its report."""
    try:
        click.echo(printable(text), err=err)
    except BrokenPipeError:
        reader_gone()


def reader_gone() -> None:
    """Nobody reads any more: later output (and Python's own flush at exit) goes nowhere."""
    global _reader_left  # one flag: a process has one stdout
    _reader_left = True
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            os.dup2(devnull, stream.fileno())


def show(root: Path, diagnostics: Sequence[Diagnostic]) -> None:
    if diagnostics:
        echo("\n".join(str(relative(root, d)) for d in diagnostics), err=True)


def relative(root: Path, diagnostic: Diagnostic) -> Diagnostic:
    """Diagnostics name files relative to the content folder; the user sees them from here."""
    return replace(diagnostic, path=(root / diagnostic.path).as_posix())


_P = ParamSpec("_P")


def reporting(command: Callable[_P, None]) -> Callable[_P, None]:
    """A command whose errors :func:`run_reporting` prints, ending with its exit status."""

    @functools.wraps(command)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> None:
        context = click.get_current_context()
        root = context.params.get("content_dir", Path("content"))
        as_json = context.info_name if context.params.get("as_json") else None
        status = run_reporting(lambda: command(*args, **kwargs), root, json_command=as_json)
        if status:
            sys.exit(status)

    return wrapper


def print_build_report(
    project: Project, outcome: Outcome, *, dry_run: bool, list_all: bool
) -> None:
    """Printed only once the build is done: a closed pipe (``| head -1``) cannot undo it.
    On a terminal, long lists of cards are cut short unless ``list_all``; a pipe gets all."""
    from kam_anki.api import Built
    from kam_anki.report import TERMINAL_LIMIT, build_report

    content = project.content
    show(content.root, outcome.result.warnings)
    first = content.previous is None
    cut = not list_all and is_terminal(sys.stdout, os.environ)
    lines = build_report(
        outcome.result,
        content.config,
        first_build=first,
        dry_run=dry_run,
        limit=TERMINAL_LIMIT if cut else None,
    )
    echo("\n".join(lines))
    if isinstance(outcome, Built):
        echo(f"sha256 {outcome.sha256}  {outcome.package.as_posix()}")


def print_json_report(command: str, project: Project, outcome: Outcome, *, ok: bool = True) -> None:
    from kam_anki.api import Built
    from kam_anki.report import Written, json_report

    written = Written(outcome.package, outcome.sha256) if isinstance(outcome, Built) else None
    echo(json_report(command, outcome.result, project.content, written=written, ok=ok))


def watch_session(content_dir: Path, output: Path, preview_path: Path, *, list_all: bool) -> None:
    """Build the deck and the preview, then again on every save, until Ctrl-C (or until
    nobody reads the output any more)."""
    from kam_anki import api
    from kam_anki.files import require_folder
    from kam_anki.report import cards_in_anki
    from kam_anki.watch import watch_content

    require_folder(content_dir)

    def once() -> None:
        """One build: the deck as `kam-anki build` writes it, and the preview from its notes
        (whose warnings are the build's, already shown)."""
        started = time.monotonic()
        project = api.load(content_dir, output)
        with progress_line() as progress:
            outcome = api.write(project, progress=progress)
        print_build_report(project, outcome, dry_run=False, list_all=list_all)
        with progress_line() as progress:
            api.write_preview(project, outcome, preview_path, progress=progress)
        echo(f"preview: {cards_in_anki(outcome.notes)} cards  {preview_path.as_posix()}")
        echo(f"[{time.strftime('%H:%M:%S')}] rebuilt in {time.monotonic() - started:.2f} s")

    def rebuild() -> None:
        if run_reporting(once, content_dir):
            echo("build failed: the last good deck and preview stay", err=True)
        if _reader_left:  # nobody sees what a watch says any more: stop, as Ctrl-C does
            raise KeyboardInterrupt

    def ready() -> None:
        rebuild()
        echo(f"watching {content_dir.as_posix()}/ for changes (Ctrl-C to stop)")

    def changed(names: list[str]) -> None:
        echo(f"changed: {', '.join(names)}")
        rebuild()

    with contextlib.suppress(KeyboardInterrupt):
        watch_content(content_dir, changed, on_ready=ready)
    echo("stopped")


def print_pull(root: Path, output: Path, done: PullOutcome, *, dry_run: bool) -> bool:
    """A pull's diff (in a dry run) and report; whether everything was pulled."""
    from kam_anki.pullreport import pull_diff, pull_report

    if dry_run:
        for path, old in done.before.items():
            echo("\n".join(pull_diff(root, path, old, done.pulled.texts[path])))
    echo("\n".join(pull_report(root, output, done, dry_run=dry_run)))
    return all(found.kind == "pulled" for found in done.pulled.findings)


def print_ids(files: Sequence[IdsAdded]) -> None:
    """Each file's added ids (those the lock knew: restored), and how many in all."""
    total = 0
    for done in files:
        note = f" ({', '.join(done.restored)} restored from the lock file)" if done.restored else ""
        added = ", ".join(done.added)
        echo(f"{done.path.as_posix()}: added {len(done.added)} id(s): {added}{note}")
        total += len(done.added)
    echo(f"{total} id(s) added")
