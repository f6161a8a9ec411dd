"""List cards through the CLI and Anki's own engine: one card per list item, each keeping its
note and reviews while the list is edited, reaching a phone by normal sync."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from anki_helpers import (
    first_sync,
    import_apkg,
    notes_by_source,
    open_collection,
    review_all,
    scheduling,
    status_name,
    sync,
    sync_server,
)
from helpers import CHAPTER_FILE, SHIPPED_CARDS, Build, Repo, edit, git, kam
from kam_anki.listcards import list_items
from kam_anki.model import Card
from kam_anki.render import render_answer

TASKS = "aufgaben-des-kam-8"
SEARCH = '"deck:KAM" tag:kam::entfernt'
NEW_TASK = "Kundenbesuche planen und nachbereiten"


def reviews(col: Any) -> dict[int, int]:
    """How many answers each card's review history holds."""
    return dict(col.db.all("select cid, count() from revlog group by cid"))


def edit_tasks(content: Path) -> None:
    """Each kind of edit at once, on the 10 tasks (keys 1 to 10 in their order): tasks 3
    and 5 swap places, a new task comes after them, task 7 goes, task 8 is reworded."""
    source = content / CHAPTER_FILE
    edit(source, "- Projektabwicklung mit Kunden\n", "- MARKER\n")
    edit(source, "- Marktforschung mit Kunden\n", "- Projektabwicklung mit Kunden\n")
    edit(source, "- MARKER\n", "- Marktforschung mit Kunden\n")
    edit(source, "- Firmen- und", f"- {NEW_TASK}\n- Firmen- und")
    edit(source, "- Abwicklung Beanstandungen\n", "")
    edit(source, "- Abstimmung mit Flächenvertrieb", "- Abstimmung mit dem Flächenvertrieb")


def learner_of_every_card(path: Path, apkg: Path) -> tuple[Any, dict[int, tuple[int, ...]]]:
    """A new collection that imports ``apkg`` and answers every card once: more than the
    20 new cards a day Anki's default options introduce."""
    col = open_collection(path)
    assert len(import_apkg(col, apkg).new) == SHIPPED_CARDS
    options = col.decks.config_dict_for_deck_id(col.decks.id_for_name("KAM"))
    options["new"]["perDay"] = 1000
    col.decks.save(options)
    review_all(col, "KAM")
    return col, scheduling(col)


def lock_cards(content: Path) -> dict[str, Any]:
    cards: dict[str, Any] = json.loads((content / "kam-anki.lock").read_text("utf-8"))["cards"]
    return cards


def test_edited_list_keeps_every_other_items_reviews_and_reaches_the_phone(
    list_content: Path, tmp_path: Path, build: Build
) -> None:
    content = list_content
    apkg = tmp_path / "kam.apkg"
    assert f"{SHIPPED_CARDS} cards: 0 added, 0 changed, 0 removed" in build().output
    desktop, reviewed = learner_of_every_card(tmp_path / "desktop.anki2", apkg)
    history = reviews(desktop)
    assert set(history) == set(reviewed)  # every card, item cards too, has been answered
    before = notes_by_source(desktop)
    with sync_server(tmp_path / "server") as server:
        auth, mobile, mobile_auth = first_sync(desktop, server, tmp_path / "mobile.anki2")

        edit_tasks(content)
        result = build()
        assert f"+ {TASKS}/11: {NEW_TASK}" in result.output
        assert f"- {TASKS}/7: Abwicklung Beanstandungen" in result.output
        assert f"~ {TASKS}/8: Abstimmung mit dem Flächenvertrieb" in result.output
        assert SEARCH in result.output
        stamps = lock_cards(content)
        assert stamps[f"{TASKS}/3"]["question"] == "Projektabwicklung mit Kunden"
        assert stamps[f"{TASKS}/5"]["question"] == "Marktforschung mit Kunden"

        log = import_apkg(desktop, apkg)
        after = notes_by_source(desktop)
        assert len(log.new) == 1 and after[f"{TASKS}/11"].id == log.new[0]
        assert not log.conflicting and log.other == 0
        # Every note that was there is still the same note: nothing duplicated or replaced.
        assert all(after[key].id == note.id for key, note in before.items())
        assert len(after) == SHIPPED_CARDS + 1
        states = scheduling(desktop)
        assert {card: states[card] for card in reviewed} == reviewed
        assert reviews(desktop) == history
        (new_card,) = set(states) - set(reviewed)
        assert states[new_card][0] == 0  # a new card, to be learnt
        assert "Kundenbesuche" in after[f"{TASKS}/11"]["Antwort"]

        # The removed item's card: a tombstone, found by the printed search.
        removed = after[f"{TASKS}/7"]
        assert desktop.find_notes(SEARCH) == [removed.id]
        assert "nicht mehr in den Markdown-Quellen" in removed["Antwort"]
        assert removed["Frage"] == "Abwicklung Beanstandungen"
        # The reworded item: updated in place, its reviews kept (checked above).
        reworded = after[f"{TASKS}/8"]
        assert '<li class="gefragt">Abstimmung mit dem Flächenvertrieb</li>' in reworded["Antwort"]
        # Moved items: the same notes, now asked at their new places.
        assert "(5/10)" in after[f"{TASKS}/3"]["Frage"]
        assert "(3/10)" in after[f"{TASKS}/5"]["Frage"]
        # Items of the other lists did not change at all.
        other = [k for k in before if k.startswith("ziele-des-kam-5/")]
        assert len(other) == 6 and not {before[k].id for k in other} & set(log.updated)

        assert status_name(desktop, auth) == "NORMAL_SYNC"
        assert sync(desktop, auth) == "NO_CHANGES"
        assert sync(mobile, mobile_auth) == "NO_CHANGES"
        phone = notes_by_source(mobile)
        assert {k: n.fields for k, n in phone.items()} == {k: n.fields for k, n in after.items()}
        assert scheduling(mobile) == scheduling(desktop)
        assert reviews(mobile) == history
        assert mobile.find_notes(SEARCH) == [removed.id]
        mobile.close()
    desktop.close()


