"""Cards as Anki renders them, laid out by a real browser at phone and desktop widths.

Anki's own engine imports the built package and renders each card's question and answer; the
HTML is wrapped the way Anki's reviewer wraps it and opened in headless Chromium. A small
script in each page measures the layout and writes the numbers into the DOM, which Chromium
dumps: the assertions are about what a learner would see.

Chromium will not make a window narrower than 500 pixels, so each card gets its own iframe of
the wanted width: inside it the viewport (innerWidth, media queries) is exactly that wide.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# anki.collection must be imported before anki.cards (circular import otherwise).
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from click.testing import CliRunner

from kam_anki.cli import main
from kam_anki.notetype import FIELDS

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHONE = 375
DESKTOP = 1280
NIGHT = "nightMode night_mode"
RESULTS_ID = "kam-results"

# Written into every card page: the layout as numbers, appended to the host page's results.
MEASURE = """
(function () {
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
            fontWeight: parseInt(s.fontWeight, 10), color: s.color, display: s.display};
  }
  var items = [];
  d.querySelectorAll('.antwort li').forEach(function (li) {
    var s = style(li);
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
  var result = {
    name: frameElement.getAttribute('data-name'),
    side: frameElement.getAttribute('data-side'),
    wrapper: frameElement.getAttribute('data-wrapper'),
    innerWidth: innerWidth, scrollWidth: de.scrollWidth, bodyScrollWidth: d.body.scrollWidth,
    rightmost: right,
    bodyBackground: style(d.body).backgroundColor,
    cardBackground: style(card).backgroundColor, cardColor: style(card).color,
    cardFontSize: parseFloat(style(card).fontSize),
    lang: (d.querySelector('[lang]') || {}).lang || '',
    hyphens: style(d.querySelector('.kam-card') || card).hyphens,
    question: part('.frage'), answer: part('.antwort'), chapter: part('.kapitel'),
    hr: part('hr#answer'), items: items, labels: labels,
    externalResources: performance.getEntriesByType('resource').length
  };
  parent.document.getElementById('__RESULTS__').textContent += JSON.stringify(result) + '\\n';
})();
""".replace("__RESULTS__", RESULTS_ID)


# --- driving Chromium --------------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("headless Chromium is needed: apt-get install -y chromium")
    return found


def run_chromium(
    page: Path,
    *,
    width: int,
    height: int,
    screenshot: Path | None = None,
    scale: float = 1,
    fragment: str = "",
) -> str:
    """Load ``page`` and return the DOM after the load event (inline scripts have run)."""
    with tempfile.TemporaryDirectory(prefix="kam-chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--force-device-scale-factor={scale}",
            "--dump-dom",
        ]
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            command.append(f"--screenshot={screenshot}")
        command.append(page.resolve().as_uri() + fragment)
        done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


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


# --- cards as Anki renders them ----------------------------------------------------------


@dataclass(frozen=True)
class Side:
    name: str  # the note's card id (from Quelle), plus the side
    side: str  # "front" or "back"
    html: str  # Anki's card.question() or .answer(): the note type CSS in <style>, then the card
    fields: dict[str, str]


def build_deck(content: Path, output: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--content", str(content), "-o", str(output)])
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
            fields = {name: note[name] for name in FIELDS}
            name = fields["Quelle"].rsplit("#", 1)[-1]
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
        f"{content}<script>{MEASURE}</script></body></html>"
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


def lay_out(
    sides: Sequence[Side],
    directory: Path,
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
    their measurements."""
    page = directory / f"cards-{width}-{'night' if night else 'day'}.html"
    page.write_text(
        host_page(sides, width=width, height=height, night=night, wrappers=wrappers),
        encoding="utf-8",
    )
    window_width = max(500, columns * (width + 12) + 12)
    rows = -(-len(sides) * len(wrappers) // columns)
    # Frames below the window still load and measure; only a screenshot needs them all in view.
    window_height = rows * (height + 12) + 12 if screenshot else 800
    dom = run_chromium(
        page, width=window_width, height=window_height, screenshot=screenshot, scale=scale
    )
    found = measurements(dom)
    assert len(found) == len(sides) * len(wrappers), "a card page did not render"
    return found


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Side], Path]:
    """The shipped content, built into a package from a copy, then rendered by Anki."""
    workdir = tmp_path_factory.mktemp("shipped")
    content = workdir / "content"
    shutil.copytree(REPO / "content", content)
    build_deck(content, workdir / "kam.apkg")
    return anki_sides(workdir / "kam.apkg", workdir), workdir


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

