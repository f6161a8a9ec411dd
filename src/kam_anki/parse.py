"""Markdown text -> cards; pure.

A file is a chapter (``# Title``) followed by cards. A card is ``## Question {#card-id}``
and everything below it up to the next heading of level 1 or 2. Headings inside fenced
code blocks are answer text, not structure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kam_anki.errors import ContentError, Diagnostic
from kam_anki.model import Card, SourceFile

CARD_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_MARKERS = frozenset("#`~")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,2})(?:[ \t]+(.*?))?[ \t]*$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_ID_SUFFIX = re.compile(r"[ \t]*\{#([^}]*)\}$")


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


def headings(lines: Sequence[str]) -> Iterator[Heading]:
    """ATX headings of level 1 and 2, skipping fenced code blocks."""
    fence: str | None = None
    for index, line in enumerate(lines):
        if line.lstrip(" ")[:1] not in _MARKERS:  # most lines: no regex needed
            continue
        opening = _FENCE.match(line)
        if fence is not None:
            if (
                opening is not None
                and opening.group(1)[0] == fence[0]
                and len(opening.group(1)) >= len(fence)
                and not line[opening.end() :].strip()
            ):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        match = _HEADING.match(line)
        if match:
            text = _CLOSING_HASHES.sub("", match.group(2) or "").strip()
            yield Heading(index, len(match.group(1)), text)


def split_id(heading: str) -> tuple[str, str | None]:
    """``"Question {#id}"`` -> ``("Question", "id")``; no suffix -> ``(heading, None)``."""
    match = _ID_SUFFIX.search(heading)
    if match is None:
        return heading, None
    return _CLOSING_HASHES.sub("", heading[: match.start()]).strip(), match.group(1).strip()


def parse_file(source: SourceFile) -> tuple[list[Card], list[Diagnostic]]:
    """Cards of one file, plus problems found (errors are not raised here, so all are seen)."""
    lines = source.text.split("\n")
    found: list[Diagnostic] = []
    cards: list[Card] = []

    def error(index: int, message: str) -> None:
        found.append(Diagnostic(source.path, index + 1, "error", message))

    chapter: str | None = None
    marks = list(headings(lines))
    for position, heading in enumerate(marks):
        if heading.level == 1:
            chapter = heading.text
            if not chapter:
                error(heading.index, "empty chapter title")
            continue
        end = marks[position + 1].index if position + 1 < len(marks) else len(lines)
        body = lines[heading.index + 1 : end]
        question, card_id = split_id(heading.text)
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
            )
        )
    if not cards and not found:
        found.append(
            Diagnostic(
                source.path, 1, "error", "no cards in this file: a card is '## Question {#card-id}'"
            )
        )
    return cards, found