def test_removed_item_is_forgotten_with_forget_removed_and_its_key_never_reused(
    list_content: Path, build: Build
) -> None:
    last = "Mitarbeit an strategischer und operativer Planung"
    build()
    edit(list_content / CHAPTER_FILE, f"- {last}\n", "")
    assert f"- {TASKS}/10: {last}" in build().output
    build("--forget-removed")
    state = json.loads((list_content / "kam-anki.lock").read_text("utf-8"))
    assert state["removed"] == {} and f"{TASKS}/10" not in state["cards"]
    # The same words again are a new item: the old key (and the reviews the learner may
    # still have on its note) is never handed out again; the build's record remembers it.
    edit(list_content / CHAPTER_FILE, "- Firmen- und", f"- {last}\n- Firmen- und")
    assert f"+ {TASKS}/11: {last}" in build().output


def test_a_card_that_leaves_the_list_cards_leaves_tombstones_for_its_items(
    list_content: Path, build: Build
) -> None:
    build()
    edit(list_content / CHAPTER_FILE, "{#ziele-des-kam-5 .liste}", "{#ziele-des-kam-5}")
    result = build("--dry-run")
    assert "28 cards: 0 added, 0 changed, 6 removed, 28 unchanged" in result.output
    assert "- ziele-des-kam-5/1: Optimierung der Beziehungen (extern)" in result.output


def test_check_and_dry_run_count_item_cards_and_write_nothing(
    list_content: Path, tmp_path: Path, build: Build
) -> None:
    lock = (list_content / "kam-anki.lock").read_bytes()
    edit(list_content / CHAPTER_FILE, "- Erfolgsmessung", "- Erfolgsmessung\n- Lessons learned")
    checked = kam(["check", "--content", str(list_content)])
    assert checked.exit_code == 0 and f"{SHIPPED_CARDS + 1} cards ok" in checked.output
    result = build("--dry-run")
    assert "+ kam-zirkel-schritte-im-rahmen-der-realisierung-5/6: Lessons learned" in result.output
    assert not (tmp_path / "kam.apkg").exists()
    assert (list_content / "kam-anki.lock").read_bytes() == lock


DECK = 'name = "T"\ndeck_id = 11\nnotetype_id = 12\n'


def run(content: Path, *args: str) -> Any:
    """``args`` in ``content``'s folder: nothing from the working folder's build/ counts."""
    output = ["-o", str(content.parent / "t.apkg")] if args[0] == "build" else []
    return kam([*args, "--content", str(content), *output])


