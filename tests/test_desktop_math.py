"""Tables, math and highlighted code in the real Anki desktop at phone width, light and night.

Anki typesets ``\\(…\\)`` and ``\\[…\\]`` itself with its bundled MathJax: the formulas must
come out typeset (no error, no raw delimiters left), MathJax must have read exactly the LaTeX
of the Markdown, and neither a wide table nor a wide formula may make the card scroll
sideways (they scroll inside themselves). Screenshots for the README land in
tests/artifacts/desktop-math/.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from anki_desktop import review_in_fresh_anki
from card_layout import ARTIFACTS, MEASURE_EXPRESSION, contrast
from helpers import kam
from rich_card import CARD_ID, DISPLAY_TEX, INLINE_TEX, MARKDOWN, TABLE_TEX
from test_desktop import side_by_side

PHONE = 400
HEIGHT = 860
SHOTS = ARTIFACTS / "desktop-math"
TIMEOUT = 240
WIDE_ID = "eine-breite-formel"
WIDE_TEX = " + ".join(f"\\frac{{x_{{{i}}}^2}}{{\\sigma_{{{i}}}}}" for i in range(1, 25))
DECK = """\
name = "Statistik"
deck_id = 1555555501
notetype_id = 1555555502
notetype_name = "Statistik (kam-anki)"
language = "de"
"""
LITERAL = "\\(y\\) und \\[z\\]"  # shown as written, never typeset
WIDE = f"""
## Eine breite Formel? {{#{WIDE_ID}}}

$${WIDE_TEX}$$

Kein Math: \\\\(y\\\\) und &#92;[z&#92;]
"""
# Every formula typeset (or 10 s gone by); the add-on waits for this before measuring.
TYPESET_JS = (
    "Array.prototype.every.call(document.querySelectorAll('#qa .math'),"
    " function (e) { return e.querySelector('mjx-container'); })"
)
MATH_JS = r"""(function () {
  var qa = document.getElementById('qa'), card = qa.querySelector('.kam-card');
  var doc = window.MathJax && MathJax.startup && MathJax.startup.document;
  function scroller(el) { var r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, scrollWidth: el.scrollWidth,
            clientWidth: el.clientWidth, overflowX: getComputedStyle(el).overflowX}; }
  var keyword = qa.querySelector('pre .k'), pre = qa.querySelector('pre');
  return JSON.stringify({
    spans: qa.querySelectorAll('.math').length,
    typeset: qa.querySelectorAll('.math mjx-container').length,
    errors: qa.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    tex: doc ? doc.getMathItemsWithin(qa).map(function (m) { return m.math; }) : null,
    raw: /\\[(\[]/.test(card.innerText),
    table: qa.querySelector('.antwort table') && scroller(qa.querySelector('.antwort table')),
    displays: Array.prototype.map.call(
      qa.querySelectorAll('mjx-container[display="true"]'), scroller),
    keyword: keyword && getComputedStyle(keyword).color,
    codeBackground: pre && getComputedStyle(pre).backgroundColor
  });
})()"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("desktop-math")
    content = workdir / "content"
    content.mkdir()
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    (content / "formeln.md").write_text(MARKDOWN + WIDE, encoding="utf-8")
    result = kam(["build", "--content", str(content), "-o", str(workdir / "math.apkg")])
    assert result.exit_code == 0, result.output
    SHOTS.mkdir(parents=True, exist_ok=True)
    plan = {
        "first": str(workdir / "math.apkg"),
        "deck": "Statistik",
        "widths": [PHONE],
        "height": HEIGHT,
        "measure_js": MEASURE_EXPRESSION,
        "typeset_js": TYPESET_JS,
        "math_js": MATH_JS,
        "artifacts": str(SHOTS),
    }
    results = review_in_fresh_anki(workdir, plan, TIMEOUT)
    found: list[dict[str, Any]] = results["measurements"]
    return found


def backs(measured: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    found = [m for m in measured if m["name"] == name and m["side"] == "back"]
    assert {m["theme"] for m in found} == {"light", "dark"}, measured
    return found


def test_anki_desktop_typesets_exactly_the_latex_of_the_markdown(
    measured: list[dict[str, Any]],
) -> None:
    for found in backs(measured, CARD_ID):
        math = found["math"]
        assert math["spans"] == 6 and math["typeset"] == 6, math
        assert math["errors"] == 0 and not math["raw"], math
        assert Counter(math["tex"]) == Counter([INLINE_TEX, DISPLAY_TEX, *TABLE_TEX])


def test_a_backslash_paren_written_as_text_is_never_typeset(
    measured: list[dict[str, Any]],
) -> None:
    for found in backs(measured, WIDE_ID):
        math = found["math"]
        assert math["tex"] == [WIDE_TEX] and math["typeset"] == 1, math
        assert f"Kein Math: {LITERAL}" in found["text"]


def test_a_wide_table_or_formula_scrolls_inside_the_card_not_the_card(
    measured: list[dict[str, Any]],
) -> None:
    for name in (CARD_ID, WIDE_ID):
        for found in backs(measured, name):
            at = f"{name} ({found['theme']}, {found['innerWidth']}px)"
            assert found["innerWidth"] == PHONE
            assert found["scrollWidth"] <= PHONE and found["bodyScrollWidth"] <= PHONE, at
            math = found["math"]
            scrollers = [math["table"]] if name == CARD_ID else math["displays"]
            assert scrollers and all(s is not None for s in scrollers), at
            for box in scrollers:
                assert box["left"] >= 0 and box["right"] <= PHONE, (at, box)
                assert box["overflowX"] == "auto", (at, box)
            # The wide ones really are wider than the phone: they scroll, within themselves.
            assert scrollers[-1]["scrollWidth"] > scrollers[-1]["clientWidth"], (at, scrollers)


def test_highlighted_code_is_readable_light_and_night(measured: list[dict[str, Any]]) -> None:
    colours = set()
    for found in backs(measured, CARD_ID):
        math = found["math"]
        assert contrast(math["keyword"], math["codeBackground"]) >= 4.5, (found["theme"], math)
        assert math["keyword"] != found["cardColor"], "keywords are not highlighted"
        colours.add(math["keyword"])
    assert len(colours) == 2, "night mode has its own highlight colours"


def test_readme_screenshot_of_a_math_and_table_card(measured: list[dict[str, Any]]) -> None:
    """tests/artifacts/desktop-math/math-table-card.png: copy it to docs/ when the design
    changes."""
    assert backs(measured, CARD_ID)
    shots = [SHOTS / f"{theme}-{PHONE}-{CARD_ID}-back.png" for theme in ("light", "dark")]
    side_by_side(shots, SHOTS / "math-table-card.png")
    assert Path(SHOTS / "math-table-card.png").stat().st_size > 10_000
