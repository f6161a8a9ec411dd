"""Removed cards (tombstones): how the package marks a note whose card left the Markdown,
and every fact about them in one place: their tag, deck, answer, chapter field, search, the
chapter name kept for them, and their digest in the lock.

An import never deletes a note: a removed card stays in the package, tagged, with an answer
that says so, so that a learner can find and delete it in Anki.
"""

from __future__ import annotations

import unicodedata

from kam_anki.model import DeckConfig

REMOVED_TAG = "kam::entfernt"
# A tombstone's digest in the lock and in the record beside the output (a note's digest is
# hex, so it can never be this); :attr:`kam_anki.state.Stamp.is_tombstone` asks for it.
REMOVED_DIGEST = "removed"
# The subdeck where removed cards go for a learner who never had them; no chapter may take it.
REMOVED_CHAPTER = "Entfernt"
# The tombstone's chapter field (plain text, shown under the answer).
REMOVED_CHAPTER_FIELD = "entfernt"
REMOVED_ANSWER = (
    "<p><em>Diese Karte ist nicht mehr in den Markdown-Quellen des Stapels. "
    "Sie kann gelöscht werden.</em></p>"
)


def removed_search(config: DeckConfig) -> str:
    """What to paste into Anki's browser to find the cards removed from the Markdown: the
    deck name with Anki's wildcards (``*``, ``_``) and quotes escaped, so that it names this
    deck only; the tag selects tombstones only (no deck tag may be it, see
    :func:`selects_removed`)."""
    deck = "".join("\\" + c if c in '\\"*_' else c for c in config.name)
    return f'"deck:{deck}" tag:{REMOVED_TAG}'


def selects_removed(tag: str) -> bool:
    """Whether Anki's ``tag:kam::entfernt`` finds a note with ``tag``: Anki compares tags
    without regard to case (Unicode: a Kelvin sign is a k) and finds child tags; it stores
    an empty part between ``::`` as ``blank``."""
    stored = "::".join(part or "blank" for part in tag.split("::"))
    folded = unicodedata.normalize("NFC", stored).casefold()
    return folded == REMOVED_TAG or folded.startswith(REMOVED_TAG + "::")


def removed_deck(config: DeckConfig) -> str:
    return config.deck(REMOVED_CHAPTER)


def is_reserved_chapter(chapter: str) -> bool:
    """Whether a chapter would take the removed cards' deck (Anki's deck names ignore case)."""
    return chapter.casefold() == REMOVED_CHAPTER.casefold()
