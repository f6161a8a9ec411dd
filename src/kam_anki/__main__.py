from __future__ import annotations

from kam_anki.cli import run

run()
