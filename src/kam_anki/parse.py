"""Markdown text -> cards; pure.

A file is a chapter (``# Title``) followed by cards. A card is ``## Question {#card-id}``
and everything below it up to the next heading of level 1 or 2. Headings inside fenced
code blocks are answer text, not structure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from kam_anki.errors import ContentError, Diagnostic
from kam_anki.model import Card, SourceFile

# The subdeck where removed cards (tombstones) go for a learner who never had them.
REMOVED_CHAPTER = "Entfernt"
CARD_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_MARKERS = frozenset("#`~")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,2})(?:[ \t]+(.*))?$")  # on a line without trailing blanks
_CLOSING_HASHES = re.compile(r"(?:^|[ \t])#+$")  # on text without trailing blanks
_ID_SUFFIX = re.compile(r"\{#([^}]*)\}$")
_CLASS = re.compile(r"\.([a-z][a-z0-9-]*)")
# Heading classes that opt a card into list cards (items.py) or out of the deck-wide rule.
CLASSES = ("liste", "folge", "ohne-liste")


def decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM) -> NFC text with ``\\n`` line ends."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContentError.at(
            path, line, f"invalid UTF-8 at byte offset {exc.start}: save the file as UTF-8"
        ) from None
    if "\r" in text:
        text = _NEWLINE.sub("\n", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


@dataclass(frozen=True, slots=True)
class Heading:
    index: int  # 0-based line index
    level: int
    text: str  # without the closing hashes


@dataclass(frozen=True, slots=True)
class Outline:
    headings: list[Heading]  # of level 1 and 2, outside fenced code
    unclosed_fence: int | None  # 0-based line of a code fence that is never closed
    hidden: int  # heading lines inside that unclosed fence


def outline(lines: Sequence[str]) -> Outline:
    """The headings of level 1 and 2 that structure a file, skipping fenced code blocks."""
    found: list[Heading] = []
    fence: str | None = None
    opened, hidden = 0, 0
    for index, raw in enumerate(lines):
        if raw.lstrip(" ")[:1] not in _MARKERS:  # most lines: no regex needed
            continue
        line = raw.rstrip(" \t")
        opening = _FENCE.match(line)
        if opening is not None and opening.group(1)[0] == "`" and "`" in line[opening.end() :]:
            opening = None  # ```code``` on one line is inline code, not a fence (CommonMark)
        if fence is not None:
            if (
                opening is not None
                and opening.group(1)[0] == fence[0]
                and len(opening.group(1)) >= len(fence)
                and not line[opening.end() :].strip()
            ):
                fence = None
            elif _HEADING.match(line):
                hidden += 1
            continue
        if opening:
            fence, opened, hidden = opening.group(1), index, 0
            continue
        match = _HEADING.match(line)
        if match:
            text = _CLOSING_HASHES.sub("", match.group(2) or "").strip()
            found.append(Heading(index, len(match.group(1)), text))
    return Outline(found, opened if fence is not None else None, hidden)


def split_id(heading: str) -> tuple[str, str | None]:
    """``"Question {#id}"`` -> ``("Question", "id")``; no suffix -> ``(heading, None)``."""
    match = _ID_SUFFIX.search(heading)
    if match is None:
        return heading, None
    question = _CLOSING_HASHES.sub("", heading[: match.start()].rstrip())
    return question.strip(), match.group(1).strip()


def split_classes(attributes: str) -> tuple[str, tuple[str, ...], str | None]:
    """The inside of ``{#id .class ...}`` -> id, classes and a problem (or None)."""
    card_id, *rest = attributes.split() or [""]
    classes: list[str] = []
    for part in rest:
        match = _CLASS.fullmatch(part)
        if match is None:
            return card_id, (), f"malformed attribute {part!r}: use classes like '.liste'"
        if match.group(1) not in CLASSES:
            known = ", ".join(f".{name}" for name in CLASSES)
            return card_id, (), f"unknown class {part!r} (known: {known})"
        classes.append(match.group(1))
    return card_id, tuple(sorted(set(classes))), None


def parse_file(source: SourceFile) -> tuple[list[Card], list[Diagnostic]]:
    """Cards of one file, plus problems found (errors are not raised here, so all are seen)."""
    lines = source.text.split("\n")
    found: list[Diagnostic] = []
    cards: list[Card] = []

    def error(index: int, message: str) -> None:
        found.append(Diagnostic(source.path, index + 1, "error", message))

    chapter: str | None = None
    structure = outline(lines)
    marks = structure.headings
    if structure.unclosed_fence is not None and structure.hidden:
        error(
            structure.unclosed_fence,
            f"code block opened here is never closed: it hides {structure.hidden} heading(s) "
            "below (close it with the same fence)",
        )
    for position, heading in enumerate(marks):
        if heading.level == 1:
            chapter = heading.text
            if any(not part.strip() for part in chapter.split("::")):
                error(heading.index, "empty chapter title (or an empty part around '::')")
            elif chapter == REMOVED_CHAPTER:
                error(heading.index, f"chapter title {chapter!r} is kept for removed cards")
            continue
        end = marks[position + 1].index if position + 1 < len(marks) else len(lines)
        body = lines[heading.index + 1 : end]
        question, card_id = split_id(heading.text)
        classes: tuple[str, ...] = ()
        if card_id is not None:
            card_id, classes, problem = split_classes(card_id)
            if problem:
                error(heading.index, problem)
        while body and not body[-1].strip():
            body.pop()
        skipped = 0
        while skipped < len(body) and not body[skipped].strip():
            skipped += 1
        answer = "\n".join(body[skipped:])
        if chapter is None:
            error(heading.index, "card before the chapter title: start the file with '# Title'")
        if not question:
            error(heading.index, "card heading has no question text")
        if card_id is None:
            error(heading.index, "card has no id: run 'kam-anki ids' to add one to every heading")
        elif not CARD_ID.fullmatch(card_id):
            error(
                heading.index,
                f"malformed card id {card_id!r}: use lowercase letters, digits and hyphens",
            )
        if not answer:
            error(heading.index, f"card {question!r} has no answer")
        cards.append(
            Card(
                id=card_id or "",
                question=question,
                answer=answer,
                chapter=chapter or "",
                path=source.path,
                line=heading.index + 1,
                answer_line=heading.index + 2 + skipped,
                classes=classes,
            )
        )
    if not cards and not found:
        found.append(
            Diagnostic(
                source.path, 1, "error", "no cards in this file: a card is '## Question {#card-id}'"
            )
        )
    return cards, found
