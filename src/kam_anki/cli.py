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
    from kam_anki.api import Outcome, Project, PullOutcome

DEFAULT_OUTPUT = Path("build/kam.apkg")
PREVIEW = Path("build/preview.html")
DEBUG = "KAM_ANKI_DEBUG"  # set to 1: an internal error shows its traceback
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
    except BrokenPipeError:
        # The reader has gone (``| head -1``); what was built stays built. Nobody can
        # read a message, and Python's own flush at exit must not fail either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                os.dup2(devnull, stream.fileno())
        raise SystemExit(1) from None
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
    """Paths may hold bytes that are not UTF-8: shown escaped, as the messages name them."""
    click.echo(printable(text), err=err)


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
  kam-anki pull export.apkg      bring the learner's edits in Anki into the Markdown
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

    def ready() -> None:
        rebuild()
        _echo(f"watching {content_dir.as_posix()}/ for changes (Ctrl-C to stop)")

    def changed(names: list[str]) -> None:
        _echo(f"changed: {', '.join(names)}")
        rebuild()

    with contextlib.suppress(KeyboardInterrupt):
        watch_content(content_dir, changed, on_ready=ready)
    _echo("stopped")


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
