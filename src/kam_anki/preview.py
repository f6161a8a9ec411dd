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

from kam_anki.errors import Diagnostic
from kam_anki.media import mime_type
from kam_anki.model import Note, Place
from kam_anki.notetype import NoteType
from kam_anki.page import PAGE, PAGE_CSS, SCRIPT
from kam_anki.templates import render_cloze, render_template
from kam_anki.tombstones import REMOVED_TAG

_MARKUP = re.compile(r"<[^>]*>")


_SPACE = re.compile(r"\s+")


_CLOZE_FIELD = "{{cloze:Liste}}"


_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.IGNORECASE)


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


@dataclass(frozen=True)
class Shown:
    """What the page shows: the notes (the build's result), where each card lives (the
    build's places: they place warnings), the warnings, the package's files."""

    notes: Sequence[Note]
    cards: Sequence[Place]
    warnings: Sequence[Diagnostic] = ()
    media: Mapping[str, bytes] | None = None


def render_preview(
    notetype: NoteType,
    shown: Shown,
    *,
    title: str,
    on_card: Callable[[int], None] | None = None,
) -> str:
    """The whole page; ``on_card`` counts the cards done."""
    notes, cards, warnings, media = shown.notes, shown.cards, shown.warnings, shown.media
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
