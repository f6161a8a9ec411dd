"""What a learner sees on a card, engine-neutral: the pages, the measuring script, the checks.

Anki's own engine imports the built package and renders each card's question and answer; the
HTML is wrapped the way a reviewer wraps it and laid out by a real browser engine (Chromium in
test_browser.py, WebKit in test_webkit.py), or measured right in Anki desktop's reviewer
(test_desktop.py). ``MEASURE_FUNCTION`` turns the layout into numbers; the assertions below
are about those numbers, whichever engine produced them.

Browsers will not make a window as narrow as a phone, so each card gets its own iframe of the
wanted width: inside it the viewport (innerWidth, media queries) is exactly that wide.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# anki.collection must be imported before anki.cards (circular import otherwise).
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from helpers import kam

# Screenshots for a person (and the README) to look at: outside the source tree, so that a
# read-only checkout works; KAM_ANKI_ARTIFACTS names another folder.
ARTIFACTS = Path(
    os.environ.get("KAM_ANKI_ARTIFACTS") or Path(tempfile.gettempdir()) / "kam-anki-artifacts"
)
NIGHT = "nightMode night_mode"
RESULTS_ID = "kam-results"

# ``kamMeasure()``: the card's layout and colours as plain data.
MEASURE_FUNCTION = r"""
function kamMeasure() {
  var d = document, de = d.documentElement, card = d.querySelector('.card');
  function box(el) { var r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
            width: r.width, height: r.height}; }
  function style(el, pseudo) { return getComputedStyle(el, pseudo || null); }
  var right = 0;
  var walker = d.createTreeWalker(d.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    var range = d.createRange(); range.selectNodeContents(walker.currentNode);
    right = Math.max(right, range.getBoundingClientRect().right);
  }
  d.querySelectorAll('body *').forEach(function (el) {
    right = Math.max(right, el.getBoundingClientRect().right);
  });
  function part(selector) {
    var el = d.querySelector(selector);
    if (!el) return null;
    var s = style(el);
    return {box: box(el), text: el.textContent.trim(), fontSize: parseFloat(s.fontSize),
            fontWeight: parseInt(s.fontWeight, 10), color: s.color, display: s.display,
            rule: {color: s.borderTopColor, width: parseFloat(s.borderTopWidth),
                   style: s.borderTopStyle}};
  }
  var items = [];
  d.querySelectorAll('.antwort li').forEach(function (li) {
    var s = style(li);
    if (!li.getClientRects().length) return;  // not shown (a sequence's later items)
    items.push({box: box(li), display: s.display, visibility: s.visibility,
                listStyle: s.listStyleType, color: s.color, marker: style(li, '::marker').color,
                depth: li.parentElement.closest('li') ? 1 : 0,
                text: li.firstChild ? li.firstChild.textContent.trim() : ''});
  });
  var labels = [];
  d.querySelectorAll('.antwort .label').forEach(function (el) {
    labels.push({text: el.textContent.trim(), fontWeight: parseInt(style(el).fontWeight, 10),
                 color: style(el).color});
  });
  // Shortened words ("und -sicherung", "Firmen- und"): is the hyphen on the same line as
  // the letter it belongs to? Word joiners and soft hyphens in between do not count.
  var shortened = [];
  function line(node, at) { var r = d.createRange(); r.setStart(node, at); r.setEnd(node, at + 1);
    var rects = r.getClientRects(); return rects.length ? rects[0].top : null; }
  var texts = d.createTreeWalker(d.querySelector('.kam-card') || d.body, NodeFilter.SHOW_TEXT);
  var suffix = /(^|\s)-[\u2060\u00ad]*\p{L}/gu, prefix = /\p{L}-(?=\s|$)/gu, m;
  function check(node, hyphen, partner) {
    var text = node.textContent;
    shortened.push({word: text.slice(Math.max(0, hyphen - 12), hyphen + 12),
                    together: line(node, hyphen) === line(node, partner)});
  }
  while (texts.nextNode()) {
    var node = texts.currentNode, text = node.textContent;
    while ((m = suffix.exec(text)) !== null) {
      check(node, m.index + m[1].length, m.index + m[0].length - 1);
    }
    while ((m = prefix.exec(text)) !== null) check(node, m.index + 1, m.index);
  }
  return {
    innerWidth: innerWidth, scrollWidth: de.scrollWidth, bodyScrollWidth: d.body.scrollWidth,
    clientWidth: de.clientWidth, rightmost: right,
    bodyClasses: d.body.className,
    bodyBackground: style(d.body).backgroundColor, bodyColor: style(d.body).color,
    cardBackground: style(card).backgroundColor, cardColor: style(card).color,
    cardFontSize: parseFloat(style(card).fontSize),
    lang: (d.querySelector('[lang]') || {}).lang || '',
    hyphens: style(d.querySelector('.kam-card') || card).hyphens,
    text: (d.querySelector('.kam-card') || card).textContent,
    question: part('.frage'), answer: part('.antwort'), chapter: part('.kapitel'),
    hr: part('hr#answer'), items: items, labels: labels, shortened: shortened,
    // List notes: the gap in the list on the question side, the asked item on the answer's.
    gap: part('.kam-liste.vorne .cloze'), asked: part('.kam-liste:not(.vorne) .cloze'),
    listed: !!d.querySelector('.kam-liste'),
    // The reviewer's own scripts and styles come from its own origin; anything else would be
    // the card reaching outside.
    externalResources: performance.getEntriesByType('resource').filter(function (e) {
      return e.name.indexOf(location.origin + '/') !== 0; }).length
  };
}
"""

# In each card's iframe: the measurements, appended to the host page's results.
FRAME_SCRIPT = (
    MEASURE_FUNCTION
    + """
