"""Built notes -> one self-contained HTML page showing every card, front and back; pure.

The cards are rendered from the note type's own templates and CSS, the ones that go into the
package, so what the page shows is what Anki shows. Nothing is loaded from the network.
"""

from __future__ import annotations

import base64
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape, unescape

from kam_anki.build import REMOVED_TAG
from kam_anki.errors import Diagnostic
from kam_anki.model import Note, Place
from kam_anki.notetype import NoteType

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_FIELD_NAME = re.compile(r"[^#^/{}:]+")
_MARKUP = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.IGNORECASE)
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


class TemplateError(ValueError):
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


def inline_media(html: str, media: Mapping[str, bytes]) -> str:
    """Images the package carries become data: URLs, so the page needs no files beside it."""

    def swap(match: re.Match[str]) -> str:
        name = unescape(match.group(2))
        kind = _IMAGE_TYPES.get(posixpath.splitext(name)[1].lower())
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
) -> tuple[list[CardView], list[Diagnostic]]:
    """The cards to show, in package order, and the warnings that belong to no card."""
    by_id = {card.id: card for card in cards}
    by_card, loose = assign_warnings(cards, warnings)
    views = []
    for note in notes:
        fields = dict(zip(notetype.fields, note.fields, strict=True))
        front = inline_media(render_template(notetype.front, fields), media or {})
        back = inline_media(render_template(notetype.back, fields, front_side=front), media or {})
        card = by_id.get(note.card_id)
        removed = REMOVED_TAG in note.tags
        views.append(
            CardView(
                card_id=note.card_id,
                chapter=_plain(note.fields[2]) if len(note.fields) > 2 else "",
                front=front,
                back=back,
                where=f"{card.path}:{card.line}"
                if card and not removed
                else _plain(note.fields[-1]),
                text=" ".join(_plain(f) for f in (*note.fields, note.card_id)).lower(),
                warnings=tuple(by_card.get(note.card_id, ())) if not removed else (),
                removed=removed,
                deck=note.deck,
            )
        )
    return views, loose


