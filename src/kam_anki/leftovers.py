"""Every line of a file is on a card or reported: the text on no card, and the headings
that look like cards but are not; pure.

Text on no card is what stands before a file's first card, between a chapter title and its
first card, or in a chapter (or a file) without cards: one warning per block of it. A
heading that looks like a card (it ends in '?', carries a flashcard tag or a card id) but is
no card heading (another level, underlined, inside a list item or a quote) is named too: in
a card's answer it is shown as a sub-heading of that answer (one warning per card), in text
on no card it is named in that block's warning. Comments (``<!-- -->``) and sections of notes
(``## Heading {.notiz}``, up to the next heading of level 1 or 2) are how an author keeps
text out of the deck on purpose: they are never reported.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from kam_anki.characters import invisible
from kam_anki.errors import Diagnostic
from kam_anki.headings import find_id, heading_span
from kam_anki.outline import Heading, Outline, Subheading
from kam_anki.rawhtml import COMMENT

# Tags that flashcard plugins (Obsidian spaced repetition, Obsidian to Anki) put on a heading.
_FLASHCARD_TAG = re.compile(
    r"(?:^|\s)#(?:flashcards?|cards?|anki|karteikarten?|lernkarten?)(?:/\S*)?(?=\s|$)",
    re.IGNORECASE,
)
_SHOWN_LINES = 10  # line numbers listed in one message; more are counted
_MAKE_CARD = "a card heading is '## Question' at the left margin (then run 'kam-anki ids')"


def looks_like_card(heading: Subheading) -> str | None:
    """Why a heading looks like a card's question, or None."""
    if find_id(heading.text) is not None:
        return "it has a card id"
    if _FLASHCARD_TAG.search(heading.text):
        return "it has a flashcard tag"
    if _bare(heading.text).endswith(("?", "\uff1f")):
        return "it ends in '?'"
    if heading.level == 2 and heading.inside not in ("", "setext"):
        return "it is a level-2 heading, as a card's is"
    return None


def _bare(text: str) -> str:
    """A heading's text as a card question: without its id, the tags at its end
    (Obsidian's ``#tag``) and line breaks."""
    attribute = find_id(text)
    text = text[: attribute.start] if attribute is not None else text
    words = "".join(" " if invisible(char) else char for char in text).split()
    while words and words[-1].startswith("#") and len(words[-1]) > 1:
        words.pop()
    return " ".join(words)


def _lines(indices: Sequence[int]) -> str:
    shown = ", ".join(str(index + 1) for index in indices[:_SHOWN_LINES])
    return shown + (", …" if len(indices) > _SHOWN_LINES else "")


def _where(heading: Subheading) -> str:
    if heading.inside == "list_item_open":
        return f"it is inside the list item at line {heading.opened + 1}"
    if heading.inside == "blockquote_open":
        return f"it is inside the block quote at line {heading.opened + 1}"
    if heading.inside == "setext":
        return "it is underlined ('---' or '===' below it)"
    return f"it is a level-{heading.level} heading"


_KINDS = {
    "list_item_open": "inside list items",
    "blockquote_open": "inside block quotes",
    "setext": "underlined",
}


@dataclass(frozen=True, slots=True)
class _Region:
    """Lines [start, end) that no card holds, and why."""

    start: int
    end: int
    reason: str


def leftovers(path: str, lines: Sequence[str], structure: Outline) -> list[Diagnostic]:
    """The warnings that account for every line of a file no card holds, and for the
    headings that look like cards but are not."""
    marks = structure.headings
    starts = [mark.index for mark in marks]
    lookalikes = [h for h in structure.subheadings if _unreported(h, lines)]
    diagnostics: list[Diagnostic] = []
    in_cards: dict[int, list[Subheading]] = {}
    in_text: list[int] = []  # lines of those in text on no card, in order
    for heading in lookalikes:
        holder = bisect_right(starts, heading.index) - 1
        if holder < 0 or marks[holder].level == 1:
            in_text.append(heading.index)
        elif not marks[holder].notes:  # in notes, the author said it is no card
            in_cards.setdefault(holder, []).append(heading)
    for holder, headings in in_cards.items():
        diagnostics.append(_merged(path, lines, marks[holder], headings))
    comments = _comment_lines(structure)
    for region in _regions(lines, marks):
        for first, last in _blocks(lines, region, comments):
            inside = in_text[bisect_left(in_text, first) : bisect_right(in_text, last)]
            diagnostics.append(_on_no_card(path, first, last, region.reason, inside))
    return diagnostics


