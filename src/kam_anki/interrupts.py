"""How a command ends on a signal: SIGTERM, SIGHUP (and the SIGALRM below) act like Ctrl-C,
so a terminated build cleans up like an interrupted one. Sets process-wide handlers."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

# The signals that stop a command: held while files move into place, and while a worker
# process is forked.
STOPPING = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


def install() -> None:
    """The handlers every command runs with."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    signal.signal(signal.SIGALRM, _interrupt)
    sys.unraisablehook = _unraisable


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt


def _unraisable(info: UnraisableHookArgs) -> None:
    """A signal that arrives while Python runs a finaliser raises where nothing can catch
    it: deliver it again a moment later (as SIGALRM, handled like SIGTERM), when the
    finaliser is done, so that it ends the command where it can."""
    if isinstance(info.exc_value, KeyboardInterrupt):
        signal.setitimer(signal.ITIMER_REAL, 0.01)
    else:
        sys.__unraisablehook__(info)
