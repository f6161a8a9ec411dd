"""Every bad input ends in a clear ``path:line`` message, exit 1, and the last good deck kept."""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anki_helpers import import_apkg, open_collection
from helpers import kam
from kam_anki.cache import CACHE_DIR
from kam_anki.history import RECORD_NAME
from kam_anki.output import write_atomic

CARDS = "key-account-management.md"
SHIPPED_WARNINGS = [
    f"{CARDS}:14: warning: question says (8) but the answer lists 10 items",
    f"{CARDS}:27: warning: question says (5) but the answer lists 6 items",
]


def append(name: str, text: str) -> Callable[[Path], None]:
    def mutate(content: Path) -> None:
        path = content / name
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(old + text, encoding="utf-8")

    return mutate


def write(name: str, data: bytes) -> Callable[[Path], None]:
    def mutate(content: Path) -> None:
        (content / name).write_bytes(data)

    return mutate


def set_lock_epoch(epoch: int) -> Callable[[Path], None]:
    def mutate(content: Path) -> None:
        lock = content / "kam-anki.lock"
        data = json.loads(lock.read_text(encoding="utf-8"))
        data["epoch"] = epoch
        lock.write_text(json.dumps(data), encoding="utf-8")

    return mutate


def conflict_in_lock(content: Path) -> None:
    """A merge of two branches that each built the deck, as git leaves it."""
    lock = content / "kam-anki.lock"
    lines = lock.read_text(encoding="utf-8").splitlines(keepends=True)
    ours, theirs = lines[5], lines[5].replace('"mod": ', '"mod": 1')
    lines[5:6] = ["<<<<<<< HEAD\n", ours, "=======\n", theirs, ">>>>>>> feature\n"]
    lock.write_text("".join(lines), encoding="utf-8")


def remove_markdown(content: Path) -> None:
    for path in content.glob("*.md"):
        path.unlink()


def set_config(old: str, new: str) -> Callable[[Path], None]:
    def mutate(content: Path) -> None:
        path = content / "deck.toml"
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")

    return mutate


def both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(content: Path) -> None:
        for mutation in mutations:
            mutation(content)

    return mutate


