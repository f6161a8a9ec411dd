"""The data that flows through a build: frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kam_anki.errors import Diagnostic
from kam_anki.notetype import Fields


@dataclass(frozen=True, slots=True)
class DeckConfig:
    """``content/deck.toml``: chosen once; the ids must never change after the first import."""

    name: str
    deck_id: int
    notetype_id: int
    tags: tuple[str, ...] = ()
    allow_html: bool = False
    list_cards: int = 0  # opt in every card whose answer is one list of at least this many items


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One Markdown file, decoded and NFC-normalised; ``path`` is relative to ``content/``."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class Assets:
    """Image files under ``content/`` by relative POSIX path, read at the edge."""

    files: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Card:
    """One question with its answer, still in Markdown."""

    id: str
    question: str
    answer: str
    chapter: str
    path: str
    line: int
    answer_line: int
    classes: tuple[str, ...] = ()  # from the heading's attribute: {#id .liste}

    @property
    def source(self) -> str:
        """Where the card lives in ``content/``: shown on the card, stable under reordering."""
        return f"{self.path}#{self.id}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a card is: enough to point at it once its text is gone."""

    id: str
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Note:
    """A card as it goes into the package: rendered fields plus identity and time."""

    card_id: str
    fields: Fields
    tags: tuple[str, ...]
    deck: str
    mod: int = 0


@dataclass(frozen=True, slots=True)
class ListItem:
    """One item card of a list card, before it has its key (see :mod:`kam_anki.items`)."""

    text: str  # the item as plain text: what identifies it, and what the report shows
    question: str  # the Frage field: the card's question, the list with a gap
    answer: str  # the Antwort field: the whole list, the item marked


@dataclass(frozen=True, slots=True)
class Checked:
    """One file, parsed, rendered and checked: what the build needs of it, and what the
    file cache keeps."""

    notes: tuple[Note, ...]
    cards: tuple[tuple[Place, str], ...]  # where each card is, with its question text
    media: Mapping[str, bytes]
    found: tuple[Diagnostic, ...]
    items: tuple[tuple[ListItem, ...], ...] = ()  # each card's item cards, by card
