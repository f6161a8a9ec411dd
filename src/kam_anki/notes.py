"""Cards -> notes: one file's cards rendered, checked and turned into package notes.

This is where a card becomes a note (:meth:`FileChecker.add`), and a removed card its
tombstone (:func:`tombstone_note`). :func:`check_file` is the unit of work of a build, run in
this process or in a worker (:mod:`kam_anki.workers`), and what the file cache keeps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from kam_anki.cache import FileCache
from kam_anki.errors import Diagnostic
from kam_anki.listcards import deck_rule, explicit, list_card, removed_cloze_field
from kam_anki.media import is_image, media_name
from kam_anki.model import Assets, Card, DeckConfig, FileResult, ListCard, Note, Place, SourceFile
from kam_anki.notetype import Fields, source_field
from kam_anki.parse import read_cards
from kam_anki.render import (
    Answer,
    Blocks,
    question_math_problems,
    question_remote,
    render_answer,
    render_question,
    render_text,
)
from kam_anki.state import Stamp
from kam_anki.tombstones import REMOVED_ANSWER, REMOVED_CHAPTER_FIELD, REMOVED_TAG, removed_deck

# A count of the answer's items ends the question: "Ziele des KAM? (5)".
_COUNT_HINT = re.compile(r"\((\d{1,3})\)\s*$")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


@dataclass(frozen=True, slots=True)
class FileContext:
    """What checking a file needs besides the file: shared by every file of a build."""

    config: DeckConfig
    assets: Assets
    cache: FileCache | None


@dataclass(slots=True)
class FileChecker:
    """Renders and checks the cards of one file, collecting notes, media and problems."""

    context: FileContext
    notes: list[Note] = field(default_factory=list)
    cards: list[tuple[Place, str]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lists: list[ListCard | str] = field(default_factory=list)  # per card: see FileResult
    raw_html: list[tuple[int, str]] = field(default_factory=list)  # (line, tag) shown as text

    def finish(self, path: str) -> None:
        """The warnings about the whole file: raw HTML shown as text, one for all of it."""
        if not self.raw_html:
            return
        lines = sorted({line for line, _ in self.raw_html})
        distinct = list(dict.fromkeys(_shown(tag) for _, tag in self.raw_html))
        tags = ", ".join(distinct[:5]) + (", …" if len(distinct) > 5 else "")
        count = len(self.raw_html)
        at = f"line{'s' if len(lines) > 1 else ''} {_listed(lines)}"
        where = f" in {count} places of this file ({at})" if count > 1 else ""
        message = (
            f"raw HTML is shown as text{where}: {tags}; to have it rendered as HTML, set "
            "allow_html = true in deck.toml"
        )
        self.diagnostics.append(Diagnostic(path, lines[0], "warning", message))

    # A card becomes a note here: rendering, its checks and the note, in one place for
    # a new kind of card to follow.
    def add(self, card: Card, parsed: Blocks | None) -> None:
        config = self.context.config
        answer = render_answer(
            card.answer,
            allow_html=config.allow_html,
            images=lambda src, line: self._image(card, src, card.answer_line + line - 1),
            parsed=parsed,
            first=card.answer_line - 1,
        )
        question = render_question(
            card.question,
            allow_html=config.allow_html,
            images=lambda src, _: self._image(card, src, card.line),
        )
        self.diagnostics += answer_warnings(card, answer, allow_html=config.allow_html)
        self.diagnostics += _remote_errors(card, answer, allow_html=config.allow_html)
        self.raw_html += [(card.answer_line + line - 1, tag) for line, tag in answer.raw_html]
        self.lists.append(self._list_card(card, answer))
        fields = Fields(
            question=question,
            answer=answer.html,
            chapter=render_text(card.chapter),
            source=render_text(card.source),
        )
        self.notes.append(Note(card.id, fields, config.tags, config.deck(card.chapter)))
        self.cards.append((Place(card.id, card.path, card.line), card.question))

    def _image(self, card: Card, src: str, line: int) -> str:
        """An image's name in the package; ``line``: in the file (an image in the question
        is on the heading's line)."""
        resolved, problem = self._resolve(card.path, unquote(src))
        if problem:
            self.diagnostics.append(Diagnostic(card.path, line, "error", problem))
            return src
        data = self.context.assets.files[resolved]
        name = media_name(resolved, data)
        self.media[name] = data
        return name

    def _list_card(self, card: Card, answer: Answer) -> ListCard | str:
        """The list of a card that opted in to list cards; for the others, why the deck-wide
        rule does not take them (see :attr:`FileResult.lists`)."""
        config = self.context.config
        if not explicit(card):
            missed = deck_rule(card, answer, config)
            if missed is not None:
                return missed
        listed, problem = list_card(card, answer, allow_html=config.allow_html)
        if problem:
            self.diagnostics.append(Diagnostic(card.path, card.line, "error", problem))
        return listed or ""

    def _resolve(self, page: str, target: str) -> tuple[str, str | None]:
        """An image path relative to its Markdown file, checked to stay inside content/."""
        if _URL_SCHEME.match(target):
            return (
                "",
                f"image {target!r} is not a file: put it into content/ and link it relatively",
            )
        if target.startswith("/") or "\\" in target:
            return "", f"image {target!r}: use a relative path with '/' inside content/"
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page), target))
        if path == ".." or path.startswith("../"):
            return "", f"image {target!r} points outside content/"
        if not is_image(path):
            return "", f"image {target!r}: not a PNG, JPEG, GIF, SVG or WebP file"
        if path not in self.context.assets.files:
            return "", f"image {target!r} not found (looked for content/{path})"
        return path, None


