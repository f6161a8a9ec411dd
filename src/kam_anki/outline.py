"""A file's outline: which lines are its chapter, card and notes headings (CommonMark's
word, from markdown-it-py's block parse), its other headings, and, as diagnostics, ``{#id}``
heading lines that make no card and blocks never closed. The heading line itself (its
``{#id}`` attribute) is :mod:`kam_anki.headings`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it.token import Token

from kam_anki.errors import Diagnostic
from kam_anki.headings import find_id
from kam_anki.mathcheck import MATH_BLOCKS
from kam_anki.rawhtml import COMMENT
from kam_anki.render import Blocks, blocks

# '## Heading {.notiz}': a section of notes; it ends the card above and is on no card.
_NOTES = re.compile(r"\{[ \t]*\.notiz[ \t]*\}\s*$")


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
    diagnostics: list[Diagnostic]  # id headings that are not cards, code blocks never closed
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


def outline(text: str, path: str = "", *, allow_html: bool = False) -> Outline:
    """The headings that structure a file, as CommonMark reads it (and the answers are
    rendered); and, as diagnostics, every ``{#id}`` heading line that is no such heading,
    and code blocks and comments never closed."""
    parsed = blocks(text, allow_html=allow_html)
    outliner = _Outliner(path, text.split("\n"), parsed)
    containers: list[Token] = []  # the list items and block quotes open here
    for position, token in enumerate(parsed.tokens):
        if token.type in _CONTAINERS:
            if token.nesting == 1:
                containers.append(token)
            else:
                containers.pop()
        elif token.type == "heading_open" and token.map:
            outliner.heading(position, token, containers[-1] if containers else None)
        elif token.type in _LEAVES and token.map:
            outliner.leaf(position, token)
    return Outline(outliner.headings, outliner.diagnostics, parsed, outliner.subheadings)


@dataclass
class _Outliner:
    """One pass over a file's tokens, a method per kind of block."""

    path: str
    lines: list[str]
    parsed: Blocks
    headings: list[Heading] = field(default_factory=list)
    subheadings: list[Subheading] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def heading(self, position: int, token: Token, container: Token | None) -> None:
        """A heading: one that structures the file, or a subheading (in a container, of
        level 3 and more, or underlined), whose ``{#id}`` makes no card."""
        origin = self.parsed.origin
        assert token.map is not None
        start, end = token.map
        level = int(token.tag[1:])
        setext = token.markup in ("-", "=")
        if not setext and level <= 2 and container is None:
            notes = level == 2 and _NOTES.search(self.lines[origin[start]]) is not None
            self.headings.append(Heading(origin[start], level, position, notes))
            return
        inside, opened = ("setext", start) if setext else ("", start)
        if container is not None:
            inside, opened = container.type, (container.map or token.map)[0]
        text = self.parsed.tokens[position + 1].content
        self.subheadings.append(Subheading(origin[start], text, level, inside, origin[opened]))
        if setext:
            if "{#" in text:
                for at in range(start, end - 1):
                    self.report(at, "setext", start)
        elif level <= 2:
            self.report(start, inside, opened)

    def leaf(self, position: int, token: Token) -> None:
        """A block that holds text: an ``{#id}`` heading line in it is no card, and one
        never closed hides the headings below it."""
        assert token.map is not None
        start = token.map[0]
        paragraph = token.type == "paragraph_open"
        body = self.parsed.tokens[position + 1].content if paragraph else token.content
        first = start + (token.type == "fence")
        if unclosed(token, body):
            self.never_closed(token, body)
        elif "{#" in body:
            pattern = _CONTINUED_HEADING if paragraph else _HEADING_LINE
            for offset, line in enumerate(body.split("\n")):
                if pattern.match(line) and (offset or not paragraph):
                    self.report(first + offset, token.type, start)

    def never_closed(self, token: Token, body: str) -> None:
        """CommonMark ends it with its container or the file: all below is hidden."""
        assert token.map is not None
        origin = self.parsed.origin
        start, end = token.map
        hidden = sum(1 for line in body.split("\n") if _HEADING_LINE.match(line))
        if hidden:
            what, close = _UNCLOSED[token.type]
            message = (
                f"{what} opened here is never closed: it hides {hidden} heading(s) "
                f"below (close it with {close})"
            )
            self.diagnostics.append(Diagnostic(self.path, origin[start] + 1, "error", message))
        elif token.type == COMMENT and body.strip().count("\n"):
            # A comment meant for a line or two that takes the rest of the text.
            first, last = origin[start] + 1, origin[end - 1] + 1
            message = (
                f"comment opened here is never closed: lines {first}-{last} are on no "
                "card (close it with '-->')"
            )
            self.diagnostics.append(Diagnostic(self.path, first, "warning", message))

    def report(self, at: int, kind: str, opened: int) -> None:
        """``at`` and ``opened`` are lines of the normalised text the tokens are of."""
        origin = self.parsed.origin
        index = origin[at]
        attribute = find_id(self.lines[index])
        if attribute is None:
            return
        shown = ascii(attribute.card_id)
        if kind == COMMENT:
            message = f"card {shown} is commented out (inside <!-- -->): not in the deck"
            self.diagnostics.append(Diagnostic(self.path, index + 1, "warning", message))
        else:
            reason = _INSIDE[kind].format(line=origin[opened] + 1)
            message = f"heading with id {shown} is not a card: {reason}"
            self.diagnostics.append(Diagnostic(self.path, index + 1, "error", message))


_UNCLOSED = {"fence": ("code block", "the same fence"), COMMENT: ("comment", "'-->'")}


def unclosed(token: Token, body: str) -> bool:
    """A code block or comment that runs to the end of its container (or the file)."""
    if token.type == COMMENT:
        return "-->" not in body  # it ends at the first line that holds one
    if token.type != "fence" or token.map is None:
        return False
    lines = body.count("\n") + (not body.endswith("\n") and bool(body))
    return token.map[1] - token.map[0] == lines + 1  # no line left for a closing fence
