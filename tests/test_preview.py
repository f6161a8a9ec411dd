"""``kam-anki preview``: every card as Anki renders it, on one page, checked in a browser."""

from __future__ import annotations

import re
import shutil
from html import escape, unescape
from pathlib import Path
from typing import Any

import pytest

# anki.collection must be imported before anki.cards (circular import otherwise).
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from card_layout import ARTIFACTS, contrast, luminance, measurements
from chromium import run_chromium
from helpers import ITEM_CARDS, NOTETYPE_ID, REPO, SEED_CARDS, SHIPPED_CARDS, kam
from kam_anki.errors import Diagnostic
from kam_anki.model import Note, Place
from kam_anki.notetype import BACK, FIELDS, FRONT, Fields, default_notetype
from kam_anki.preview import Shown, assign_warnings, inline_media, render_preview
from kam_anki.templates import TemplateError, render_template

STYLE = re.compile(r"^<style>.*?</style>", re.DOTALL)

MEASURE = """
<script>
(function () {
  var d = document, items = d.querySelectorAll('.pv-item'), out = [];
  items.forEach(function (item) {
    var cards = item.querySelectorAll('.pv-frame > .card');
    out.push({
      id: item.id, hidden: getComputedStyle(item).display === 'none',
      warned: item.classList.contains('pv-warned'),
      warnings: Array.prototype.map.call(item.querySelectorAll('.pv-warnings li'),
        function (li) { return li.textContent; }),
      sides: Array.prototype.map.call(cards, function (card) {
        var s = getComputedStyle(card);
        return {side: card.getAttribute('data-side'), width: card.getBoundingClientRect().width,
                scrollWidth: card.scrollWidth, clientWidth: card.clientWidth,
                background: s.backgroundColor, color: s.color,
                night: card.classList.contains('nightMode'),
                items: card.querySelectorAll('.antwort li').length,
                question: (card.querySelector('.frage') || {}).textContent || ''};
      })
    });
  });
  d.getElementById('kam-results').textContent = JSON.stringify({
    items: out, innerWidth: innerWidth, scrollWidth: d.documentElement.scrollWidth,
    shown: d.getElementById('pv-shown').textContent,
    noneShown: getComputedStyle(d.getElementById('pv-none')).display !== 'none',
    pageBackground: getComputedStyle(d.body).backgroundColor,
    resources: performance.getEntriesByType('resource').length
  });
})();
</script>
"""


# --- the template language ---------------------------------------------------------------


def test_template_fields_sections_and_front_side() -> None:
    fields = {"A": "<b>a</b>", "B": "", "C": " "}
    assert render_template("{{A}}|{{ A }}", fields) == "<b>a</b>|<b>a</b>"
    assert render_template("{{#A}}yes{{/A}}{{#B}}no{{/B}}{{#C}}no{{/C}}", fields) == "yes"
    assert render_template("{{^B}}empty{{/B}}{{^A}}no{{/A}}", fields) == "empty"
    assert render_template("{{#A}}[{{^B}}{{A}}{{/B}}]{{/A}}", fields) == "[<b>a</b>]"
    assert render_template("{{FrontSide}}<hr>{{A}}", fields, front_side="F") == "F<hr><b>a</b>"


@pytest.mark.parametrize(
    "template",
    ["{{Missing}}", "{{text:A}}", "{{#A}}open", "{{/A}}", "{{#A}}{{/B}}", "{{#Nope}}{{/Nope}}"],
)
def test_template_syntax_it_does_not_know_is_an_error(template: str) -> None:
    with pytest.raises(TemplateError):
        render_template(template, {"A": "a"})


def test_the_note_type_templates_use_only_what_the_renderer_knows() -> None:
    fields = dict.fromkeys(FIELDS, "x")
    front = render_template(FRONT, fields)
    assert "x" in render_template(BACK, fields, front_side=front)


