"""An Anki add-on that plays a learner in the real Anki desktop, for tests/test_desktop.py.

Copied into ``BASE/addons21/`` of a fresh base folder. When the profile opens it reads the plan
named by ``KAM_DESKTOP_PLAN`` (JSON written by the test), then, one step at a time on Qt's event
loop: imports a package through File > Import's own code path (the import dialog, its default
options, its Import button), reviews every card in the reviewer, measures each side with the
test's script in the reviewer's web view at each width, light and night, takes screenshots,
re-imports a rebuilt package the same way and shows the edited card again. Everything measured
goes into ``results.json`` for pytest to judge; this file asserts nothing itself.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from aqt import gui_hooks, mw
from aqt.import_export.import_dialog import ImportDialog
from aqt.import_export.importing import import_file
from aqt.qt import QApplication, Qt, QTimer
from aqt.theme import Theme
from aqt.webview import AnkiWebView

# A step yields either a condition to wait for or a number of seconds to wait.
Wait = Callable[[], bool] | float
Script = Generator[Wait, None, Any]

POLL_MS = 50
STEP_TIMEOUT = 60.0


THEMES = {"light": Theme.LIGHT, "dark": Theme.DARK}


def main_window() -> Any:
    assert mw is not None
    return mw


def run_script(script: Script, done: Callable[[BaseException | None], None]) -> None:
    """Drive ``script`` from the event loop: Anki must keep running between steps."""
    state: dict[str, float] = {"waited": 0.0}

    def advance() -> None:
        try:
            step = next(script)
        except StopIteration:
            done(None)
            return
        except BaseException as error:  # everything goes into results.json for pytest
            done(error)
            return
        state["waited"] = 0.0
        wait(step)

    def wait(step: Wait) -> None:
        if isinstance(step, float | int):
            QTimer.singleShot(int(step * 1000), advance)
            return
        try:
            ready = step()
        except BaseException as error:
            done(error)
            return
        if ready:
            advance()
        elif state["waited"] > STEP_TIMEOUT:
            done(TimeoutError(f"waited {STEP_TIMEOUT} s for {step.__doc__ or step}"))
        else:
            state["waited"] += POLL_MS / 1000
            QTimer.singleShot(POLL_MS, lambda: wait(step))

    QTimer.singleShot(0, advance)


def evaluate(web: AnkiWebView, code: str) -> Generator[Wait, None, Any]:
    """The value of a JavaScript expression in ``web`` (JSON-compatible values only)."""
    box: list[Any] = []
    web.evalWithCallback(code, box.append)

    def answered() -> bool:
        """a JavaScript result"""
        return bool(box)

    yield answered
    return box[0]


def until_js(web: AnkiWebView, condition: str) -> Generator[Wait, None, None]:
    """Poll a JavaScript condition until it holds."""
    for _ in range(int(STEP_TIMEOUT * 1000 / POLL_MS)):
        if (yield from evaluate(web, f"!!({condition})")):
            return
        yield POLL_MS / 1000
    raise TimeoutError(f"JavaScript condition never held: {condition}")


def import_through_dialog(path: str) -> Generator[Wait, None, str]:
    """File > Import for an .apkg: the import dialog opens with its default options; press
    its Import button, wait until the dialog reports the import done; the dialog's log."""
    window = main_window()
    import_file(window, path)
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, ImportDialog), f"no import dialog: {dialog!r}"
    web = dialog.web
    assert web is not None
    button = "document.querySelector('button.label-button.primary')"
    yield from until_js(web, f"{button} && !{button}.disabled")
    # The options stay as the dialog sets them up, as a learner leaves them.
    yield from evaluate(web, f"{button}.click(), true")

    def imported() -> bool:
        """the import dialog to report the import done"""
        return dialog.windowModality() == Qt.WindowModality.NonModal

    yield imported
    yield from until_js(web, "document.querySelector('table')")  # the log's list of notes
    log: str = yield from evaluate(web, "document.body.innerText")
    dialog.reject()
    return log


def scheduling() -> dict[str, list[int]]:
    col = main_window().col
    rows = col.db.all(
        "select n.flds, c.ord, c.type, c.queue, c.ivl, c.due, c.reps, c.lapses, c.factor "
        "from cards c join notes n on n.id = c.nid"
    )
    return {card_name(row[0].split("\x1f")[-1], row[1]): list(row[2:]) for row in rows}


def card_name(source: str, ordinal: int) -> str:
    """Quelle is the last field: "path#card-id"; a list note's ("path#card-id/liste") has
    one card per item, named by its cloze number."""
    name = source.rsplit("#", 1)[-1]
    return f"{name}/c{ordinal + 1}" if name.endswith("/liste") else name


def current_card_name() -> str:
    card = main_window().reviewer.card
    assert card is not None, "the reviewer shows no card"
    return card_name(str(card.note()["Quelle"]), card.ord)


