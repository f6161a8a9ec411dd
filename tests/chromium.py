"""Headless Chromium (the engine of AnkiDroid and Anki desktop) for the layout and preview tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("headless Chromium is needed: apt-get install -y chromium")
    return found


def run_chromium(
    page: Path,
    *,
    width: int,
    height: int,
    screenshot: Path | None = None,
    scale: float = 1,
    fragment: str = "",
) -> str:
    """Load ``page`` and return the DOM after the load event (inline scripts have run)."""
    with tempfile.TemporaryDirectory(prefix="kam-chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--force-device-scale-factor={scale}",
            "--dump-dom",
        ]
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            command.append(f"--screenshot={screenshot}")
        command.append(page.resolve().as_uri() + fragment)
        done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
