"""Headings: which lines of a file are its chapter and card headings (CommonMark's word,
from markdown-it-py's block parse), and the ``{#id}`` attribute at the end of a heading line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it.token import Token

from kam_anki.characters import describe, invisible
from kam_anki.errors import Diagnostic
from kam_anki.mathcheck import MATH_BLOCKS
from kam_anki.rawhtml import COMMENT
from kam_anki.render import Blocks, blocks

CARD_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_CLASS = re.compile(r"\.([a-z][a-z0-9-]*)")
# Heading classes that opt a card into list cards (listcards.py) or out of the deck-wide rule.
CLASSES = ("liste", "folge", "ohne-liste")
_MARKER = re.compile(r" {0,3}(#{1,2})(?=[ \t]|$)")  # a heading line of level 1 or 2
# '## Heading {.notiz}': a section of notes; it ends the card above and is on no card.
_NOTES = re.compile(r"\{[ \t]*\.notiz[ \t]*\}\s*$")


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


@dataclass(frozen=True, slots=True)
class Heading:
    index: int  # 0-based line index
    level: int
    position: int  # of its first token
    notes: bool = False  # a '## Heading {.notiz}': no card


@dataclass(frozen=True, slots=True)
class Subheading:
    """A heading that structures no file: of level 3 or more, underlined, or inside a list
    item or a block quote. It is part of whatever holds it (a card's answer, or text on
    no card)."""

    index: int  # 0-based line
    text: str  # as written, without the '#' marks
    level: int
    inside: str  # "" at the left margin, "setext", or the container's token type
    opened: int  # the 0-based line of that container, or of the heading itself


@dataclass(frozen=True, slots=True)
class Outline:
    headings: list[Heading]  # the top-level ATX headings of level 1 and 2
    found: list[Diagnostic]  # id headings that are not cards, code blocks never closed
    blocks: Blocks  # of the whole file
    subheadings: list[Subheading]


# Why a '{#id}' heading line is not a card, by the kind of block it is in.
_INSIDE = {
    "fence": "it is inside the code block opened at line {line} (close that block first)",
    "math_block": "it is inside the math opened with '$$' at line {line} "
    "(close it with '$$' first)",
    "math_block_bracket": "it is inside the math opened with '\\[' at line {line} "
    "(close it with '\\]' first)",
    "code_block": "it is indented 4 spaces or more, which makes it code "
    "(start it at the left margin)",
    "html_block": "it is inside the HTML block that starts at line {line} "
    "(leave a blank line before it)",
    "paragraph_open": "it is indented, so it continues the text above "
    "(start it at the left margin)",
    "list_item_open": "it is inside the list item at line {line} "
    "(start it at the left margin, after a blank line)",
    "blockquote_open": "it is inside the block quote at line {line} (remove the '>')",
    "setext": "the '---' or '===' line below it makes it an underlined heading "
    "(write '## Question {{#id}}', and leave a blank line before a '---' rule)",
}
_CONTAINERS = frozenset(
    {"list_item_open", "list_item_close", "blockquote_open", "blockquote_close"}
)
_LEAVES = frozenset({"fence", "code_block", "html_block", COMMENT, "paragraph_open", *MATH_BLOCKS})
_HEADING_LINE = re.compile(r" {0,3}#{1,2}(?:[ \t]|$)")  # a line of a block's content
_CONTINUED_HEADING = re.compile(r"[ \t]*#{1,2}(?:[ \t]|$)")  # a paragraph's later line


# One pass over the tokens, a branch per kind of block: split, the pass would be harder to follow.
def outline(text: str, path: str = "", *, allow_html: bool = False) -> Outline:  # noqa: C901, PLR0912, PLR0915
    """The headings that structure a file, as CommonMark reads it (and the answers are
    rendered); and, as diagnostics, every ``{#id}`` heading line that is no such heading,
    and code blocks and comments never closed."""
    parsed = blocks(text, allow_html=allow_html)
    tokens, origin = parsed.tokens, parsed.origin
    lines = text.split("\n")
    headings: list[Heading] = []
    subheadings: list[Subheading] = []
    found: list[Diagnostic] = []

    def report(at: int, kind: str, opened: int) -> None:
        """``at`` and ``opened`` are lines of the normalised text the tokens are of."""
        index = origin[at]
        attribute = find_id(lines[index])
        if attribute is None:
            return
        shown = ascii(attribute.card_id)
        if kind == COMMENT:
            message = f"card {shown} is commented out (inside <!-- -->): not in the deck"
            found.append(Diagnostic(path, index + 1, "warning", message))
        else:
            reason = _INSIDE[kind].format(line=origin[opened] + 1)
            message = f"heading with id {shown} is not a card: {reason}"
            found.append(Diagnostic(path, index + 1, "error", message))

    containers: list[Token] = []  # the list items and block quotes open here
    for position, token in enumerate(tokens):
        if token.type in _CONTAINERS:
            if token.nesting == 1:
                containers.append(token)
            else:
                containers.pop()
        elif token.type == "heading_open" and token.map:
            start, end = token.map
            level = int(token.tag[1:])
            if token.markup not in ("-", "=") and level <= 2 and not containers:
                notes = level == 2 and _NOTES.search(lines[origin[start]]) is not None
                headings.append(Heading(origin[start], level, position, notes))
                continue
            inside, opened = ("setext", start) if token.markup in ("-", "=") else ("", start)
            if containers:
                container = containers[-1]
                inside, opened = container.type, (container.map or token.map)[0]
            text = tokens[position + 1].content
            subheadings.append(Subheading(origin[start], text, level, inside, origin[opened]))
            if token.markup in ("-", "="):
                if "{#" in text:
                    for at in range(start, end - 1):
                        report(at, "setext", start)
            elif level <= 2:
                report(start, inside, opened)
        elif token.type in _LEAVES and token.map:
            start, end = token.map
            paragraph = token.type == "paragraph_open"
            body = tokens[position + 1].content if paragraph else token.content
            first = start + (token.type == "fence")
            if unclosed(token, body):
                # CommonMark ends it with its container or the file: all below is hidden.
                hidden = sum(1 for line in body.split("\n") if _HEADING_LINE.match(line))
                if hidden:
                    what, close = _UNCLOSED[token.type]
                    message = (
                        f"{what} opened here is never closed: it hides {hidden} heading(s) "
                        f"below (close it with {close})"
                    )
                    found.append(Diagnostic(path, origin[start] + 1, "error", message))
                elif token.type == COMMENT and body.strip().count("\n"):
                    # A comment meant for a line or two that takes the rest of the text.
                    first, last = origin[start] + 1, origin[end - 1] + 1
                    message = (
                        f"comment opened here is never closed: lines {first}-{last} are on no "
                        "card (close it with '-->')"
                    )
                    found.append(Diagnostic(path, first, "warning", message))
            elif "{#" in body:
                pattern = _CONTINUED_HEADING if paragraph else _HEADING_LINE
                for offset, line in enumerate(body.split("\n")):
                    if pattern.match(line) and (offset or not paragraph):
                        report(first + offset, token.type, start)
    return Outline(headings, found, parsed, subheadings)


_UNCLOSED = {"fence": ("code block", "the same fence"), COMMENT: ("comment", "'-->'")}


def unclosed(token: Token, body: str) -> bool:
    """A code block or comment that runs to the end of its container (or the file)."""
    if token.type == COMMENT:
        return "-->" not in body  # it ends at the first line that holds one
    if token.type != "fence" or token.map is None:
        return False
    lines = body.count("\n") + (not body.endswith("\n") and bool(body))
    return token.map[1] - token.map[0] == lines + 1  # no line left for a closing fence
