"""The Markdown side of a pull: Anki's image names back to the content's paths, each card's
edit spliced into its file's lines (:mod:`kam_anki.splice`), and the diff a dry run shows."""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from kam_anki.ankihtml import Unsayable
from kam_anki.characters import LINE_END
from kam_anki.headings import find_id, heading_span
from kam_anki.model import Card
from kam_anki.splice import splice


@dataclass(frozen=True)
class Images:
    """The content's images by the name Anki has for them (made from their content) and
    back, so an image is found by what it is, wherever the Markdown keeps it."""

    paths: Mapping[str, str] = field(default_factory=dict)  # media name -> path in content/

    def path_for(self, page: str) -> Callable[[str], str]:
        def path(name: str) -> str:
            found = self.paths.get(name)
            if found is None:
                raise Unsayable(f"image {name!r} is not in content/: add it there and link it")
            return posixpath.relpath(found, posixpath.dirname(page) or ".")

        return path

    def name_for(self, page: str) -> Callable[[str, int], str]:
        names = {path: name for name, path in self.paths.items()}

        def name(src: str, _line: int) -> str:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(src)))
            return names.get(path, src)

        return name


@dataclass(frozen=True)
class Edit:
    card: Card
    question: str | None
    answer: str | None


def apply_edits(
    text: str, edits: Sequence[Edit], *, allow_html: bool, images: Images
) -> tuple[str, dict[str, int]]:
    """The file's text with the edits made (lines and line ends elsewhere as they were),
    and each card's heading line in the new text."""
    parts = LINE_END.split(text)
    lines, ends = parts[0::2], parts[1::2]
    shifts: list[tuple[int, int]] = []
    for edit in sorted(edits, key=lambda e: e.card.line, reverse=True):
        card = edit.card
        if edit.answer is not None:
            start = card.answer_line - 1
            count = card.answer.count("\n") + 1
            old = "\n".join(lines[start : start + count])
            new = splice(
                old, edit.answer, allow_html=allow_html, images=images.name_for(card.path)
            ).split("\n")
            end = ends[start] if start < len(ends) else "\n"
            lines[start : start + count] = new
            ends[start : start + count - 1] = [end] * (len(new) - 1)
            shifts.append((card.line, len(new) - count))
        if edit.question is not None:
            line = lines[card.line - 1]
            attribute = find_id(line)
            begin, stop = heading_span(line, attribute.start if attribute else len(line))
            lines[card.line - 1] = line[:begin] + edit.question + line[stop:]
    out = [piece for pair in zip(lines, [*ends, ""], strict=True) for piece in pair]
    heading = {
        e.card.id: e.card.line + sum(delta for line, delta in shifts if line < e.card.line)
        for e in edits
    }
    return "".join(out), heading


def diff(path: str, old: str, new: str) -> list[str]:
    """The unified diff of one file (``patch -p0`` applies it)."""
    old_lines, new_lines = LINE_END.split(old)[0::2], LINE_END.split(new)[0::2]
    return list(difflib.unified_diff(old_lines, new_lines, path, path, lineterm=""))
