"""Watch ``content/`` and call back after each burst of changes to the deck's sources.

The waiting is done by watchfiles (inotify and friends, polling only where the platform has
nothing better); this module only decides which changes count and groups them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from kam_anki.build import IMAGE_TYPES
from kam_anki.files import CONFIG_NAME

SOURCE_SUFFIXES = (".md", *IMAGE_TYPES)

# A save usually arrives as a few events (editors write a temporary file, then rename): wait
# this long for quiet before rebuilding, but never longer than DEBOUNCE_MS in all.
STEP_MS = 50
DEBOUNCE_MS = 400
IDLE_MS = 100


def is_source(path: str | Path) -> bool:
    """Markdown, images and deck.toml count; the lock file, which a build writes, must not
    (or every build would trigger the next), nor do editors' hidden swap and backup files."""
    name = Path(path).name
    if name.startswith((".", "#")) or name.endswith("~"):
        return False
    return name == CONFIG_NAME or name.lower().endswith(SOURCE_SUFFIXES)


def _source_filter(_change: watchfiles.Change, path: str) -> bool:
    return is_source(path)


def watch_content(
    root: Path,
    on_change: Callable[[list[Path]], None],
    *,
    on_ready: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Call ``on_ready`` once the watcher is live, then ``on_change`` with the changed source
    files, sorted, after every burst of changes, until ``stop`` is set.

    Ctrl-C raises KeyboardInterrupt, for the caller to end cleanly.
    """
    changes: Iterable[set[tuple[watchfiles.Change, str]]] = watchfiles.watch(
        root,
        watch_filter=_source_filter,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        # Wake up even when nothing changed: the first (empty) wake-up says the watcher is
        # live, so a change made during the first build is not missed.
        rust_timeout=IDLE_MS,
        yield_on_timeout=True,
    )
    ready = False
    for batch in changes:
        if not ready:
            ready = True
            if on_ready is not None:
                on_ready()
        if batch:
            on_change(sorted({Path(path) for _, path in batch}))
