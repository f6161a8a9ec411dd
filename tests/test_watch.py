"""``kam-anki watch``: a save in content/ rebuilds the deck and the preview within a second."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kam_anki.watch import is_source

REPO = Path(__file__).resolve().parent.parent
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
        ("#karten.md#", False),
        ("bild.png", True),  # images are packaged: a new one must reach the deck
        ("Skizze.JPEG", True),
        ("notizen.txt", False),
    ],
)
def test_which_files_trigger_a_rebuild(name: str, counts: bool) -> None:
    assert is_source(Path("/content") / name) is counts


class Watcher:
    """``kam-anki watch`` in a subprocess, its output collected line by line."""

    def __init__(self, content: Path, apkg: Path, page: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
        env["PYTHONUNBUFFERED"] = "1"
        command = [sys.executable, "-m", "kam_anki", "watch", "--content", str(content)]
        command += ["-o", str(apkg), "--preview", str(page)]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 15) -> str:
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
        code = self.process.wait(timeout=5)
        self.reader.join(timeout=5)
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
            running.process.wait(timeout=5)


def wait_until(changed: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``changed()`` held; fails after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if changed():
            return time.monotonic() - started
        time.sleep(0.005)
    raise AssertionError(f"nothing changed within {timeout} s")


def test_a_save_rebuilds_deck_and_preview_within_a_second(
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
    took = wait_until(lambda: apkg.read_bytes() != first, timeout=5)
    print(f"deck rebuilt {took:.3f} s after the save")
    assert took < 1.0, f"rebuilt after {took:.2f} s"
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
    wait_until(lambda: apkg.read_bytes() != good_deck, timeout=5)
    running.wait_for("rebuilt in")
    assert "Jetzt ja." in page.read_text(encoding="utf-8")
    assert running.stop() == 0


def test_ctrl_c_while_idle_ends_cleanly(watcher: tuple[Watcher, Path]) -> None:
    running, _ = watcher
    running.wait_for("watching")
    started = time.monotonic()
    assert running.stop() == 0
    assert time.monotonic() - started < 2
    assert running.seen[-1] == "stopped"
    assert not any("Traceback" in line for line in running.seen)


def test_a_new_list_item_reaches_deck_report_and_preview(watcher: tuple[Watcher, Path]) -> None:
    running, root = watcher
    card_file = root / "content" / CARD
    running.wait_for("watching")
    text = card_file.read_text(encoding="utf-8")
    card_file.write_text(
        text.replace("- Erfolgsmessung\n", "- Erfolgsmessung\n- Lessons learned\n"), "utf-8"
    )
    running.wait_for("+ kam-zirkel-schritte-im-rahmen-der-realisierung-5/6: Lessons learned")
    running.wait_for("rebuilt in")
    page = (root / "out/preview.html").read_text(encoding="utf-8")
    assert 'id="card-kam-zirkel-schritte-im-rahmen-der-realisierung-5/6"' in page
    assert running.stop() == 0