def render_preview(
    notetype: NoteType,
    notes: Sequence[Note],
    cards: Sequence[Place],
    warnings: Sequence[Diagnostic],
    *,
    title: str,
    media: Mapping[str, bytes] | None = None,
) -> str:
    """The whole page. ``cards`` (from ``parse_sources``) place warnings and show where a
    card lives; ``notes`` (the build's result) are what is shown; ``media`` are the package's
    files (the build's media)."""
    views, loose = card_views(notetype, notes, cards, warnings, media)
    chapters = sorted({v.chapter for v in views if v.chapter})
    options = "".join(f'<option value="{escape(c)}">{escape(c)}</option>' for c in chapters)
    warned = sum(1 for v in views if v.warnings)
    loose_html = ""
    if loose:
        items = "".join(f'<li class="pv-w">{escape(str(d))}</li>' for d in loose)
        loose_html = f'<section class="pv-loose"><h2>Other warnings</h2><ul>{items}</ul></section>'
    body = "\n".join(_card_html(v) for v in views)
    return _PAGE.format(
        title=escape(title),
        card_css=notetype.css,
        page_css=_PAGE_CSS,
        script=_SCRIPT,
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


# The page's own styles use the pv- prefix; the one rule on .card stands in for the margin
# Anki's reviewer puts around a card.
_PAGE_CSS = """
html { background: #eceae4; }
body.pv { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Arial,
  sans-serif; color: #24262a; }
.pv-bar { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 8px 14px;
  align-items: center; padding: 10px 16px; background: #f7f6f2; border-bottom: 1px solid #d6d3cb; }
.pv-bar h1 { font-size: 17px; margin: 0 8px 0 0; }
.pv-bar h1 small { font-weight: 400; color: #6a6f76; }
.pv-bar input[type=search], .pv-bar select { font: inherit; padding: 4px 8px; border-radius: 6px;
  border: 1px solid #bcb8ae; background: #fff; color: inherit; max-width: 100%; }
.pv-bar input[type=search] { width: 16em; }
.pv-bar label { white-space: nowrap; }
#pv-shown { color: #6a6f76; }
.pv-loose, #pv-cards { max-width: 1180px; margin: 0 auto; padding: 0 16px; }
.pv-loose { margin-top: 16px; color: #8a4b00; }
.pv-item { margin: 20px 0 28px; }
.pv-meta { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline;
  margin-bottom: 6px; color: #6a6f76; font-size: 13px; }
.pv-meta code { font-size: 12px; overflow-wrap: anywhere; }
.pv-id { color: inherit; }
.pv-badge { padding: 1px 8px; border-radius: 9px; background: #dcd9d0; color: #3a3c40; }
.pv-badge-warn { background: #ffd98a; color: #4d3200; }
.pv-warnings { margin: 4px 0 8px; padding-left: 1.2em; color: #8a4b00; font-size: 13px; }
.pv-warned .pv-frame { box-shadow: 0 0 0 2px #e8a33a; }
.pv-removed .pv-frame { opacity: 0.6; }
.pv-sides { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.pv-side { flex: 1 1 340px; min-width: 0; margin: 0; }
.pv-side figcaption { font-size: 12px; color: #6a6f76; margin: 0 0 3px 2px; }
.pv-frame { border-radius: 10px; overflow: hidden; box-shadow: 0 0 0 1px #d2cec4; }
.pv-frame > .card { padding: 14px 16px; min-height: 60px; }
body.pv-phone .pv-side { flex: 0 0 375px; max-width: 100%; }
body.pv-dark, html.pv-dark { background: #101012; color: #d9d7d2; }
.pv-dark .pv-bar { background: #19191b; border-color: #333; }
.pv-dark .pv-bar input[type=search], .pv-dark .pv-bar select { background: #222;
  border-color: #444; }
.pv-dark .pv-badge { background: #333336; color: #d9d7d2; }
.pv-dark .pv-badge-warn { background: #5c4512; color: #ffd98a; }
.pv-dark .pv-frame { box-shadow: 0 0 0 1px #333336; }
.pv-dark .pv-warned .pv-frame { box-shadow: 0 0 0 2px #c98a2a; }
.pv-hidden { display: none; }
#pv-none { max-width: 1180px; margin: 24px auto; padding: 0 16px; color: #6a6f76; }
"""

# State lives in the URL fragment (#dark&phone&q=…&chapter=…) so a reload keeps it.
_SCRIPT = """
(function () {
  var $ = function (id) { return document.getElementById(id); };
  // Each side is parsed on its own, as Anki's reviewer sets a card's HTML: whatever a card
  // leaves open (<textarea>, <!--, <title>, ...) ends with that card, not with the page.
  document.querySelectorAll('.pv-frame > .card[data-html]').forEach(function (card) {
    card.innerHTML = card.getAttribute('data-html');
    card.removeAttribute('data-html');
  });
  var items = Array.prototype.slice.call(document.querySelectorAll('.pv-item'));
  var cards = Array.prototype.slice.call(document.querySelectorAll('.pv-frame > .card'));
  function readHash() {
    var state = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      if (!part) return;
      var i = part.indexOf('=');
      if (i < 0) state[decodeURIComponent(part)] = true;
      else state[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1));
    });
    return state;
  }
  function writeHash() {
    var parts = [$('pv-dark').checked ? 'dark' : 'light'];
    if ($('pv-phone').checked) parts.push('phone');
    if ($('pv-warn').checked) parts.push('warnings');
    if ($('pv-q').value) parts.push('q=' + encodeURIComponent($('pv-q').value));
    if ($('pv-chapter').value) parts.push('chapter=' + encodeURIComponent($('pv-chapter').value));
    history.replaceState(null, '', '#' + parts.join('&'));
  }
  function apply() {
    var dark = $('pv-dark').checked;
    document.documentElement.classList.toggle('pv-dark', dark);
    document.body.classList.toggle('pv-dark', dark);
    document.body.classList.toggle('pv-phone', $('pv-phone').checked);
    cards.forEach(function (card) {
      card.classList.toggle('nightMode', dark);
      card.classList.toggle('night_mode', dark);
    });
    var words = $('pv-q').value.toLowerCase().split(/\\s+/).filter(Boolean);
    var chapter = $('pv-chapter').value;
    var onlyWarned = $('pv-warn').checked;
    var shown = 0;
    items.forEach(function (item) {
      var text = item.getAttribute('data-text');
      var ok = (!chapter || item.getAttribute('data-chapter') === chapter) &&
        (!onlyWarned || item.classList.contains('pv-warned')) &&
        words.every(function (w) { return text.indexOf(w) >= 0; });
      item.classList.toggle('pv-hidden', !ok);
      if (ok) shown += 1;
    });
    $('pv-shown').textContent = shown + ' of ' + items.length + ' shown';
    $('pv-none').classList.toggle('pv-hidden', shown > 0);
  }
  var state = readHash();
  var prefersDark = window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches;
  $('pv-dark').checked = state.dark ? true : state.light ? false : prefersDark;
  $('pv-phone').checked = !!state.phone;
  $('pv-warn').checked = !!state.warnings;
  if (typeof state.q === 'string') $('pv-q').value = state.q;
  if (typeof state.chapter === 'string') $('pv-chapter').value = state.chapter;
  ['pv-dark', 'pv-phone', 'pv-warn', 'pv-chapter'].forEach(function (id) {
    $(id).addEventListener('change', function () { apply(); writeHash(); });
  });
  $('pv-q').addEventListener('input', function () { apply(); writeHash(); });
  apply();
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: preview</title>
<style>
{card_css}
</style>
<style>{page_css}</style>
</head>
<body class="pv">
<header class="pv-bar">
<h1>{title} <small>{count} cards</small></h1>
<input type="search" id="pv-q" placeholder="Filter by text or id" aria-label="Filter by text or id">
<select id="pv-chapter" aria-label="Chapter">
<option value="">All chapters</option>{options}</select>
<label><input type="checkbox" id="pv-dark"> Night mode</label>
<label><input type="checkbox" id="pv-phone"> Phone width</label>
<label><input type="checkbox" id="pv-warn"> With warnings ({warned})</label>
<span id="pv-shown"></span>
</header>
{loose}
<noscript><p id="pv-noscript">The cards are shown with JavaScript: please allow it for
this page.</p></noscript>
<main id="pv-cards">
{cards}
</main>
<p id="pv-none" class="pv-hidden">No card matches the filter.</p>
<script>{script}</script>
</body>
</html>
"""
