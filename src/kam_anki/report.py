"""What a build says to its user: the lines of the report, as text (the CLI prints them)."""

from __future__ import annotations

from kam_anki.build import Result
from kam_anki.model import DeckConfig
from kam_anki.tombstones import removed_search


def build_report(
    result: Result, config: DeckConfig, *, first_build: bool, dry_run: bool
) -> list[str]:
    """What the import of this build will do, card by card (warnings aside)."""
    changes = result.changes
    lines = [
        f"{len(result.state.cards)} cards: {len(changes.added)} added, "
        f"{len(changes.changed)} changed, {len(changes.removed)} removed, "
        f"{changes.unchanged} unchanged" + (" (dry run: nothing written)" if dry_run else "")
    ]
    lines += [
        f"  {mark} {card_id}: {question}"
        for mark, items in (("+", changes.added), ("~", changes.changed), ("-", changes.removed))
        for card_id, question in items
    ]
    if changes.notetype_changed and not first_build:
        lines.append("  ~ note type (card design) changed")
    if result.state.removed:
        lines.append(
            f"{len(result.state.removed)} removed card(s) stay in the package, tagged."
            f"\n  To delete them in Anki: Browse, search  {removed_search(config)}"
            "  select all, Notes > Delete.\n  Then run: kam-anki build --forget-removed"
        )
    return lines