def test_deck_wide_rule_takes_answers_that_are_one_long_list(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "deck.toml").write_text(DECK + "list_cards = 3\n", encoding="utf-8")
    (content / "k.md").write_text(
        "# K\n\n## Drei? {#drei}\n\n1. a\n2. b\n   - b1\n3. c\n\n"
        "## Zwei? {#zwei}\n\n- a\n- b\n\n"
        "## Mit Text? {#text}\n\nVorweg:\n\n- a\n- b\n- c\n\n"
        "## Nein danke {#nein .ohne-liste}\n\n- a\n- b\n- c\n\n"
        "## Mit Label? {#label .liste}\n\nIntegration:\n- x\n- y\n\nText.\n",
        encoding="utf-8",
    )
    result = run(content, "build", "--dry-run")
    assert result.exit_code == 0, result.output
    added = [line.split(":")[0].strip() for line in result.output.splitlines()[1:]]
    assert [a for a in added if "/" in a] == [
        "+ drei/1",
        "+ drei/2",
        "+ drei/3",
        "+ label/1",
        "+ label/2",
    ]
    assert "+ drei/2: b b1" in result.output  # a sub-item goes with its item


def test_unknown_class_and_a_list_card_without_a_list_are_errors(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    (content / "k.md").write_text(
        "# K\n\n## A {#a .lste}\n\n- x\n\n## B {#b .liste}\n\nNur Text.\n\n"
        "## C {#c .liste .ohne-liste}\n\n- x\n\n## D {#d liste}\n\n- x\n",
        encoding="utf-8",
    )
    result = run(content, "check")
    assert result.exit_code == 1
    path = (content / "k.md").as_posix()
    assert result.output.splitlines() == [
        f"{path}:3: error: unknown class '.lste' (known: .liste, .folge, .ohne-liste)",
        f"{path}:7: error: list card (.liste) without a list in its answer",
        f"{path}:11: error: classes .liste/.folge and .ohne-liste contradict each other",
        f"{path}:15: error: malformed card id 'd liste': U+0020 SPACE at column 9 is not allowed: "
        "use lowercase ASCII letters, digits and hyphens",
    ]


ANSWER = (
    "Integration:\n• eins\n• zwei mit **fett**\n  - darunter\n\nFundament:\n\n"
    "1. erst\n2. dann\n3. zuletzt\n\n```\ncode\n```\n"
)


def test_item_fields_are_the_cards_answer_with_one_item_asked() -> None:
    card = Card("k", "Frage?", ANSWER, "K", "k.md", 3, 5, ("liste",))
    answer = render_answer(ANSWER)
    items, problem = list_items(card, answer, "Frage?")
    assert problem is None
    texts = ["eins", "zwei mit fett darunter", "erst", "dann", "zuletzt"]
    assert [item.text for item in items] == texts
    for item in items:
        # The back is the card's answer, byte for byte, but for the mark on the asked item.
        assert item.answer.replace(' class="gefragt"', "") == answer.html
        assert item.answer.count('class="gefragt"') == 1
    # A set shows the other items; a sequence the ones before, not the ones after.
    assert "zwei mit" in items[0].question and "eins" not in items[0].question
    second = items[3].question
    assert "(2/3)" in second and "erst" in second and "zuletzt" not in second
    assert "eins" in second and "Fundament:" in second and "code" in second


def test_rebuild_from_the_file_cache_gives_the_same_item_cards(
    list_content: Path, tmp_path: Path, build: Build
) -> None:
    build()
    first = (tmp_path / "kam.apkg").read_bytes()
    assert any((tmp_path / ".kam-anki-cache").iterdir())
    result = build()
    assert f"0 added, 0 changed, 0 removed, {SHIPPED_CARDS} unchanged" in result.output
    assert (tmp_path / "kam.apkg").read_bytes() == first


def test_a_fresh_clone_never_reuses_a_key_that_only_git_history_remembers(repo: Repo) -> None:
    last = "Aufbau von Eintrittsbarrieren für Wettbewerber beim Key Account"
    repo.edit("{#ziele-des-kam-5}", "{#ziele-des-kam-5 .liste}")
    assert f"+ ziele-des-kam-5/6: {last}" in repo.build().output
    repo.commit("list cards for the goals")
    repo.edit(f"- {last}\n", "")
    assert f"- ziele-des-kam-5/6: {last}" in repo.build().output
    repo.commit("one goal less")
    repo.build("--forget-removed")
    repo.commit("tombstone forgotten")
    assert "ziele-des-kam-5/6" not in (repo.root / "content" / "kam-anki.lock").read_text("utf-8")
    clone = repo.root.parent / "clone"
    git(repo.root.parent, "clone", "-q", str(repo.root), str(clone))
    repo.root = clone  # no build/ record here: only the lock's git history knows key 6
    repo.apkg = clone / "build" / "kam.apkg"
    repo.edit("beim Key Account\n\n## Kurze", f"beim Key Account\n- {last}\n\n## Kurze")
    assert f"+ ziele-des-kam-5/7: {last}" in repo.build().output
