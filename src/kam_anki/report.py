"""What a build says to its user: the lines of the report for a person, and one JSON document
for a script. Text and data only; the CLI prints them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kam_anki.assemble import Result
from kam_anki.errors import Diagnostic, printable
from kam_anki.files import Content
from kam_anki.items import split_item_id
from kam_anki.listnotes import LIST_TAG, is_list_note
from kam_anki.model import DeckConfig, Note, Place
from kam_anki.tombstones import removed_search

# On a terminal, this many cards of each kind (added, changed, removed) are listed; the rest
# are counted in one line, so the count line and the warnings stay on the screen.
TERMINAL_LIMIT = 20
ALL_OPTION = "--list-all"
_KINDS = (("+", "added"), ("~", "changed"), ("-", "removed"))
# Said once, when the build retires the item notes of the design before list notes.
OLD_ITEM_NOTES = (
    "{count} item note(s) of the earlier list cards are removed: list items are now the cards "
    "of one note per list (tag {tag}), and Anki cannot move reviews from one note to another, "
    "so item reviews start over."
)
EMPTY_CARDS = (
    "{count} removed item(s): their cards stay in Anki, empty, until Tools > Empty Cards "
    "deletes them."
)


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
    """What the import of this build will do, card by card, then item by item (warnings
    aside); with ``limit``, at most that many of each kind, and how many more."""
    changes = result.changes
    added, changed, removed = (_question_cards(getattr(changes, kind)) for _, kind in _KINDS)
    retired = [(i, q) for i, q in removed if split_item_id(i) is not None]
    live = sum(1 for card_id in result.state.cards if not is_list_note(card_id))
    lines = [
        f"{_counted(live, 'card')}: {len(added)} added, {len(changed)} changed, "
        f"{len(removed) - len(retired)} removed, {live - len(added) - len(changed)} unchanged"
        + (" (dry run: nothing written)" if dry_run else "")
    ]
    removed = [(i, q) for i, q in removed if split_item_id(i) is None]
    for (mark, kind), pairs in zip(_KINDS, (added, changed, removed), strict=True):
        lines += _capped(
            [f"  {mark} {card_id}: {question}" for card_id, question in pairs], kind, limit
        )
    lines += _items(result, limit)
    if changes.notetype_changed and not first_build:
        lines.append("  ~ note type (card design) changed")
    if retired:
        lines.append(OLD_ITEM_NOTES.format(count=len(retired), tag=LIST_TAG))
    if result.state.removed:
        lines += [
            f"{len(result.state.removed)} removed card(s) stay in the package, tagged.",
            f"  To delete them in Anki: Browse, search  {removed_search(config)}"
            "  select all, Notes > Delete.",
            "  Then run: kam-anki build --forget-removed",
        ]
    return lines


def _question_cards(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The question/answer cards among what changed (not the list notes)."""
    return [(i, q) for i, q in pairs if not is_list_note(i)]


def _capped(lines: list[str], kind: str, limit: int | None) -> list[str]:
    if limit is None or len(lines) <= limit:
        return lines
    more = len(lines) - limit
    return [*lines[:limit], f"  … and {more:,} more {kind} ({ALL_OPTION} lists every card)"]


def _items(result: Result, limit: int | None) -> list[str]:
    """The item cards: counted apart from the cards, and each one that changes."""
    items, changes = result.items, result.changes
    gone_lists = [(i, q) for i, q in changes.removed if is_list_note(i)]
    if not items.notes and not gone_lists:
        return []
    lines = [
        f"{_counted(items.cards, 'item card')} in {_counted(items.notes, 'list note')}: "
        f"{len(items.added)} added, "
        f"{len(items.reworded)} changed, {len(items.removed)} removed"
    ]
    for (mark, kind), found in zip(
        _KINDS, (items.added, items.reworded, items.removed), strict=True
    ):
        shown = [f"  {mark} {card_id} c{key}: {text}" for card_id, key, text in found]
        lines += _capped(shown, kind, limit)
    lines += [f"  - {card_id}: {question} (the list note)" for card_id, question in gone_lists]
    if items.removed:
        lines.append(EMPTY_CARDS.format(count=len(items.removed)))
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
    added, changed, removed = (_question_cards(getattr(changes, kind)) for _, kind in _KINDS)
    live = sum(1 for card_id in result.state.cards if not is_list_note(card_id))
    items = result.items
    document = {
        "command": command,
        "ok": ok,
        "counts": {
            "cards": live,
            "added": len(added),
            "changed": len(changed),
            "removed": len(removed),
            "unchanged": live - len(added) - len(changed),
            "item_cards": items.cards,
            "list_notes": items.notes,
            "warnings": len(result.warnings),
            "errors": 0,
        },
        "notetype_changed": changes.notetype_changed and not first_build,
        "added": list(_cards(added, places, root)),
        "changed": list(_cards(changed, places, root)),
        "removed": list(_cards(removed, {}, root)),  # no longer in the content
        "items": {
            kind: list(_items_json(found, places, root))
            for (_, kind), found in zip(
                _KINDS, (items.added, items.reworded, items.removed), strict=True
            )
        },
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
        "items": None,
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


def _items_json(
    found: Iterable[tuple[str, int, str]], places: dict[str, Place], root: Path
) -> Iterator[dict[str, object]]:
    """Each item card by its card and cloze number, where its list card is."""
    for card_id, key, text in found:
        place = places.get(card_id)
        yield {
            "id": card_id,
            "cloze": key,
            "text": text,
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


def check_summary(result: Result) -> str:
    """``check``'s last line: the cards (and item cards) that passed, and the warnings."""
    counted = _counted(len(result.state.cards) - result.items.notes, "card")
    if result.items.notes:
        counted += f" and {_counted(result.items.cards, 'item card')}"
    return f"{counted} ok, {len(result.warnings)} warning(s)"


def _counted(number: int, thing: str) -> str:
    """ "1 card", "2 cards": the report's counts in words that agree with them."""
    return f"{number} {thing}{'' if number == 1 else 's'}"


def cards_in_anki(notes: Sequence[Note]) -> int:
    """Cards in Anki: one per note, one per item of a list note."""
    return sum(len(note.clozes) or 1 for note in notes)