Fundament:
Grundsatzentscheidungen des Unternehmens wie Fokussierung auf Schlüsselkundenbeziehungsmanagement

1. erstens
2. zweitens mit `Konditionenvereinbarungsdokumentationspflicht`

```
Kennzahl = Deckungsbeitragsveränderungsrate_gegenüber_Vorjahreszeitraum_je_Schlüsselkunde_und_Region
```
"""


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Side], Path]:
    """A card made to break layouts: huge compounds, nested lists, labels, a URL, code."""
    workdir = tmp_path_factory.mktemp("hard")
    content = workdir / "content"
    content.mkdir()
    shutil.copy(REPO / "content" / "deck.toml", content / "deck.toml")
    (content / "hard.md").write_text(HARD_CARDS, encoding="utf-8")
    build_deck(content, workdir / "kam.apkg")
    return anki_sides(workdir / "kam.apkg", workdir), workdir


# --- what a learner sees -----------------------------------------------------------------


def assert_fits(found: dict[str, Any]) -> None:
    where = f"{found['name']} ({found['side']}, {found['wrapper']}, {found['innerWidth']}px)"
    assert found["scrollWidth"] <= found["innerWidth"], f"{where} scrolls sideways"
    assert found["bodyScrollWidth"] <= found["innerWidth"], f"{where} scrolls sideways"
    assert found["rightmost"] <= found["innerWidth"] + 0.5, f"{where}: something sticks out"


def assert_lists_readable(found: dict[str, Any], side: Side) -> None:
    expected = side.fields["Antwort"].count("<li>") if side.side == "back" else 0
    items = found["items"]
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


def assert_readable(found: dict[str, Any], night: bool) -> None:
    assert found["lang"] == "de"
    assert found["hyphens"] == "auto"
    assert 16 <= found["cardFontSize"] <= 24
    assert contrast(found["cardColor"], found["cardBackground"]) >= 7
    question = found["question"]
    assert question["fontWeight"] >= 600 and question["fontSize"] > found["cardFontSize"]
    assert question["box"]["height"] > 0 and question["box"]["top"] < 60
    if found["side"] == "back":
        assert found["answer"]["box"]["top"] >= question["box"]["bottom"], "question not on top"
        chapter = found["chapter"]
        assert chapter is not None and chapter["box"]["top"] >= found["answer"]["box"]["bottom"]
        assert chapter["fontSize"] < found["cardFontSize"]
        assert contrast(chapter["color"], found["cardBackground"]) >= 4.5
    else:
        assert found["answer"] is None and found["chapter"] is None
    dark = [luminance(found["cardBackground"]), luminance(canvas(found["bodyBackground"]))]
    if night:
        assert max(dark) < 0.03, f"night mode background is not dark: {found}"
    else:
        assert min(dark) > 0.8, f"day background is not light: {found}"
    assert found["externalResources"] == 0, "the card loads something from outside"


CASES = [(width, night) for width in (PHONE, DESKTOP) for night in (False, True)]


@pytest.mark.parametrize(
    ("width", "night"), CASES, ids=["phone", "phone-night", "desktop", "desktop-night"]
)
def test_shipped_cards_fit_and_read_well(
    shipped: tuple[list[Side], Path], width: int, night: bool
) -> None:
    sides, workdir = shipped
    assert len(sides) == 16  # 8 cards, front and back
    label = f"{'phone' if width == PHONE else 'desktop'}-{'night' if night else 'day'}"
    phone = width == PHONE
    found = lay_out(
        sides,
        workdir,
        width=width,
        night=night,
        height=760 if phone else 620,
        columns=8 if phone else 2,
        screenshot=ARTIFACTS / f"shipped-{label}.png" if phone else None,
    )
    assert {(f["name"], f["side"], f["wrapper"]) for f in found} == {
        (s.name, s.side, w) for s in sides for w in WRAPPERS
    }
    by_key = {(s.name, s.side): s for s in sides}
    for measured in found:
        side = by_key[(measured["name"], measured["side"])]
        assert measured["innerWidth"] == width
        assert_fits(measured)
        assert_lists_readable(measured, side)
        assert_readable(measured, night)
        if measured["side"] == "back":
            assert measured["chapter"]["text"] == html.unescape(side.fields["Kapitel"])
        if width == DESKTOP:
            # A comfortable line length on a wide screen, not 1280 pixels of text.
            assert measured["question"]["box"]["width"] <= 720


@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
def test_labels_read_as_headings(shipped: tuple[list[Side], Path], night: bool) -> None:
    sides, workdir = shipped
    backs = [s for s in sides if s.side == "back" and 'class="label"' in s.fields["Antwort"]]
    assert backs, "the shipped deck has 'Label:' answers"
    for measured in lay_out(backs, workdir, width=PHONE, night=night):
        labels = {label["text"]: label for label in measured["labels"]}
        assert set(labels) == {"Integration:", "Fundament:"}
        for label in labels.values():
            assert label["fontWeight"] >= 600
            assert label["color"] != measured["cardColor"], "a label looks like plain text"


@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
def test_long_compounds_nested_lists_and_code_stay_on_a_phone_screen(
    hard: tuple[list[Side], Path], night: bool
) -> None:
    sides, workdir = hard
    label = "night" if night else "day"
    found = lay_out(
        sides,
        workdir,
        width=PHONE,
        night=night,
        height=1500,
        columns=2,
        screenshot=ARTIFACTS / f"hard-phone-{label}.png",
    )
    back = next(f for f in found if f["side"] == "back")
    for measured in found:
        assert_fits(measured)
        assert_readable(measured, night)
    assert_lists_readable(back, next(s for s in sides if s.side == "back"))
    depths = [item["depth"] for item in back["items"]]
    assert 1 in depths, "nested items are rendered"
    nested = [i for i in back["items"] if i["depth"]]
    top_level = [i for i in back["items"] if not i["depth"]]
    assert min(i["box"]["left"] for i in nested) > top_level[0]["box"]["left"] + 10, "no indent"
    assert {label["text"] for label in back["labels"]} == {"Integration:", "Fundament:"}


README_CARDS = ("aufgaben-des-kam-8", "bestandteile-und-inhalte-des-organisatorischen-kam")


def screenshots_for_readme(shipped: tuple[list[Side], Path], target: Path) -> Iterator[Path]:
    """card-light.png and card-dark.png: the backs of a list card and a "Label:" card on a
    375 x 812 phone screen, at twice the pixel density."""
    sides, workdir = shipped
    chosen = [s for s in sides if s.side == "back" and s.name in README_CARDS]
    assert len(chosen) == len(README_CARDS)
    for night, name in ((False, "card-light.png"), (True, "card-dark.png")):
        path = target / name
        found = lay_out(
            chosen,
            workdir,
            width=PHONE,
            night=night,
            height=812,
            columns=2,
            screenshot=path,
            scale=2,
            wrappers=("body",),
        )
        for measured in found:
            assert_fits(measured)
        yield path


def test_readme_screenshots(shipped: tuple[list[Side], Path]) -> None:
    """Kept under tests/artifacts/; copy them to docs/ when the card design changes."""
    for path in screenshots_for_readme(shipped, ARTIFACTS):
        assert path.stat().st_size > 10_000