def test_package_images_are_inlined_so_the_page_stands_alone() -> None:
    media = {"kam-1.png": b"PNG!", "kam-2.svg": b"<svg/>"}
    html = '<p><img src="kam-1.png" alt="a"> <img alt="b" src="kam-2.svg"> <img src="x.png"></p>'
    assert inline_media(html, media) == (
        '<p><img src="data:image/png;base64,UE5HIQ==" alt="a"> '
        '<img alt="b" src="data:image/svg+xml;base64,PHN2Zy8+"> <img src="x.png"></p>'
    )


# --- warnings to cards -------------------------------------------------------------------


def _card(card_id: str, path: str, line: int) -> Place:
    return Place(card_id, path, line)


def test_warnings_belong_to_the_card_whose_lines_hold_them() -> None:
    cards = [_card("a", "x.md", 3), _card("b", "x.md", 10), _card("c", "y.md", 3)]
    found = [
        Diagnostic("x.md", 3, "warning", "on a's heading"),
        Diagnostic("x.md", 9, "warning", "last line of a"),
        Diagnostic("x.md", 10, "warning", "b's heading"),
        Diagnostic("x.md", 500, "warning", "far below b"),
        Diagnostic("x.md", 1, "warning", "above every card"),
        Diagnostic("y.md", 4, "warning", "in c"),
        Diagnostic("deck.toml", 2, "warning", "in the config"),
    ]
    by_card, loose = assign_warnings(cards, found)
    assert {k: [d.message for d in v] for k, v in by_card.items()} == {
        "a": ["on a's heading", "last line of a"],
        "b": ["b's heading", "far below b"],
        "c": ["in c"],
    }
    assert [d.message for d in loose] == ["above every card", "in the config"]


# --- the page, from the shipped content --------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kam-anki build`` and ``kam-anki preview`` on a copy of the shipped content."""
    workdir = tmp_path_factory.mktemp("preview")
    content = workdir / "content"
    shutil.copytree(REPO / "content", content)
    for args in (
        ["build", "--content", str(content), "-o", str(workdir / "kam.apkg")],
        # The earlier design's item notes the shipped deck retires: gone after one release.
        ["build", "--forget-removed", "--content", str(content), "-o", str(workdir / "kam.apkg")],
        ["preview", "--content", str(content), "-o", str(workdir / "preview.html")],
    ):
        result = kam(args)
        assert result.exit_code == 0, result.output
    return workdir


def test_preview_shows_exactly_what_anki_renders(built: Path) -> None:
    page = (built / "preview.html").read_text(encoding="utf-8")
    col = Collection(str(built / "anki.anki2"))
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(built / "kam.apkg"), options=ImportAnkiPackageOptions()
            )
        )
        css = col._backend.get_notetype(NOTETYPE_ID).config.css
        card_ids = col.find_cards("")
        assert len(card_ids) == SHIPPED_CARDS
        for card_id in card_ids:
            card = col.get_card(card_id)
            for side, rendered in (("front", card.question()), ("back", card.answer())):
                body = STYLE.sub("", rendered)
                assert body.strip(), "Anki rendered nothing"
                shown = f'<div class="card card1" data-side="{side}" data-html="{escape(body)}">'
                assert shown in page
    finally:
        col.close()
    assert f"<style>\n{css}\n</style>" in page
    # Self-contained: nothing is fetched, no external script, font or style sheet.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def _preview_in_browser(
    page: Path, fragment: str, *, width: int = 1280, screenshot: bool = False
) -> dict[str, Any]:
    measured = page.with_name(f"measured-{abs(hash(fragment))}.html")
    text = page.read_text(encoding="utf-8")
    text = text.replace("</body>", f'<pre id="kam-results"></pre>{MEASURE}</body>')
    measured.write_text(text, encoding="utf-8")
    shot = ARTIFACTS / f"preview-{fragment.strip('#').replace('&', '-') or 'default'}.png"
    dom = run_chromium(
        measured,
        width=width,
        height=1000,
        fragment=fragment,
        screenshot=shot if screenshot else None,
    )
    found = measurements(dom)
    assert len(found) == 1
    return found[0]


