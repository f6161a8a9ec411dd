"""Removed cards (tombstones): how the package marks a note whose card left the Markdown.

An import never deletes a note: a removed card stays in the package, tagged, with an answer
that says so, so that a learner can find and delete it in Anki.
"""

from __future__ import annotations

from kam_anki.model import DeckConfig

REMOVED_TAG = "kam::entfernt"
# The subdeck where removed cards go for a learner who never had them; no chapter may take it.
REMOVED_CHAPTER = "Entfernt"
# The tombstone's chapter field (plain text, shown under the answer).
REMOVED_CHAPTER_FIELD = "entfernt"
REMOVED_ANSWER = (
    "<p><em>Diese Karte ist nicht mehr in den Markdown-Quellen des Stapels. "
    "Sie kann gelöscht werden.</em></p>"
)


def removed_search(config: DeckConfig) -> str:
    """What to paste into Anki's browser to find the cards removed from the Markdown."""
    return f'"deck:{config.name}" tag:{REMOVED_TAG}'


def removed_deck(config: DeckConfig) -> str:
    return f"{config.name}::{REMOVED_CHAPTER}"
