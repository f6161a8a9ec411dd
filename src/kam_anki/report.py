"""What a build says to its user: the lines of the report for a person, and one JSON document
for a script. Text and data only; the CLI prints them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kam_anki.build import Result
from kam_anki.errors import Diagnostic, printable
from kam_anki.files import Content
from kam_anki.items import split_item_id
from kam_anki.model import DeckConfig, Place
from kam_anki.tombstones import removed_search

# On a terminal, this many cards of each kind (added, changed, removed) are listed; the rest
# are counted in one line, so the count line and the warnings stay on the screen.
TERMINAL_LIMIT = 20
ALL_OPTION = "--list-all"
_KINDS = (("+", "added"), ("~", "changed"), ("-", "removed"))


@dataclass(frozen=True)
class Written:
    """Where the package went and its digest (a build that wrote one)."""

    path: Path
    sha256: str


def build_report(
    result: Result,
    config: DeckConfig,
    *,
    first_build: bool,
    dry_run: bool,
    limit: int | None = None,
) -> list[str]:
    """What the import of this build will do, card by card (warnings aside); with ``limit``,
    at most that many cards of each kind, and how many more."""
    changes = result.changes
    lines = [
        f"{len(result.state.cards)} cards: {len(changes.added)} added, "
        f"{len(changes.changed)} changed, {len(changes.removed)} removed, "
        f"{changes.unchanged} unchanged" + (" (dry run: nothing written)" if dry_run else "")
    ]
    for mark, kind in _KINDS:
        cards: tuple[tuple[str, str], ...] = getattr(changes, kind)
        shown = cards if limit is None else cards[:limit]
        lines += [f"  {mark} {card_id}: {question}" for card_id, question in shown]
        if len(shown) < len(cards):
            more = len(cards) - len(shown)
            lines.append(f"  … and {more:,} more {kind} ({ALL_OPTION} lists every card)")
    if changes.notetype_changed and not first_build:
        lines.append("  ~ note type (card design) changed")
    if result.state.removed:
        lines += [
            f"{len(result.state.removed)} removed card(s) stay in the package, tagged.",
            f"  To delete them in Anki: Browse, search  {removed_search(config)}"
            "  select all, Notes > Delete.",
            "  Then run: kam-anki build --forget-removed",
        ]
    return lines


def json_report(
    command: str, result: Result, content: Content, *, written: Written | None, ok: bool = True
) -> str:
    """The build as one JSON document (its shape is in the README): counts, every card that
    an import adds, changes or tags as removed, with where it is, the warnings, the package.
    Paths are as the user sees them: below the content folder as it was named."""
    changes, root = result.changes, content.root
    first_build = content.previous is None
    places = {place.id: place for place in result.places}
    document = {
        "command": command,
        "ok": ok,
        "counts": {
            "cards": len(result.state.cards),
            "added": len(changes.added),
            "changed": len(changes.changed),
            "removed": len(changes.removed),
            "unchanged": changes.unchanged,
            "warnings": len(result.warnings),
            "errors": 0,
        },
        "notetype_changed": changes.notetype_changed and not first_build,
        "added": list(_cards(changes.added, places, root)),
        "changed": list(_cards(changes.changed, places, root)),
        "removed": list(_cards(changes.removed, {}, root)),  # no longer in the content
        "tombstones": {
            "count": len(result.state.removed),
            "search": removed_search(content.config),
        },
        "warnings": _diagnostics(result.warnings, root),
        "errors": [],
        "package": None
        if written is None
        else {"path": printable(written.path.as_posix()), "sha256": written.sha256},
    }
    return _dump(document)


def json_failure(
    command: str, errors: Sequence[Diagnostic], warnings: Sequence[Diagnostic] = ()
) -> str:
    """A command that failed, in the shape of :func:`json_report`: ``ok`` false, the errors
    and the warnings found with them (paths as the user sees them already; "" for none),
    nothing counted or written."""
    document = {
        "command": command,
        "ok": False,
        "counts": None,
        "notetype_changed": None,
        **{kind: [] for _, kind in _KINDS},
        "tombstones": None,
        "warnings": _diagnostics(warnings, None),
        "errors": _diagnostics(errors, None),
        "package": None,
    }
    return _dump(document)


def _cards(
    cards: Iterable[tuple[str, str]], places: dict[str, Place], root: Path
) -> Iterator[dict[str, object]]:
    """Each card with its file and line (null where ``places`` has none); an item card is
    where its list card is."""
    for card_id, question in cards:
        item = split_item_id(card_id)
        place = places.get(item[0] if item else card_id)
        yield {
            "id": card_id,
            "question": question,
            "file": _path(root, place.path) if place else None,
            "line": place.line if place else None,
        }


def _diagnostics(diagnostics: Iterable[Diagnostic], root: Path | None) -> list[dict[str, object]]:
    """Line null: the whole file; path null: no file at all (a usage error)."""
    return [
        {
            "path": (printable(d.path) if root is None else _path(root, d.path)) or None,
            "line": d.line or None,
            "message": printable(d.message),
        }
        for d in diagnostics
    ]


def _path(root: Path, path: str) -> str:
    return printable((root / path).as_posix())


def _dump(document: Mapping[str, object]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)