ERRORS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "heading without answer": (
        append(CARDS, "\n## Leere Frage {#leer}\n"),
        [f"{CARDS}:69: error: card 'Leere Frage' has no answer"],
    ),
    "missing id": (
        append(CARDS, "\n## Ohne Id\n\n- a\n"),
        [f"{CARDS}:69: error: card has no id: run 'kam-anki ids' to add one to every heading"],
    ),
    "malformed id": (
        append(CARDS, "\n## Frage {#Frage_1}\n\n- a\n"),
        [
            f"{CARDS}:69: error: malformed card id 'Frage_1': U+0046 LATIN CAPITAL LETTER F "
            "at column 12 is not allowed: use lowercase ASCII letters, digits and hyphens"
        ],
    ),
    "homoglyph in an id": (
        append(CARDS, "\n## Frage {#c\u0430rd}\n\n- a\n"),
        [
            f"{CARDS}:69: error: malformed card id 'c\\u0430rd': U+0430 CYRILLIC SMALL LETTER A "
            "at column 13 is not allowed: use lowercase ASCII letters, digits and hyphens"
        ],
    ),
    "invisible character inside an id": (
        append(CARDS, "\n## Frage {#ab\u200bc}\n\n- a\n"),
        [
            f"{CARDS}:69: error: malformed card id 'ab\\u200bc': U+200B ZERO WIDTH SPACE "
            "at column 14 is not allowed: use lowercase ASCII letters, digits and hyphens"
        ],
    ),
    "text after the id": (
        append(CARDS, "\n## Frage {#frage} x\n\n- a\n"),
        [
            f"{CARDS}:69: error: text after the card id {{#frage}}: U+0078 LATIN SMALL LETTER X "
            "at column 19; the id must end the heading"
        ],
    ),
    "field separator in an answer": (
        append(CARDS, "\n## Frage {#frage}\n\n- a\x1fb\n"),
        [
            f"{CARDS}:71: error: U+001F (Anki's field separator) at column 4: "
            "Anki cannot keep it in a card (delete it)"
        ],
    ),
    "control character in a question": (
        append(CARDS, "\n## Fr\x07age {#frage}\n\n- a\n"),
        [
            f"{CARDS}:69: error: U+0007 (a control character) at column 6: "
            "Anki cannot keep it in a card (delete it)"
        ],
    ),
    "tab in a chapter title": (
        write("tab.md", b"# Ka\tpitel\n\n## Frage {#tab}\n\n- a\n"),
        [
            "tab.md:1: error: U+0009 (a tab) at column 5 in a chapter title: Anki drops it "
            "from deck names (use a space)"
        ],
    ),
    "setext heading with an id": (
        append(CARDS, "\nFrage {#setext}\n---\n\n- a\n"),
        [
            f"{CARDS}:69: error: heading with id 'setext' is not a card: the '---' or '===' line "
            "below it makes it an underlined heading (write '## Question {#id}', and leave a "
            "blank line before a '---' rule)"
        ],
    ),
    "id heading inside a closed code block": (
        append(CARDS, "\n## Code {#code}\n\n```\n## Beispiel {#beispiel}\n```\n"),
        [
            f"{CARDS}:72: error: heading with id 'beispiel' is not a card: it is inside the code "
            "block opened at line 71 (close that block first)"
        ],
    ),
    "id heading indented into code": (
        append(CARDS, "\n## Code {#code}\n\n    ## Eingerückt {#eingerueckt}\n"),
        [
            f"{CARDS}:71: error: heading with id 'eingerueckt' is not a card: it is indented "
            "4 spaces or more, which makes it code (start it at the left margin)"
        ],
    ),
    "id heading inside a list item": (
        append(CARDS, "\n## Liste {#liste}\n\n- Punkt\n\n  ## Drin {#drin}\n"),
        [
            f"{CARDS}:73: error: heading with id 'drin' is not a card: it is inside the list item "
            "at line 71 (start it at the left margin, after a blank line)"
        ],
    ),
    "id heading inside a block quote": (
        append(CARDS, "\n## Zitat {#zitat}\n\n> Zitat\n> ## Drin {#drin}\n"),
        [
            f"{CARDS}:72: error: heading with id 'drin' is not a card: it is inside the block "
            "quote at line 71 (remove the '>')"
        ],
    ),
    "id heading inside an html block": (
        both(
            set_config("allow_html = false", "allow_html = true"),
            append(CARDS, "\n## HTML {#html}\n\n<div>\n## Drin {#drin}\n"),
        ),
        [
            f"{CARDS}:72: error: heading with id 'drin' is not a card: it is inside the HTML "
            "block that starts at line 71 (leave a blank line before it)"
        ],
    ),
    "duplicate id": (
        append("zweites.md", "# Zwei\n\n## Noch eine Frage {#ziele-des-kam-5}\n\n- a\n"),
        [f"zweites.md:3: error: duplicate card id 'ziele-des-kam-5', first used at {CARDS}:27"],
    ),
    "invalid utf-8": (
        write("kaputt.md", b"# K\n\n## Frage {#f}\n\n- Gr\xf6\xdfe\n"),
        ["kaputt.md:5: error: invalid UTF-8 at byte offset 24: save the file as UTF-8"],
    ),
    "no cards at all": (remove_markdown, [":1: error: no Markdown files (*.md) with cards"]),
    "card before chapter": (
        write("ohne-titel.md", b"## Frage {#ohne-titel}\n\n- a\n"),
        ["ohne-titel.md:1: error: card before the chapter title: start the file with '# Title'"],
    ),
    "missing image": (
        append("bild.md", "# Bilder\n\n## Bild {#bild}\n\nText\n\n![Zirkel](zirkel.png)\n"),
        ["bild.md:7: error: image 'zirkel.png' not found (looked for content/zirkel.png)"],
    ),
    "image outside content": (
        append("bild.md", "# Bilder\n\n## Bild {#bild}\n\n![x](../README.png)\n"),
        ["bild.md:5: error: image '../README.png' points outside content/"],
    ),
    "absolute image path": (
        append("bild.md", "# Bilder\n\n## Bild {#bild}\n\n![x](/etc/x.png)\n"),
        ["bild.md:5: error: image '/etc/x.png': use a relative path with '/' inside content/"],
    ),
    "remote image": (
        append("bild.md", "# Bilder\n\n## Bild {#bild}\n\n![x](https://example.org/x.png)\n"),
        [
            "bild.md:5: error: image 'https://example.org/x.png' is not a file: "
            "put it into content/ and link it relatively"
        ],
    ),
    "unclosed code fence": (
        append(CARDS, "\n## Code {#code}\n\n```\nx = 1\n\n## Noch eine {#noch}\n\n- a\n"),
        [
            f"{CARDS}:71: error: code block opened here is never closed: it hides 1 heading(s) "
            "below (close it with the same fence)"
        ],
    ),
    "chapter titles that differ only in case": (
        write("gross.md", b"# KEY ACCOUNT MANAGER FLASHCARDS\n\n## Frage {#gross}\n\n- a\n"),
        [
            f"{CARDS}:3: error: the chapter makes the deck 'KAM::Key Account Manager "
            "Flashcards', which differs from 'KAM::KEY ACCOUNT MANAGER FLASHCARDS' "
            "(gross.md:3) only in case: Anki takes them for one deck; spell the titles the same"
        ],
    ),
    "unclosed code fence at the end of a file": (
        write("offen.md", b"# K\n\n## Code {#code}\n\n```\n## Noch eine {#noch}"),
        [
            "offen.md:5: error: code block opened here is never closed: it hides 1 heading(s) "
            "below (close it with the same fence)"
        ],
    ),
    "unclosed comment": (
        append(CARDS, "\n<!--\n## Weg {#weg}\n\n- a\n"),
        [
            f"{CARDS}:69: error: comment opened here is never closed: it hides 1 heading(s) "
            "below (close it with '-->')"
        ],
    ),
    "empty part of a chapter title": (
        write("leer-kapitel.md", b"# KAM:: \n\n## Frage {#leer-kapitel}\n\n- a\n"),
        ["leer-kapitel.md:1: error: empty chapter title (or an empty part around '::')"],
    ),
    "reserved chapter title": (
        write("entfernt.md", b"# Entfernt\n\n## Frage {#entfernt}\n\n- a\n"),
        ["entfernt.md:1: error: chapter title 'Entfernt' is kept for removed cards"],
    ),
    "corrupt lock file": (
        write("kam-anki.lock", b"\xff{"),
        [
            "kam-anki.lock:1: error: corrupt lock file ('utf-8' codec can't decode byte 0xff "
            "in position 0: invalid start byte): restore it from git, do not delete it"
        ],
    ),
    "lock file with an impossible time": (
        set_lock_epoch(10**15),
        [
            "kam-anki.lock:1: error: corrupt lock file (expected a time in seconds up to "
            "4102444800 (2100), got 1000000000000000): restore it from git, do not delete it"
        ],
    ),
    "lock file with a merge conflict": (
        conflict_in_lock,
        [
            "kam-anki.lock:6: error: unresolved git merge conflict: keep one side whole "
            "(git checkout --ours or --theirs on this file, then git add it) and run "
            "kam-anki build again; do not merge the lines by hand"
        ],
    ),
    "unknown deck.toml key": (
        append("deck.toml", "colour = 'blau'\n"),
        [
            "deck.toml:9: error: unknown key 'colour' "
            "(known: allow_html, deck_id, language, list_cards, name, notetype_id, "
            "notetype_name, tags)"
        ],
    ),
    "ill-typed deck.toml key": (
        set_config("deck_id = 1121604270", 'deck_id = "1121604270"'),
        ["deck.toml:4: error: 'deck_id' must be an integer, not str"],
    ),
    "control character in the deck name": (
        set_config('name = "KAM"', 'name = "KAM\\u001f"'),
        [
            "deck.toml:3: error: U+001F (Anki's field separator) (written as an escape) in "
            "'name': Anki drops it from deck names"
        ],
    ),
    "tab in the deck name": (
        set_config('name = "KAM"', 'name = "K\tAM"'),
        [
            "deck.toml:3: error: U+0009 (a tab) at column 10 in 'name': "
            "Anki drops it from deck names"
        ],
    ),
    "empty part of the deck name": (
        set_config('name = "KAM"', 'name = "KAM:: "'),
        ["deck.toml:3: error: 'name' has an empty part around '::'"],
    ),
    "broken toml": (
        append("deck.toml", "name = \n"),
        ["deck.toml:9: error: invalid TOML: Invalid value"],
    ),
}


