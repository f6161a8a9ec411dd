"""Watch ``content/`` and call back after each burst of changes that a build would see.

The waiting is done by watchfiles (inotify and friends, polling only where the platform has
nothing better); this module only decides which changes count and groups them. Which files
count is decided by :func:`kam_anki.files.is_source`, the rule the build itself follows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles
from watchfiles._rust_notify import WatchfilesRustInternalError

from kam_anki.errors import KamError
from kam_anki.files import find_sources, is_hidden, is_source, relative

# A save usually arrives as a few events (editors write a temporary file, then rename): wait
# this long for quiet before rebuilding, but never longer than DEBOUNCE_MS in all.
STEP_MS = 50
DEBOUNCE_MS = 400
IDLE_MS = 100


def watch_content(
    root: Path,
    on_change: Callable[[list[str]], None],
    *,
    on_ready: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Call ``on_ready`` once the watcher is live, then, after every burst of changes that
    a build would see, ``on_change`` with the names (relative to ``root``) of the sources
    that changed, appeared or went away, sorted; until ``stop`` is set.

    A folder moved in, out or within ``root`` reports only the folder (inotify): what it
    moved is found by comparing the sources before and after.
    Ctrl-C raises KeyboardInterrupt, for the caller to end cleanly.
    """
    inside = root.resolve()

    def name(path: str) -> str:
        where = Path(path)
        return relative(where.parent.resolve() / where.name, inside)

    def visible(_change: watchfiles.Change, path: str) -> bool:
        # Editors' swap files and the build's own temporary files are hidden.
        return not is_hidden(name(path))

    def sources() -> set[str] | None:
        try:
            return set(find_sources(root))
        except KamError:  # e.g. a folder that cannot be read: the build will say so
            return None

    known: set[str] | None = None
    while True:
        live = False
        try:
            for batch in _batches(root, visible, stop):
                names = {name(path) for _, path in batch}
                if not live and known is None:  # the first start: build, whatever is there
                    known = sources()
                    if on_ready is not None:
                        on_ready()
                elif batch or not live:  # or a restart: what changed in the meantime
                    known = _compare(known, sources(), names, on_change)
                live = True
            return
        except WatchfilesRustInternalError:
            # watchfiles stops at an event for a name that is not UTF-8: start it again;
            # the comparison then finds the file, and the build names it.
            continue


def _batches(
    root: Path, visible: Callable[[watchfiles.Change, str], bool], stop: threading.Event | None
) -> Iterable[set[tuple[watchfiles.Change, str]]]:
    return watchfiles.watch(
        root,
        watch_filter=visible,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        # Wake up even when nothing changed: the first (empty) wake-up says the watcher is
        # live, so a change made during the first build is not missed.
        rust_timeout=IDLE_MS,
        yield_on_timeout=True,
    )


def _compare(
    known: set[str] | None,
    now: set[str] | None,
    names: set[str],
    on_change: Callable[[list[str]], None],
) -> set[str] | None:
    """Call ``on_change`` if a source changed (``names`` are the events' paths) or the set
    of sources did (a folder's event stands for the files in it); returns ``now``."""
    moved = now ^ known if now is not None and known is not None else set()
    changed = {n for n in names if is_source(n)} | moved
    if changed or now != known:
        on_change(sorted(changed or names))
    return now
