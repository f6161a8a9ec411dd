"""The command line: parses arguments, calls :mod:`kam_anki.api` and prints; errors become
messages in one place (:func:`_run`). :func:`run`, the program's entry, sets its signal
handlers."""

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
from kam_anki.terminal import is_terminal, progress_line

if TYPE_CHECKING:
    from kam_anki.api import Outcome, Project, PullOutcome
    from kam_anki.model import Note

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


LIST_ALL = click.option(
    "--list-all",
    is_flag=True,
    help="List every added, changed and removed card (a terminal shows 20 of each).",
)
JSON = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document on stdout (shape in the README), nothing else.",
)


def _file_option(*names: str, default: Path, help: str) -> Callable[[F], F]:
    return click.option(
        *names,
        type=click.Path(path_type=Path, dir_okay=False),
        default=default,
        show_default=True,
        help=help,
    )


def _run(action: Callable[[], object], root: Path, *, json_command: str | None = None) -> int:
    """Run ``action``; a problem a user can cause becomes ``path:line: error: message`` (or,
    for ``--json``, the failure document of ``json_command`` on stdout). Returns the exit
    status: 0, 1, or 2 for a wrong call."""
    try:
        action()
        return 0
    except BrokenPipeError:  # a write outside _echo: the command did not finish
        _reader_gone()
        return 1
    except Exception as exc:
        status, problems = _problems(exc, root)
        if json_command is not None:
            from kam_anki.report import json_failure

            warnings = exc.warnings if isinstance(exc, ContentError) else ()
            _echo(json_failure(json_command, problems, [_relative(root, w) for w in warnings]))
        else:
            _echo("\n".join(map(_said, problems)), err=True)
        if not isinstance(exc, (KamError, OSError)) and os.environ.get(DEBUG):  # a bug
            _echo(traceback.format_exc().rstrip("\n"), err=True)
        return status


def _problems(exc: Exception, root: Path) -> tuple[int, list[Diagnostic]]:
    """The exit status and the errors to show; path "" and line 0: none."""
    if isinstance(exc, ContentError):
        return 1, [_relative(root, d) for d in exc.diagnostics]
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


def _said(problem: Diagnostic) -> str:
    return str(problem) if problem.path else f"{problem.severity}: {problem.message}"


def _reporting(command: Callable[P, None]) -> Callable[P, None]:
    """A command whose errors :func:`_run` prints, ending with its exit status."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        context = click.get_current_context()
        root = context.params.get("content_dir", Path("content"))
        as_json = context.info_name if context.params.get("as_json") else None
        status = _run(lambda: command(*args, **kwargs), root, json_command=as_json)
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
    if diagnostics:
        _echo("\n".join(str(_relative(root, d)) for d in diagnostics), err=True)


def _relative(root: Path, diagnostic: Diagnostic) -> Diagnostic:
    """Diagnostics name files relative to the content folder; the user sees them from here."""
    return replace(diagnostic, path=(root / diagnostic.path).as_posix())


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=f"""\b
Examples:
  kam-anki init my-deck          start a deck of your own in my-deck/
  kam-anki build                 content/ -> build/kam.apkg
  kam-anki build --dry-run       show what an import would change, write nothing
  kam-anki build --json          the build's report as one JSON document, for scripts
  kam-anki check --strict        validate; warnings count as errors
  kam-anki ids                   add a card id to every heading without one
  kam-anki preview --open        see every card before importing
  kam-anki watch                 rebuild deck and preview on every save
  kam-anki pull export.apkg      bring the learner's edits in Anki into the Markdown
