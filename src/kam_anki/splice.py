"""A card's answer rewritten with the fewest changed lines; pure.

``pull`` gets the learner's answer as new Markdown (:mod:`kam_anki.unrender`). Written over
the author's answer whole, it would change every line whose spelling differs (``•`` or
``*`` bullets, blank lines, indentation) although it shows the same. So both are split into
blocks as the build reads them (markdown-it's tokens), the blocks compared by what they
render to, and only blocks that render differently are replaced, in the author's style
(indentation, bullet character); lists and their items are compared item by item.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from kam_anki.mdtext import canonical
from kam_anki.rawhtml import ImageResolver
from kam_anki.render import blocks, render_answer, render_question, render_tokens

_MARKER = re.compile(r"^([ \t]*)([-+*•◦▪‣–]|(\d{1,9})([.)]))([ \t]+|$)")
_LISTS = ("bullet_list_open", "ordered_list_open")


@dataclass(frozen=True)
class _Block:
    kind: str  # the type of its first token
    first: int  # token indices: its opening token ...
    last: int  # ... and its closing one (the same for a single token)
    start: int  # its lines in the text, [start, end), without blank lines at the end
    end: int
    html: str  # what it renders to: blocks that render alike are alike


@dataclass(frozen=True)
class _Side:
    lines: list[str]
    tokens: list[Token]
    origin: list[int]

    def children(self, first: int, last: int, level: int) -> list[_Block]:
        """The blocks at ``level`` among tokens ``first`` to ``last`` (inclusive)."""
        found: list[_Block] = []
        index = first
        while index <= last:
            token = self.tokens[index]
            if token.level != level or token.nesting == -1:
                index += 1
                continue
            close = index
            if token.nesting == 1:
                depth = 0
                for close in range(index, last + 1):
                    depth += self.tokens[close].nesting
                    if depth == 0:
                        break
            start, end = self._lines(token)
            html = render_tokens(self.tokens[index : close + 1])
            if html:  # a comment shows nothing: it stays where it is
                found.append(_Block(token.type, index, close, start, end, html))
            index = close + 1
        return found

    def _lines(self, token: Token) -> tuple[int, int]:
        if not token.map:
            return 0, 0
        start = self.origin[token.map[0]]
        end = self.origin[max(token.map[1] - 1, token.map[0])] + 1
        while end > start + 1 and not self.lines[end - 1].strip():
            end -= 1
        return start, end

    def prefix(self, line: int) -> tuple[str, str, int]:
        """A list item's first line: its marker ("-" or "3."), the delimiter of a number
        (else ""), and the column its content starts at."""
        match = _MARKER.match(self.lines[line])
        if match is None:
            return "-", "", 0
        content = match.end() if match.group(5) else len(match.group(0)) + 1
        return match.group(2), match.group(4) or "", content


def _side(text: str, *, allow_html: bool, images: ImageResolver | None) -> _Side:
    parsed = blocks(text, allow_html=allow_html)
    render_answer(text, allow_html=allow_html, images=images, parsed=parsed)
    return _Side(text.split("\n"), parsed.tokens, parsed.origin)


@dataclass(frozen=True)
class _Frame:
    """How lines of the new text go into the old one: columns cut, columns padded, and the
    list item's first line, whose marker is the old one's."""

    cut: int
    pad: int
    head: int = -1  # a line of the new text
    head_prefix: str = ""

    def take(self, lines: Sequence[str], start: int, end: int) -> list[str]:
        out: list[str] = []
        for number in range(start, end):
            line = lines[number]
            if number == self.head:
                out.append(self.head_prefix + line[self.cut :])
            elif not line.strip():
                out.append("")
            else:
                body = line[self.cut :] if not line[: self.cut].strip() else line.lstrip()
                out.append(" " * self.pad + body)
        return out


_Edit = tuple[int, int, list[str]]  # old lines [start, end) become these


@dataclass
class _Splicer:
    old: _Side
    new: _Side
    edits: list[_Edit]

    def blocks(
        self, old: list[_Block], new: list[_Block], frame: _Frame, *, spaced: bool, at: int
    ) -> None:
        """Align two runs of sibling blocks; ``at`` is where a block goes before the first."""
        matcher = difflib.SequenceMatcher(
            None, [b.html for b in old], [b.html for b in new], autojunk=False
        )
        for op, o1, o2, n1, n2 in matcher.get_opcodes():
            if op == "equal":
                continue
            pairs = list(zip(old[o1:o2], new[n1:n2], strict=False))
            if op == "replace" and o2 - o1 == n2 - n1 and all(a.kind == b.kind for a, b in pairs):
                for a, b in pairs:
                    self.one(a, b, frame)
                continue
            where = old[o1 - 1].end if o1 else at
            start, end = (old[o1].start, old[o2 - 1].end) if o2 > o1 else (where, where)
            lines = frame.take(self.new.lines, new[n1].start, new[n2 - 1].end) if n2 > n1 else []
            if spaced and lines and o2 == o1:  # a new block: blank lines around it
                if start and self.old.lines[start - 1].strip():
                    lines = ["", *lines]
                if start < len(self.old.lines) and self.old.lines[start].strip():
                    lines = [*lines, ""]
            self.edits.append((start, end, lines))

    def one(self, old: _Block, new: _Block, frame: _Frame) -> None:
        """Two blocks of one kind in the same place."""
        if old.kind in _LISTS:
            self.items(old, new, frame)
        elif old.kind == "list_item_open":
            self.item(old, new)
        else:
            lines = frame.take(self.new.lines, new.start, new.end)
            if old.kind == "paragraph_open" and len(lines) == old.end - old.start:
                lines = [self._same_line(n, line) for n, line in enumerate(lines, old.start)]
            self.edits.append((old.start, old.end, lines))

    def _same_line(self, number: int, new: str) -> str:
        """A line of a paragraph that shows as the new one does stays as it was written (a
        check of the whole answer at the end catches text that reads otherwise in context)."""
        old = self.old.lines[number]
        prefix = len(old) - len(old.lstrip())
        same = render_question(old[prefix:].strip()) == render_question(new.lstrip().strip())
        return old if same and old[:prefix] == new[:prefix] else new

    def items(self, old: _Block, new: _Block, frame: _Frame) -> None:
        """Two lists: item by item."""
        o_items = self.old.children(
            old.first + 1, old.last - 1, self.old.tokens[old.first].level + 1
        )
        n_items = self.new.children(
            new.first + 1, new.last - 1, self.new.tokens[new.first].level + 1
        )
        if not o_items or not n_items:
            self.edits.append((old.start, old.end, frame.take(self.new.lines, new.start, new.end)))
            return
        matcher = difflib.SequenceMatcher(
            None, [b.html for b in o_items], [b.html for b in n_items], autojunk=False
        )
        marker, delimiter, _ = self.old.prefix(o_items[0].start)
        indent = re.match(r"[ \t]*", self.old.lines[o_items[0].start])
        pad = indent.group(0) if indent else ""
        for op, o1, o2, n1, n2 in matcher.get_opcodes():
            if op == "equal":
                continue
            if op == "replace" and o2 - o1 == n2 - n1:
                for a, b in zip(o_items[o1:o2], n_items[n1:n2], strict=True):
                    self.item(a, b)
                continue
            lines: list[str] = []
            for item in n_items[n1:n2]:
                number, _, content = self.new.prefix(item.start)
                mark = f"{number.rstrip('.)')}{delimiter}" if delimiter else marker
                head = f"{pad}{mark} "
                own = _Frame(content, len(head), item.start, head)
                lines += own.take(self.new.lines, item.start, item.end)
            where = o_items[o1 - 1].end if o1 else o_items[0].start
            start, end = (o_items[o1].start, o_items[o2 - 1].end) if o2 > o1 else (where, where)
            self.edits.append((start, end, lines))

    def item(self, old: _Block, new: _Block) -> None:
        """Two list items: their blocks (text, nested lists), in the old item's indentation."""
        level = self.old.tokens[old.first].level + 1
        _, _, o_content = self.old.prefix(old.start)
        _, _, n_content = self.new.prefix(new.start)
        head = self.old.lines[old.start][:o_content]
        frame = _Frame(n_content, o_content, new.start, head)
        o_children = self.old.children(old.first + 1, old.last - 1, level)
        n_children = self.new.children(
            new.first + 1, new.last - 1, self.new.tokens[new.first].level + 1
        )
        if not o_children or not n_children:
            self.edits.append((old.start, old.end, frame.take(self.new.lines, new.start, new.end)))
            return
        self.blocks(o_children, n_children, frame, spaced=False, at=old.start)


def splice(
    old: str, new: str, *, allow_html: bool = False, images: ImageResolver | None = None
) -> str:
    """``old`` (an answer as written) changed to show what ``new`` shows, line by line only
    where they differ; ``new`` itself if that cannot be done exactly."""
    old_side = _side(unicodedata.normalize("NFC", old), allow_html=allow_html, images=images)
    old_side = _Side(old.split("\n"), old_side.tokens, old_side.origin)
    new_side = _side(new, allow_html=allow_html, images=images)
    splicer = _Splicer(old_side, new_side, [])
    root = _Frame(0, 0)
    splicer.blocks(
        old_side.children(0, len(old_side.tokens) - 1, 0),
        new_side.children(0, len(new_side.tokens) - 1, 0),
        root,
        spaced=True,
        at=0,
    )
    lines = list(old_side.lines)
    for start, end, replacement in sorted(splicer.edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[start:end] = replacement
    result = "\n".join(lines).strip("\n")
    wanted = canonical(render_answer(new, allow_html=allow_html, images=images).html)
    got = canonical(render_answer(result, allow_html=allow_html, images=images).html)
    return result if got == wanted else new
