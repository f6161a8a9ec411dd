"""``kam-anki pull``: a learner's edits in Anki come home to the Markdown, through the
official Anki engine and its own sync server, as a learner and an author would run it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from anki_helpers import (
    first_sync,
    import_apkg,
    new_learner,
    notes_by_source,
    open_collection,
    scheduling,
    sync,
    sync_server,
)
from helpers import CHAPTER, Repo, RunBuild, kam
from kam_anki.items import split_item_id
from kam_anki.state import LOCK_NAME, load_state
from test_images_and_html import png

# anki.collection first (see anki_helpers).
from anki.collection import DeckIdLimit, ExportAnkiPackageOptions  # isort: skip

ITEM_OLD = "Förderung der Kundenorientierung"
ITEM_NEW = "Förderung der Kunden- und Marktorientierung"
BOLD_OLD = "- Kontraktmanagement und Konditionenverhandlungen"
BOLD_NEW = "- **Kontraktmanagement** und Konditionenverhandlungen"


def pull(repo: Repo, source: Path, *args: str) -> Result:
    return kam(
        ["pull", "--content", str(repo.root / "content"), "-o", str(repo.apkg), str(source), *args],
    )


def export(col: Any, path: Path, *, legacy: bool = False, scheduling: bool = True) -> Path:
    """*File > Export… > Anki Deck Package* of the deck."""
    options = ExportAnkiPackageOptions(
        with_scheduling=scheduling, with_deck_configs=False, with_media=True, legacy=legacy
    )
    col.export_anki_package(
        out_path=str(path), options=options, limit=DeckIdLimit(col.decks.id_for_name("KAM"))
    )
    return path


def edit_note(col: Any, card_id: str, old: str, new: str) -> None:
    """A learner's edit in Anki's editor (which writes the field's HTML as it is)."""
    note = notes_by_source(col)[card_id]
    assert old in note["Antwort"]
    note["Antwort"] = note["Antwort"].replace(old, new, 1)
    col.update_note(note)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.split("\n"), after.split("\n")
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_two_edits_on_a_phone_come_home_and_stay_through_build_and_import(  # noqa: PLR0915
    repo: Repo, tmp_path: Path
) -> None:
    desktop, reviewed = new_learner(tmp_path / "desktop.anki2", repo.apkg)
    with sync_server(tmp_path / "server") as server:
        auth, phone, phone_auth = first_sync(desktop, server, tmp_path / "phone.anki2")
        # On the phone: an item's text, and a word set in bold (as Anki's editor writes it,
        # with a no-break space and a trailing line break).
        edit_note(phone, "ziele-des-kam-5", ITEM_OLD, ITEM_NEW.replace(" und", "&nbsp;und"))
        edit_note(
            phone,
            "aufgaben-des-kam-8",
            "Kontraktmanagement und Konditionenverhandlungen</li>",
            "<b>Kontraktmanagement</b> und Konditionenverhandlungen<br></li>",
        )
        assert sync(phone, phone_auth) == "NO_CHANGES"
        assert sync(desktop, auth) == "NO_CHANGES"
        phone.close()
    exports = [
        export(desktop, tmp_path / "current.apkg"),
        export(desktop, tmp_path / "legacy.apkg", legacy=True, scheduling=False),
    ]
    desktop.close()  # Anki closed: its collection file may be read too
    collection = tmp_path / "desktop.anki2"
    collection_digest = hashlib.sha256(collection.read_bytes()).hexdigest()
    chapter = repo.root / CHAPTER
    original = chapter.read_text(encoding="utf-8")
    wanted = [
        (BOLD_OLD, BOLD_NEW),
        (f"- {ITEM_OLD}", f"- {ITEM_NEW}"),
    ]

    for source in [*exports, collection]:
        chapter.write_text(original, encoding="utf-8")
        dry = pull(repo, source, "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert chapter.read_text(encoding="utf-8") == original  # a dry run writes nothing
        assert f"-{BOLD_OLD}\n+{BOLD_NEW}\n" in dry.output
        first = pull(repo, source)
        assert first.exit_code == 0, first.output
        assert f"{CHAPTER}:14: pulled: aufgaben-des-kam-8: answer" in first.output
        assert f"{CHAPTER}:27: pulled: ziele-des-kam-5: answer" in first.output
        assert "2 pulled, 0 conflict(s), 0 not pulled, 6 as shipped" in first.output
        pulled = chapter.read_text(encoding="utf-8")
        assert changed_lines(original, pulled) == wanted  # exactly those two places
        again = pull(repo, source)
        assert again.exit_code == 0, again.output
        assert "0 pulled, 0 conflict(s), 0 not pulled, 8 as shipped" in again.output
        assert chapter.read_text(encoding="utf-8") == pulled
    assert hashlib.sha256(collection.read_bytes()).hexdigest() == collection_digest

    # The build after the pull runs after the learner's edit (a second later at least): the
    # two notes are newer than the learner's and update them in place.
    built = repo.build(clock=1)
    assert "0 added, 2 changed, 0 removed, 6 unchanged" in built.output
    assert "~ aufgaben-des-kam-8:" in built.output
    assert "~ ziele-des-kam-5:" in built.output
    # The same collection, read again: the import now would update exactly those two.
    forecast = pull(repo, collection)
    assert forecast.exit_code == 0, forecast.output
    assert "0 new, 2 updated, 6 skipped, 0 conflicting" in forecast.output
    assert "  updated: aufgaben-des-kam-8, ziele-des-kam-5\n" in forecast.output

    desktop = open_collection(collection)
    before = scheduling(desktop)
    assert before == reviewed
    log = import_apkg(desktop, repo.apkg)
    assert len(log.updated) == 2 and not log.new and not log.conflicting
    notes = notes_by_source(desktop)
    assert "<strong>Kontraktmanagement</strong> und" in notes["aufgaben-des-kam-8"]["Antwort"]
    assert f"<li>{ITEM_NEW}</li>" in notes["ziele-des-kam-5"]["Antwort"]
    assert scheduling(desktop) == before  # every card's scheduling stays
    desktop.close()
    assert "0 pulled, 0 conflict(s), 0 not pulled, 8 as shipped" in pull(repo, collection).output


def test_an_item_edited_by_author_and_learner_is_a_conflict_that_keeps_the_markdown(
    repo: Repo, tmp_path: Path
) -> None:
    desktop, _ = new_learner(tmp_path / "desktop.anki2", repo.apkg)
    edit_note(desktop, "ziele-des-kam-5", ITEM_OLD, "Förderung der Kundennähe")
    source = export(desktop, tmp_path / "export.apkg")
    desktop.close()
    repo.edit(f"- {ITEM_OLD}", "- Förderung der Kundenorientierung im ganzen Haus")
    authored = (repo.root / CHAPTER).read_text(encoding="utf-8")

    result = pull(repo, source)
    assert result.exit_code == 1, result.output
    assert (repo.root / CHAPTER).read_text(encoding="utf-8") == authored
    assert f"{CHAPTER}:27: conflict: ziele-des-kam-5: changed in Anki and in the Markdown" in (
        result.output
    )
    assert "    --- Markdown (author, kept)\n    +++ Anki (learner)\n" in result.output
    assert "    -- Förderung der Kundenorientierung im ganzen Haus\n" in result.output
    assert "    +- Förderung der Kundennähe\n" in result.output
    assert "0 pulled, 1 conflict(s), 0 not pulled, 7 as shipped" in result.output


def test_an_author_build_after_the_learners_edit_is_a_conflict_too(
    repo: Repo, tmp_path: Path
) -> None:
    desktop, _ = new_learner(tmp_path / "desktop.anki2", repo.apkg)
    edit_note(desktop, "ziele-des-kam-5", ITEM_OLD, "Förderung der Kundennähe")
    source = export(desktop, tmp_path / "export.apkg")
    desktop.close()
    # The author changes the card and builds after the learner's edit (a minute later):
    # the learner edited the version before, and the next import replaces their edit.
    repo.edit(f"- {ITEM_OLD}", "- Förderung der Kundenorientierung im ganzen Haus")
    repo.build(clock=60)
    authored = (repo.root / CHAPTER).read_text(encoding="utf-8")
    result = pull(repo, source)
    assert result.exit_code == 1, result.output
    assert "conflict: ziele-des-kam-5:" in result.output
    assert "built later than the edit" in result.output
    assert (repo.root / CHAPTER).read_text(encoding="utf-8") == authored
    assert "  updated: ziele-des-kam-5\n" in result.output  # what an import would do to it
    assert "  the update replaces the learner's own edit of: ziele-des-kam-5\n" in result.output


def test_a_coloured_word_is_not_pulled_and_says_why(repo: Repo, tmp_path: Path) -> None:
    desktop, _ = new_learner(tmp_path / "desktop.anki2", repo.apkg)
    edit_note(
        desktop,
        "ziele-des-kam-5",
        ITEM_OLD,
        f'<span style="color: rgb(255, 0, 0);">{ITEM_OLD}</span>',
    )
    source = export(desktop, tmp_path / "export.apkg")
    desktop.close()
    original = (repo.root / CHAPTER).read_text(encoding="utf-8")
    result = pull(repo, source)
    assert result.exit_code == 1, result.output
    assert (
        f'{CHAPTER}:27: not pulled: ziele-des-kam-5: <span style="color: rgb(255, 0, 0);">: '
        "Markdown cannot say it (allow_html = false in deck.toml)"
    ) in result.output
    assert (repo.root / CHAPTER).read_text(encoding="utf-8") == original


def test_a_collection_that_anki_has_open_is_not_read(repo: Repo, tmp_path: Path) -> None:
    desktop, _ = new_learner(tmp_path / "collection.anki2", repo.apkg)
    result = pull(repo, tmp_path / "collection.anki2")  # still open, as in Anki desktop
    desktop.close()
    assert result.exit_code == 1
    assert "Anki has this collection open: close Anki (or export the deck" in result.output


def test_a_source_that_is_no_anki_file_is_a_usage_error(repo: Repo, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert pull(repo, tmp_path / "notes.txt").exit_code == 2
    assert pull(repo, tmp_path / "missing.apkg").exit_code == 2
    (tmp_path / "broken.apkg").write_bytes(b"not a zip")
    broken = pull(repo, tmp_path / "broken.apkg")
    assert broken.exit_code == 1
    assert "broken.apkg: cannot read it as an Anki package" in broken.output


def test_without_the_anki_engine_pull_says_how_to_install_it_and_build_never_loads_it(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "x.apkg").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "anki.collection", None)  # as if not installed
    result = pull(repo, tmp_path / "x.apkg")
    assert result.exit_code == 1
    assert "pip install 'kam-anki[anki]'" in result.output
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from kam_anki.cli import main\n"
        f"r = CliRunner().invoke(main, ['build', '--content', {str(repo.root / 'content')!r},"
        f" '-o', {str(tmp_path / 'out.apkg')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('anki', 'aqt')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_second_edit_of_the_same_card_after_a_pull_is_pulled_again(
    repo: Repo, tmp_path: Path
) -> None:
    desktop, _ = new_learner(tmp_path / "desktop.anki2", repo.apkg)
    edit_note(desktop, "ziele-des-kam-5", ITEM_OLD, ITEM_NEW)
    # Time passes as in life: the edit was two minutes ago, the build after the pull one
    # minute ago, and the learner's next edit is now.
    note = notes_by_source(desktop)["ziele-des-kam-5"]
    desktop.db.execute("update notes set mod = mod - 120 where id = ?", note.id)
    assert pull(repo, export(desktop, tmp_path / "first.apkg")).exit_code == 0
    repo.build(clock=-60)
    assert len(import_apkg(desktop, repo.apkg).updated) == 1
    edit_note(desktop, "ziele-des-kam-5", ITEM_NEW, f"{ITEM_NEW} (intern)")
    second = export(desktop, tmp_path / "second.apkg")
    desktop.close()
    result = pull(repo, second)
    assert result.exit_code == 0, result.output
    assert "1 pulled, 0 conflict(s)" in result.output
    assert f"- {ITEM_NEW} (intern)\n" in (repo.root / CHAPTER).read_text(encoding="utf-8")


def test_a_pull_keeps_the_files_bom_line_ends_and_finds_images_by_content(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    (content / "bilder").mkdir()
    (content / "bilder" / "zirkel.png").write_bytes(png(200))
    chapter = content / "key-account-management.md"
    text = chapter.read_text(encoding="utf-8")
    text += "\n## Der Zirkel als Skizze {#skizze}\n\n![Skizze](bilder/zirkel.png)\nDer Zirkel\n"
    chapter.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    build()
    desktop = open_collection(tmp_path / "desktop.anki2")
    assert len(import_apkg(desktop, tmp_path / "kam.apkg").new) == 9
    edit_note(desktop, "skizze", "Der Zirkel", "Der <i>ganze</i> Zirkel")
    note = notes_by_source(desktop)["skizze"]
    note["Frage"] = "Der KAM-Zirkel als <b>Skizze</b>"
    desktop.update_note(note)
    source = export(desktop, tmp_path / "export.apkg")
    desktop.close()
    before = chapter.read_bytes()

    result = kam(["pull", "--content", str(content), "-o", str(tmp_path / "kam.apkg"), str(source)])
    assert result.exit_code == 0, result.output
    after = chapter.read_bytes()
    assert "question and answer as the learner wrote it" in result.output
    assert after == before.replace(
        b"\r\n## Der Zirkel als Skizze {#skizze}\r\n",
        b"\r\n## Der KAM-Zirkel als **Skizze** {#skizze}\r\n",
    ).replace(b"\r\nDer Zirkel\r\n", b"\r\nDer *ganze* Zirkel\r\n")


ANALYSE = "kam-zirkel-schritte-im-rahmen-der-analyse-5"


def list_note(col: Any, card_id: str) -> Any:
    """A card's list note (of the note type "KAM-Anki Liste")."""
    return notes_by_source(col)[f"{card_id}/liste"]


def edit_list(col: Any, card_id: str, old: str, new: str) -> None:
    """A learner's edit in the list field of a card's list note, as the editor writes it."""
    note = list_note(col, card_id)
    assert old in note["Liste"]
    note["Liste"] = note["Liste"].replace(old, new, 1)
    col.update_note(note)


def pull_content(content: Path, tmp_path: Path, source: Path) -> Result:
    return kam(["pull", "--content", str(content), "-o", str(tmp_path / "kam.apkg"), str(source)])


def test_an_item_edited_in_its_list_note_goes_back_to_its_item_in_the_list(
    list_content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    desktop = open_collection(tmp_path / "desktop.anki2")
    import_apkg(desktop, tmp_path / "kam.apkg")
    # The item is the cloze whose number the lock keeps for it.
    key = lock_items(list_content)[f"ziele-des-kam-5#{ITEM_OLD}"]
    edit_list(desktop, "ziele-des-kam-5", f"{{{{c{key}::{ITEM_OLD}}}}}",
              f"{{{{c{key}::<b>Förderung</b>&nbsp;der Kundennähe}}}}<br>")  # fmt: skip
    other = list_note(desktop, "aufgaben-des-kam-8")
    other["Frage"] = other["Frage"].replace("Aufgaben", "Die Aufgaben")  # its question
    desktop.update_note(other)
    # A sequence (.folge): its list carries the build's class; a formula in an item.
    assert '<ul class="folge">' in list_note(desktop, ANALYSE)["Liste"]
    edit_list(desktop, ANALYSE, "Leistung}}", "Leistung \\(L_{a} \\ge 1\\)}}")
    source = export(desktop, tmp_path / "export.apkg")
    chapter = list_content / "key-account-management.md"
    original = chapter.read_text(encoding="utf-8")

    result = pull_content(list_content, tmp_path, source)
    assert result.exit_code == 0, result.output
    assert f"{CHAPTER}:14: pulled: aufgaben-des-kam-8: question" in result.output
    assert f"{CHAPTER}:27: pulled: ziele-des-kam-5: answer" in result.output
    assert f"{CHAPTER}:40: pulled: {ANALYSE}: answer" in result.output
    pulled = chapter.read_text(encoding="utf-8")
    assert changed_lines(original, pulled) == [
        ("## Aufgaben des KAM? (8) {#aufgaben-des-kam-8 .liste}",
         "## Die Aufgaben des KAM? (8) {#aufgaben-des-kam-8 .liste}"),
        (f"- {ITEM_OLD}", "- **Förderung** der Kundennähe"),
        ("- Leistung", "- Leistung \\(L_{a} \\ge 1\\)"),
    ]  # fmt: skip
    assert "0 pulled" in pull_content(list_content, tmp_path, source).output

    # The same item edited otherwise on the card's own note: which is meant, only the
    # learner knows.
    chapter.write_text(original, encoding="utf-8")
    edit_note(desktop, "ziele-des-kam-5", ITEM_OLD, "Förderung der Kundenbindung")
    differently = export(desktop, tmp_path / "differently.apkg")
    desktop.close()
    result = pull_content(list_content, tmp_path, differently)
    assert result.exit_code == 1, result.output
    assert (
        f"{CHAPTER}:27: not pulled: ziele-des-kam-5: edited differently in several notes "
        "(ziele-des-kam-5, ziele-des-kam-5/liste): make the edit by hand"
    ) in result.output
    assert changed_lines(original, chapter.read_text(encoding="utf-8")) == [
        ("## Aufgaben des KAM? (8) {#aufgaben-des-kam-8 .liste}",
         "## Die Aufgaben des KAM? (8) {#aufgaben-des-kam-8 .liste}"),
        ("- Leistung", "- Leistung \\(L_{a} \\ge 1\\)"),
    ]  # fmt: skip


def test_a_list_note_and_its_card_edited_alike_are_one_edit_and_an_unknown_cloze_is_not_pulled(
    list_content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    desktop = open_collection(tmp_path / "desktop.anki2")
    import_apkg(desktop, tmp_path / "kam.apkg")
    items = lock_items(list_content)
    key = items[f"ziele-des-kam-5#{ITEM_OLD}"]
    edit_list(desktop, "ziele-des-kam-5", ITEM_OLD, ITEM_NEW)
    edit_note(desktop, "ziele-des-kam-5", ITEM_OLD, ITEM_NEW)  # the same on the card
    step = items["aufgaben-des-kam-8#Kontraktmanagement und Konditionenverhandlungen"]
    edit_list(desktop, "aufgaben-des-kam-8", f"{{{{c{step}::", "{{c99::")
    edit_list(desktop, ANALYSE, "Leistung}}", "Leistung::was?}}")  # a hint
    source = export(desktop, tmp_path / "export.apkg")
    desktop.close()
    chapter = list_content / "key-account-management.md"
    original = chapter.read_text(encoding="utf-8")

    result = pull_content(list_content, tmp_path, source)
    assert result.exit_code == 1, result.output
    assert f"{CHAPTER}:27: pulled: ziele-des-kam-5: answer" in result.output
    assert (
        f"{CHAPTER}:14: not pulled: aufgaben-des-kam-8/liste: cloze c99 is no item of this "
        "list (the build numbers the items): add the item in the Markdown"
    ) in result.output
    assert f"{CHAPTER}:40: not pulled: {ANALYSE}/liste: cloze c" in result.output
    assert "has a hint: Markdown has no place for it" in result.output
    assert changed_lines(original, chapter.read_text(encoding="utf-8")) == [
        (f"- {ITEM_OLD}", f"- {ITEM_NEW}")
    ]
    assert key in lock_items(list_content).values()


def test_an_item_edited_by_author_and_in_the_list_note_is_a_conflict(
    list_content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    desktop = open_collection(tmp_path / "desktop.anki2")
    import_apkg(desktop, tmp_path / "kam.apkg")
    edit_list(desktop, "ziele-des-kam-5", ITEM_OLD, "Förderung der Kundennähe")
    source = export(desktop, tmp_path / "export.apkg")
    desktop.close()
    chapter = list_content / "key-account-management.md"
    chapter.write_text(
        chapter.read_text(encoding="utf-8").replace(f"- {ITEM_OLD}", f"- {ITEM_OLD} im Haus"),
        encoding="utf-8",
    )
    authored = chapter.read_text(encoding="utf-8")
    result = pull_content(list_content, tmp_path, source)
    assert result.exit_code == 1, result.output
    assert f"{CHAPTER}:27: conflict: ziele-des-kam-5: changed in Anki and in the Markdown" in (
        result.output
    )
    assert "    +- Förderung der Kundennähe\n" in result.output
    assert chapter.read_text(encoding="utf-8") == authored


def lock_items(content: Path) -> dict[str, int]:
    """The lock's items: ``card-id#text`` -> the item's cloze number."""
    state = load_state((content / LOCK_NAME).read_bytes(), LOCK_NAME)
    found = {}
    for item_id, item in state.items.items():
        parts = split_item_id(item_id)
        assert parts is not None
        found[f"{parts[0]}#{item.text}"] = parts[1]
    return found