\b
An internal error (a bug) is reported in one line; {DEBUG}=1 shows its traceback.
""",
)
@click.version_option(__version__, prog_name="kam-anki")
def main() -> None:
    """Keep an Anki deck as plain Markdown: a reproducible .apkg whose notes update in place."""


def run() -> None:
    """The program (``kam-anki``, ``python -m kam_anki``): a terminated build (or one whose
    terminal closed) cleans up like an interrupted one (Ctrl-C): no scratch or half-written
    files; a watch stops. The handlers are process-wide, so they are set here, where the
    process is ours, and not in :func:`main`, which a host (a test runner) may call."""
    interrupts.install()
    main()


@main.command(epilog="\b\nExample:\n  kam-anki build --content content -o build/kam.apkg")
@CONTENT
@_file_option("-o", "--output", default=DEFAULT_OUTPUT, help="Where to write the package.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--forget-removed",
    is_flag=True,
    help="Drop the tombstones of removed cards (after you deleted them in Anki).",
)
@LIST_ALL
@JSON
@_reporting
def build(
    content_dir: Path,
    output: Path,
    dry_run: bool,
    forget_removed: bool,
    list_all: bool,
    as_json: bool,
) -> None:
    """Build the .apkg from the Markdown in CONTENT."""
    from kam_anki import api

    project = api.load(content_dir, output)
    with progress_line() as progress:
        if dry_run:
            outcome = api.check(project, forget_removed=forget_removed, progress=progress)
        else:
            outcome = api.write(project, forget_removed=forget_removed, progress=progress)
    if as_json:
        _json_report("build", project, outcome)
    else:
        _report(project, outcome, dry_run=dry_run, list_all=list_all)


def _report(project: Project, outcome: Outcome, *, dry_run: bool, list_all: bool) -> None:
    """Printed only once the build is done: a closed pipe (``| head -1``) cannot undo it.
    On a terminal, long lists of cards are cut short unless ``list_all``; a pipe gets all."""
    from kam_anki.api import Built
    from kam_anki.report import TERMINAL_LIMIT, build_report

    content = project.content
    _show(content.root, outcome.result.warnings)
    first = content.previous is None
    cut = not list_all and is_terminal(sys.stdout, os.environ)
    lines = build_report(
        outcome.result,
        content.config,
        first_build=first,
        dry_run=dry_run,
        limit=TERMINAL_LIMIT if cut else None,
    )
    _echo("\n".join(lines))
    if isinstance(outcome, Built):
        _echo(f"sha256 {outcome.sha256}  {outcome.package.as_posix()}")


def _json_report(command: str, project: Project, outcome: Outcome, *, ok: bool = True) -> None:
    from kam_anki.api import Built
    from kam_anki.report import Written, json_report

    written = Written(outcome.package, outcome.sha256) if isinstance(outcome, Built) else None
    _echo(json_report(command, outcome.result, project.content, written=written, ok=ok))


@main.command(epilog="\b\nExample:\n  kam-anki check --strict")
@CONTENT
@_file_option(
    "-o",
    "--output",
    default=DEFAULT_OUTPUT,
    help="The package 'build' writes: its file cache (beside it) is read, never written.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@JSON
@_reporting
def check(content_dir: Path, output: Path, strict: bool, as_json: bool) -> None:
    """Validate the content; write nothing."""
    from kam_anki import api

    project = api.load(content_dir, output)
    with progress_line() as progress:
        outcome = api.check(project, progress=progress)
    result = outcome.result
    failed = strict and bool(result.warnings)
    if as_json:
        _json_report("check", project, outcome, ok=not failed)
    else:
        _show(content_dir, result.warnings)
        if not failed:
            cards = len(result.state.cards) - result.items.notes
            counted = f"{cards} card{'' if cards == 1 else 's'}"
            if result.items.notes:
                items = result.items.cards
                counted += f" and {items} item card{'' if items == 1 else 's'}"
            _echo(f"{counted} ok, {len(result.warnings)} warning(s)")
    if failed:
        sys.exit(1)


@main.command(
    epilog="\b\nExamples:\n  kam-anki init my-deck --name 'Statistics'\n"
    "  cd my-deck && kam-anki build"
)
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=Path("."))
@click.option("--name", help="The deck's name in Anki (asked if not given).")
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="The cards' language (a tag such as en, de, fr-CH), for hyphenation.",
)
@_reporting
def init(folder: Path, name: str | None, language: str) -> None:
    """Start a deck of your own in FOLDER: content/deck.toml with fresh ids, one example card."""
    from kam_anki import api

    if name is None:
        fallback = folder.resolve().name or "My deck"
        name = click.prompt("Deck name", default=fallback) if sys.stdin.isatty() else fallback
    for path in api.init(folder, name, language):
        _echo(f"wrote {path.as_posix()}")
    where = "" if folder == Path(".") else f"cd {folder.as_posix()} && "
    _echo(f"next: {where}kam-anki build   (then import build/kam.apkg into Anki)")


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
    with progress_line() as progress:
        outcome = api.preview(project, output, progress=progress)
    warnings = outcome.result.warnings
    _show(content_dir, warnings)
    cards = _cards(outcome.notes)
    _echo(f"preview: {cards} cards, {len(warnings)} warning(s)  {output.as_posix()}")
    if open_page:
        import webbrowser

        webbrowser.open(output.resolve().as_uri())


@main.command(epilog="\b\nExample:\n  kam-anki watch --preview build/preview.html")
@CONTENT
@_file_option("-o", "--output", default=DEFAULT_OUTPUT, help="Where to write the package.")
@_file_option("--preview", "preview_path", default=PREVIEW, help="Where to write the preview.")
@LIST_ALL
@_reporting
def watch(content_dir: Path, output: Path, preview_path: Path, list_all: bool) -> None:
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
        with progress_line() as progress:
            outcome = api.write(project, progress=progress)
        _report(project, outcome, dry_run=False, list_all=list_all)
        with progress_line() as progress:
            api.write_preview(project, outcome, preview_path, progress=progress)
        _echo(f"preview: {_cards(outcome.notes)} cards  {preview_path.as_posix()}")
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


def _cards(notes: Sequence[Note]) -> int:
    """Cards in Anki: one per note, one per item of a list note."""
    return sum(len(note.clozes) or 1 for note in notes)


@main.command(
    epilog="""\b
