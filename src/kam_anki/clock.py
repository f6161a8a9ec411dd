"""The clock's rules: which time a build stamps with, and what a wrong clock did to a deck.

Anki takes a note from an import only if its time is newer than its own copy's, so times
that lie ahead of the clock matter to learners (see :mod:`kam_anki.state`).
"""

from __future__ import annotations

import os
import time

from kam_anki.errors import Diagnostic, UsageError
from kam_anki.stamps import Changes
from kam_anki.state import CLOCK_SLACK, LOCK_NAME, MAX_TIME, MIN_TIME, NOTETYPE_KEY, State


def now(previous: State | None, clock: float | None = None) -> int:
    """This build's time: ``clock`` (the system clock unless given), or
    ``SOURCE_DATE_EPOCH`` for a first build."""
    seconds = time.time() if clock is None else clock
    return build_time(seconds, os.environ.get("SOURCE_DATE_EPOCH"), previous)


def build_time(clock: float, source_date_epoch: str | None, previous: State | None) -> int:
    """The time a build stamps changed cards with: the clock, or ``SOURCE_DATE_EPOCH`` for a
    first build (no lock file yet) where it is set.

    Later builds take the clock: a changed card must be newer than the learner's own edits.
    Raises :class:`UsageError` for a value Anki could not take as an id base or that lies in
    the future (its times would override learners' edits), and for a clock before 2001.
    """
    if int(clock) < MIN_TIME:
        raise UsageError(
            f"this machine's clock says {int(clock)} s since 1970, before 2001: "
            "set the clock right before building"
        )
    if int(clock) > MAX_TIME - CLOCK_SLACK:
        raise UsageError(
            f"this machine's clock says {int(clock)} s since 1970, after 2100: "
            "set the clock right before building"
        )
    if not source_date_epoch or previous is not None:
        return int(clock)
    value = source_date_epoch.strip()
    if not value.isascii() or not value.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {value!r}")
    seconds = int(value)
    if seconds < MIN_TIME:
        raise UsageError(
            f"SOURCE_DATE_EPOCH={value} lies before 2001-09-09 ({MIN_TIME}): Anki's note ids are "
            "made from it and would be invalid; use a real time, e.g. the last commit's"
        )
    if seconds > clock + CLOCK_SLACK:
        raise UsageError(
            f"SOURCE_DATE_EPOCH={value} lies in the future: times ahead of the clock would make "
            "imports overwrite learners' own edits; use a time not later than now"
        )
    return seconds


def clock_warnings(
    previous: State | None, state: State, changes: Changes, now: int
) -> list[Diagnostic]:
    """What a wrong clock did to the times, and what that means for learners."""
    diagnostics = []
    if previous is not None and previous.epoch != state.epoch:
        diagnostics.append(
            Diagnostic(
                LOCK_NAME,
                1,
                "warning",
                f"the lock's epoch {previous.epoch} is no valid base for Anki's note ids; "
                f"it is now {state.epoch} (notes are matched by GUID: learners lose nothing)",
            )
        )
    if not changes.ahead:
        return diagnostics
    latest = max(seconds for _, seconds in changes.ahead)
    names = ", ".join(_named(key) for key, _ in changes.ahead[:10])
    more = f" and {len(changes.ahead) - 10} more" if len(changes.ahead) > 10 else ""
    diagnostics.append(
        Diagnostic(
            LOCK_NAME,
            1,
            "warning",
            f"{len(changes.ahead)} time(s) in this deck lie up to {_duration(latest)} ahead of "
            f"this machine's clock ({_utc(now)}): {names}{more}.\n"
            "  Either an earlier build ran on a clock that was ahead, or this clock is behind.\n"
            f"  Until {_utc(now + latest)}, importing this deck replaces a learner's own edits "
            "in Anki to these cards, even where their Markdown did not change; changes to the "
            "Markdown still arrive.\n"
            "  If this clock is behind, set it right (e.g. turn on network time) and build "
            "again. If it is right, tell learners not to edit these cards in Anki before then.",
        )
    )
    return diagnostics


def _utc(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _named(key: str) -> str:
    return "(note type)" if key == NOTETYPE_KEY else key
