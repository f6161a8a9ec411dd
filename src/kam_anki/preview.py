"""Built notes -> one self-contained HTML page showing every card, front and back; pure
(text in, text out: :mod:`kam_anki.api` writes the page).

The cards are rendered from the note type's own templates and CSS, the ones that go into the
package, so what the page shows is what Anki shows. Nothing is loaded from the network.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape, unescape

from kam_anki.errors import Diagnostic, KamError
from kam_anki.media import mime_type
from kam_anki.model import Note, Place
from kam_anki.notetype import NoteType
from kam_anki.page import PAGE, PAGE_CSS, SCRIPT
from kam_anki.tombstones import REMOVED_TAG

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_FIELD_NAME = re.compile(r"[^#^/{}:]+")
_MARKUP = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.DOTALL)
_CLOZE_FIELD = "{{cloze:Liste}}"
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.IGNORECASE)


class TemplateError(KamError):
    """The template uses Anki syntax this renderer does not know: better loud than wrong."""


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


def _sides(notetype: NoteType, note: Note) -> list[tuple[str, str, str]]:
    """Each card of a note: (id for the page, front, back), as its note type renders it."""
    lists = notetype.lists
    if not note.clozes or lists is None:
        fields = note.fields.by_name()
        front = render_template(notetype.front, fields)
        return [(note.card_id, front, render_template(notetype.back, fields, front))]
    sides = []
    field_front = lists.front.replace(_CLOZE_FIELD, "{{Liste}}")
    field_back = lists.back.replace(_CLOZE_FIELD, "{{Liste}}")
    for number in note.clozes:
        fields = note.fields.by_name(lists.fields)
        text = fields["Liste"]
        fields["Liste"] = render_cloze(text, number, back=False)
        front = render_template(field_front, fields)
        fields["Liste"] = render_cloze(text, number, back=True)
        back = render_template(field_back, fields, front)
        sides.append((f"{note.card_id}/c{number}", front, back))
    return sides


def inline_media(html: str, media: Mapping[str, bytes]) -> str:
    """Images the package carries become data: URLs, so the page needs no files beside it."""

    def swap(match: re.Match[str]) -> str:
        name = unescape(match.group(2))
        kind = mime_type(name)
        if name not in media or kind is None:
            return match.group(0)
        data = base64.b64encode(media[name]).decode("ascii")
        return f"{match.group(1)}data:{kind};base64,{data}{match.group(3)}"

    return _IMG_SRC.sub(swap, html) if media else html


@dataclass(frozen=True)
class CardView:
    """One card as the preview shows it."""

    card_id: str
    chapter: str  # plain text
    front: str  # HTML, as Anki renders the front template
    back: str
    where: str  # "path:line", or the source field for removed cards
    text: str  # plain text of the card, lower-cased, for the filter
    warnings: tuple[Diagnostic, ...]
    removed: bool
    deck: str


def assign_warnings(
    cards: Sequence[Place], warnings: Sequence[Diagnostic]
) -> tuple[dict[str, list[Diagnostic]], list[Diagnostic]]:
    """Warnings by card id, and those that belong to no card.

    A card owns the lines from its heading up to the next card's heading in the same file.
    """
    starts: dict[str, list[tuple[int, str]]] = {}
    for card in cards:
        starts.setdefault(card.path, []).append((card.line, card.id))
    for lines in starts.values():
        lines.sort()
    by_card: dict[str, list[Diagnostic]] = {}
    loose: list[Diagnostic] = []
    for warning in warnings:
        owner = None
        for line, card_id in starts.get(warning.path, []):
            if line > warning.line:
                break
            owner = card_id
        if owner is None:
            loose.append(warning)
        else:
            by_card.setdefault(owner, []).append(warning)
    return by_card, loose


def _plain(html: str) -> str:
    return _SPACE.sub(" ", unescape(_MARKUP.sub(" ", html))).strip()


def card_views(
    notetype: NoteType,
    notes: Sequence[Note],
    cards: Sequence[Place],
    warnings: Sequence[Diagnostic],
    media: Mapping[str, bytes] | None = None,
    on_card: Callable[[int], None] | None = None,
) -> tuple[list[CardView], list[Diagnostic]]:
    """The cards to show, in package order, and the warnings that belong to no card;
    ``on_card`` is called with the number of cards done after each one."""
    by_id = {card.id: card for card in cards}
    by_card, loose = assign_warnings(cards, warnings)
    views = []
    for note in notes:
        card = by_id.get(note.card_id)
        removed = REMOVED_TAG in note.tags
        text = " ".join(_plain(f) for f in (*note.fields.values(), note.card_id)).lower()
        for view_id, front, back in _sides(notetype, note):
            views.append(
                CardView(
                    card_id=view_id,
                    chapter=_plain(note.fields.chapter),
                    front=inline_media(front, media or {}),
                    back=inline_media(back, media or {}),
                    where=f"{card.path}:{card.line}"
                    if card and not removed
                    else _plain(note.fields.source),
                    text=text,
                    warnings=tuple(by_card.get(note.card_id, ())) if not removed else (),
                    removed=removed,
                    deck=note.deck,
                )
            )
            if on_card is not None:
                on_card(len(views))
    return views, loose


# Options are keyword-only: a call names each one.
def render_preview(  # noqa: PLR0913
    notetype: NoteType,
    notes: Sequence[Note],
    cards: Sequence[Place],
    warnings: Sequence[Diagnostic],
    *,
    title: str,
    media: Mapping[str, bytes] | None = None,
    on_card: Callable[[int], None] | None = None,
) -> str:
    """The whole page. ``cards`` (the build's places) place warnings and show where a
    card lives; ``notes`` (the build's result) are what is shown; ``media`` are the package's
    files (the build's media); ``on_card`` counts the cards done."""
    views, loose = card_views(notetype, notes, cards, warnings, media, on_card)
    chapters = sorted({v.chapter for v in views if v.chapter})
    options = "".join(f'<option value="{escape(c)}">{escape(c)}</option>' for c in chapters)
    warned = sum(1 for v in views if v.warnings)
    loose_html = ""
    if loose:
        items = "".join(f'<li class="pv-w">{escape(str(d))}</li>' for d in loose)
        loose_html = f'<section class="pv-loose"><h2>Other warnings</h2><ul>{items}</ul></section>'
    body = "\n".join(_card_html(v) for v in views)
    return PAGE.format(
        title=escape(title),
        card_css=notetype.css,
        page_css=PAGE_CSS,
        script=SCRIPT,
        count=len(views),
        options=options,
        warned=warned,
        loose=loose_html,
        cards=body,
    )


def _card_html(view: CardView) -> str:
    classes = ["pv-item"]
    if view.warnings:
        classes.append("pv-warned")
    if view.removed:
        classes.append("pv-removed")
    badges = ""
    if view.removed:
        # An import never suspends, moves or deletes: it tags the note; a collection
        # that never had it gets it as a new card in the tombstones' subdeck.
        badges += (
            f'<span class="pv-badge">removed: an import tags it {REMOVED_TAG} '
            f"(a new learner gets it in {escape(view.deck)})</span>"
        )
    if view.warnings:
        count = len(view.warnings)
        badges += f'<span class="pv-badge pv-badge-warn">{count} warning{"s" * (count != 1)}</span>'
    warning_list = ""
    if view.warnings:
        items = "".join(
            f'<li class="pv-w">line {d.line}: {escape(d.message)}</li>' for d in view.warnings
        )
        warning_list = f'<ul class="pv-warnings">{items}</ul>'
    return (
        f'<article class="{" ".join(classes)}" id="card-{escape(view.card_id)}"'
        f' data-chapter="{escape(view.chapter)}" data-text="{escape(view.text)}">\n'
        f'<div class="pv-meta"><code>{escape(view.where)}</code>'
        f'<a class="pv-id" href="#card-{escape(view.card_id)}">#{escape(view.card_id)}</a>'
        f"{badges}</div>\n{warning_list}"
        '<div class="pv-sides">\n'
        f'<figure class="pv-side"><figcaption>Front</figcaption><div class="pv-frame">'
        f'<div class="card card1" data-side="front" data-html="{escape(view.front)}"></div>'
        "</div></figure>\n"
        f'<figure class="pv-side"><figcaption>Back</figcaption><div class="pv-frame">'
        f'<div class="card card1" data-side="back" data-html="{escape(view.back)}"></div>'
        "</div></figure>\n"
        "</div>\n</article>"
    )
