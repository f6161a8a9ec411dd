"""The deck in the real Anki desktop: File > Import, the reviewer, light and night, a re-import.

One run of Anki (``aqt``, the same version as the ``anki`` engine) under Xvfb with a fresh
base folder; the add-on in kam_desktop_addon/ plays the learner and reports what Anki's own
web view computed. The checks are card_layout's, the same as for Chromium and WebKit.
Screenshots land in tests/artifacts/desktop/.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PyQt6.QtGui import QColor, QImage, QPainter

from anki_desktop import make_base, run_anki
from card_layout import (
    ARTIFACTS,
    MEASURE_EXPRESSION,
    Side,
    anki_sides,
    assert_cards_look_right,
    build_deck,
)
from display import xvfb
from helpers import copy_content
from kam_anki.notetype import default_notetype

PHONE = 400  # Anki's main window is at least 400 pixels wide
DESKTOP = 1280
HEIGHT = 860
EDITED = "kurze-beschreibung-eines-key-account-managers"  # the first card: due first again
OLD_LINE = "- Umsatz-/Projektziel\n"
NEW_LINE = "- Umsatz- und Projektziel (aus der neuen Fassung)\n"
SHOTS = ARTIFACTS / "desktop"
# One run: start-up, two imports through the dialog and 64 measured views take about a minute.
TIMEOUT = 300


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Side]]:
    workdir = tmp_path_factory.mktemp("desktop")
    # The shipped deck as it is: the 8 seed cards and the item cards of its four list notes.
    content = copy_content(workdir / "content", list_cards=True)
    build_deck(content, workdir / "first.apkg")
    # The earlier design's item notes the shipped deck retires: gone after one release.
    build_deck(content, workdir / "first.apkg", "--forget-removed")
    markdown = content / "key-account-management.md"
    text = markdown.read_text(encoding="utf-8")
    assert text.count(OLD_LINE) == 1
    markdown.write_text(text.replace(OLD_LINE, NEW_LINE), encoding="utf-8")
    build_deck(content, workdir / "second.apkg")
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    plan = {
        "first": str(workdir / "first.apkg"),
        "second": str(workdir / "second.apkg"),
        "deck": "KAM",
        "widths": [PHONE, DESKTOP],
        "height": HEIGHT,
        "measure_js": MEASURE_EXPRESSION,
        "artifacts": str(SHOTS),
        "results": str(workdir / "results.json"),
    }
    base = workdir / "base"
    make_base(base)
    with xvfb() as display:
        results = run_anki(base, plan, display, TIMEOUT)
    return results, anki_sides(workdir / "first.apkg", workdir)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_cards_in_anki_desktop_show_the_deck_palette_and_fit(
    desktop: tuple[dict[str, Any], list[Side]], theme: str
) -> None:
    results, sides = desktop
    found = [m for m in results["measurements"] if m["theme"] == theme]
    # Every card, question and answer, at phone and desktop width.
    assert {(m["name"], m["side"], m["innerWidth"]) for m in found} == {
        (s.name, s.side, width) for s in sides for width in (PHONE, DESKTOP)
    }
    night = theme == "dark"
    for measured in found:
        classes = measured["bodyClasses"].split()
        assert ("nightMode" in classes) == night, "Anki did not switch the theme"
    assert_cards_look_right(found, sides, default_notetype().css, night)


def test_reimport_in_anki_desktop_shows_the_edit_and_keeps_the_scheduling(
    desktop: tuple[dict[str, Any], list[Side]],
) -> None:
    results, sides = desktop
    assert len(results["reviewed"]) == len(sides) // 2, "every card was reviewed once"
    before, after = results["before"], results["after"]
    assert set(before) == {s.name for s in sides}
    # Reviewed: out of the new queue, one repetition each (type, queue, ivl, due, reps, ...).
    assert all(state[0] != 0 and state[4] == 1 for state in before.values()), before
    log = results["second_import"]
    assert after == before, f"the re-import changed the scheduling; Anki's log:\n{log}"
    edited = results["edited"]
    assert edited["name"] == EDITED, log
    new_text = NEW_LINE.removeprefix("- ").strip()
    old_text = OLD_LINE.removeprefix("- ").strip()
    assert new_text in edited["answer_text"], log
    assert old_text not in edited["answer_text"], log


def side_by_side(paths: list[Path], target: Path) -> None:
    """Two phone-width reviewer screenshots on one picture, as the README shows them."""
    images = [QImage(str(path)) for path in paths]
    assert all(not image.isNull() for image in images), paths
    gap = 24
    width = sum(image.width() for image in images) + gap * (len(images) + 1)
    height = max(image.height() for image in images) + 2 * gap
    canvas = QImage(width, height, QImage.Format.Format_RGB32)
    canvas.fill(QColor("#8a8d91"))
    painter = QPainter(canvas)
    x = gap
    for image in images:
        painter.drawImage(x, gap, image)
        x += image.width() + gap
    painter.end()
    assert canvas.save(str(target)), target


ITEM = "kam-zirkel-schritte-im-rahmen-der-analyse-5/liste/c3"
# The README's pictures: two cards' backs; an item card's front and back.
README_PICTURES = {
    "card": [
        ("aufgaben-des-kam-8", "back"),
        ("bestandteile-und-inhalte-des-organisatorischen-kam", "back"),
    ],
    "list-card": [(ITEM, "front"), (ITEM, "back")],
}


@pytest.mark.parametrize("picture", sorted(README_PICTURES))
def test_readme_screenshots_come_from_anki_desktop(
    desktop: tuple[dict[str, Any], list[Side]], picture: str
) -> None:
    """tests/artifacts/desktop/card-light.png, card-dark.png, list-card-light.png and
    list-card-dark.png: copy them to docs/ when the card design changes."""
    for theme in ("light", "dark"):
        name = f"{picture}-{theme}.png"
        shots = [
            SHOTS / f"{theme}-{PHONE}-{card.replace('/', '-')}-{side}.png"
            for card, side in README_PICTURES[picture]
        ]
        side_by_side(shots, SHOTS / name)
        made = QImage(str(SHOTS / name))
        corner = QColor(made.pixel(40, 40))
        assert (corner.lightness() < 60) == (theme == "dark"), "the screenshot is not in theme"
