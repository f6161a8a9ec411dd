"""Markdown text -> cards; pure.

A file is a chapter (``# Title``) followed by cards. A card is ``## Question {#card-id}``
and everything below it up to the next heading of level 1 or 2. Which lines are those
headings is CommonMark's word (markdown-it-py's block parser, see :func:`render.blocks`),
so what a Markdown reader sees is what Anki gets; a ``{#id}`` heading that CommonMark does
not read as one (in a code block, a list, a quote, underlined) is an error that says why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it.token import Token

from kam_anki.errors import ContentError, Diagnostic
from kam_anki.model import Card, SourceFile
from kam_anki.render import COMMENT, Blocks, blocks

# The subdeck where removed cards (tombstones) go for a learner who never had them.
REMOVED_CHAPTER = "Entfernt"
CARD_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_ID = re.compile(r"[^a-z0-9-]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_MARKER = re.compile(r" {0,3}(#{1,2})(?=[ \t]|$)")  # a heading line of level 1 or 2
# Characters Anki drops from a field or a deck name on import, or splits a note at
# (U+001F is its field separator): C0 controls and DEL; a tab only where a name is made.
_UNFIT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_UNFIT_NAME = re.compile(r"[\x00-\x1f\x7f]")
# Invisible or space-like characters that are not in the Unicode categories Zs, Zl, Zp,
# Cc and Cf: Hangul and Braille fillers, the combining grapheme joiner, Mongolian and
# other variation selectors.
_FILLERS = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
_UNNAMED = {"Cc": "a control character", "Co": "a private-use character", "Cn": "unassigned"}
_UNNAMED_KNOWN = {"\x1f": "Anki's field separator", "\t": "a tab"}
_CLASS = re.compile(r"\.([a-z][a-z0-9-]*)")
_CLASSES_START = re.compile(r"[ \t]+\.")  # where classes follow the id: {#id .liste}
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


def invisible(char: str) -> bool:
    """Blank or invisible: pasted around an id by accident, never meant as part of it."""
    return char in _FILLERS or unicodedata.category(char) in _BLANK_CATEGORIES


def describe(char: str) -> str:
    """``U+0430 CYRILLIC SMALL LETTER A``: a character named so that it can be told apart."""
    name = unicodedata.name(char, "")
    if not name:
        unnamed = _UNNAMED_KNOWN.get(char) or _UNNAMED.get(unicodedata.category(char))
        name = f"({unnamed or 'unnamed'})"
    return f"U+{ord(char):04X} {name}"


def unfit(text: str, *, name: bool = False) -> int:
    """Index of the first character Anki cannot keep in a field (with ``name``: in a deck
    name, where it drops tabs too), or -1."""
    found = (_UNFIT_NAME if name else _UNFIT).search(text)
    return found.start() if found else -1


def deck_name(text: str) -> str:
    """A chapter title or deck name as Anki keeps it: blanks and colons around each part
    (between ``::``) dropped. An empty part is an error for the caller."""
    parts = []
    for part in text.split("::"):
        start, end = 0, len(part)
        while start < end and (part[start].isspace() or part[start] == ":"):
            start += 1
        while end > start and (part[end - 1].isspace() or part[end - 1] == ":"):
            end -= 1
        parts.append(part[start:end])
    return "::".join(parts)


@dataclass(frozen=True, slots=True)
class Attribute:
    """The ``{#id}`` at the end of a heading line; indices are into that line."""

    start: int  # the '{' (or, with text after the id, its '{#')
    card_id: str  # invisible characters around it dropped
    bad: int  # the first character not allowed in an id, or -1
    trailing: int = -1  # the first visible character after a '{#...}' that is not last
    classes: str = ""  # what follows the id inside the braces: " .liste"


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
            classes = ""
            split = _CLASSES_START.search(line, first, last)
            if split is not None:
                classes, last = line[split.start() : last], split.start()
            bad = _NOT_ID.search(line, first, last)
            return Attribute(opening, line[first:last], bad.start() if bad else -1, -1, classes)
    # '{#...}' with something visible after it: id-like, but not at the end.
    opening = line.rfind("{#", 0, end)
    closing = line.find("}", opening, end) if opening >= 0 else -1
    if closing < 0:
        return None
    trailing = _skip_invisible(line, closing + 1, end)
    return Attribute(opening, line[opening + 2 : closing], -1, trailing)


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


@dataclass(frozen=True, slots=True)
class Outline:
    headings: list[Heading]  # the top-level ATX headings of level 1 and 2
    found: list[Diagnostic]  # id headings that are not cards, code blocks never closed
    blocks: Blocks  # of the whole file


# Why a '{#id}' heading line is not a card, by the kind of block it is in.
_INSIDE = {
    "fence": "it is inside the code block opened at line {line} (close that block first)",
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
_LEAVES = frozenset({"fence", "code_block", "html_block", COMMENT, "paragraph_open"})
_HEADING_LINE = re.compile(r" {0,3}#{1,2}(?:[ \t]|$)")  # a line of a block's content
_CONTINUED_HEADING = re.compile(r"[ \t]*#{1,2}(?:[ \t]|$)")  # a paragraph's later line


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


def outline(text: str, path: str = "", *, allow_html: bool = False) -> Outline:
    """The headings that structure a file, as CommonMark reads it (and the answers are
    rendered); and, as diagnostics, every ``{#id}`` heading line that is no such heading,
    and code blocks and comments never closed."""
    parsed = blocks(text, allow_html=allow_html)
    tokens, origin = parsed.tokens, parsed.origin
    lines = text.split("\n")
    headings: list[Heading] = []
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
            if token.markup in ("-", "="):
                if "{#" in tokens[position + 1].content:
                    for at in range(start, end - 1):
                        report(at, "setext", start)
            elif len(token.markup) <= 2 and not containers:
                headings.append(Heading(origin[start], len(token.markup), position))
            elif len(token.markup) <= 2:
                container = containers[-1]
                report(start, container.type, (container.map or token.map)[0])
        elif token.type in _LEAVES and token.map:
            start, end = token.map
            paragraph = token.type == "paragraph_open"
            body = tokens[position + 1].content if paragraph else token.content
            first = start + (token.type == "fence")
            if _unclosed(token, body):
                # CommonMark ends it with its container or the file: all below is hidden.
                hidden = sum(1 for line in body.split("\n") if _HEADING_LINE.match(line))
                if hidden:
                    what, close = _UNCLOSED[token.type]
                    message = (
                        f"{what} opened here is never closed: it hides {hidden} heading(s) "
                        f"below (close it with {close})"
                    )
                    found.append(Diagnostic(path, origin[start] + 1, "error", message))
            elif "{#" in body:
                pattern = _CONTINUED_HEADING if paragraph else _HEADING_LINE
                for offset, line in enumerate(body.split("\n")):
                    if pattern.match(line) and (offset or not paragraph):
                        report(first + offset, token.type, start)
    return Outline(headings, found, parsed)


_UNCLOSED = {"fence": ("code block", "the same fence"), COMMENT: ("comment", "'-->'")}


def _unclosed(token: Token, body: str) -> bool:
    """A code block or comment that runs to the end of its container (or the file)."""
    if token.type == COMMENT:
        return "-->" not in body  # it ends at the first line that holds one
    if token.type != "fence" or token.map is None:
        return False
    lines = body.count("\n") + (not body.endswith("\n") and bool(body))
    return token.map[1] - token.map[0] == lines + 1  # no line left for a closing fence


def _unfit_characters(text: str, exempt: dict[int, int]) -> Iterator[tuple[int, int]]:
    """``(line, column)``, 0-based, of the first character per line that Anki cannot keep
    in a field; ``exempt`` maps a line to the column from which they do not matter."""
    line, line_start, searched, reported = 0, 0, 0, -1
    for match in _UNFIT.finditer(text):
        at = match.start()
        newlines = text.count("\n", searched, at)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", searched, at) + 1
        searched = at
        column = at - line_start
        if line != reported and column < exempt.get(line, column + 1):
            reported = line
            yield line, column


def _own_blocks(whole: Blocks, tokens: list[Token], last: int) -> Blocks | None:
    """A card's blocks, taken from its file's, if they are the ones its answer gives on its
    own: not if the file defines link references (each answer has its own), nor if an HTML
    block or a code block never closed keeps the line end after the answer's last line
    (which the answer, cut out of its file, has not)."""
    if whole.env:
        return None
    for token in tokens:
        if token.type not in ("html_block", "fence") or token.map is None:
            continue
        if whole.origin[token.map[1] - 1] >= last and (
            token.type == "html_block" or _unclosed(token, token.content)
        ):
            return None
    return Blocks(tokens, whole.origin, {})


def parse_file(
    source: SourceFile, *, allow_html: bool = False
) -> tuple[list[Card], list[Diagnostic]]:
    """Cards of one file, plus problems found (errors are not raised here, so all are seen)."""
    cards, _, found = read_cards(source, allow_html=allow_html)
    return cards, found


def read_cards(
    source: SourceFile, *, allow_html: bool = False
) -> tuple[list[Card], list[Blocks | None], list[Diagnostic]]:
    """Like :func:`parse_file`, with each card's answer already split into blocks, for its
    rendering; None where the file has link references (each answer has its own)."""
    lines = source.text.split("\n")
    structure = outline(source.text, source.path, allow_html=allow_html)
    whole = structure.blocks
    answers: list[Blocks | None] = []
    found = structure.found
    cards: list[Card] = []

    def error(index: int, message: str) -> None:
        found.append(Diagnostic(source.path, index + 1, "error", message))

    bad = unfit(source.path)
    if bad >= 0:
        error(0, f"the file name has {describe(source.path[bad])}: Anki cannot keep it; rename")
    exempt: dict[int, int] = {}  # a card heading's line: where its id attribute starts
    chapter: str | None = None
    marks = structure.headings
    for position, heading in enumerate(marks):
        line = lines[heading.index]
        if heading.level == 1:
            start, stop = heading_span(line, len(line))
            tab = unfit(line[start:stop], name=True)
            chapter = deck_name(line[start:stop])
            if not all(chapter.split("::")):
                error(heading.index, "empty chapter title (or an empty part around '::')")
            elif chapter.casefold() == REMOVED_CHAPTER.casefold():
                error(heading.index, f"chapter title {chapter!r} is kept for removed cards")
            elif tab >= 0 and line[start + tab] == "\t":  # other such characters: below
                error(
                    heading.index,
                    f"{describe(chr(9))} at column {start + tab + 1} in a chapter title: Anki "
                    "drops it from deck names (use a space)",
                )
            continue
        attribute = find_id(line)
        start, stop = heading_span(line, attribute.start if attribute else len(line))
        question = line[start:stop]
        if attribute is not None:
            exempt[heading.index] = stop
        following = marks[position + 1] if position + 1 < len(marks) else None
        end = following.index if following else len(lines)
        body = lines[heading.index + 1 : end]
        while body and not body[-1].strip():
            body.pop()
        tokens = whole.tokens[heading.position + 3 : following.position if following else None]
        answers.append(_own_blocks(whole, tokens, heading.index + len(body)))
        skipped = 0
        while skipped < len(body) and not body[skipped].strip():
            skipped += 1
        answer = "\n".join(body[skipped:])
        if chapter is None:
            error(heading.index, "card before the chapter title: start the file with '# Title'")
        if not question:
            error(heading.index, "card heading has no question text")
        problem: str | None = "card has no id: run 'kam-anki ids' to add one to every heading"
        classes: tuple[str, ...] = ()
        if attribute is not None:
            classes, problem = read_classes(attribute.classes)
            problem = problem or id_problem(line, attribute)
        if problem:
            error(heading.index, problem)
        if not answer:
            error(heading.index, f"card {question!r} has no answer")
        cards.append(
            Card(
                id=attribute.card_id if attribute else "",
                question=question,
                answer=answer,
                chapter=chapter or "",
                path=source.path,
                line=heading.index + 1,
                answer_line=heading.index + 2 + skipped,
                classes=classes,
            )
        )
    for index, column in _unfit_characters(source.text, exempt):
        char = lines[index][column]
        message = f"{describe(char)} at column {column + 1}: Anki cannot keep it in a card"
        error(index, message + " (delete it)")
    if not cards and not found:
        found.append(
            Diagnostic(
                source.path, 1, "error", "no cards in this file: a card is '## Question {#card-id}'"
            )
        )
    return cards, answers, found