Examples:
  kam-anki pull ~/Desktop/KAM.apkg          an export (File > Export…, Anki Deck Package)
  kam-anki pull --dry-run collection.anki2  a profile's collection (Anki closed): show the diff
\b
Exit status: 0 all pulled (or nothing to pull), 1 conflicts or changes not pulled, 2 usage."""
)
@CONTENT
@click.argument("source", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@_file_option(
    "-o",
    "--output",
    default=DEFAULT_OUTPUT,
    help="The built package: the report says what importing it into SOURCE would do.",
)
@click.option("--dry-run", is_flag=True, help="Show the Markdown diff; write nothing.")
@_reporting
def pull(content_dir: Path, source: Path, output: Path, dry_run: bool) -> None:
    """Bring the edits a learner made in Anki (SOURCE: an exported .apkg or a
    collection.anki2, only read) into the Markdown in CONTENT."""
    from kam_anki import api

    done = api.pull(api.load(content_dir, output), source, dry_run=dry_run)
    if dry_run:
        for path, old in done.before.items():
            diff = pull_diff(content_dir, path, old, done.pulled.texts[path])
            _echo("\n".join(diff))
    _echo("\n".join(pull_report(content_dir, output, done, dry_run=dry_run)))
    if any(f.kind != "pulled" for f in done.pulled.findings):
        sys.exit(1)


def pull_diff(root: Path, path: str, old: str, new: str) -> list[str]:
    from kam_anki.pull import diff

    return diff((root / path).as_posix(), old, new)


def pull_report(root: Path, output: Path, done: PullOutcome, *, dry_run: bool) -> list[str]:
    """The lines of a pull's report: each finding as ``path:line: kind: id: message``."""
    import difflib

    lines: list[str] = []
    counts = {"pulled": 0, "conflict": 0, "not pulled": 0}
    for found in done.pulled.findings:
        counts[found.kind] += 1
        kind: str = "would pull" if dry_run and found.kind == "pulled" else found.kind
        lines.append(
            f"{(root / found.path).as_posix()}:{found.line}: {kind}: {found.card_id}: "
            f"{found.message}"
        )
        if found.kind == "conflict":
            lines += [
                "    " + line
                for line in difflib.unified_diff(
                    found.author.split("\n"),
                    found.learner.split("\n"),
                    "Markdown (author, kept)",
                    "Anki (learner)",
                    lineterm="",
                )
            ]
    summary = (
        f"{counts['pulled']} {'to pull' if dry_run else 'pulled'}, {counts['conflict']} "
        f"conflict(s), {counts['not pulled']} not pulled, {done.pulled.unchanged} as shipped"
    )
    lines.append(summary + (" (dry run: nothing written)" if dry_run else ""))
    forecast = done.forecast
    if forecast is None:
        lines.append(f"no {output.as_posix()} yet: run kam-anki build to see what an import does")
        return lines
    named = {
        "new": forecast.new,
        "updated": forecast.updated,
        "skipped": forecast.skipped,
        "conflicting": forecast.conflicting,
    }
    counted = ", ".join(f"{len(v)} {k}" for k, v in named.items())
    lines.append(f"importing {output.as_posix()} into it now: {counted}")
    for kind in ("new", "updated", "conflicting"):
        if named[kind]:
            ids = ", ".join(sorted(done.card_ids.get(g, g) for g in named[kind]))
            lines.append(f"  {kind}: {ids}")
    # An edit that stays in Anki only (a conflict, not pulled) is gone once an import updates it.
    kept = {f.card_id for f in done.pulled.findings if f.kind != "pulled"}
    lost = sorted(kept & {done.card_ids.get(g, g) for g in forecast.updated})
    if lost:
        lines.append(f"  the update replaces the learner's own edit of: {', '.join(lost)}")
    if forecast.conflicting:
        lines.append(
            "  (conflicting: the learner changed the note type; import with Merge note types)"
        )
    if done.package_stale:
        lines.append(f"  ({output.as_posix()} is older than the content: run kam-anki build)")
    return lines
