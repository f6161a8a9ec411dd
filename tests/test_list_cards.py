"""List cards through the CLI and Anki's own engine: one cloze note per list, one card per
item, each item keeping its card (and reviews) while the list is edited, reaching a phone by
normal sync."""

from __future__ import annotations

import dataclasses
import html
import json
import shutil
from pathlib import Path
from typing import Any

from anki_helpers import (
    first_sync,
    import_apkg,
    open_collection,
    review_all,
    scheduling,
    status_name,
    sync,
    sync_server,
)
from helpers import (
    CHAPTER_FILE,
    ITEM_CARDS,
    SEED_CARDS,
    SHIPPED_APKG,
    Repo,
    RunBuild,
    edit,
    git,
    kam,
)
from kam_anki import notetype
from kam_anki.items import split_item_id
from kam_anki.listcards import list_card
from kam_anki.model import Card, DeckConfig
from kam_anki.package import list_notetype_id
from kam_anki.render import render_answer
from kam_anki.state import LOCK_NAME, Stamp, dump_state, load_state

TASKS = "aufgaben-des-kam-8"
NEW_TASK = "Kundenbesuche planen und nachbereiten"
LIST_SEARCH = "tag:kam::liste"
EMPTY_CARDS_HINT = "Tools > Empty Cards"
LIST_NOTETYPE_ID = 1099786149863  # derived from the shipped deck's note type id: never changes


def reviews(col: Any) -> dict[int, int]:
    """How many answers each card's review history holds."""
    return dict(col.db.all("select cid, count() from revlog group by cid"))


def list_note(col: Any, card_id: str) -> Any:
    """The list note of a card, found by its Quelle field (``path#card-id/liste``)."""
    (note_id,) = col.find_notes(f'"Quelle:*#{card_id}/liste"')
    return col.get_note(note_id)


def cards_by_cloze(col: Any, note: Any) -> dict[int, int]:
    """A list note's cards by cloze number (template ordinal + 1)."""
    return {card.ord + 1: card.id for card in note.cards()}


def empty_cards(col: Any) -> set[int]:
    return {card for note in col.get_empty_cards().notes for card in note.card_ids}


def asks(col: Any, card_id: int) -> str:
    """What the card's question side shows in the gap's place, and the card's answer."""
    return str(col.get_card(card_id).answer())


