"""Cards as Anki renders them, laid out by headless Chromium at phone and desktop widths.

The pages, the measuring script and the checks are card_layout's, shared with the WebKit and
Anki desktop tests; this file drives Chromium.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from card_layout import (
    ARTIFACTS,
    HARD_CARDS,
    WRAPPERS,
    Render,
    Side,
    anki_sides,
    assert_cards_look_right,
    build_deck,
    contrast,
    lay_out,
)
from chromium import run_chromium
from helpers import CONTENT, ITEM_CARDS, REPO, SEED_CARDS, SHIPPED_CARDS
from kam_anki.notetype import default_notetype
from webkit import WebKit, webkit

PHONE = 375
DESKTOP = 1280
CSS = default_notetype().css


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Side], Path]:
    """The shipped content, built into a package from a copy, then rendered by Anki."""
    workdir = tmp_path_factory.mktemp("shipped")
    content = workdir / "content"
    shutil.copytree(CONTENT, content)
    build_deck(content, workdir / "kam.apkg")
    # The earlier design's item notes the shipped deck retires: gone after one release.
    build_deck(content, workdir / "kam.apkg", "--forget-removed")
    return anki_sides(workdir / "kam.apkg", workdir), workdir


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Side], Path]:
    """A card made to break layouts: huge compounds, nested lists, labels, a URL, code."""
    workdir = tmp_path_factory.mktemp("hard")
    content = workdir / "content"
    content.mkdir()
    shutil.copy(CONTENT / "deck.toml", content / "deck.toml")
    (content / "hard.md").write_text(HARD_CARDS, encoding="utf-8")
    build_deck(content, workdir / "kam.apkg")
    return anki_sides(workdir / "kam.apkg", workdir), workdir


def chromium_render(
    page: Path, width: int, height: int, screenshot: Path | None, scale: float
) -> str:
    return run_chromium(page, width=width, height=height, screenshot=screenshot, scale=scale)


# WebKit (AnkiMobile's engine) at phone width; Chromium (AnkiDroid's, Anki desktop's) at both.
CASES = [
    ("chromium", PHONE, False),
    ("chromium", PHONE, True),
    ("chromium", DESKTOP, False),
    ("chromium", DESKTOP, True),
    ("webkit", PHONE, False),
    ("webkit", PHONE, True),
]
ENGINES = ("chromium", "webkit")


@pytest.fixture(scope="module")
def webkit_session() -> Iterator[WebKit]:
    """One WebKitGTK browser for every page of the module: starting one costs seconds."""
    with webkit() as browser:
        yield browser


def engine(request: pytest.FixtureRequest, name: str) -> Render:
    if name == "webkit":
        session: WebKit = request.getfixturevalue("webkit_session")
        return session.render
    return chromium_render


@pytest.mark.parametrize(
    ("engine_name", "width", "night"),
    CASES,
    ids=[f"{e}-{'phone' if w == PHONE else 'desktop'}{'-night' if n else ''}" for e, w, n in CASES],
)
def test_shipped_cards_fit_and_read_well(
    request: pytest.FixtureRequest,
    shipped: tuple[list[Side], Path],
    engine_name: str,
    width: int,
    night: bool,
) -> None:
    sides, workdir = shipped
    assert len(sides) == 2 * SHIPPED_CARDS  # front and back
    phone = width == PHONE
    label = f"{engine_name}-{'phone' if phone else 'desktop'}-{'night' if night else 'day'}"
    found = lay_out(
        sides,
        workdir,
        engine(request, engine_name),
        width=width,
        night=night,
        height=760 if phone else 620,
        columns=8 if phone else 2,
        screenshot=ARTIFACTS / f"shipped-{label}.png" if phone else None,
    )
    assert {(f["name"], f["side"], f["wrapper"]) for f in found} == {
        (s.name, s.side, w) for s in sides for w in WRAPPERS
    }
    assert {f["innerWidth"] for f in found} == {width}
    assert_cards_look_right(found, sides, CSS, night)
    if width == DESKTOP:
        # A comfortable line length on a wide screen, not 1280 pixels of text.
        assert max(f["question"]["box"]["width"] for f in found) <= 720


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
def test_labels_read_as_headings(
    request: pytest.FixtureRequest, shipped: tuple[list[Side], Path], engine_name: str, night: bool
) -> None:
    sides, workdir = shipped
    backs = [s for s in sides if s.side == "back" and 'class="label"' in s.answer]
    assert backs, "the shipped deck has 'Label:' answers"
    for measured in lay_out(backs, workdir, engine(request, engine_name), width=PHONE, night=night):
        labels = {label["text"]: label for label in measured["labels"]}
        assert set(labels) == {"Integration:", "Fundament:"}
        for label in labels.values():
            assert label["fontWeight"] >= 600
            assert label["color"] != measured["cardColor"], "a label looks like plain text"


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
def test_long_compounds_nested_lists_and_code_stay_on_a_phone_screen(
    request: pytest.FixtureRequest, hard: tuple[list[Side], Path], engine_name: str, night: bool
) -> None:
    sides, workdir = hard
    found = lay_out(
        sides,
        workdir,
        engine(request, engine_name),
        width=PHONE,
        night=night,
        height=1500,
        columns=2,
        screenshot=ARTIFACTS / f"hard-phone-{engine_name}-{'night' if night else 'day'}.png",
    )
    assert_cards_look_right(found, sides, CSS, night)
    back = next(f for f in found if f["side"] == "back")
    depths = [item["depth"] for item in back["items"]]
    assert 1 in depths, "nested items are rendered"
    nested = [i for i in back["items"] if i["depth"]]
    top_level = [i for i in back["items"] if not i["depth"]]
    assert min(i["box"]["left"] for i in nested) > top_level[0]["box"]["left"] + 10, "no indent"
    assert {label["text"] for label in back["labels"]} == {"Integration:", "Fundament:"}


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
def test_item_cards_show_the_gap_in_the_list_and_mark_the_asked_item(
    request: pytest.FixtureRequest, shipped: tuple[list[Side], Path], engine_name: str, night: bool
) -> None:
    sides, workdir = shipped
    items = [s for s in sides if s.listed]
    assert len(items) == 2 * (SHIPPED_CARDS - SEED_CARDS)
    found = lay_out(items, workdir, engine(request, engine_name), width=PHONE, night=night)
    for measured in found:
        background = measured["cardBackground"]
        at = (measured["name"], measured["side"])
        # The list reads at the card's size and weight, not the question's.
        answer = measured["answer"]
        assert abs(answer["fontSize"] - measured["cardFontSize"]) < 0.1, at
        if measured["side"] == "front":
            gap = measured["gap"]
            assert gap["box"]["width"] >= 40 and gap["box"]["height"] >= 16, at
            assert contrast(gap["color"], background) >= 4.5, at
            assert measured["asked"] is None
            # A sequence shows the items up to the asked one, a set every item.
            card_id, number = measured["name"].split("/liste/c")
            shown = int(number) if "zirkel" in card_id else ITEM_CARDS[card_id]
            assert len(measured["items"]) == shown, at
        else:
            # The whole list, the asked item set apart.
            asked = measured["asked"]
            assert asked["fontWeight"] >= 600 and contrast(asked["color"], background) >= 7, at
            assert asked["color"] != measured["cardColor"], at


SHORTENED = """\
# Kapitel