(function () {
  var result = kamMeasure();
  result.name = frameElement.getAttribute('data-name');
  result.side = frameElement.getAttribute('data-side');
  result.wrapper = frameElement.getAttribute('data-wrapper');
  parent.document.getElementById('__RESULTS__').textContent += JSON.stringify(result) + '\\n';
})();
""".replace("__RESULTS__", RESULTS_ID)
)

# For a page that is already open (Anki's reviewer): the measurements as a JSON string.
MEASURE_EXPRESSION = f"(function () {{{MEASURE_FUNCTION}return JSON.stringify(kamMeasure());}})()"


def measurements(dom: str) -> list[dict[str, Any]]:
    match = re.search(rf'<pre id="{RESULTS_ID}">(.*?)</pre>', dom, re.DOTALL)
    assert match, "the page's measuring script did not run"
    return [json.loads(line) for line in html.unescape(match.group(1)).splitlines() if line]


# --- colours -----------------------------------------------------------------------------


def rgb(css: str) -> tuple[float, float, float]:
    values = [float(v) for v in re.findall(r"[\d.]+", css)[:3]]
    assert len(values) == 3, css
    return values[0], values[1], values[2]


def canvas(css: str) -> str:
    """A transparent page background shows the browser's canvas: white, unless the page
    asked for a dark colour scheme (then the body has a colour of its own here)."""
    return "rgb(255, 255, 255)" if css == "rgba(0, 0, 0, 0)" else css


def luminance(css: str) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb(css)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: str, two: str) -> float:
    a, b = sorted((luminance(one), luminance(two)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def palette(css: str, night: bool) -> dict[str, str]:
    """The deck's own colours for one mode, read from the note type's CSS (custom properties
    of the ``.card`` rule, or of the night-mode rule), as browsers report colours."""
    rule = r"\.nightMode\.card[^{]*" if night else r"(?:^|\n)\.card\s*"
    block = re.search(rule + r"\{(.*?)\}", css, re.DOTALL)
    assert block, f"no {'night' if night else 'day'} palette in the card CSS"
    colours = {}
    for name, value in re.findall(r"--([\w-]+):\s*#([0-9a-fA-F]{6})\s*;", block.group(1)):
        r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
        colours[name] = f"rgb({r}, {g}, {b})"
    return colours


# --- cards as Anki renders them ----------------------------------------------------------


@dataclass(frozen=True)
class Side:
    name: str  # the note's card id (from Quelle), plus the side
    side: str  # "front" or "back"
    html: str  # Anki's card.question() or .answer(): the note type CSS in <style>, then the card
    fields: dict[str, str]

    @property
    def answer(self) -> str:
        """The field with the answer's list: a card's answer, or a list note's list."""
        return self.fields["Antwort"] if "Antwort" in self.fields else self.fields["Liste"]

    @property
    def listed(self) -> bool:
        """An item card: a card of a list note."""
        return "Liste" in self.fields


