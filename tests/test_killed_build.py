"""A build killed at any moment (SIGKILL: no handler runs) leaves nothing in ``content/``
and nothing a later build does not clean up; two builds at once do not trip each other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from anki_helpers import import_apkg, open_collection
from kam_anki.cache import CACHE_DIR
from kam_anki.history import ISSUED_NAME
from kam_anki.state import LOCK_NAME, load_state

FILES = 12
CARDS_PER_FILE = 150  # ~1,800 cards: a cold build long enough to be killed anywhere in it


def make_content(root: Path) -> set[str]:
    root.mkdir()
    (root / "deck.toml").write_text('name = "T"\ndeck_id = 11\nnotetype_id = 12\n')
    for number in range(FILES):
        cards = "".join(
            f"## Frage {number}-{card} {{#k{number}-{card}}}\n\n- eins {card}\n- zwei\n\n"
            for card in range(CARDS_PER_FILE)
        )
        (root / f"kapitel-{number:02}.md").write_text(f"# Kapitel {number}\n\n{cards}")
    return {p.name for p in root.iterdir()}


def start_build(content: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kam_anki", "build", "--content", str(content), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes]) -> int:
    """Its exit status, once it has ended; what it said on stderr is shown if it failed."""
    _, errors = process.communicate(timeout=120)
    if process.returncode > 0:
        print(errors.decode(errors="replace"))
    return process.returncode


def test_a_build_killed_at_any_moment_leaves_no_litter_a_later_build_keeps(
    tmp_path: Path,
) -> None:
    content, out = tmp_path / "content", tmp_path / "build" / "kam.apkg"
    sources = make_content(content)
    started = time.monotonic()
    assert finish(start_build(content, out)) == 0
    whole = time.monotonic() - started
    (content / LOCK_NAME).unlink()  # every killed build below is a first, cold one
    for leftover in [*out.parent.iterdir(), *(out.parent / CACHE_DIR).iterdir()]:
        if leftover.is_file():
            leftover.unlink()
    kills = 12
    for number in range(kills):
        process = start_build(content, out)
        time.sleep(whole * number / kills)
        process.send_signal(signal.SIGKILL)
        finish(process)
        # content/ never holds anything but the sources and, once written whole, the lock.
        assert {p.name for p in content.iterdir()} - {LOCK_NAME} == sources
        if (content / LOCK_NAME).exists():
            load_state((content / LOCK_NAME).read_bytes(), LOCK_NAME)
    build = start_build(content, out)
    assert finish(build) == 0
    assert sorted(os.listdir(out.parent)) == [CACHE_DIR, ISSUED_NAME, "kam.apkg"]
    assert all(name.endswith(".json") for name in os.listdir(out.parent / CACHE_DIR))
    assert not any(name.startswith(".") for name in os.listdir(out.parent / CACHE_DIR))
    col = open_collection(tmp_path / "check.anki2")
    assert len(import_apkg(col, out).new) == FILES * CARDS_PER_FILE


def test_two_builds_at_once_both_finish_and_leave_one_whole_deck(tmp_path: Path) -> None:
    content, out = tmp_path / "content", tmp_path / "build" / "kam.apkg"
    make_content(content)
    first, second = start_build(content, out), start_build(content, out)
    for process in (first, second):
        assert finish(process) == 0
    assert sorted(os.listdir(out.parent)) == [CACHE_DIR, ISSUED_NAME, "kam.apkg"]
    col = open_collection(tmp_path / "check.anki2")
    assert len(import_apkg(col, out).new) == FILES * CARDS_PER_FILE
