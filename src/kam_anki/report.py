"""What a build says to its user: the lines of the report, as text (the CLI prints them)."""

from __future__ import annotations

from kam_anki.build import LIST_SUFFIX, LIST_TAG, Result
from kam_anki.items import split_item_id
from kam_anki.model import DeckConfig
from kam_anki.tombstones import removed_search

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


def build_report(
    result: Result, config: DeckConfig, *, first_build: bool, dry_run: bool
) -> list[str]:
    """What the import of this build will do, card by card, then item by item (warnings
    aside)."""
    changes = result.changes

    def cards(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
        return [(i, q) for i, q in pairs if not i.endswith(LIST_SUFFIX)]

    added, changed, removed = cards(changes.added), cards(changes.changed), cards(changes.removed)
    retired = sum(1 for card_id, _ in removed if split_item_id(card_id) is not None)
    live = sum(1 for card_id in result.state.cards if not card_id.endswith(LIST_SUFFIX))
    unchanged = live - len(added) - len(changed)
    lines = [
        f"{live} cards: {len(added)} added, {len(changed)} changed, "
        f"{len(removed) - retired} removed, "
        f"{unchanged} unchanged" + (" (dry run: nothing written)" if dry_run else "")
    ]
    lines += [
        f"  {mark} {card_id}: {question}"
        for mark, pairs in (("+", added), ("~", changed), ("-", removed))
        for card_id, question in pairs
        if split_item_id(card_id) is None
    ]
    lines += _items(result)
    if changes.notetype_changed and not first_build:
        lines.append("  ~ note type (card design) changed")
    if retired:
        lines.append(OLD_ITEM_NOTES.format(count=retired, tag=LIST_TAG))
    if result.state.removed:
        lines.append(
            f"{len(result.state.removed)} removed card(s) stay in the package, tagged."
            f"\n  To delete them in Anki: Browse, search  {removed_search(config)}"
            "  select all, Notes > Delete.\n  Then run: kam-anki build --forget-removed"
        )
    return lines


def _items(result: Result) -> list[str]:
    """The item cards: counted apart from the cards, and each one that changes."""
    items, changes = result.items, result.changes
    gone_lists = [(i, q) for i, q in changes.removed if i.endswith(LIST_SUFFIX)]
    if not items.notes and not gone_lists:
        return []
    lines = [
        f"{items.cards} item cards in {items.notes} list notes: {len(items.added)} added, "
        f"{len(items.reworded)} changed, {len(items.removed)} removed"
    ]
    lines += [
        f"  {mark} {card_id} c{key}: {text}"
        for mark, found in (("+", items.added), ("~", items.reworded), ("-", items.removed))
        for card_id, key, text in found
    ]
    lines += [f"  - {card_id}: {question} (the list note)" for card_id, question in gone_lists]
    if items.removed:
        lines.append(EMPTY_CARDS.format(count=len(items.removed)))
    return lines