def run_build(content: Path, out: Path, *extra: str) -> tuple[int, list[str]]:
    result = kam(["build", "--content", str(content), "-o", str(out), *extra])
    prefix = content.as_posix()
    lines = [
        line.removeprefix(prefix + "/").removeprefix(prefix)
        for line in result.output.splitlines()
        if ": error: " in line or ": warning: " in line
    ]
    assert "Traceback" not in result.output
    return result.exit_code, lines


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_content_gives_message_exit_1_and_keeps_last_good_deck(
    case: str, content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "build" / "kam.apkg"
    assert run_build(content, out)[0] == 0
    good = out.read_bytes()
    lock = (content / "kam-anki.lock").read_bytes()
    mutate, expected = ERRORS[case]
    mutate(content)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    code, lines = run_build(content, out)
    assert code == 1
    assert [line for line in lines if ": error: " in line] == expected
    assert out.read_bytes() == good
    if "lock" not in case:
        assert (content / "kam-anki.lock").read_bytes() == lock
    assert sorted(os.listdir(out.parent)) == [CACHE_DIR, RECORD_NAME, "kam.apkg"]
    assert os.listdir(scratch) == []
    check = kam(["check", "--content", str(content)])
    assert check.exit_code == 1


WARNINGS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "same question twice": (
        append(CARDS, "\n## Ziele des KAM? (5) {#ziele-2}\n\n- a\n- b\n- c\n- d\n- e\n"),
        [f"{CARDS}:69: warning: same question as {CARDS}:27 (ziele-des-kam-5)"],
    ),
    "raw html": (
        append(CARDS, "\n## HTML {#html}\n\nText <b>fett</b>\n"),
        [
            f"{CARDS}:71: warning: raw HTML is shown as text in 2 places of this file (line "
            "71): <b>, </b>; to have it rendered as HTML, set allow_html = true in deck.toml"
        ],
    ),
    "empty list item": (
        append(CARDS, "\n## Liste {#liste}\n\n- a\n-\n- b\n"),
        [f"{CARDS}:72: warning: empty list item"],
    ),
}