def edit_tasks(content: Path) -> None:
    """Each kind of edit at once, on the 10 tasks (cloze 1 to 10 in their order): tasks 3
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
    assert len(import_apkg(col, apkg).new) == SEED_CARDS + len(ITEM_CARDS)
    options = col.decks.config_dict_for_deck_id(col.decks.id_for_name("KAM"))
    options["new"]["perDay"] = 1000
    col.decks.save(options)
    review_all(col, "KAM")
    return col, scheduling(col)


def lock_items(content: Path) -> dict[str, Any]:
    items: dict[str, Any] = json.loads((content / "kam-anki.lock").read_text("utf-8"))["items"]
    return items


def test_each_list_is_one_tagged_note_whose_cards_ask_its_items(
    list_content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    build("--forget-removed")  # the earlier design's item notes: retired once, then gone
    col = open_collection(tmp_path / "c.anki2")
    log = import_apkg(col, tmp_path / "kam.apkg")
    assert len(log.new) == SEED_CARDS + len(ITEM_CARDS)
    assert col.card_count() == SEED_CARDS + sum(ITEM_CARDS.values())
    assert len(col.find_notes(LIST_SEARCH)) == len(ITEM_CARDS)
    for card_id, count in ITEM_CARDS.items():
        note = list_note(col, card_id)
        assert note.note_type()["name"] == "KAM-Anki Liste"
        assert [f["name"] for f in note.note_type()["flds"]] == [
            "Frage",
            "Liste",
            "Kapitel",
            "Quelle",
        ]
        assert sorted(cards_by_cloze(col, note)) == list(range(1, count + 1))
    tasks = cards_by_cloze(col, list_note(col, TASKS))
    third = col.get_card(tasks[3])
    # A set shows the other items around the gap; the answer marks the asked one.
    assert "[...]" in third.question() and "Marktforschung mit Kunden" in third.question()
    assert "Projektabwicklung mit Kunden" not in third.question()
    assert 'class="cloze" data-cloze' in third.question()
    assert "Projektabwicklung mit Kunden</span>" in third.answer()
    # A sequence: the items after the asked one carry the class the CSS hides them by.
    steps = list_note(col, "kam-zirkel-schritte-im-rahmen-der-analyse-5")
    assert '<ul class="folge">' in steps["Liste"]
    assert not empty_cards(col)
    col.close()


def test_edited_list_keeps_every_items_card_and_reaches_the_phone(
    list_content: Path, tmp_path: Path, build: RunBuild
) -> None:
    content = list_content
    apkg = tmp_path / "kam.apkg"
    build()
    build("--forget-removed")
    desktop, reviewed = learner_of_every_card(tmp_path / "desktop.anki2", apkg)
    history = reviews(desktop)
    assert set(history) == set(reviewed)  # every card, item cards too, has been answered
    before = cards_by_cloze(desktop, list_note(desktop, TASKS))
    with sync_server(tmp_path / "server") as server:
        auth, mobile, mobile_auth = first_sync(desktop, server, tmp_path / "mobile.anki2")

        edit_tasks(content)
        result = build()
        assert f"+ {TASKS} c11: {NEW_TASK}" in result.output
        assert f"- {TASKS} c7: Abwicklung Beanstandungen" in result.output
        assert f"~ {TASKS} c8: Abstimmung mit dem Flächenvertrieb" in result.output
        assert EMPTY_CARDS_HINT in result.output
        items = lock_items(content)
        assert items[f"{TASKS}/3"] == {"item": "Projektabwicklung mit Kunden"}
        assert items[f"{TASKS}/7"] == {"item": "Abwicklung Beanstandungen", "gone": True}

        log = import_apkg(desktop, apkg)
        # The card's own note (its answer) and its list note: nothing else.
        assert len(log.updated) == 2 and not log.new
        assert not log.conflicting and log.other == 0
        after = cards_by_cloze(desktop, list_note(desktop, TASKS))
        assert {k: v for k, v in after.items() if k != 11} == before
        states = scheduling(desktop)
        assert {card: states[card] for card in reviewed} == reviewed
        assert reviews(desktop) == history
        assert states[after[11]][0] == 0  # the new item: a new card, to be learnt
        # The removed item's card stays, empty, for Tools > Empty Cards.
        assert empty_cards(desktop) == {before[7]}
        assert "Abstimmung mit dem Flächenvertrieb</span>" in asks(desktop, after[8])
        assert "Projektabwicklung mit Kunden</span>" in asks(desktop, after[3])

        assert status_name(desktop, auth) == "NORMAL_SYNC"
        assert sync(desktop, auth) == "NO_CHANGES"
        assert sync(mobile, mobile_auth) == "NO_CHANGES"
        phone = list_note(mobile, TASKS)
        assert phone.fields == list_note(desktop, TASKS).fields
        assert scheduling(mobile) == scheduling(desktop)
        assert reviews(mobile) == history
        mobile.close()
    desktop.close()


DECK = 'name = "T"\ndeck_id = 11\nnotetype_id = 12\n'


def write_deck(content: Path, items: list[str], *, classes: str = " .liste") -> None:
    content.mkdir(exist_ok=True)
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    lines = "".join(f"- {item}\n" for item in items)
    (content / "k.md").write_text(f"# K\n\n## Liste? {{#k{classes}}}\n\n{lines}", "utf-8")


def cli(content: Path, *args: str) -> Any:
    output = ["-o", str(content.parent / "t.apkg")] if args[0] in ("build", "preview") else []
    result = kam([*args, "--content", str(content), *output])
    assert result.exit_code == 0, result.output
    return result


def test_a_removed_item_is_an_empty_card_until_it_comes_back_with_its_reviews(
    tmp_path: Path,
) -> None:
    """The engine's facts the design rests on: c1-c3, then c1, c2, c4, then c3 again."""
    content = tmp_path / "content"
    apkg = tmp_path / "t.apkg"
    write_deck(content, ["Anfang", "Mitte", "Schluss"])
    cli(content, "build")
    col = open_collection(tmp_path / "c.anki2")
    import_apkg(col, apkg)
    review_all(col, "T")
    reviewed = scheduling(col)
    note = list_note(col, "k")
    first = cards_by_cloze(col, note)

    write_deck(content, ["Anfang", "Mitte", "Neu"])
    result = cli(content, "build")
    assert "- k c3: Schluss" in result.output and EMPTY_CARDS_HINT in result.output
    assert "+ k c4: Neu" in result.output
    import_apkg(col, apkg)
    cards = cards_by_cloze(col, note)
    assert set(cards) == {1, 2, 3, 4} and empty_cards(col) == {first[3]}
    assert {card: scheduling(col)[card] for card in reviewed} == reviewed

    # Builds later, at another place: the old cloze number, so the old card asks again.
    cli(content, "build")
    write_deck(content, ["Schluss", "Anfang", "Mitte", "Neu"])
    assert "+ k c3: Schluss" in cli(content, "build").output
    import_apkg(col, apkg)
    assert cards_by_cloze(col, note) == cards and not empty_cards(col)
    assert {card: scheduling(col)[card] for card in reviewed} == reviewed
    assert "Schluss</span>" in asks(col, first[3])
    col.close()


