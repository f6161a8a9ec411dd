"""The command line: click's commands and options; each calls :mod:`kam_anki.api` and says
what happened through :mod:`kam_anki.console` (where errors become messages). :func:`run`,
the program's entry, sets its signal handlers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from kam_anki import __version__, console, interrupts
from kam_anki.console import echo, reporting
from kam_anki.files import DEFAULT_OUTPUT
from kam_anki.terminal import progress_line

PREVIEW = Path("build/preview.html")
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
An internal error (a bug) is reported in one line; {console.DEBUG}=1 shows its traceback.
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
@reporting
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
        console.print_json_report("build", project, outcome)
    else:
        console.print_build_report(project, outcome, dry_run=dry_run, list_all=list_all)


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
@reporting
def check(content_dir: Path, output: Path, strict: bool, as_json: bool) -> None:
    """Validate the content; write nothing."""
    from kam_anki import api

    project = api.load(content_dir, output)
    with progress_line() as progress:
        outcome = api.check(project, progress=progress)
    result = outcome.result
    failed = strict and bool(result.warnings)
    if as_json:
        console.print_json_report("check", project, outcome, ok=not failed)
    else:
        console.show(content_dir, result.warnings)
        if not failed:
            from kam_anki.report import check_summary

            echo(check_summary(result))
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
@reporting
def init(folder: Path, name: str | None, language: str) -> None:
    """Start a deck of your own in FOLDER: content/deck.toml with fresh ids, one example card."""
    from kam_anki import api

    if name is None:
        fallback = folder.resolve().name or "My deck"
        name = click.prompt("Deck name", default=fallback) if sys.stdin.isatty() else fallback
    for path in api.init(folder, name, language):
        echo(f"wrote {path.as_posix()}")
    where = "" if folder == Path(".") else f"cd {folder.as_posix()} && "
    echo(f"next: {where}kam-anki build   (then import build/kam.apkg into Anki)")


@main.command(epilog="\b\nExample:\n  kam-anki ids --content content")
@CONTENT
@reporting
def ids(content_dir: Path) -> None:
    """Add a readable id to every card heading that has none; nothing else in the files changes."""
    from kam_anki import api

    console.print_ids(api.add_ids(content_dir))


@main.command(epilog="\b\nExample:\n  kam-anki preview --open")
@CONTENT
@_file_option("-o", "--output", default=PREVIEW, help="Where to write the page.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser.")
@reporting
def preview(content_dir: Path, output: Path, open_page: bool) -> None:
    """Write one HTML page with every card, front and back, as Anki shows them."""
    from kam_anki import api
    from kam_anki.report import cards_in_anki

    # The page's own folder is where `build` keeps its cache when both keep their defaults.
    project = api.load(content_dir, output)
    with progress_line() as progress:
        outcome = api.preview(project, output, progress=progress)

    warnings = outcome.warnings
    console.show(content_dir, warnings)
    cards = cards_in_anki(outcome.notes)
    echo(f"preview: {cards} cards, {len(warnings)} warning(s)  {output.as_posix()}")
    if open_page:
        import webbrowser

        webbrowser.open(output.resolve().as_uri())


@main.command(epilog="\b\nExample:\n  kam-anki watch --preview build/preview.html")
@CONTENT
@_file_option("-o", "--output", default=DEFAULT_OUTPUT, help="Where to write the package.")
@_file_option("--preview", "preview_path", default=PREVIEW, help="Where to write the preview.")
@LIST_ALL
@reporting
def watch(content_dir: Path, output: Path, preview_path: Path, list_all: bool) -> None:
    """Rebuild the deck and the preview whenever a file in CONTENT changes; Ctrl-C stops."""
    console.watch_session(content_dir, output, preview_path, list_all=list_all)


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
@reporting
def pull(content_dir: Path, source: Path, output: Path, dry_run: bool) -> None:
    """Bring the edits a learner made in Anki (SOURCE: an exported .apkg or a
    collection.anki2, only read) into the Markdown in CONTENT."""
    from kam_anki import api

    done = api.pull(api.load(content_dir, output), source, dry_run=dry_run)
    if not console.print_pull(content_dir, output, done, dry_run=dry_run):
        sys.exit(1)