## Aufgaben und -ziele? {#kurz}

- Schlüsselkundengewinnung und -sicherung
- KA-Strategie, -Vision & Ziele
- Befehl `ls -la` und -l

```
x = a -b
```
"""
JOINER = "\u2060"


@pytest.mark.parametrize("engine_name", ENGINES)
def test_shortened_words_are_joined_on_screen_only(
    request: pytest.FixtureRequest, tmp_path: Path, engine_name: str
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(REPO / "content" / "deck.toml", content / "deck.toml")
    (content / "kurz.md").write_text(SHORTENED, encoding="utf-8")
    build_deck(content, tmp_path / "kam.apkg")
    sides = anki_sides(tmp_path / "kam.apkg", tmp_path)
    # The note keeps the Markdown's words as written: nothing is added to a field.
    assert all(JOINER not in value for side in sides for value in side.fields.values())
    assert "und -sicherung" in sides[1].answer
    render = engine(request, engine_name)
    for night in (False, True):
        for measured in lay_out(sides, tmp_path, render, width=PHONE, night=night):
            text = measured["text"]
            assert f"und -{JOINER}ziele?" in text
            if measured["side"] == "back":
                for shown in (f"und -{JOINER}sicherung", f", -{JOINER}Vision", f"und -{JOINER}l"):
                    assert shown in text, (shown, text)
                assert "ls -la" in text and "x = a -b" in text, "code is shown as written"
