"""An identity never changes unless the author changes it: invisible characters around an id,
lost ids and renamed ids, checked through the CLI and in the Anki engine."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from anki_helpers import import_apkg, open_collection
from helpers import examples, kam
from kam_anki import headings
from kam_anki.headings import find_id, heading_span

SPACES = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Zs"]
FORMATS = [
    "\u00ad",  # soft hyphen
    "\u061c",  # Arabic letter mark
    "\u180e",  # Mongolian vowel separator
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202e",
    "\u2060",
    "\u2066",
    "\ufeff",
    "\U000e0001",  # language tag
]
CONTROLS = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in "\n\r"]
FILLERS = ["\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f", "\ufe0f", "\u2028"]
INVISIBLE = [*SPACES, *FORMATS, *CONTROLS, *FILLERS]
DECK = 'name = "T"\ndeck_id = 11\nnotetype_id = 12\n'


def run(*args: str) -> Result:
    return kam(list(args), env={"SOURCE_DATE_EPOCH": "1700000000"})


def battery_deck(content: Path, heading: str, answer: str = "Antwort") -> Path:
    """One card per invisible character; ``heading`` is formatted with the card's number
    and the character."""
    content.mkdir(exist_ok=True)
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    cards = "".join(
        heading.format(n=n, c=c) + f"\n\n- {answer} {n}\n\n" for n, c in enumerate(INVISIBLE)
    )
    path = content / "k.md"
    path.write_text("# K\n\n" + cards, encoding="utf-8")
    return path


def notes_by_guid(col: Any) -> dict[str, int]:
    return dict(col.db.all("select guid, id from notes"))


def test_invisible_characters_around_an_id_keep_the_note(tmp_path: Path) -> None:
    content, apkg = tmp_path / "content", tmp_path / "k.apkg"
    battery_deck(content, "## Frage {n} {{#karte-{n}}}")
    assert run("build", "--content", str(content), "-o", str(apkg)).exit_code == 0
    col = open_collection(tmp_path / "desktop.anki2")
    first = import_apkg(col, apkg)
    assert len(first.new) == len(INVISIBLE)
    before = notes_by_guid(col)

    # Before '{', between '{' and '#', around the id and after '}', all at once; and a new
    # answer, so that the import must update each note.
    path = battery_deck(content, "## Frage {n}{c} {{{c}#{c}karte-{n}{c}}}{c}", "Neu")
    edited = path.read_bytes()
    ids = run("ids", "--content", str(content))
    assert ids.exit_code == 0 and "0 id(s) added" in ids.output
    assert path.read_bytes() == edited
    result = run("build", "--content", str(content), "-o", str(apkg))
    assert result.exit_code == 0, result.output
    assert f"0 added, {len(INVISIBLE)} changed, 0 removed, 0 unchanged" in result.output
    second = import_apkg(col, apkg)
    assert not second.new and not second.conflicting
    assert second.updated == tuple(sorted(before.values()))
    assert notes_by_guid(col) == before
    col.close()


def test_the_issues_case_a_zero_width_space_after_a_shipped_id(
    content: Path, tmp_path: Path
) -> None:
    apkg = tmp_path / "k.apkg"
    assert run("build", "--content", str(content), "-o", str(apkg)).exit_code == 0
    col = open_collection(tmp_path / "desktop.anki2")
    import_apkg(col, apkg)
    before = notes_by_guid(col)
    source = content / "key-account-management.md"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("{#ziele-des-kam-5}", "{#ziele-des-kam-5}\u200b"), "utf-8")
    assert "0 id(s) added" in run("ids", "--content", str(content)).output
    result = run("build", "--content", str(content), "-o", str(apkg))
    assert "0 added, 0 changed, 0 removed, 8 unchanged" in result.output
    assert not import_apkg(col, apkg).new and notes_by_guid(col) == before
    col.close()


HOMOGLYPHS = ["\u0430", "\u03bf", "\u0131", "\uff41", "\u00e9", "K", "_"]


def test_any_other_character_inside_an_id_is_named_with_its_column(tmp_path: Path) -> None:
    inside = [*INVISIBLE, *HOMOGLYPHS]
    content = tmp_path / "content"
    content.mkdir()
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    lines = ["# K", ""]
    expected = []
    for n, char in enumerate(inside):
        heading = f"## Frage {n} {{#kar{char}te-{n}}}"
        at = heading.index("{#") + len("{#kar") + 1
        shown = unicodedata.normalize("NFC", char)  # U+2000 EN QUAD is U+2002 EN SPACE
        expected.append((len(lines) + 1, shown, f"at column {at} is not"))
        lines += [heading, "", "- a", ""]
    (content / "k.md").write_text("\n".join(lines), encoding="utf-8")
    result = run("build", "--content", str(content), "-o", str(tmp_path / "k.apkg"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == len(inside)
    path = (content / "k.md").as_posix()
    for error, (number, shown, column) in zip(errors, expected, strict=True):
        assert error.startswith(f"{path}:{number}: error: malformed card id ")
        assert f"U+{ord(shown):04X}" in error and column in error
        assert f"'kar{ascii(shown)[1:-1]}te-" in error  # shown escaped, never looking like ASCII


def build_then_replace(content: Path, apkg: Path, old: str, new: str) -> Path:
    """Build the shipped deck, then edit its Markdown; returns the edited file."""
    assert run("build", "--content", str(content), "-o", str(apkg)).exit_code == 0
    source = content / "key-account-management.md"
    text = source.read_text(encoding="utf-8")
    assert old in text
    source.write_text(text.replace(old, new), encoding="utf-8")
    return source


def test_ids_restores_the_id_the_lock_file_knows_for_that_question(
    content: Path, tmp_path: Path
) -> None:
    apkg = tmp_path / "k.apkg"
    heading = "## Ziele des KAM? (5) {#ziele-des-kam-5}"
    source = build_then_replace(content, apkg, heading, "## ziele  des\u00a0KAM? (5)")
    result = run("ids", "--content", str(content))
    assert result.exit_code == 0, result.output
    assert "added 1 id(s): ziele-des-kam-5 (ziele-des-kam-5 restored from the lock file)" in (
        result.output
    )
    assert "## ziele  des\u00a0KAM? (5) {#ziele-des-kam-5}\n" in source.read_text("utf-8")
    result = run("build", "--content", str(content), "-o", str(apkg))
    assert "0 added, 1 changed, 0 removed" in result.output and "warning: card" not in result.output


def test_ids_leaves_headings_with_anything_id_like_alone(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    text = (
        "# K\n\n## Eins {#Eins_1}\n\n- a\n\n## Zwei {#zwei} x\n\n- b\n\n"
        "## Drei {#drei}\u200b\n\n- c\n\n## Vier { # vier }\n\n- d\n\n## Fünf\n\n- e\n"
    )
    (content / "k.md").write_text(text, encoding="utf-8")
    result = run("ids", "--content", str(content))
    assert result.exit_code == 0 and "added 1 id(s): fuenf\n" in result.output
    assert (content / "k.md").read_text("utf-8") == text.replace("## Fünf", "## Fünf {#fuenf}")


def test_a_new_id_for_a_removed_cards_question_warns_how_to_keep_the_reviews(
    content: Path, tmp_path: Path
) -> None:
    apkg = tmp_path / "k.apkg"
    source = build_then_replace(content, apkg, "{#ziele-des-kam-5}", "{#ziele}")
    result = run("build", "--content", str(content), "-o", str(apkg))
    assert result.exit_code == 0 and "1 added, 0 changed, 1 removed" in result.output
    path = source.as_posix()
    assert (
        f"{path}:27: warning: card 'ziele' has the question of the removed card "
        "'ziele-des-kam-5': learners lose that card's reviews when they delete its "
        "tombstone; to keep them, give this card its old id back: {#ziele-des-kam-5}"
    ) in result.output


class Counting(str):
    """A line that counts the characters its readers look at: every index, slice and
    search, so a test can bound the work, not the time."""

    work = 0

    def __getitem__(self, key: Any) -> str:
        span = len(range(*key.indices(len(self)))) if isinstance(key, slice) else 1
        Counting.work += span
        return Counting(str.__getitem__(self, key))

    def __iter__(self) -> Iterator[str]:
        for char in str.__iter__(self):
            Counting.work += 1
            yield char

    def find(self, sub: str, start: Any = 0, end: Any = sys.maxsize) -> int:
        found = str.find(self, sub, start, end)
        Counting.work += (found if found >= 0 else min(end, len(self))) - start + 1
        return found

    def rfind(self, sub: str, start: Any = 0, end: Any = sys.maxsize) -> int:
        found = str.rfind(self, sub, start, end)
        Counting.work += min(end, len(self)) - (found if found >= 0 else start) + 1
        return found


UNITS = [
    "{#",
    "{",
    "#",
    "} {#a",
    "}",
    " ",
    "\t",
    " .",
    ".",
    "\u200b",
    "{#a}",
    "{ #",
    "a-",
    "\u0430",
]
# What reads a heading line: each may only look at it through the counted methods above.
# A regular expression reads the buffer directly, uncounted, and may go back over it.
SCANNERS = [find_id, heading_span, headings._classes_start, headings._skip_invisible]


def test_reading_an_id_uses_no_regular_expression_but_an_anchored_marker() -> None:
    for function in SCANNERS:
        patterns = {
            name
            for name in function.__code__.co_names
            if isinstance(getattr(headings, name, None), re.Pattern)
        }
        # The marker: at most 3 blanks and 2 hashes from the start, then one character.
        assert patterns <= {"_MARKER"}, (function.__name__, patterns)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.sampled_from(UNITS), min_size=1, max_size=3), st.integers(1, 20_000))
def test_reading_an_id_is_linear_in_the_heading(units: list[str], repeat: int) -> None:
    line = Counting("## Q " + "".join(units) * repeat)
    Counting.work = 0
    attribute = find_id(line)
    heading_span(line, attribute.start if attribute else len(line))
    assert Counting.work <= 6 * len(line) + 50


@pytest.mark.parametrize(
    ("markdown", "count", "message"),
    [
        ("## " + "{#" * 100_000 + "\n\n- a\n", 1, ":3: error: card has no id: run 'kam-anki"),
        ("## Q {#q}\n\n" + "> ## R {#r}\n" * 20_000, 20_000, ": error: heading with id 'r'"),
    ],
    ids=["200 KB of id openers", "20,000 quoted id headings"],
)
def test_huge_repetitive_headings_are_checked_with_clear_errors(
    tmp_path: Path, markdown: str, count: int, message: str
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "deck.toml").write_text(DECK, encoding="utf-8")
    (content / "k.md").write_text("# K\n\n" + markdown, "utf-8")
    result = run("check", "--content", str(content))
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == count and all(message in line for line in errors)
