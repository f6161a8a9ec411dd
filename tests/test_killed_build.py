"""A build killed at any file replacement (as by SIGKILL: no handler runs) leaves nothing
in ``content/`` and nothing a later build does not clean up; two builds at once do not trip
each other."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from anki_helpers import import_apkg, open_collection
from helpers import KAM_ANKI
from kam_anki.cache import CACHE_DIR
from kam_anki.history import RECORD_NAME
from kam_anki.state import LOCK_NAME, load_state

FILES = 12
CARDS_PER_FILE = 20  # enough files for a build in worker processes


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
        [*KAM_ANKI, "build", "--content", str(content), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes]) -> int:
    """Its exit status, once it has ended; what it said on stderr is shown if it failed."""
    _, errors = process.communicate(timeout=600)
    if process.returncode > 0:
        print(errors.decode(errors="replace"))
    return process.returncode


# A build that dies (as under SIGKILL: no handler, no finaliser) just before its file
# replacement number LIMIT; -1 never dies. Each replacement done is logged to LOG.
KILLED_AT = """
import os, sys
limit, log = int(sys.argv[1]), sys.argv[2]
real, done = os.replace, 0
def replace(source, target, *args, **kwargs):
    global done
    if done == limit:
        os._exit(137)
    real(source, target, *args, **kwargs)
    done += 1
    with open(log, "a", encoding="utf-8") as out:
        print(os.path.basename(target), file=out)
os.replace = replace
sys.argv[1:] = sys.argv[3:]
from kam_anki.cli import run
run()
"""


def build_killed_at(limit: int, content: Path, out: Path, log: Path) -> int:
    command = [sys.executable, "-c", KILLED_AT, str(limit), str(log), "build"]
    done = subprocess.run(
        [*command, "--content", str(content), "-o", str(out)], capture_output=True, text=True
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def test_a_build_killed_at_each_file_replacement_leaves_no_litter_a_later_build_keeps(
    tmp_path: Path,
) -> None:
    content, out = tmp_path / "content", tmp_path / "build" / "kam.apkg"
    sources = make_content(content)
    counted = tmp_path / "counted.log"
    assert build_killed_at(-1, content, out, counted) == 0
    replaced = counted.read_text(encoding="utf-8").splitlines()
    # The transaction: the record, the lock and the package (the cache's files before them).
    for name in (RECORD_NAME, LOCK_NAME, "kam.apkg"):
        assert name in replaced
    for limit in range(len(replaced) + 1):
        shutil.rmtree(out.parent)
        (content / LOCK_NAME).unlink()  # every killed build below is a first, cold one
        log = tmp_path / f"killed-{limit}.log"
        code = build_killed_at(limit, content, out, log)
        assert code == (0 if limit == len(replaced) else 137)
        done = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        assert done == replaced[:limit]
        # content/ never holds anything but the sources and, once written whole, the lock.
        assert {p.name for p in content.iterdir()} - {LOCK_NAME} == sources
        assert (content / LOCK_NAME).exists() == (LOCK_NAME in done)
        if (content / LOCK_NAME).exists():
            load_state((content / LOCK_NAME).read_bytes(), LOCK_NAME)
        # The next build, not killed, cleans up after the killed one and ships every card.
        assert finish(start_build(content, out)) == 0
        assert sorted(os.listdir(out.parent)) == [CACHE_DIR, RECORD_NAME, "kam.apkg"]
        assert not any(name.startswith(".") for name in os.listdir(out.parent / CACHE_DIR))
    col = open_collection(tmp_path / "check.anki2")
    assert len(import_apkg(col, out).new) == FILES * CARDS_PER_FILE


def test_two_builds_at_once_both_finish_and_leave_one_whole_deck(tmp_path: Path) -> None:
    content, out = tmp_path / "content", tmp_path / "build" / "kam.apkg"
    make_content(content)
    first, second = start_build(content, out), start_build(content, out)
    for process in (first, second):
        assert finish(process) == 0
    assert sorted(os.listdir(out.parent)) == [CACHE_DIR, RECORD_NAME, "kam.apkg"]
    col = open_collection(tmp_path / "check.anki2")
    assert len(import_apkg(col, out).new) == FILES * CARDS_PER_FILE
