"""The table, math and code card in headless Chromium and WebKitGTK (AnkiMobile's engine
family) at phone width, day and night: the card never scrolls sideways (a wide table
scrolls inside itself), text and code stay readable. No MathJax here: the formulas show as
their LaTeX, as before a client typesets them (tests/test_desktop_math.py checks them typeset).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from card_layout import Render, Side, anki_sides, build_deck, contrast, lay_out
from chromium import run_chromium
from rich_card import CARD_ID, MARKDOWN
from test_desktop_math import DECK, WIDE, WIDE_ID
from webkit import WebKit, webkit

PHONE = 375


def chromium_render(
    page: Path, width: int, height: int, screenshot: Path | None, scale: float
) -> str:
    return run_chromium(page, width=width, height=height, screenshot=screenshot, scale=scale)


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Side], Path]:
    workdir = tmp_path_factory.mktemp("rich")
    content = workdir / "content"
    content.mkdir()
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    (content / "formeln.md").write_text(MARKDOWN + WIDE, encoding="utf-8")
    build_deck(content, workdir / "rich.apkg")
    return anki_sides(workdir / "rich.apkg", workdir), workdir


@pytest.fixture(scope="module")
def webkit_session() -> Iterator[WebKit]:
    with webkit() as browser:
        yield browser


@pytest.mark.parametrize("engine_name", ["chromium", "webkit"])
@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
def test_a_wide_table_and_formula_never_make_the_card_scroll(
    request: pytest.FixtureRequest,
    sides: tuple[list[Side], Path],
    engine_name: str,
    night: bool,
) -> None:
    cards, workdir = sides
    render: Render = chromium_render
    if engine_name == "webkit":
        render = request.getfixturevalue("webkit_session").render
    found = lay_out(cards, workdir, render, width=PHONE, night=night, height=900)
    assert {(m["name"], m["side"]) for m in found} == {
        (name, side) for name in (CARD_ID, WIDE_ID) for side in ("front", "back")
    }
    for measured in found:
        at = f"{measured['name']} {measured['side']} ({engine_name}, {measured['wrapper']})"
        assert measured["scrollWidth"] <= measured["innerWidth"], f"{at} scrolls sideways"
        assert measured["bodyScrollWidth"] <= measured["innerWidth"], f"{at} scrolls sideways"
        background = measured["cardBackground"]
        assert contrast(measured["cardColor"], background) >= 7, at
        if measured["side"] == "back":
            assert measured["answer"]["box"]["right"] <= measured["innerWidth"], at
