"""What learners may already have: the newest stamp ever shipped per card, read back from
the lock file's git history and from the record a build keeps beside its output; pure.

Each card's line in the lock reads ``  "id": {"digest": …, "mod": …, "question": …}`` and
the note type's `` "notetype": {…}``, so the added lines of ``git log -p`` on the lock are
every version of every card that was ever committed, whatever was reverted since.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from kam_anki.state import (
    REMOVED,
    Issued,
    Stamp,
    dump_table,
    load_stamp,
    load_table,
    merge_issued,
)

ISSUED_NAME = ".kam-anki-issued.json"
_FORMAT = 1
_CARD_LINE = '+  "'
_NOTETYPE_LINE = '+ "notetype": '


def from_lock_log(log: str, *, lineage: bool) -> Issued:
    """Every card version in the output of ``git log -p`` on the lock file; ``lineage``:
    the log is of the commits HEAD descends from (see :class:`Issued`)."""
    cards: dict[str, Stamp] = {}
    notetypes: list[Issued] = []
    for line in log.splitlines():
        is_card = line.startswith(_CARD_LINE)
        if not is_card and not line.startswith(_NOTETYPE_LINE):
            continue
        try:
            data: Any = json.loads("{" + line[1:].strip().rstrip(",") + "}")
            ((key, value),) = data.items()
            stamp = load_stamp(value)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a line of another shape, or of a lock that was never valid
        if not is_card:
            notetypes.append(Issued({}, stamp))
        elif key not in cards or stamp.mod > cards[key].mod:
            cards[str(key)] = stamp
    live = frozenset(k for k, v in cards.items() if v.digest != REMOVED) if lineage else frozenset()
    return merge_issued([Issued(cards, None, live), *notetypes])


def dump_issued(issued: Issued, out: TextIO) -> None:
    notetype = issued.notetype
    head = json.dumps({"digest": notetype.digest, "mod": notetype.mod}) if notetype else "null"
    out.write(f'{{\n "format": {_FORMAT},\n "notetype": {head},\n')
    dump_table(out, "cards", issued.cards)
    out.write("\n}\n")


def load_issued(raw: bytes) -> Issued:
    """The record beside the output; an unreadable one counts as empty (it only ever makes
    times later, never earlier, so losing it is the same as a fresh clone)."""
    try:
        data = json.loads(raw.decode("utf-8"))
        if data.get("format") != _FORMAT:
            return Issued()
        notetype = data["notetype"]
        return Issued(load_table(data["cards"]), load_stamp(notetype) if notetype else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        return Issued()
