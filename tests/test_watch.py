"""``kam-anki watch``: a save in content/ rebuilds the deck and the preview (how soon is
measured in benchmarks/watch_latency.py)."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import KAM_ANKI, REPO
from kam_anki.files import is_source
from kam_anki.output import TEMP_PREFIX

CARD = "key-account-management.md"


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("karten.md", True),
        ("sub/dir/more.md", True),
        ("deck.toml", True),
        ("kam-anki.lock", False),  # written by every build: watching it would loop forever
        (".kam-anki.lock.abc123.tmp", False),
        (".karten.md.swp", False),
        ("karten.md~", False),
        ("#karten.md#", False),  # Emacs' auto-save file
        ("#1 Einleitung.md", True),  # built, so watched
        ("sub/.versteckt/karten.md", False),
        ("KARTEN.MD", False),  # not built either
        ("bild.png", True),  # images are packaged: a new one must reach the deck
        ("Skizze.JPEG", True),
        ("notizen.txt", False),
    ],
)
def test_which_files_trigger_a_rebuild(name: str, counts: bool) -> None:
    assert is_source(name) is counts


# Generous: a shared CI runner may be slow. How fast a rebuild is, is a benchmark's question
# (benchmarks/run.py), not a test's.
PATIENCE = 60.0


class Watcher:
    """``kam-anki watch`` in a subprocess, its output collected line by line."""

    def __init__(self, content: Path, apkg: Path, page: Path, *, new_session: bool = False):
        env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
        env["PYTHONUNBUFFERED"] = "1"
        command = [*KAM_ANKI, "watch", "--content", str(content)]
        command += ["-o", str(apkg), "--preview", str(page)]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=new_session,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:  # closed at the end of the output, however the watch ended
            for line in self.process.stdout:
                self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = PATIENCE) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.05)
            except queue.Empty:
                assert self.process.poll() is None, "watch ended:\n" + "\n".join(self.seen)
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n" + "\n".join(self.seen))

    def stop(self) -> int:
        """Ctrl-C, as a user would press it."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=PATIENCE)
        self.reader.join(timeout=PATIENCE)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


@pytest.fixture
def watcher(tmp_path: Path) -> Iterator[tuple[Watcher, Path]]:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    running = Watcher(content, tmp_path / "out" / "kam.apkg", tmp_path / "out" / "preview.html")
    try:
        yield running, tmp_path
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=PATIENCE)