def test_list_cards_off_and_on_again_bring_every_items_card_back(tmp_path: Path) -> None:
    content = tmp_path / "content"
    apkg = tmp_path / "t.apkg"
    items = ["eins", "zwei", "drei"]
    write_deck(content, items)
    cli(content, "build")
    col = open_collection(tmp_path / "c.anki2")
    import_apkg(col, apkg)
    review_all(col, "T")
    reviewed = scheduling(col)
    cards = cards_by_cloze(col, list_note(col, "k"))

    write_deck(content, items, classes="")
    result = cli(content, "build")
    assert "- k/liste: Liste? (the list note)" in result.output
    import_apkg(col, apkg)
    # The tombstone is still a list note: its cards keep asking, tagged as removed.
    assert not empty_cards(col) and col.find_notes("tag:kam::entfernt")
    cli(content, "build")
    cli(content, "build", "--forget-removed")

    write_deck(content, ["drei", "eins", "zwei!"])
    result = cli(content, "build")
    assert "+ k c3: drei" in result.output and "+ k c2: zwei!" in result.output
    import_apkg(col, apkg)
    assert cards_by_cloze(col, list_note(col, "k")) == cards
    assert scheduling(col) == reviewed and not empty_cards(col)
    assert not col.find_notes("tag:kam::entfernt")
    col.close()


def test_images_alone_keep_their_cards_when_swapped(tmp_path: Path) -> None:
    content = tmp_path / "content"
    apkg = tmp_path / "t.apkg"
    write_deck(content, ["![](a.png)", "![](b.png)", "Text"])
    (content / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"A" * 20)
    (content / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"B" * 20)
    cli(content, "build")
    col = open_collection(tmp_path / "c.anki2")
    import_apkg(col, apkg)
    note = list_note(col, "k")
    cards = cards_by_cloze(col, note)
    shown = {number: asks(col, card) for number, card in cards.items()}

    write_deck(content, ["Text", "![](b.png)", "![](a.png)"])
    result = cli(content, "build")
    assert "3 item cards in 1 list note: 0 added, 0 changed, 0 removed" in result.output
    import_apkg(col, apkg)
    assert cards_by_cloze(col, note) == cards

    def asked(html: str) -> str:
        return html.rsplit('class="cloze"', 1)[1].split("</span>", 1)[0]

    for number, card in cards.items():
        assert asked(asks(col, card)) == asked(shown[number])
    col.close()


def test_a_long_list_with_many_rewordings_and_a_moved_block_keeps_every_key(
    tmp_path: Path,
) -> None:
    content = tmp_path / "content"
    items = [f"Punkt {n}: {word} der Kundenbeziehung" for n, word in _words(80)]
    write_deck(content, items)
    cli(content, "build")
    keys = {v["item"]: int(k.split("/")[1]) for k, v in lock_items(content).items()}
    edited = [*items]
    for n in range(0, 72, 6):  # twelve items reworded a little
        edited[n] = edited[n].replace("der Kundenbeziehung", "der Kundenbeziehungen")
    edited = edited[:10] + edited[40:45] + edited[10:40] + edited[45:]  # a block of five moves
    write_deck(content, edited)
    result = cli(content, "build")
    assert "80 item cards in 1 list note: 0 added, 12 changed, 0 removed" in result.output
    after = {v["item"]: int(k.split("/")[1]) for k, v in lock_items(content).items()}
    for text, key in keys.items():
        assert after.get(text, after.get(text + "en")) == key


