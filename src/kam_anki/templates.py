"""Anki's template language, the part kam-anki's note types use (``{{Field}}``,
``{{FrontSide}}``, sections, ``{{cloze:…}}``), for the preview: a card's sides as Anki
would show them."""

from __future__ import annotations

import re
from collections.abc import Mapping

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


_FIELD_NAME = re.compile(r"[^#^/{}:]+")


_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.DOTALL)


class TemplateError(ValueError):
    """The template uses Anki syntax this renderer does not know: better loud than wrong.
    The templates are kam-anki's own, so only a bug raises it: no :class:`KamError` (which
    a user can cause), it ends as an internal error."""


def render_template(template: str, fields: Mapping[str, str], front_side: str = "") -> str:
    """Anki's template language, the part the note type uses: ``{{Field}}``, ``{{FrontSide}}``
    and the sections ``{{#Field}}…{{/Field}}`` (shown if the field is not empty) and
    ``{{^Field}}…{{/Field}}`` (shown if it is)."""
    out: list[str] = []
    # One frame per open section: (field name, whether its content is shown).
    open_sections: list[tuple[str, bool]] = []
    position = 0
    for match in _TAG.finditer(template):
        shown = all(visible for _, visible in open_sections)
        if shown:
            out.append(template[position : match.start()])
        position = match.end()
        tag = match.group(1).strip()
        kind, name = (tag[0], tag[1:].strip()) if tag[:1] in ("#", "^", "/") else ("", tag)
        if not _FIELD_NAME.fullmatch(name):
            raise TemplateError(f"unsupported template tag {{{{{tag}}}}}")
        if kind == "/":
            if not open_sections or open_sections[-1][0] != name:
                raise TemplateError(f"{{{{/{name}}}}} closes no open section")
            open_sections.pop()
            continue
        if kind in ("#", "^"):
            if name not in fields:
                raise TemplateError(f"section on unknown field {name!r}")
            filled = bool(fields[name].strip())
            open_sections.append((name, filled if kind == "#" else not filled))
            continue
        if name == "FrontSide":
            value = front_side
        elif name in fields:
            value = fields[name]
        else:
            raise TemplateError(f"unknown field {name!r}")
        if shown:
            out.append(value)
    if open_sections:
        raise TemplateError(f"section {{{{#{open_sections[-1][0]}}}}} is never closed")
    out.append(template[position:])
    return "".join(out)


def render_cloze(text: str, number: int, *, back: bool) -> str:
    """A list field as Anki shows card ``number`` of it: that cloze a gap on the front and
    marked on the back, the others as text."""

    def one(match: re.Match[str]) -> str:
        ordinal, content = match.group(1), match.group(2)
        if int(ordinal) != number:
            return f'<span class="cloze-inactive" data-ordinal="{ordinal}">{content}</span>'
        if back:
            return f'<span class="cloze" data-ordinal="{ordinal}">{content}</span>'
        return (
            f'<span class="cloze" data-cloze="{_attribute(content)}" '
            f'data-ordinal="{ordinal}">[...]</span>'
        )

    return _CLOZE.sub(one, text)


_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _attribute(text: str) -> str:
    """An attribute value as Anki writes the cloze's text into ``data-cloze``: ASCII letters
    and digits as they are, every other character a character reference."""
    return "".join(
        c if c.isascii() and c.isalnum() else _NAMED.get(c, f"&#x{ord(c):X};") for c in text
    )