def test_preview_in_a_browser_light_desktop(built: Path) -> None:
    found = _preview_in_browser(built / "preview.html", "#light", screenshot=True)
    assert len(found["items"]) == SHIPPED_CARDS
    assert found["shown"] == f"{SHIPPED_CARDS} of {SHIPPED_CARDS} shown"
    assert found["scrollWidth"] <= found["innerWidth"]
    assert found["resources"] == 0
    questions = set()
    for item in found["items"]:
        assert not item["hidden"]
        assert [s["side"] for s in item["sides"]] == ["front", "back"]
        for side in item["sides"]:
            assert side["scrollWidth"] <= side["clientWidth"], item["id"]
            assert luminance(side["background"]) > 0.8 and not side["night"]
            assert contrast(side["color"], side["background"]) >= 7
        # A card's front holds no list; an item card's shows its list with the gap.
        assert (item["sides"][0]["items"] > 0) == ("/liste/" in item["id"])
        questions.add(item["sides"][0]["question"])
    assert len(questions) == SEED_CARDS  # an item card asks its card's question
    # Every answer line of every card is on screen as a list item.
    # Card sides sit in the page escaped, in an attribute: read them as HTML.
    raw = (built / "preview.html").read_text(encoding="utf-8")
    backs = [unescape(b) for b in re.findall(r'data-side="back" data-html="([^"]*)"', raw)]
    answers = [a for b in backs for a in re.findall(r'<div class="antwort">(.*?)</div>', b, re.S)]
    expected = sum(len(re.findall(r"<li[ >]", answer)) for answer in answers)
    assert sum(item["sides"][1]["items"] for item in found["items"]) == expected > 30


def test_preview_in_a_browser_night_and_phone_width(built: Path) -> None:
    found = _preview_in_browser(built / "preview.html", "#dark&phone", width=800, screenshot=True)
    assert found["scrollWidth"] <= found["innerWidth"]
    assert luminance(found["pageBackground"]) < 0.03
    for item in found["items"]:
        for side in item["sides"]:
            assert side["width"] == 375, "phone width is 375 CSS pixels"
            assert side["scrollWidth"] <= side["clientWidth"], item["id"]
            assert side["night"] and luminance(side["background"]) < 0.03
            assert contrast(side["color"], side["background"]) >= 7


@pytest.mark.parametrize(
    ("fragment", "shown"),
    [
        ("#q=zirkel", 2 + 5 + 5),  # the two cards and their item cards
        ("#q=ZIRKEL%20realisierung", 1 + 5),
        ("#chapter=Key%20Account%20Manager%20Flashcards", SHIPPED_CARDS),
        ("#chapter=Key%20Account%20Manager%20Flashcards&q=nirgends", 0),
        ("#q=ziele-des-kam-5", 1 + 6),
    ],
)
def test_preview_filter_by_text_and_chapter(built: Path, fragment: str, shown: int) -> None:
    found = _preview_in_browser(built / "preview.html", fragment)
    assert sum(not item["hidden"] for item in found["items"]) == shown
    assert found["shown"] == f"{shown} of {SHIPPED_CARDS} shown"
    assert found["noneShown"] == (shown == 0)


def test_cards_with_warnings_are_marked(tmp_path: Path) -> None:
    notetype = default_notetype()
    cards = [_card("a", "x.md", 3), _card("b", "x.md", 8)]
    notes = [
        Note(c.id, Fields(f"Frage {c.id}", "<p>x</p>", "Kapitel", f"x.md#{c.id}"), (), "D")
        for c in cards
    ]
    warnings = [
        Diagnostic("x.md", 9, "warning", "question says (3) but the answer lists 4 items"),
        Diagnostic("x.md", 1, "warning", "outside <any> card"),
    ]
    page = tmp_path / "preview.html"
    page.write_text(
        render_preview(notetype, Shown(notes, cards, warnings), title="T"), encoding="utf-8"
    )
    assert "outside &lt;any&gt; card" in page.read_text(encoding="utf-8")
    found = _preview_in_browser(page, "#warnings")
    marked = {item["id"]: item for item in found["items"]}
    assert not marked["card-a"]["warned"] and marked["card-a"]["hidden"]
    assert marked["card-b"]["warned"] and not marked["card-b"]["hidden"]
    assert marked["card-b"]["warnings"] == [
        "line 9: question says (3) but the answer lists 4 items"
    ]