def _words(count: int) -> list[tuple[int, str]]:
    words = ["Analyse", "Planung", "Pflege", "Bewertung", "Entwicklung", "Sicherung", "Ausbau"]
    return [(n, words[n % len(words)]) for n in range(1, count + 1)]


def test_the_deck_wide_rule_warns_before_a_card_loses_its_item_cards(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_deck(content, ["a", "b", "c"], classes="")
    (content / "deck.toml").write_text(DECK + "list_cards = 3\n", encoding="utf-8")
    assert "+ k c3: c" in cli(content, "build").output
    path = content / "k.md"
    path.write_text(path.read_text("utf-8") + "\nEin Satz darunter.\n", "utf-8")
    result = kam(["check", "--strict", "--content", str(content)])
    assert result.exit_code == 1
    assert f"{path.as_posix()}:3: warning: card 'k' has item cards, but its answer" in result.output
    assert "add .liste to its heading" in result.output


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
    result = cli(content, "build", "--dry-run")
    added = [line.split(":")[0].strip() for line in result.output.splitlines() if " c" in line]
    assert [a for a in added if a.startswith("+ ")] == [
        "+ drei c1",
        "+ drei c2",
        "+ drei c3",
        "+ label c1",
        "+ label c2",
    ]
    assert "+ drei c2: b b1" in result.output  # a sub-item goes with its item
    assert "5 item cards in 2 list notes" in result.output


def test_unknown_class_and_a_list_card_without_a_list_are_errors(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    (content / "k.md").write_text(
        "# K\n\n## A {#a .lste}\n\n- x\n\n## B {#b .liste}\n\nNur Text.\n\n"
        "## C {#c .liste .ohne-liste}\n\n- x\n\n## D {#d liste}\n\n- x\n",
        encoding="utf-8",
    )
    result = kam(["check", "--content", str(content)])
    assert result.exit_code == 1
    path = (content / "k.md").as_posix()
    assert result.output.splitlines() == [
        f"{path}:3: error: unknown class '.lste' (known: .liste, .folge, .ohne-liste)",
        f"{path}:7: error: list card (.liste) without a list in its answer",
        f"{path}:11: error: classes .liste/.folge and .ohne-liste contradict each other",
        f"{path}:15: error: malformed card id 'd liste': U+0020 SPACE at column 9 is not allowed: "
        "use lowercase ASCII letters, digits and hyphens",
    ]


def test_rebuild_from_the_file_cache_gives_the_same_list_notes(
    list_content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    first = (tmp_path / "kam.apkg").read_bytes()
    assert any((tmp_path / ".kam-anki-cache").iterdir())
    result = build()
    assert f"0 added, 0 changed, 0 removed, {SEED_CARDS} unchanged" in result.output
    assert (tmp_path / "kam.apkg").read_bytes() == first


def legacy_lock(content: Path) -> int:
    """The lock as the design before list notes left it: each item a live note ``card/key``
    with its text; returns how many."""
    lock = content / LOCK_NAME
    state = load_state(lock.read_bytes(), LOCK_NAME)
    cards = {k: v for k, v in state.cards.items() if not k.endswith("/liste")}
    live = {k: v.text for k, v in state.items.items() if v.live}
    if not live:  # the lock is still the earlier design's
        return sum(1 for k in state.cards if split_item_id(k) is not None)
    for item_id, text in live.items():
        cards[item_id] = Stamp("0123456789abcdef", state.epoch, text)
    legacy = dataclasses.replace(state, cards=cards, removed={}, items={})
    with lock.open("w", encoding="utf-8") as out:
        dump_state(legacy, out)
    return len(live)


def test_the_earlier_item_notes_are_retired_once_and_their_numbers_kept(
    list_content: Path, build: RunBuild
) -> None:
    assert legacy_lock(list_content) == sum(ITEM_CARDS.values())
    first = build()
    assert "26 item note(s) of the earlier list cards are removed" in first.output
    assert "item reviews start over" in first.output
    assert f"- {TASKS}/7: Abwicklung Beanstandungen" not in first.output  # said in one line
    state = load_state((list_content / LOCK_NAME).read_bytes(), LOCK_NAME)
    assert len(state.removed) == sum(ITEM_CARDS.values())
    # The same item has the same number as before, now as its cloze number.
    assert state.items[f"{TASKS}/7"].text == "Abwicklung Beanstandungen"
    assert "item note(s)" not in build().output
    build("--forget-removed")
    again = build()
    assert "stay in the package" not in again.output and "item note(s)" not in again.output
    assert not load_state((list_content / LOCK_NAME).read_bytes(), LOCK_NAME).removed


def test_check_and_dry_run_count_item_cards_apart_and_write_nothing(
    list_content: Path, tmp_path: Path, build: RunBuild
) -> None:
    lock = (list_content / LOCK_NAME).read_bytes()
    edit(list_content / CHAPTER_FILE, "- Erfolgsmessung", "- Erfolgsmessung\n- Lessons learned")
    checked = kam(["check", "--content", str(list_content)])
    items = sum(ITEM_CARDS.values()) + 1
    assert checked.exit_code == 0 and f"{SEED_CARDS} cards and {items} item cards ok" in (
        checked.output
    )
    result = build("--dry-run")
    assert "+ kam-zirkel-schritte-im-rahmen-der-realisierung-5 c6: Lessons learned" in (
        result.output
    )
    assert not (tmp_path / "kam.apkg").exists()
    assert (list_content / LOCK_NAME).read_bytes() == lock


def test_a_fresh_clone_never_reuses_a_number_that_only_git_history_remembers(repo: Repo) -> None:
    last = "Aufbau von Eintrittsbarrieren für Wettbewerber beim Key Account"
    repo.edit("{#ziele-des-kam-5}", "{#ziele-des-kam-5 .liste}")
    assert f"+ ziele-des-kam-5 c6: {last}" in repo.build().output
    repo.commit("list cards for the goals")
    git(repo.root, "revert", "--no-edit", "HEAD")  # the lock forgets the items again
    clone = repo.root.parent / "clone"
    git(repo.root.parent, "clone", "-q", str(repo.root), str(clone))
    repo.root = clone  # no build/ record here: only the lock's git history knows c6
    repo.apkg = clone / "build" / "kam.apkg"
    repo.edit("{#ziele-des-kam-5}", "{#ziele-des-kam-5 .liste}")
    repo.edit(f"- {last}\n", "- Ganz etwas anderes\n")
    output = repo.build().output
    assert "+ ziele-des-kam-5 c7: Ganz etwas anderes" in output
    assert "+ ziele-des-kam-5 c1: Optimierung der Beziehungen (extern)" in output


def test_clozes_and_braces_in_an_item_stay_text(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_deck(content, ["a::b }} {{c9::x}}", "`{{c2::y}}` und :::"])
    cli(content, "build")
    col = open_collection(tmp_path / "c.anki2")
    import_apkg(col, tmp_path / "t.apkg")
    note = list_note(col, "k")
    assert sorted(cards_by_cloze(col, note)) == [1, 2] and not empty_cards(col)
    first, second = (col.get_card(c).answer() for c in cards_by_cloze(col, note).values())
    assert "a::b }} {{c9::x}}" in html.unescape(first)
    assert "{{c2::y}}</code> und :::" in html.unescape(second)
    col.close()


def test_the_list_note_types_names_and_id_are_frozen(tmp_path: Path) -> None:
    # Renaming any of these makes Anki fork the note type; existing list notes stop updating.
    assert notetype.LIST_FIELDS == ("Frage", "Liste", "Kapitel", "Quelle")
    assert notetype.LIST_TEMPLATE_NAME == "Listenpunkt"
    assert notetype.LIST_NAME == "KAM-Anki Liste"
    shipped = DeckConfig(name="KAM", deck_id=1121604270, notetype_id=1886530249)
    assert list_notetype_id(shipped) == LIST_NOTETYPE_ID
    col = open_collection(tmp_path / "c.anki2")
    import_apkg(col, SHIPPED_APKG)
    found = col._backend.get_notetype(LIST_NOTETYPE_ID)
    assert tuple(f.name for f in found.fields) == notetype.LIST_FIELDS
    assert [t.name for t in found.templates] == [notetype.LIST_TEMPLATE_NAME]
    assert found.config.kind == 1  # cloze
    # One design for both note types: the deck's CSS, night mode included.
    assert found.config.css == col._backend.get_notetype(shipped.notetype_id).config.css
    col.close()


def test_items_of_code_alone_are_told_apart_by_their_code() -> None:
    answer = "- ```\n  x = 1\n  ```\n- ```\n  y = 2\n  ```\n- ![](a.png)\n- ![](b.png)\n"
    card = Card("k", "Frage?", answer, "K", "k.md", 3, 5, ("liste",))
    listed, problem = list_card(card, render_answer(answer))
    assert problem is None and listed is not None
    texts = [item.text for item in listed.items]
    assert len(set(texts)) == 4 and "x = 1" in texts[0] and "y = 2" in texts[1]
    assert "a.png" in texts[2] and "b.png" in texts[3]


BEFORE = Path(__file__).resolve().parent / "fixtures" / "before-list-notes"


def test_a_learner_of_the_earlier_item_notes_moves_over_by_normal_sync(
    list_content: Path, tmp_path: Path, build: RunBuild
) -> None:
    """The shipped deck as it was before list notes (its package and lock), learnt and synced;
    then the first build with list notes, imported: the seed cards untouched, the item notes
    retired as tombstones, the list notes new, and the phone gets it all by a normal sync."""
    shutil.copy(BEFORE / LOCK_NAME, list_content / LOCK_NAME)
    desktop = open_collection(tmp_path / "desktop.anki2")
    assert len(import_apkg(desktop, BEFORE / "kam.apkg").new) == SEED_CARDS + 26
    options = desktop.decks.config_dict_for_deck_id(desktop.decks.id_for_name("KAM"))
    options["new"]["perDay"] = 1000
    desktop.decks.save(options)
    review_all(desktop, "KAM")
    reviewed = scheduling(desktop)
    with sync_server(tmp_path / "server") as server:
        auth, mobile, mobile_auth = first_sync(desktop, server, tmp_path / "mobile.anki2")
        result = build()
        assert "26 item note(s) of the earlier list cards are removed" in result.output
        log = import_apkg(desktop, tmp_path / "kam.apkg")
        assert len(log.new) == len(ITEM_CARDS) and len(log.updated) == 26
        assert len(log.duplicate) == SEED_CARDS and not log.conflicting
        retired = desktop.find_notes("tag:kam::entfernt")
        assert len(retired) == 26
        states = scheduling(desktop)
        assert {card: states[card] for card in reviewed} == reviewed  # nothing rescheduled
        assert len(desktop.find_cards(LIST_SEARCH)) == sum(ITEM_CARDS.values())
        assert status_name(desktop, auth) == "NORMAL_SYNC"
        assert sync(desktop, auth) == "NO_CHANGES"
        assert sync(mobile, mobile_auth) == "NO_CHANGES"
        assert len(mobile.find_cards(LIST_SEARCH)) == sum(ITEM_CARDS.values())
        assert scheduling(mobile) == scheduling(desktop)
        mobile.close()
    desktop.close()


def test_a_list_card_given_a_new_id_warns_once_and_builds(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_deck(content, ["eins", "zwei"])
    cli(content, "build")
    path = content / "k.md"
    path.write_text(path.read_text("utf-8").replace("{#k .liste}", "{#k2 .liste}"), "utf-8")
    result = cli(content, "build", "--dry-run")
    assert result.output.count("has the question of the removed card 'k'") == 1
    assert "- k/liste: Liste? (the list note)" in result.output


def test_an_item_that_shows_nothing_gets_no_card(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_deck(content, ["eins", "<!-- später -->", "zwei"])
    result = cli(content, "build")
    assert "2 item cards in 1 list note" in result.output
    assert "+ k c2: zwei" in result.output


def test_an_item_missing_when_list_cards_come_back_is_reported_removed(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_deck(content, ["eins", "zwei", "drei"])
    cli(content, "build")
    write_deck(content, ["eins", "zwei", "drei"], classes="")
    cli(content, "build")
    write_deck(content, ["zwei", "eins"])
    result = cli(content, "build")
    assert "+ k c2: zwei" in result.output and "+ k c1: eins" in result.output
    assert "- k c3: drei" in result.output and EMPTY_CARDS_HINT in result.output
    assert lock_items(content)["k/3"] == {"item": "drei", "gone": True}