def _shown(tag: str) -> str:
    """A tag on one short line of a message."""
    text = " ".join(tag.split())
    return text if len(text) <= 40 else text[:39] + "…"


def _listed(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:10]))
    return shown + (", …" if len(lines) > 10 else "")


def note_digest(note: Note) -> str:
    """Everything an import writes into the note: fields and tags (not the deck)."""
    # Anki's own separators: they cannot occur inside a field or a tag.
    payload = "\x1f".join(note.fields.values()) + "\x1e" + " ".join(note.tags)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def tombstone_note(config: DeckConfig, card_id: str, stamp: Stamp) -> Note:
    return Note(
        card_id=card_id,
        fields=Fields(
            question=render_question(stamp.text, allow_html=config.allow_html),
            answer=REMOVED_ANSWER,
            chapter=REMOVED_CHAPTER_FIELD,
            source=render_text(source_field("", card_id)),  # its file is gone
        ),
        tags=(*config.tags, REMOVED_TAG),
        # Cards already in a collection stay where they are; a new learner finds these
        # in a subdeck that says what they are.
        deck=removed_deck(config),
        mod=stamp.mod,
    )


def list_tombstone_note(
    config: DeckConfig, card_id: str, stamp: Stamp, items: Sequence[tuple[int, str]]
) -> Note:
    """A removed list note: still of the list note type, each of its cards still asking its
    item (with its last text), so none becomes empty; the fields say it was removed."""
    note = tombstone_note(config, card_id, stamp)
    items = items or [(1, stamp.text)]  # a list note always had an item: never typeless
    fields = dataclasses.replace(note.fields, answer=removed_cloze_field(REMOVED_ANSWER, items))
    return dataclasses.replace(note, fields=fields, clozes=tuple(key for key, _ in items))


def check_file(context: FileContext, source: SourceFile, key: str) -> FileResult:
    """Parse, render and check one file, or take it from the cache: the unit of work, in
    this process or a worker."""
    cache = context.cache
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached
    cards, answers, diagnostics = read_cards(source, allow_html=context.config.allow_html)
    checker = FileChecker(context, diagnostics=diagnostics)
    for card, parsed in zip(cards, answers, strict=True):
        checker.add(card, parsed)
    checker.finish(source.path)
    checked = FileResult(
        tuple(checker.notes),
        tuple(checker.cards),
        checker.media,
        tuple(checker.diagnostics),
        tuple(checker.lists),
    )
    if cache is not None:
        cache.put(key, checked)
    return checked


def answer_warnings(card: Card, answer: Answer, *, allow_html: bool) -> list[Diagnostic]:
    """A card's content warnings: a count in the question that its list does not have,
    empty list items, math that cannot be typeset."""

    def warning(line: int, message: str) -> Diagnostic:
        return Diagnostic(card.path, line, "warning", message)

    def at(line: int) -> int:
        return card.answer_line + line - 1

    diagnostics: list[Diagnostic] = []
    hint = _COUNT_HINT.search(card.question)
    listed = answer.top_level_items
    # A "(2)" after a question whose answer has no list is no count (a part, a variant).
    if hint and listed and int(hint.group(1)) != listed:
        items = "item" if listed == 1 else "items"
        message = f"question says ({hint.group(1)}) but the answer lists {listed} {items}"
        diagnostics.append(warning(card.line, message))
    diagnostics += [warning(at(line), "empty list item") for line in answer.empty_items]
    diagnostics += [warning(at(line), problem) for line, problem in answer.math]
    diagnostics += [
        warning(card.line, f"in the question: {problem}")
        for problem in question_math_problems(card.question, allow_html=allow_html)
    ]
    return diagnostics


def _remote_errors(card: Card, answer: Answer, *, allow_html: bool) -> list[Diagnostic]:
    """What the card would load from the network at every review (raw HTML only)."""
    fetches = [
        (card.line, fetch) for fetch in question_remote(card.question, allow_html=allow_html)
    ]
    fetches += [(card.answer_line + line - 1, fetch) for line, fetch in answer.remote]
    return [
        Diagnostic(
            card.path,
            line,
            "error",
            f"{fetch} loads from outside the deck at every review (a tracking pixel; "
            "nothing offline): put the file into content/ and show it with ![](file)",
        )
        for line, fetch in fetches
    ]
