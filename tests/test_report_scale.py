"""A large deck at a terminal: a progress line on stderr while the work goes on (a terminal
only, never a pipe or CI), a report cut to what a person reads, and all of it for scripts
(piped, ``--list-all``, ``--json``).

The commands run as a user runs them, in a subprocess whose stdout and stderr are two
pseudo-terminals; ``KAM_ANKI_PROGRESS_AFTER=0`` shows the line at once, so a small synthetic
deck (benchmarks/synth.py) stands in for a slow one and no verdict depends on the clock.
"""

from __future__ import annotations

import importlib.util
import io
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from helpers import REPO
from kam_anki.terminal import DELAY_VARIABLE, is_terminal

CARDS = 300  # three files of synth's 100 cards
SHOWN = 20
ERASED = "\r\x1b[K\x1b[?25h"  # back to the start, line cleared, cursor shown again
COMMAND = [sys.executable, "-m", "kam_anki"]


def _synth() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synth", REPO / "benchmarks" / "synth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("synth", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def deck_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    synth = _synth()
    folder = tmp_path_factory.mktemp("synth") / "content"
    synth.write(synth.generate(CARDS), folder)
    return folder


@pytest.fixture
def deck(deck_source: Path, tmp_path: Path) -> Path:
    """A fresh copy: no lock, no cache, so every run is a first build of every card."""
    target = tmp_path / "content"
    shutil.copytree(deck_source, target)
    return target


def environment(*, delay: str = "0", ci: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", DELAY_VARIABLE)}
    env.update({DELAY_VARIABLE: delay, "TERM": "xterm", "SOURCE_DATE_EPOCH": "1700000000"})
    if ci:
        env["CI"] = "true"
    return env


class Terminals:
    """A command on two terminals (stdout, stderr), read as it goes."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.out_reader, out_screen = pty.openpty()
        self.err_reader, err_screen = pty.openpty()
        self.process = subprocess.Popen(
            [*COMMAND, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out_screen,
            stderr=err_screen,
        )
        os.close(out_screen)
        os.close(err_screen)
        self.shown = {self.out_reader: b"", self.err_reader: b""}
        self.open = [self.out_reader, self.err_reader]

    @property
    def out(self) -> str:
        return self._text(self.out_reader)

    @property
    def err(self) -> str:
        return self._text(self.err_reader)

    def _text(self, reader: int) -> str:
        # A terminal turns each line end into CR LF.
        return self.shown[reader].decode(errors="replace").replace("\r\n", "\n")

    def _read(self, timeout: float) -> None:
        for reader in select.select(self.open, [], [], timeout)[0]:
            try:
                chunk = os.read(reader, 1 << 16)
            except OSError:  # the command has ended and closed its side
                chunk = b""
            self.shown[reader] += chunk
            if not chunk:
                self.open.remove(reader)

    def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> None:
        """Until stdout has shown ``text`` ``count`` times (a generous timeout: no verdict
        depends on the clock, only a hang ends the test)."""
        deadline = time.monotonic() + timeout
        while self.out.count(text) < count:
            assert time.monotonic() < deadline, self.out + self.err
            assert self.process.poll() is None, self.out + self.err
            self._read(0.5)

    def finish(self) -> tuple[int, str, str]:
        """Everything the command shows until it ends, and its exit status."""
        deadline = time.monotonic() + 60
        while self.open:
            assert time.monotonic() < deadline, self.out + self.err
            self._read(0.5)
        return self.process.wait(timeout=60), self.out, self.err

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)
        os.close(self.out_reader)
        os.close(self.err_reader)


def at_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run a command whose stdout and stderr are two terminals; what each one showed."""
    terminals = Terminals(args, cwd, env)
    try:
        return terminals.finish()
    finally:
        terminals.close()


def piped(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [*COMMAND, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout, done.stderr


BUILD = ["build", "--content", "content", "-o", "build/kam.apkg"]
COUNT_LINE = f"{CARDS} cards: {CARDS} added, 0 changed, 0 removed, 0 unchanged"


def test_a_large_first_build_at_a_terminal_shows_progress_then_a_short_report(deck: Path) -> None:
    code, out, err = at_terminal(BUILD, deck.parent, environment())
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == COUNT_LINE
    assert all(line.startswith("  + ") for line in lines[1 : 1 + SHOWN])
    assert lines[1 + SHOWN : -1] == [
        f"  … and {CARDS - SHOWN} more added (--list-all lists every card)"
    ]
    assert lines[-1].startswith("sha256 ") and lines[-1].endswith("  build/kam.apkg")
    assert len(lines) == SHOWN + 3
    # The progress line said what was done and how far, redrawn in place (never a new
    # line), and was gone before the report came.
    assert "checking files" in err and f"3/3 files, {CARDS} cards" in err
    assert "writing package" in err and "MiB" in err
    assert "\n" not in err
    assert err.endswith(ERASED)


def test_list_all_at_a_terminal_lists_every_card(deck: Path) -> None:
    code, out, _ = at_terminal([*BUILD, "--list-all"], deck.parent, environment())
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == COUNT_LINE
    assert len(lines) == CARDS + 2
    assert sum(line.startswith("  + ") for line in lines) == CARDS


def test_piped_the_build_shows_no_progress_and_every_card(deck: Path) -> None:
    code, out, err = piped(BUILD, deck.parent, environment())
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == COUNT_LINE
    assert len(lines) == CARDS + 2
    assert "…" not in out


def test_in_ci_a_terminal_gets_what_a_pipe_gets(deck: Path) -> None:
    code, out, err = at_terminal(BUILD, deck.parent, environment(ci=True))
    assert code == 0
    assert err == ""
    assert len(out.splitlines()) == CARDS + 2


def test_work_shorter_than_the_delay_shows_no_progress(deck: Path) -> None:
    code, out, err = at_terminal(BUILD, deck.parent, environment(delay="3600"))
    assert code == 0
    assert err == ""
    assert len(out.splitlines()) == SHOWN + 3


def test_check_and_preview_at_a_terminal_show_their_progress(deck: Path) -> None:
    code, out, err = at_terminal(["check", "--content", "content"], deck.parent, environment())
    assert (code, out) == (0, f"{CARDS} cards ok, 0 warning(s)\n")
    assert "checking files" in err and f"3/3 files, {CARDS} cards" in err
    assert err.endswith(ERASED) and "\n" not in err

    args = ["preview", "--content", "content", "-o", "build/preview.html"]
    code, out, err = at_terminal(args, deck.parent, environment())
    assert (code, out) == (0, f"preview: {CARDS} cards, 0 warning(s)  build/preview.html\n")
    assert "checking files" in err
    assert "writing preview" in err and f"{CARDS}/{CARDS} cards" in err
    assert err.endswith(ERASED) and "\n" not in err


def test_an_error_at_a_terminal_erases_the_progress_line_before_the_message(deck: Path) -> None:
    first = sorted(deck.glob("*.md"))[-1]
    first.write_text(first.read_text(encoding="utf-8") + "\n## Ohne Id\n\n- x\n", "utf-8")
    code, out, err = at_terminal(BUILD, deck.parent, environment())
    assert (code, out) == (1, "")
    progress, message = err.rsplit(ERASED, 1)
    assert "checking files" in progress
    assert message.startswith(f"content/{first.name}:") and ": error: card has no id" in message
    assert not (deck.parent / "build" / "kam.apkg").exists()


def test_each_watch_rebuild_at_a_terminal_shows_progress_then_its_report(deck: Path) -> None:
    args = ["watch", "--content", "content", "-o", "build/kam.apkg"]
    watching = Terminals([*args, "--preview", "build/preview.html"], deck.parent, environment())
    try:
        watching.wait_for("watching content/ for changes")
        first = watching.err
        assert "checking files" in first and "writing package" in first
        assert "writing preview" in first and first.endswith(ERASED)
        assert f"  … and {CARDS - SHOWN} more added (--list-all lists every card)" in watching.out

        source = sorted(deck.glob("*.md"))[0]
        source.write_text(source.read_text(encoding="utf-8") + "\n## Neu {#neu}\n\n- x\n", "utf-8")
        watching.wait_for("rebuilt in", count=2)
        again = watching.err[len(first) :]
        assert "checking files" in again and "writing preview" in again
        assert again.endswith(ERASED) and "\n" not in watching.err
        assert "  + neu: Neu\n" in watching.out
    finally:
        watching.close()


class _Screen(io.StringIO):
    """A terminal as a stream sees it: ``isatty`` true, and an error once closed."""

    def isatty(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return True


@pytest.mark.parametrize(
    ("environ", "watched"),
    [({}, True), ({"CI": "true"}, False), ({"CI": ""}, True), ({"TERM": "dumb"}, False)],
)
def test_a_terminal_is_watched_unless_ci_or_dumb(environ: dict[str, str], watched: bool) -> None:
    assert is_terminal(_Screen(), environ) is watched
    assert is_terminal(io.StringIO(), environ) is False  # a file or a pipe
    closed = _Screen()
    closed.close()
    assert is_terminal(closed, environ) is False
    assert is_terminal(None, environ) is False
