"""Run a command; print its wall time (s) and its own peak resident memory (bytes).

Usage: python benchmarks/peak.py COMMAND [ARG...]

The command's stdout is discarded, its stderr passed through, its exit status returned.
This small process sits between the benchmark driver and the command because on Linux a
child's ``ru_maxrss`` starts at its parent's size when it is forked: measured straight
from the driver, which holds the generated decks, every command would look that big.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB


def main(command: list[str]) -> int:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    print(seconds, usage.ru_maxrss * RSS_UNIT)
    return process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