@pytest.mark.parametrize("case", sorted(WARNINGS))
def test_warnings_build_but_strict_check_fails(case: str, content: Path, tmp_path: Path) -> None:
    mutate, expected = WARNINGS[case]
    mutate(content)
    code, lines = run_build(content, tmp_path / "kam.apkg")
    assert code == 0
    assert lines == sorted([*SHIPPED_WARNINGS, *expected])
    strict = kam(["check", "--strict", "--content", str(content)])
    assert strict.exit_code == 1


def test_shipped_count_hints_are_reported_not_changed(content: Path, tmp_path: Path) -> None:
    code, lines = run_build(content, tmp_path / "kam.apkg")
    assert code == 0 and lines == SHIPPED_WARNINGS


MESSY = (
    "\ufeff# Kapitel\r\n\r\n## Gro\u0308\u00dfe Frage {#gross}  \r\n\r\n"
    "• erstens\t\r\n– zweitens   \r\n\r\nLabel:\r\n\u2022 Unterpunkt"
)
CLEAN = "# Kapitel\n\n## Größe Frage {#gross}\n\n- erstens\n- zweitens\n\nLabel:\n- Unterpunkt\n"


@pytest.mark.parametrize(
    "encoded",
    [MESSY.encode(), MESSY.replace("\r\n", "\r").encode()],
    ids=["bom-crlf-nfd-tabs-bullets-no-final-newline", "cr-line-ends"],
)
def test_pasted_text_builds_like_clean_markdown(encoded: bytes, tmp_path: Path) -> None:
    fields = []
    for name, data in (("messy", encoded), ("clean", CLEAN.encode())):
        content = tmp_path / name
        content.mkdir()
        (content / "deck.toml").write_text(
            'name = "T"\ndeck_id = 11\nnotetype_id = 12\n', encoding="utf-8"
        )
        (content / "k.md").write_bytes(data)
        assert run_build(content, tmp_path / f"{name}.apkg") == (0, [])
        col = open_collection(tmp_path / f"{name}.anki2")
        import_apkg(col, tmp_path / f"{name}.apkg")
        (note_id,) = col.find_notes("")
        fields.append(col.get_note(note_id).fields)
        col.close()
    assert fields[0] == fields[1]
    assert fields[0][0] == unicodedata.normalize("NFC", "Größe Frage")
    assert fields[0][1].count("<li>") == 3


def test_code_on_one_line_between_backticks_is_not_a_fence(content: Path, tmp_path: Path) -> None:
    append(CARDS, "\n## Inline {#inline}\n\n```Beispiel```\n\n## Danach {#danach}\n\n- a\n")(
        content
    )
    result = kam(["build", "--content", str(content), "-o", f"{tmp_path}/k"])
    assert result.exit_code == 0 and "10 cards: 2 added" in result.output


def test_a_lock_that_cannot_be_written_leaves_the_last_good_package(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "kam.apkg"
    assert run_build(content, out)[0] == 0
    good = out.read_bytes()
    append(CARDS, "\n## Neu {#neu}\n\n- a\n")(content)
    replace = os.replace

    def refuse_lock(source: Any, target: Any) -> None:
        # What a read-only content/ does (root, who runs CI, is never refused for real).
        if Path(target).name == "kam-anki.lock":
            raise PermissionError(13, "Permission denied", str(target))
        replace(source, target)

    monkeypatch.setattr(os, "replace", refuse_lock)
    result = kam(["build", "--content", str(content), "-o", str(out)])
    assert result.exit_code == 1
    lock = (content / "kam-anki.lock").as_posix()
    assert f"{lock}: error: cannot write: Permission denied\n" == result.output
    assert out.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == [CACHE_DIR, RECORD_NAME, "content", "kam.apkg"]
    assert sorted(os.listdir(content)) == [
        "deck.toml",
        "kam-anki.lock",
        "key-account-management.md",
    ]


def test_interrupted_write_leaves_old_file_and_no_litter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "kam.apkg"
    target.write_bytes(b"old")

    def fail(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["kam.apkg"]