def _unreported(heading: Subheading, lines: Sequence[str]) -> bool:
    """A heading that looks like a card, and is not already an error (an id heading that is
    no card heading, see :func:`headings.outline`)."""
    if looks_like_card(heading) is None:
        return False
    erroneous = heading.inside != "" or heading.level <= 2
    return not (erroneous and find_id(lines[heading.index]) is not None)


def _merged(
    path: str, lines: Sequence[str], card: Heading, headings: list[Subheading]
) -> Diagnostic:
    """One warning for the headings that look like cards inside one card's answer."""
    line = lines[card.index]
    attribute = find_id(line)
    start, stop = heading_span(line, attribute.start if attribute else len(line))
    shown = f"'{attribute.card_id}'" if attribute else repr(line[start:stop])
    holder = f"the answer of {shown} (line {card.index + 1})"
    first = headings[0]
    if len(headings) == 1:
        why = looks_like_card(first)
        message = (
            f"heading {_bare(first.text)!r} looks like a card ({why}) but is none: "
            f"{_where(first)}, so it is shown inside {holder}; to make it a card, write "
            f"{'## ' + _bare(first.text)!r} at the left margin and run 'kam-anki ids'"
        )
    else:
        kinds = sorted({_KINDS.get(h.inside, f"level-{h.level} headings") for h in headings})
        message = (
            f"{len(headings)} headings look like cards but are none (lines "
            f"{_lines([h.index for h in headings])}): they are {' or '.join(kinds)}, so they "
            f"are shown inside {holder}; to make them cards, write each as '## Question' at "
            "the left margin and run 'kam-anki ids'"
        )
    return Diagnostic(path, first.index + 1, "warning", message)


_KEEP = (
    "to have it in the deck, move it into a card's answer (below a '## Question {#id}' "
    "heading); to leave it out without this warning, put it inside <!-- --> or below a "
    "'## Heading {.notiz}'"
)


def _regions(lines: Sequence[str], marks: Sequence[Heading]) -> list[_Region]:
    """The stretches of a file that no card holds, and what the warning about them says."""
    if not any(mark.level == 2 and not mark.notes for mark in marks):
        reason = (
            "this file has no cards, which is fine for a note beside the deck (a card is "
            "'## Question {#card-id}')"
        )
        return [_Region(0, len(lines), reason)]
    regions = [_Region(0, marks[0].index, f"it is before the file's first card; {_KEEP}")]
    for position, mark in enumerate(marks):
        if mark.level != 1:
            continue
        following = marks[position + 1] if position + 1 < len(marks) else None
        end = following.index if following else len(lines)
        line = lines[mark.index]
        title = line[slice(*heading_span(line, len(line)))]
        hint = f"; the title looks like a question, but {_MAKE_CARD}"
        hint = hint if looks_like_card(Subheading(mark.index, title, 1, "", mark.index)) else ""
        chapter = itertools.takewhile(lambda m: m.level == 2, marks[position + 1 :])
        if any(not m.notes for m in chapter):
            reason = f"it is between the chapter title {title!r} and its first card{hint}"
            regions.append(_Region(mark.index + 1, end, f"{reason}; {_KEEP}"))
        else:
            reason = f"the chapter {title!r} has no cards{hint}"
            regions.append(_Region(mark.index, end, f"{reason}; {_KEEP}"))
    return regions


def _comment_lines(structure: Outline) -> frozenset[int]:
    origin = structure.blocks.origin
    return frozenset(
        origin[line]
        for token in structure.blocks.tokens
        if token.type == COMMENT and token.map
        for line in range(token.map[0], token.map[1])
    )


def _blocks(
    lines: Sequence[str], region: _Region, comments: frozenset[int]
) -> list[tuple[int, int]]:
    """The first and last line of each block of text in a region; a comment ends a block."""
    found: list[tuple[int, int]] = []
    first = last = -1
    for index in range(region.start, region.end):
        if index in comments:
            if first >= 0:
                found.append((first, last))
            first = -1
        elif lines[index].strip():
            first = index if first < 0 else first
            last = index
    if first >= 0:
        found.append((first, last))
    return found


def _on_no_card(path: str, first: int, last: int, reason: str, lookalikes: list[int]) -> Diagnostic:
    span = f"line {first + 1} is" if first == last else f"lines {first + 1}-{last + 1} are"
    message = f"{span} on no card: {reason}"
    if lookalikes:
        message += (
            f"; {len(lookalikes)} heading(s) in it look like cards (lines {_lines(lookalikes)}): "
            + _MAKE_CARD
        )
    return Diagnostic(path, first + 1, "warning", message)
