"""The real Anki desktop (PyPI ``aqt``) under Xvfb, driven by the add-on in kam_desktop_addon/.

A fresh base folder gets a profile made beforehand with Anki's own ProfileManager (so no
first-run dialogs) and the add-on; Anki is started through the venv's ``anki`` launcher, the
add-on writes what it measured as JSON, and Anki quits. A hang or a crash fails the test with
Anki's own output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from display import xvfb

ADDON = Path(__file__).resolve().parent / "kam_desktop_addon"
PROFILE = "Lernende"

# Runs in its own interpreter: ProfileManager sets Anki's process-wide language.
_MAKE_PROFILE = """
import sys
from pathlib import Path
from aqt.profiles import ProfileManager, VideoDriver
pm = ProfileManager(Path(sys.argv[1]))
pm.setupMeta()
pm.create(sys.argv[2])
pm.setLang("de_DE")
pm.meta["firstRun"] = False
pm.load(sys.argv[2])
pm.save()
# Xvfb has no GPU: software rendering, which also turns off the reviewer's fade.
pm.set_video_driver(VideoDriver.Software)
"""


def launcher() -> str:
    """The venv's ``anki`` script: ``python -m aqt`` does not start the app."""
    beside = Path(sys.executable).with_name("anki")
    found = str(beside) if beside.exists() else shutil.which("anki")
    assert found, "Anki desktop is missing: pip install 'aqt[qt]' (the test extra has it)"
    return found


def make_base(base: Path) -> None:
    base.mkdir(parents=True)
    make = [sys.executable, "-c", _MAKE_PROFILE, str(base), PROFILE]
    subprocess.run(make, check=True, timeout=60)
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ADDON, base / "addons21" / ADDON.name, ignore=skip)


def run_anki(base: Path, plan: dict[str, Any], display: str, timeout: float) -> dict[str, Any]:
    """Start Anki on ``base`` with the add-on's ``plan``; what the add-on measured."""
    plan_path = base / "plan.json"
    results_path = Path(plan["results"])
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        # A phone's pixel density: sharp screenshots; CSS pixels (what is measured) stay put.
        "QT_SCALE_FACTOR": "2",
        # Chromium's sandbox refuses to run as root (CI); Xvfb has no GPU.
        "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu",
        "KAM_DESKTOP_PLAN": str(plan_path),
        "HOME": str(base),
        "XDG_RUNTIME_DIR": str(base),
        # Anki's single-instance socket lives in the temporary folder, keyed by the user
        # name: a private one keeps another Anki of the same user (a parallel run) apart.
        "TMPDIR": str(base),
    }
    env.pop("WAYLAND_DISPLAY", None)
    log = base / "anki.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [launcher(), "-b", str(base), "-p", PROFILE, "-l", "de_DE"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
            raise AssertionError(
                f"Anki desktop did not finish within {timeout} s; its output:\n{tail(log)}"
            ) from None
    if not results_path.exists():
        raise AssertionError(
            f"Anki desktop exited ({code}) without results; its output:\n{tail(log)}"
        )
    results: dict[str, Any] = json.loads(results_path.read_text(encoding="utf-8"))
    if "error" in results:
        raise AssertionError(f"the test add-on failed in Anki:\n{results['error']}\n{tail(log)}")
    return results


def review_in_fresh_anki(workdir: Path, plan: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Anki desktop on a fresh base folder in ``workdir``, under a private Xvfb, playing
    ``plan`` (its results go to ``workdir/results.json``); what the add-on measured."""
    base = workdir / "base"
    make_base(base)
    with xvfb() as display:
        return run_anki(base, {**plan, "results": str(workdir / "results.json")}, display, timeout)


def tail(log: Path, size: int = 6000) -> str:
    return log.read_bytes()[-size:].decode(errors="replace")
