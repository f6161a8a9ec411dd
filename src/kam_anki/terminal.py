"""What the command line shows while it works: one progress line on stderr (click's progress
bar), on a terminal only (never in a pipe, a file or a CI log), once the work has taken about
a second; erased when the work is done, so that the result takes its place."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, TextIO

import click

from kam_anki.progress import SILENT, Progress

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

DELAY_VARIABLE = "KAM_ANKI_PROGRESS_AFTER"  # seconds before the line shows (default 1)
DELAY = 1.0
# A redrawn line costs little, but a warm rebuild passes hundreds of files a second: draw at
# most this often.
REDRAW = 0.1
# Back to the start of the line, clear it, show the cursor (click's bar hides it).
_ERASE = "\r\x1b[K\x1b[?25h"


def is_terminal(stream: TextIO | None, environ: Mapping[str, str]) -> bool:
    """A person watches ``stream``: a terminal that can redraw a line, and not a CI job
    (whose log may be a pseudo-terminal)."""
    try:
        tty = stream is not None and stream.isatty()
    except ValueError:  # closed
        return False
    return tty and not environ.get("CI") and environ.get("TERM") != "dumb"


@contextlib.contextmanager
def progress_line(stream: TextIO | None = None) -> Iterator[Progress]:
    """Progress for one piece of work, shown on ``stream`` (stderr) if a person watches it;
    the line is gone when the block ends, however it ends."""
    stream = stream or sys.stderr
    if stream is None or not is_terminal(stream, os.environ):
        yield SILENT
        return
    line = _Line(stream, _delay(os.environ))
    try:
        yield line
    finally:
        line.close()


def _delay(environ: Mapping[str, str]) -> float:
    """A tuning knob, not an instruction: a value that is no number is ignored."""
    try:
        return max(0.0, float(environ.get(DELAY_VARIABLE, DELAY)))
    except ValueError:
        return DELAY


class _Line:
    """:class:`~kam_anki.progress.Progress` as click's bar: step, bar, percent, time left,
    detail. The bar is made only once the work has lasted ``delay`` seconds."""

    def __init__(self, stream: TextIO, delay: float) -> None:
        self.stream = stream
        self.show_from = time.monotonic() + delay
        self.drawn = 0.0
        self.bar: ProgressBar[str] | None = None
        self.step = ""
        self.total = 0
        self.done = 0
        self.detail = ""

    def start(self, step: str, total: int) -> None:
        if self.bar is not None:  # the next step's bar takes the line
            self.bar = None
            self.stream.write(_ERASE)
        self.step, self.total, self.done, self.detail = step, total, 0, ""
        self._draw(now=time.monotonic(), force=True)

    def advance(self, done: int, detail: str = "") -> None:
        self.done, self.detail = done, detail
        now = time.monotonic()
        self._draw(now, force=done >= self.total)

    def _draw(self, now: float, *, force: bool) -> None:
        if now < self.show_from or (not force and now - self.drawn < REDRAW):
            return
        self.drawn = now
        if self.bar is None:
            self.bar = click.progressbar(
                length=max(self.total, 1),
                label=self.step,
                file=self.stream,
                width=0,  # as wide as the terminal allows
                item_show_func=lambda detail: detail,
            )
        self.bar.current_item = self.detail
        self.bar.make_step(self.done - self.bar.pos)
        self.bar.render_progress()

    def close(self) -> None:
        if self.bar is None:
            return
        self.bar = None
        with contextlib.suppress(OSError):  # a terminal that is gone (SIGHUP)
            self.stream.write(_ERASE)
            self.stream.flush()
