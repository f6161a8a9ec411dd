"""The data that flows through a build: frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kam_anki.errors import Diagnostic
from kam_anki.notetype import NAME, Fields, source_field


@dataclass(frozen=True, slots=True)
class DeckConfig:
    """``content/deck.toml``: chosen once; the ids must never change after the first import."""

    name: str
    deck_id: int
    notetype_id: int
    tags: tuple[str, ...] = ()
    allow_html: bool = False
    list_cards: int = 0  # opt in every card whose answer is one list of at least this many items
    notetype_name: str = NAME  # shown in Anki's note type list; may change, the id stays
    language: str = "de"  # the cards' language (BCP 47), for hyphenation

    def deck(self, chapter: str) -> str:
        """The Anki deck of a chapter's cards: a subdeck of the deck."""
        return f"{self.name}::{chapter}"


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
        return source_field(self.path, self.id)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a card is: enough to point at it once its text is gone."""

    id: str
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Note:
    """A card as it goes into the package: rendered fields plus identity and time.

    A list note (``clozes`` not empty) is of the cloze note type: one card per cloze number,
    its fields in the order of :data:`kam_anki.notetype.LIST_FIELDS`.
    """

    card_id: str
    fields: Fields
    tags: tuple[str, ...]
    deck: str
    mod: int = 0
    clozes: tuple[int, ...] = ()  # a list note's cloze numbers, in the list's order


@dataclass(frozen=True, slots=True)
class ListItem:
    """One item of a list card's list, before it has its cloze number (:mod:`kam_anki.items`)."""

    text: str  # what identifies the item: its words, an image's content, its code
    html: str  # the item's content as rendered, inside its <li>
    shown: str  # the item as the report shows it


@dataclass(frozen=True, slots=True)
class ListCard:
    """An opted-in card's answer cut at its items: ``before[i]``, item ``i``, ..., ``tail``."""

    before: tuple[str, ...]
    items: tuple[ListItem, ...]
    tail: str


@dataclass(frozen=True, slots=True)
class FileResult:
    """One file, parsed, rendered and checked: what the build needs of it, and what the
    file cache keeps."""

    notes: tuple[Note, ...]
    cards: tuple[tuple[Place, str], ...]  # where each card is, with its question text
    media: Mapping[str, bytes]
    diagnostics: tuple[Diagnostic, ...]
    # Per card: its list (list cards), or why the deck-wide rule does not take it ("" if
    # the rule is off or the card opted out).
    lists: tuple[ListCard | str, ...] = ()
