"""A heading line: its ``{#id}`` attribute (the card id and classes), the span of its text,
and what is wrong with its id."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kam_anki.characters import describe, invisible

CARD_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


_CLASS = re.compile(r"\.([a-z][a-z0-9-]*)")


# Heading classes that opt a card into list cards (listcards.py) or out of the deck-wide rule.
CLASSES = ("liste", "folge", "ohne-liste")


_MARKER = re.compile(r" {0,3}(#{1,2})(?=[ \t]|$)")  # a heading line of level 1 or 2


@dataclass(frozen=True, slots=True)
class Attribute:
    """The ``{#id}`` at the end of a heading line; indices are into that line."""

    start: int  # the '{' (or, with text after the id, its '{#')
    card_id: str  # invisible characters around it dropped
    bad: int  # the first character not allowed in an id, or -1
    trailing: int = -1  # the first visible character after a '{#...}' that is not last
    classes: str = ""  # what follows the id inside the braces: " .liste"


def _classes_start(inside: str) -> int:
    """Where classes follow the id in ``{#id .liste}``: the blanks before the first ``.``
    that follows a blank, or the end. String searches, not a regular expression: a pattern
    for a run of blanks before a dot would go over a long run again from each blank."""
    dot = min((at for at in (inside.find(" ."), inside.find("\t.")) if at >= 0), default=-1)
    if dot < 0:
        return len(inside)
    while dot > 0 and inside[dot - 1] in " \t":
        dot -= 1
    return dot


def _skip_invisible_back(line: str, end: int, start: int = 0) -> int:
    while end > start and invisible(line[end - 1]):
        end -= 1
    return end


def _skip_invisible(line: str, start: int, end: int) -> int:
    while start < end and invisible(line[start]):
        start += 1
    return start


def find_id(line: str) -> Attribute | None:
    """The id attribute of a heading line, or None if it has nothing id-like.

    Scans from the end with ``rfind``: linear in the line whatever it holds (a long run of
    ``{#`` included). Invisible characters before ``{``, after ``}``, between ``{`` and
    ``#`` and around the id are not part of it; anything else that is not a lowercase
    ASCII letter, a digit or a hyphen is pointed at by ``bad``.
    """
    end = _skip_invisible_back(line, len(line))
    if end and line[end - 1] == "}":
        opening = line.rfind("{", 0, end - 1)
        marker = _skip_invisible(line, opening + 1, end - 1) if opening >= 0 else -1
        if marker >= 0 and line[marker : marker + 1] == "#":
            first = _skip_invisible(line, marker + 1, end - 1)
            last = _skip_invisible_back(line, end - 1, first)
            inside = line[first:last]
            split = _classes_start(inside)
            card_id, classes = inside[:split], inside[split:]
            bad = next((at for at, char in enumerate(card_id) if char not in _ID_CHARS), -1)
            return Attribute(opening, card_id, first + bad if bad >= 0 else -1, -1, classes)
    # '{#...}' with something visible after it: id-like, but not at the end.
    opening = line.rfind("{#", 0, end)
    closing = line.find("}", opening, end) if opening >= 0 else -1
    if closing < 0:
        return None
    trailing = _skip_invisible(line, closing + 1, end)
    return Attribute(opening, line[opening + 2 : closing], -1, trailing)


def read_classes(attributes: str) -> tuple[tuple[str, ...], str | None]:
    """The classes after the id in ``{#id .class ...}`` and a problem (or None)."""
    classes: list[str] = []
    for part in attributes.split():
        match = _CLASS.fullmatch(part)
        if match is None:
            return (), f"malformed attribute {part!a}: use classes like '.liste'"
        if match.group(1) not in CLASSES:
            known = ", ".join(f".{name}" for name in CLASSES)
            return (), f"unknown class {part!r} (known: {known})"
        classes.append(match.group(1))
    return tuple(sorted(set(classes))), None


def id_problem(line: str, attribute: Attribute) -> str | None:
    """Why the id of a heading line cannot be used, or None if it can."""
    shown = ascii(attribute.card_id)
    if attribute.trailing >= 0:
        char = line[attribute.trailing]
        return (
            f"text after the card id {{#{attribute.card_id}}}: {describe(char)} at column "
            f"{attribute.trailing + 1}; the id must end the heading"
        )
    if attribute.bad >= 0:
        char = line[attribute.bad]
        return (
            f"malformed card id {shown}: {describe(char)} at column {attribute.bad + 1} is not "
            "allowed: use lowercase ASCII letters, digits and hyphens"
        )
    if not CARD_ID.fullmatch(attribute.card_id):
        return (
            f"malformed card id {shown}: use lowercase ASCII letters, digits and hyphens "
            "(no hyphen first, last or twice in a row)"
        )
    return None


def heading_span(line: str, end: int) -> tuple[int, int]:
    """Where the text of a heading line is, up to ``end``: without the ``#`` marker, the
    closing hashes (``## Question ##``) and blanks around it."""
    marker = _MARKER.match(line)
    start = marker.end() if marker else 0
    stop = _skip_invisible_back(line, end, start)
    bare = stop
    while bare > start and line[bare - 1] == "#":
        bare -= 1
    if bare < stop and (bare == start or line[bare - 1] in " \t"):
        stop = _skip_invisible_back(line, bare, start)
    while start < stop and line[start].isspace():
        start += 1
    return start, stop
