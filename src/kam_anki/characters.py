"""Characters: text as the build reads it (UTF-8, NFC, ``\\n``), and the characters Anki
cannot keep or a reader cannot see, named so that a message can point at them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from kam_anki.errors import ContentError

# Any line end: the capture group keeps them when a text is split (see ids.add_ids).
LINE_END = re.compile(r"(\r\n|\r|\n)")
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
        text = LINE_END.sub("\n", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def invisible(char: str) -> bool:
    """Blank or invisible: pasted around an id by accident, never meant as part of it."""
    return char in _FILLERS or unicodedata.category(char) in _BLANK_CATEGORIES


def text_key(text: str) -> str:
    """What two texts must share to be "the same text" (the same question, the same list
    item): the text after NFC and case folding, invisible characters dropped, runs of blanks
    as one space. The one rule for duplicate questions, renamed cards and item keys."""
    folded = unicodedata.normalize("NFC", text).casefold()
    visible = "".join(c for c in folded if c.isspace() or not invisible(c))
    return " ".join(visible.split())


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


def unfit_characters(text: str, exempt: dict[int, int]) -> Iterator[tuple[int, int]]:
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