def wait_until(changed: Callable[[], bool], timeout: float = PATIENCE, what: str = "") -> None:
    """Wait until ``changed()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if changed():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what or 'nothing'}: no change within {timeout} s")


def test_a_save_rebuilds_deck_and_preview(
    watcher: tuple[Watcher, Path],
) -> None:
    running, root = watcher
    apkg, page, card_file = (
        root / "out/kam.apkg",
        root / "out/preview.html",
        root / "content" / CARD,
    )
    running.wait_for("watching")
    first = apkg.read_bytes()
    assert "Umsatz-/Projektziel" in page.read_text(encoding="utf-8")

    card_file.write_text(
        card_file.read_text(encoding="utf-8").replace("Umsatz-/Projektziel", "Umsatzziel"),
        encoding="utf-8",
    )
    wait_until(lambda: apkg.read_bytes() != first)
    running.wait_for("rebuilt in")
    text = page.read_text(encoding="utf-8")
    assert "Umsatzziel" in text and "Umsatz-/Projektziel" not in text
    assert any(f"changed: {CARD}" in line for line in running.seen)
    assert any("1 changed" in line for line in running.seen), "the build command's own report"

    assert running.stop() == 0
    assert running.seen[-1] == "stopped"


def test_an_error_is_shown_and_the_last_good_deck_stays(watcher: tuple[Watcher, Path]) -> None:
    running, root = watcher
    apkg, page = root / "out/kam.apkg", root / "out/preview.html"
    running.wait_for("watching")
    good_deck, good_page = apkg.read_bytes(), page.read_bytes()

    broken = root / "content" / "kaputt.md"
    broken.write_text("# Kapitel\n\n## Eine Frage ohne Antwort {#ohne-antwort}\n", encoding="utf-8")
    running.wait_for("kaputt.md:3: error")
    running.wait_for("build failed")
    assert apkg.read_bytes() == good_deck and page.read_bytes() == good_page

    # Editors and the build's own lock file write around content/ too: none of that rebuilds.
    (root / "content" / ".kaputt.md.swp").write_bytes(b"swap")
    broken.write_text(
        "# Kapitel\n\n## Eine Frage mit Antwort {#mit-antwort}\n\nJetzt ja.\n", encoding="utf-8"
    )
    wait_until(lambda: apkg.read_bytes() != good_deck)
    running.wait_for("rebuilt in")
    assert "Jetzt ja." in page.read_text(encoding="utf-8")
    assert running.stop() == 0


def test_ctrl_c_while_idle_ends_cleanly(watcher: tuple[Watcher, Path]) -> None:
    running, _ = watcher
    running.wait_for("watching")
    assert running.stop() == 0
    assert running.seen[-1] == "stopped"
    assert not any("Traceback" in line for line in running.seen)


def _deck_changes(apkg: Path, act: Callable[[], object], what: str) -> None:
    """``act``, then wait until the deck's bytes changed."""
    before = apkg.read_bytes()
    act()
    wait_until(lambda: apkg.read_bytes() != before, what=what)


def test_every_change_a_build_would_see_rebuilds(
    watcher: tuple[Watcher, Path],
) -> None:
    running, root = watcher
    content, apkg = root / "content", root / "out/kam.apkg"
    outside = root / "elsewhere"
    outside.mkdir()
    (content / "teil").mkdir()
    running.wait_for("watching")

    def new_card_file() -> None:
        card = "# Teil\n\n## Eine Frage im Ordner {#im-ordner}\n\n- Antwort\n"
        (content / "teil" / "karte.md").write_text(card, encoding="utf-8")

    def save_hash_named_file() -> None:
        card = "# Einleitung\n\n## Was steht am Anfang? {#am-anfang}\n\n- Die Einleitung\n"
        (content / "#1 Einleitung.md").write_text(card, encoding="utf-8")

    def edit_hash_named_file() -> None:
        path = content / "#1 Einleitung.md"
        path.write_text(path.read_text(encoding="utf-8") + "- und mehr\n", encoding="utf-8")

    steps: list[tuple[str, Callable[[], object]]] = [
        ("a new file in a folder", new_card_file),
        ("a file named '#1 ...' created", save_hash_named_file),
        ("a file named '#1 ...' saved", edit_hash_named_file),
        ("a folder renamed", lambda: (content / "teil").rename(content / "kapitel")),
        ("a folder moved out", lambda: (content / "kapitel").rename(outside / "kapitel")),
        ("a folder moved in", lambda: (outside / "kapitel").rename(content / "zurueck")),
        ("a file in a moved-in folder saved", lambda: _append(content / "zurueck/karte.md")),
        ("a folder moved out again", lambda: (content / "zurueck").rename(outside / "weg")),
    ]
    for step, act in steps:
        _deck_changes(apkg, act, step)
        running.wait_for("rebuilt in")
    text = (root / "out/preview.html").read_text(encoding="utf-8")
    assert 'class="pv-item" id="card-am-anfang"' in text
    assert 'class="pv-item pv-removed" id="card-im-ordner"' in text  # its folder went away
    assert running.stop() == 0
    assert running.seen[-1] == "stopped"
    assert not any("Traceback" in line for line in running.seen)