def build_deck(content: Path, output: Path, *args: str) -> None:
    result = kam(["build", "--content", content, "-o", output, *args])
    assert result.exit_code == 0, result.output


def anki_sides(apkg: Path, workdir: Path) -> list[Side]:
    """Every card's front and back, rendered by Anki's engine after a real import."""
    col = Collection(str(workdir / "render.anki2"))
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(package_path=str(apkg), options=ImportAnkiPackageOptions())
        )
        sides = []
        for card_id in sorted(col.find_cards(""), key=lambda cid: col.get_card(cid).due):
            card = col.get_card(card_id)
            note = card.note()
            fields = dict(note.items())
            name = fields["Quelle"].rsplit("#", 1)[-1]
            if "Liste" in fields:  # a list note: one card per item, its cloze number
                name += f"/c{card.ord + 1}"
            sides.append(Side(name, "front", card.question(), fields))
            sides.append(Side(name, "back", card.answer(), fields))
        return sides
    finally:
        col.close()


WRAPPERS = ("body", "div")


def card_document(side: Side, night: bool, wrapper: str) -> str:
    """The card HTML as a reviewer shows it. Anki desktop puts ``card card1`` and the night
    classes on the body itself ("body"); other clients wrap the card in a ``div.card`` inside
    a body that carries the night classes ("div"). The CSS must work for both."""
    classes = f"card card1{' ' + NIGHT if night else ''}"
    if wrapper == "body":
        content = f'<body class="{classes}">{side.html}'
    else:
        content = (
            f'<body class="{NIGHT if night else ""}"><div class="card card1">{side.html}</div>'
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"{content}<script>{FRAME_SCRIPT}</script></body></html>"
    )


def host_page(
    sides: Sequence[Side], *, width: int, height: int, night: bool, wrappers: Sequence[str]
) -> str:
    frames = "\n".join(
        f'<iframe data-name="{html.escape(s.name)}" data-side="{s.side}" data-wrapper="{w}" '
        f'style="width:{width}px;height:{height}px" '
        f'srcdoc="{html.escape(card_document(s, night, w))}"></iframe>'
        for w in wrappers
        for s in sides
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
        "body{margin:0;padding:12px;background:#8a8d91;display:flex;flex-wrap:wrap;gap:12px;"
        "align-items:flex-start}"
        "iframe{border:0;border-radius:14px;display:block;background:#fff}"
        f"#{RESULTS_ID}{{display:none}}"
        f'</style></head><body><pre id="{RESULTS_ID}"></pre>\n{frames}\n</body></html>'
    )


Render = Callable[[Path, int, int, Path | None, float], str]