def show(side: str) -> Generator[Wait, None, None]:
    """Show the question of the next card or the current card's answer, as the learner's
    clicks would, and wait until the reviewer's page has it."""
    window = main_window()
    web = window.web
    # A marker that the reviewer's next render removes: the page is then really the new one.
    mark = "document.getElementById('qa').insertAdjacentHTML('beforeend', '<i id=kam-old></i>')"
    yield from evaluate(web, f"{mark}, true")
    if side == "front":
        window.reviewer.nextCard()
    else:
        window.reviewer._showAnswer()
    yield from until_js(
        web,
        "!document.getElementById('kam-old') && document.querySelector('#qa .kam-card')"
        + (" && document.querySelector('#qa .antwort')" if side == "back" else ""),
    )


def set_look(theme: Theme, width: int, height: int) -> Generator[Wait, None, None]:
    window = main_window()
    if window.pm.theme() != theme:
        window.set_theme(theme)
    window.resize(width, height)
    night = "true" if theme == Theme.DARK else "false"
    # The reviewer's web view follows the window; the theme reaches the page as body classes.
    yield from until_js(
        window.web,
        f"document.body.classList.contains('nightMode') === {night}"
        f" && Math.abs(window.innerWidth - {width}) <= 2",
    )
    yield 0.2  # let a resize settle before measuring


def measure(plan: dict[str, Any], name: str, side: str, look: dict[str, Any]) -> Script:
    window = main_window()
    if "math_js" in plan:
        # Anki typesets math after the card is shown: give MathJax time to finish (or not).
        for _ in range(int(10 / 0.1)):
            if (yield from evaluate(window.web, f"!!({plan['typeset_js']})")):
                break
            yield 0.1
    found = yield from evaluate(window.web, plan["measure_js"])
    found = json.loads(found)
    found.update(name=name, side=side, theme=look["theme"])
    if "math_js" in plan:
        found["math"] = json.loads((yield from evaluate(window.web, plan["math_js"])))
    # The reviewer's card area, as on a phone or a desktop screen.
    shot = f"{look['label']}-{name.replace('/', '-')}-{side}.png"  # item cards: "card/liste/c3"
    window.web.grab().save(str(Path(plan["artifacts"]) / shot))
    return found


def looks(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"theme": theme, "width": width, "label": f"{theme}-{width}"}
        for theme in THEMES
        for width in plan["widths"]
    ]


def show_and_measure_all(plan: dict[str, Any], results: dict[str, Any]) -> Script:
    """Review every card once (Good), measuring question and answer in every look."""
    window = main_window()
    deck = window.col.decks.id_for_name(plan["deck"])
    # The deck's item cards make it more than Anki's 20 new cards a day: a learner who
    # wants them all today raises the limit in the deck options, as here.
    options = window.col.decks.config_dict_for_deck_id(deck)
    options["new"]["perDay"] = 9999
    window.col.decks.update_config(options)
    window.col.decks.select(deck)
    window.moveToState("review")
    seen: list[str] = []
    while True:
        if seen:
            yield from show("front")
        else:
            yield from until_js(window.web, "document.querySelector('#qa .kam-card')")
        name = current_card_name()
        if name in seen:
            break
        seen.append(name)
        for side in ("front", "back"):
            if side == "back":
                yield from show("back")
            for look in looks(plan):
                yield from set_look(THEMES[look["theme"]], look["width"], plan["height"])
                results["measurements"].append((yield from measure(plan, name, side, look)))
        # Good, as the learner's click on the answer button; the next card follows.
        window.reviewer._answerCard(3)

        def answered() -> bool:
            """the answer to be saved"""
            return bool(window.reviewer.state != "transition")

        yield answered
        if window.state != "review":
            break
    results["reviewed"] = seen


def learner(plan: dict[str, Any], results: dict[str, Any]) -> Script:
    window = main_window()
    window.resize(plan["widths"][-1], plan["height"])
    results["first_import"] = yield from import_through_dialog(plan["first"])
    yield from show_and_measure_all(plan, results)
    if "second" not in plan:
        return  # a deck only to be looked at
    results["before"] = scheduling()
    results["second_import"] = yield from import_through_dialog(plan["second"])
    results["after"] = scheduling()
    # The edited card: the first one reviewed, so the first one due again.
    window.col.decks.select(window.col.decks.id_for_name(plan["deck"]))
    window.moveToState("review")
    yield from until_js(window.web, "document.querySelector('#qa .kam-card')")
    name = current_card_name()
    yield from show("back")
    look = {"theme": "light", "width": plan["widths"][0], "label": "reimported"}
    yield from set_look(Theme.LIGHT, look["width"], plan["height"])
    results["edited"] = yield from measure(plan, name, "back", look)
    results["edited"]["answer_text"] = yield from evaluate(
        window.web, "document.querySelector('#qa .antwort').innerText"
    )


def start() -> None:
    plan_path = os.environ.get("KAM_DESKTOP_PLAN")
    if not plan_path:
        return  # not a test run: stay out of the way
    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    results: dict[str, Any] = {"measurements": []}

    def done(error: BaseException | None) -> None:
        if error is not None:
            results["error"] = "".join(traceback.format_exception(error))
        Path(plan["results"]).write_text(json.dumps(results, indent=1), encoding="utf-8")
        main_window().unloadProfileAndExit()

    run_script(learner(plan, results), done)


gui_hooks.profile_did_open.append(start)