def test_preview_command_opens_the_page(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def fake_open(url: str, *args: object, **kwargs: object) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    output = tmp_path / "out" / "p.html"
    result = kam(["preview", "--content", str(built / "content"), "-o", str(output), "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [output.resolve().as_uri()]
    assert f"{SHIPPED_CARDS} cards" in result.output


def test_preview_reports_content_errors_and_writes_nothing(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    (content / "broken.md").write_text("# K\n\n## Frage ohne Antwort {#leer}\n", encoding="utf-8")
    output = tmp_path / "p.html"
    result = kam(["preview", "--content", str(content), "-o", str(output)])
    assert result.exit_code == 1
    assert "broken.md:3: error" in result.output
    assert not output.exists()


def test_removed_cards_are_labelled_with_what_an_import_does() -> None:
    notetype = default_notetype()
    tombstone = Note(
        "weg",
        Fields("Alte Frage", "<p>x</p>", "entfernt", "#weg"),
        ("kam::entfernt",),
        "KAM::Entfernt",
    )
    page = render_preview(notetype, Shown([tombstone], []), title="KAM")
    assert "suspended" not in page
    assert (
        "removed: an import tags it kam::entfernt (a new learner gets it in KAM::Entfernt)" in page
    )


# One card each that leaves something open which, in one page, would swallow what follows.
UNCLOSED = [
    "<textarea>",
    "<!--",
    "<title>",
    "<xmp>",
    "<plaintext>",
    "<noscript>",
    "<style>",
    "<select>",
    "<table><tr><td>",
    "<iframe>",
    "<noembed>",
    "<a href='#x'>",
    "<b><i>",
]


def test_a_card_that_leaves_html_open_never_breaks_the_page(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "deck.toml").write_text(
        'name = "T"\ndeck_id = 11\nnotetype_id = 12\nallow_html = true\n', encoding="utf-8"
    )
    cards = "".join(
        f"## Offen {n} {{#offen-{n}}}\n\nVorher {tag} danach\n\n" for n, tag in enumerate(UNCLOSED)
    )
    (content / "a.md").write_text(
        f"# Kapitel\n\n{cards}## Zuletzt {{#zuletzt}}\n\n- ganz\n- heil\n", encoding="utf-8"
    )
    page = tmp_path / "preview.html"
    result = kam(["preview", "--content", str(content), "-o", str(page)])
    assert result.exit_code == 0, result.output
    total = len(UNCLOSED) + 1
    found = _preview_in_browser(page, "#dark")
    assert [item["id"] for item in found["items"]] == [
        *(f"card-offen-{n}" for n in range(len(UNCLOSED))),
        "card-zuletzt",
    ]
    assert found["shown"] == f"{total} of {total} shown"
    for item in found["items"]:
        assert [side["side"] for side in item["sides"]] == ["front", "back"], item["id"]
        assert all(side["night"] for side in item["sides"]), item["id"]
    assert found["items"][-1]["sides"][1]["items"] == 2
    assert found["items"][-1]["sides"][0]["question"] == "Zuletzt"
    filtered = _preview_in_browser(page, "#q=zuletzt")
    assert filtered["shown"] == f"1 of {total} shown"


def test_preview_shows_each_cards_item_cards_right_after_it(built: Path) -> None:
    page = (built / "preview.html").read_text(encoding="utf-8")
    shown = re.findall(r'<article class="[^"]*" id="card-([^"]+)"', page)
    assert len(shown) == SHIPPED_CARDS
    for card_id, count in ITEM_CARDS.items():
        start = shown.index(card_id)
        items = [f"{card_id}/liste/c{key}" for key in range(1, count + 1)]
        assert shown[start + 1 : start + 1 + count] == items
    assert "key-account-management.md#aufgaben-des-kam-8/liste" in page