# The engine, size, palette and scale of a run are each a named argument.
def lay_out(  # noqa: PLR0913
    sides: Sequence[Side],
    directory: Path,
    render: Render,
    *,
    width: int,
    night: bool,
    height: int = 720,
    columns: int = 1,
    screenshot: Path | None = None,
    scale: float = 1,
    wrappers: Sequence[str] = WRAPPERS,
) -> list[dict[str, Any]]:
    """Render the sides side by side, each in a viewport ``width`` wide and in each wrapper;
    their measurements. ``render(page, window_width, window_height, screenshot, scale)`` loads
    the page in one engine and returns the DOM after the load event."""
    page = directory / f"cards-{width}-{'night' if night else 'day'}.html"
    page.write_text(
        host_page(sides, width=width, height=height, night=night, wrappers=wrappers),
        encoding="utf-8",
    )
    window_width = max(500, columns * (width + 12) + 12)
    rows = -(-len(sides) * len(wrappers) // columns)
    # Frames below the window still load and measure; only a screenshot needs them all in view.
    window_height = rows * (height + 12) + 12 if screenshot else 800
    found = measurements(render(page, window_width, window_height, screenshot, scale))
    assert len(found) == len(sides) * len(wrappers), "a card page did not render"
    return found


HARD_CARDS = """\
# Rechtsformen und Vertragsbestandteile der Unternehmenszusammenarbeit

## Was regelt eine Rahmenvereinbarungsverhandlungsvorbereitungscheckliste? {#checkliste}

Integration:
- Verzahnung von Kundenbeziehungsmanagementverantwortlichen und Produktentwicklungsabteilungen
- Donaudampfschifffahrtsgesellschaftskapitänskajütenschlüsselanhänger
  - Unterpunkt mit Rechtsschutzversicherungsgesellschaftenzusammenlegung
  - zweiter Unterpunkt
    1. dritte Ebene mit Grundstücksverkehrsgenehmigungszuständigkeitsübertragungsverordnung
- Mehr siehe https://example.invalid/ein/sehr/langer/pfad/ohne/leerzeichen/der/nicht/umbricht
- Vertragsverhandlung und -donaudampfschifffahrtsgesellschaftskapitänskajütenschlüssel

Fundament:
Grundsatzentscheidungen des Unternehmens wie Fokussierung auf Schlüsselkundenbeziehungsmanagement

1. erstens
2. zweitens mit `Konditionenvereinbarungsdokumentationspflicht`

```
Kennzahl = Deckungsbeitragsveränderungsrate_gegenüber_Vorjahreszeitraum_je_Schlüsselkunde_und_Region
```
"""


# --- what a learner sees -----------------------------------------------------------------


def where(found: dict[str, Any]) -> str:
    wrapper = found.get("wrapper") or found.get("theme", "")
    return f"{found['name']} ({found['side']}, {wrapper}, {found['innerWidth']}px)"


def assert_fits(found: dict[str, Any]) -> None:
    at = where(found)
    assert found["scrollWidth"] <= found["innerWidth"], f"{at} scrolls sideways"
    assert found["bodyScrollWidth"] <= found["innerWidth"], f"{at} scrolls sideways"
    assert found["rightmost"] <= found["innerWidth"] + 0.5, f"{at}: something sticks out"


def assert_lists_readable(found: dict[str, Any], side: Side | None = None) -> None:
    """Bullets on screen, items apart. With ``side``, every list item of the field is shown."""
    items = found["items"]
    if side is not None and side.listed:
        # An item card's question shows the list (in a sequence, up to the asked item).
        shown = len(re.findall("<li[ >]", side.answer))
        assert 1 <= len(items) <= shown if side.side == "front" else len(items) == shown
    elif side is not None:
        expected = len(re.findall("<li[ >]", side.answer)) if side.side == "back" else 0
        assert len(items) == expected, found["name"]
    for item in items:
        assert item["display"] == "list-item" and item["visibility"] == "visible", item
        assert item["box"]["height"] >= 20 and item["box"]["width"] >= 150, item
        assert item["listStyle"] in ("disc", "circle", "square", "decimal"), item
        # The bullet hangs left of the item: there must be room for it on screen.
        assert item["box"]["left"] >= 16, item
        assert item["box"]["right"] <= found["innerWidth"], item
        assert contrast(item["marker"], found["cardBackground"]) >= 3, item
    # Items are set apart from each other, not glued together.
    tops = [i["box"]["top"] for i in items if i["depth"] == 0]
    bottoms = [i["box"]["bottom"] for i in items if i["depth"] == 0]
    assert all(top >= bottom + 3 for bottom, top in zip(bottoms, tops[1:], strict=False))


# A divider is a graphical object the learner needs (question above, answer below): WCAG's
# 3:1 for non-text contrast.
DIVIDER_CONTRAST = 3


def assert_readable(found: dict[str, Any], night: bool) -> None:
    at = where(found)
    assert found["lang"] == "de"
    assert found["hyphens"] == "auto"
    assert 16 <= found["cardFontSize"] <= 24
    background = found["cardBackground"]
    assert contrast(found["cardColor"], background) >= 7, at
    question = found["question"]
    assert contrast(question["color"], background) >= 7, at
    assert question["fontWeight"] >= 600 and question["fontSize"] > found["cardFontSize"]
    assert question["box"]["height"] > 0 and question["box"]["top"] < 60
    if found["side"] == "back":
        answer = found["answer"]
        assert answer["box"]["top"] >= question["box"]["bottom"], "question not on top"
        assert contrast(answer["color"], background) >= 7, at
        for item in found["items"]:
            assert contrast(item["color"], background) >= 7, (at, item)
        chapter = found["chapter"]
        assert chapter is not None and chapter["box"]["top"] >= answer["box"]["bottom"]
        assert chapter["fontSize"] < found["cardFontSize"]
        assert contrast(chapter["color"], background) >= 4.5, at
        for divider in (found["hr"], chapter):
            rule = divider["rule"]
            assert rule["style"] == "solid" and rule["width"] >= 1, (at, rule)
            assert contrast(rule["color"], background) >= DIVIDER_CONTRAST, (at, rule)
    else:
        assert found["chapter"] is None
        # Only an item card's question shows a list (its card's, with the gap).
        assert (found["answer"] is None) != found["listed"]
    dark = [luminance(background), luminance(canvas(found["bodyBackground"]))]
    if night:
        assert max(dark) < 0.03, f"night mode background is not dark: {at}"
    else:
        assert min(dark) > 0.8, f"day background is not light: {at}"
    assert found["externalResources"] == 0, "the card loads something from outside"


def assert_deck_colours(found: dict[str, Any], css: str, night: bool) -> None:
    """The deck's palette wins over the reviewer's own: card and page in the deck's paper
    colour, text in its ink."""
    colours = palette(css, night)
    shown = {"card": found["cardBackground"], "text": found["cardColor"]}
    shown["question"] = found["question"]["color"]
    expected = {"card": colours["paper"], "text": colours["ink"], "question": colours["ink"]}
    if "card" in found["bodyClasses"].split():
        shown["page"] = canvas(found["bodyBackground"])
        expected["page"] = colours["paper"]
    assert shown == expected, f"{where(found)}: not the deck's colours"


def assert_shortened_words_whole(found: dict[str, Any]) -> None:
    """A shortened word stays whole: "und -sicherung" and "Firmen- und" keep the hyphen
    on the line of the letter it belongs to."""
    broken = [s["word"] for s in found["shortened"] if not s["together"]]
    assert not broken, f"{where(found)}: a shortened word is split at its hyphen: {broken}"


def assert_cards_look_right(
    found: Sequence[dict[str, Any]], sides: Sequence[Side], css: str, night: bool
) -> None:
    """Every check above, for every measured side of ``sides``."""
    by_key = {(s.name, s.side): s for s in sides}
    for measured in found:
        side = by_key[(measured["name"], measured["side"])]
        assert_fits(measured)
        assert_lists_readable(measured, side)
        assert_readable(measured, night)
        assert_deck_colours(measured, css, night)
        assert_shortened_words_whole(measured)
        if measured["side"] == "back":
            assert measured["chapter"]["text"] == html.unescape(side.fields["Kapitel"])