def _append(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "- noch eine\n", encoding="utf-8")


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _large_content(folder: Path) -> Path:
    """Enough Markdown that a cold build renders in worker processes."""
    shutil.copytree(REPO / "content", folder)
    for number in range(40):
        cards = "".join(
            f"## Frage {number}-{card} {{#f{number}-{card}}}\n\n- **eins** {card}\n- zwei\n"
            "- drei mit einem etwas längeren Text, damit die Datei Gewicht hat\n\n"
            for card in range(100)
        )
        (folder / f"teil-{number:02d}.md").write_text(f"# Teil {number}\n\n{cards}", "utf-8")
    return folder


@pytest.mark.parametrize("group", [False, True], ids=["to-watch", "to-process-group"])
def test_sigterm_during_a_multi_process_rebuild_ends_watch_and_its_workers(
    tmp_path: Path, group: bool
) -> None:
    content = _large_content(tmp_path / "content")
    for attempt in range(3):
        out = tmp_path / f"out{attempt}"
        running = Watcher(content, out / "kam.apkg", out / "preview.html", new_session=group)
        try:
            deadline = time.monotonic() + PATIENCE
            workers: set[int] = set()
            while not workers:  # the cold first build renders in worker processes
                assert time.monotonic() < deadline and running.process.poll() is None
                time.sleep(0.01)  # the build being waited for needs the CPU too
                workers = _children(running.process.pid)
            if group:
                os.killpg(running.process.pid, signal.SIGTERM)
            else:
                running.process.send_signal(signal.SIGTERM)
            # It ends at once (no further build waits for it); a minute only for a slow runner.
            running.process.wait(timeout=PATIENCE)
            # It stopped the build where it was, not after it: nothing was written.
            assert not (out / "kam.apkg").exists()
            assert not [pid for pid in workers if _alive(pid)], "orphaned workers"
            running.reader.join(timeout=PATIENCE)
            output = "\n".join([*running.seen, *list(running.lines.queue)])
            assert "Traceback" not in output, "\n" + output
            assert not list(out.glob(".*.tmp")) and not list(out.glob(f"{TEMP_PREFIX}*"))
        finally:
            if running.process.poll() is None:
                running.process.kill()
                running.process.wait(timeout=PATIENCE)


def test_a_file_name_that_is_not_utf8_is_named_and_the_last_good_deck_stays(
    watcher: tuple[Watcher, Path],
) -> None:
    running, root = watcher
    content, apkg = root / "content", root / "out/kam.apkg"
    running.wait_for("watching")
    good = apkg.read_bytes()
    latin1 = os.path.join(os.fsencode(content), b"m\xe4rz.md")
    with open(latin1, "wb") as out:
        out.write(
            b"# M\xc3\xa4rz\n\n## Was geschah im M\xc3\xa4rz? {#maerz}\n\n- Fr\xc3\xbchling\n"
        )
    running.wait_for("m\\xe4rz.md: error: the file name is not UTF-8")
    running.wait_for("build failed")
    assert apkg.read_bytes() == good
    os.rename(latin1, content / "märz.md")
    wait_until(lambda: apkg.read_bytes() != good, timeout=PATIENCE)
    running.wait_for("rebuilt in")
    assert running.stop() == 0
    assert not any("Traceback" in line or "internal error" in line for line in running.seen)


def test_a_new_list_item_reaches_deck_report_and_preview(watcher: tuple[Watcher, Path]) -> None:
    running, root = watcher
    card_file = root / "content" / CARD
    running.wait_for("watching")
    text = card_file.read_text(encoding="utf-8")
    card_file.write_text(
        text.replace("- Erfolgsmessung\n", "- Erfolgsmessung\n- Lessons learned\n"), "utf-8"
    )
    running.wait_for("+ kam-zirkel-schritte-im-rahmen-der-realisierung-5 c6: Lessons learned")
    running.wait_for("rebuilt in")
    page = (root / "out/preview.html").read_text(encoding="utf-8")
    assert 'id="card-kam-zirkel-schritte-im-rahmen-der-realisierung-5/liste/c6"' in page
    assert running.stop() == 0
