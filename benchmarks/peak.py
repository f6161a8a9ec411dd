"""Run a command; print its wall time (s), its own peak resident memory (bytes) and the CPU
time (s, user and system) of it and its worker processes.

Usage: python benchmarks/peak.py [--terminal] COMMAND [ARG...]

The command's stdout is discarded, its stderr passed through, its exit status returned.
With ``--terminal`` its stdout and stderr are a pseudo-terminal instead (read and discarded),
outside CI: what a person at a terminal gets (kam-anki's progress line, the cut report).
This small process sits between the benchmark driver and the command because on Linux a
child's ``ru_maxrss`` starts at its parent's size when it is forked: measured straight
from the driver, which holds the generated decks, every command would look that big.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
import time

RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB


def main(command: list[str]) -> int:
    terminal = command[:1] == ["--terminal"]
    start = time.perf_counter()
    if terminal:
        reader, screen = pty.openpty()
        threading.Thread(target=_drain, args=(reader,), daemon=True).start()
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        process = subprocess.Popen(
            command[1:], stdin=subprocess.DEVNULL, stdout=screen, stderr=screen, env=env
        )
        os.close(screen)
    else:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    print(seconds, usage.ru_maxrss * RSS_UNIT, usage.ru_utime + usage.ru_stime)
    return process.returncode


def _drain(reader: int) -> None:
    """Read the terminal as a terminal would, so that the command never waits on it."""
    try:
        while os.read(reader, 1 << 16):
            pass
    except OSError:  # the command has ended: no one has the terminal open any more
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
