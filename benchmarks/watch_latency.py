"""How soon `kam-anki watch` has the new deck after a save, and how soon it ends on a signal.

    python benchmarks/watch_latency.py [--saves 10]

Goals (the tests only check that these things happen, not how fast): a save is in the deck
within 1 s (median), and Ctrl-C or SIGTERM ends the watch within 1 s. Runs `python -m
kam_anki` with this script's Python on a copy of the shipped content; the machine is
the one every developer and CI has (2 cores): close other work first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CARD = "key-account-management.md"
PATIENCE = 60.0
GOAL = 1.0


def wait_until(changed: Callable[[], bool]) -> float:
    """Seconds until ``changed()`` held."""
    started = time.monotonic()
    while time.monotonic() - started < PATIENCE:
        if changed():
            return time.monotonic() - started
        time.sleep(0.002)
    raise SystemExit(f"nothing changed within {PATIENCE} s")


def start(folder: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "kam_anki", "watch", "--content", "content"]
    return subprocess.Popen(
        [*command, "-o", "out/kam.apkg", "--preview", "out/preview.html"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ends_after(process: subprocess.Popen[bytes], number: int) -> float:
    process.send_signal(number)
    started = time.monotonic()
    process.wait(timeout=PATIENCE)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=10, help="saves to time")
    saves = parser.parse_args().saves
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        shutil.copytree(REPO / "content", folder / "content")
        apkg, card = folder / "out" / "kam.apkg", folder / "content" / CARD
        latencies, stops = [], []
        for number in (signal.SIGINT, signal.SIGTERM):
            watch = start(folder)
            wait_until(apkg.exists)
            original = card.read_text(encoding="utf-8")
            for save in range(saves):
                before = apkg.read_bytes()
                edited = original.replace("- Erfolgsmessung", f"- Erfolgsmessung {number}-{save}")
                card.write_text(edited, encoding="utf-8")
                latencies.append(wait_until(lambda before=before: apkg.read_bytes() != before))
                time.sleep(0.3)  # the preview and the report follow the deck
            card.write_text(original, encoding="utf-8")
            time.sleep(0.5)  # idle, as between saves
            stops.append(ends_after(watch, number))
            shutil.rmtree(folder / "out")
    median = statistics.median(latencies)
    print(
        f"save -> new deck: median {median:.3f} s, max {max(latencies):.3f} s "
        f"over {len(latencies)} saves (goal: median < {GOAL} s): "
        f"{'PASS' if median < GOAL else 'MISS'}"
    )
    print(
        f"Ctrl-C / SIGTERM -> ended: {stops[0]:.3f} s / {stops[1]:.3f} s "
        f"(goal: < {GOAL} s): {'PASS' if max(stops) < GOAL else 'MISS'}"
    )
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
