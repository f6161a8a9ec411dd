"""What learners may already have: the newest stamp ever shipped per card, read back from
the lock file's git history and from the record a build keeps beside its output; pure.

Each card's line in the lock reads ``  "id": {"digest": …, "mod": …, "question": …}`` and
the note type's `` "notetype": {…}``, so the added lines of ``git log -p`` on the lock are
every version of every card that was ever committed, whatever was reverted since.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from kam_anki.state import (
    ITEM,
    REMOVED,
    Issued,
    Stamp,
    State,
    load_stamp,
    make_stamp,
    merge_issued,
    newest,
)

ISSUED_NAME = ".kam-anki-issued.jsonl"
_CARD_LINE = '+  "'
_NOTETYPE_LINE = '+ "notetype": '


def from_lock_log(log: str, *, lineage: bool) -> Issued:
    """Every card version in the output of ``git log -p`` on the lock file; ``lineage``:
    the log is of the commits HEAD descends from (see :class:`Issued`)."""
    cards: dict[str, Stamp] = {}
    notetypes: list[Issued] = []
    items: dict[str, str] = {}
    for key, stamp in _log_stamps(log, items):
        if key == "":
            notetypes.append(Issued({}, stamp))
        elif key not in cards or stamp.mod > cards[key].mod:
            cards[key] = stamp
    live = frozenset(k for k, v in cards.items() if v.digest != REMOVED) if lineage else frozenset()
    return merge_issued([Issued(cards, None, live, items), *notetypes])


def _log_stamps(log: str, items: dict[str, str] | None = None) -> Iterator[tuple[str, Stamp]]:
    """Each card's stamp (and the note type's, under "") in the added lines of a lock log;
    a list item's text goes into ``items`` (the newest: git log lists newest first)."""
    for line in log.splitlines():
        is_card = line.startswith(_CARD_LINE)
        if not is_card and not line.startswith(_NOTETYPE_LINE):
            continue
        try:
            data: Any = json.loads("{" + line[1:].strip().rstrip(",") + "}")
            ((key, value),) = data.items()
            if is_card and isinstance(value, dict) and isinstance(value.get(ITEM), str):
                if items is not None:
                    items.setdefault(str(key), value[ITEM])
                continue
            stamp = load_stamp(value)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a line of another shape, or of a lock that was never valid
        yield (str(key) if is_card else ""), stamp


def shipped_digests(logs: Iterable[str], record: bytes) -> dict[str, set[str]]:
    """Every version ever shipped of each card (by digest), not just the newest: a learner
    whose note is one of them has not edited it (``pull``)."""
    found: dict[str, set[str]] = {}
    stamps = itertools.chain(*(_log_stamps(log) for log in logs), _record_stamps(record))
    for key, stamp in stamps:
        if key and stamp.digest != ITEM:
            found.setdefault(key, set()).add(stamp.digest)
    return found


def extended_record(record: bytes, before: Issued, state: State) -> bytes:
    """The record with a line for each stamp ``state`` ships that ``before`` does not hold
    yet: one JSON array a stamp, ``[id, digest, mod, question]`` ("" is the note type's id).
    The record only ever grows by these lines, and its old bytes are kept as they are, so a
    build after one edit adds one line and formats nothing else."""
    stamps = {"": state.notetype, **state.cards, **state.removed}
    known = {"": before.notetype, **before.cards}
    rows = [
        [key, stamp.digest, stamp.mod, stamp.question]
        for key, stamp in stamps.items()
        if known.get(key) != stamp
    ]
    # A list item's key and text: ``[id, "item", 0, text]``.
    rows += [
        [key, ITEM, 0, item.text]
        for key, item in state.items.items()
        if before.items.get(key) != item.text
    ]
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if record and not record.endswith(b"\n"):
        record += b"\n"  # a hand-edited end: never glue a line onto it
    return record + lines.encode("utf-8")


def load_issued(raw: bytes) -> Issued:
    """The record beside the output, newest stamp per id. A line that cannot be read is
    passed over; an unreadable record counts as empty: it only ever makes times later, so
    losing it is the same as a fresh clone."""
    cards: dict[str, Stamp] = {}
    notetype: Stamp | None = None
    items: dict[str, str] = {}
    for key, stamp in _record_stamps(raw):
        if stamp.digest == ITEM:
            items[key] = stamp.question  # later lines are newer
        elif key == "":
            notetype = newest(notetype, stamp)
        elif key not in cards or stamp.mod > cards[key].mod:
            cards[key] = stamp
    return Issued(cards, notetype, items=items)


def _record_stamps(raw: bytes) -> Iterator[tuple[str, Stamp]]:
    """The record's stamps in order; a line that cannot be read is passed over."""
    text = raw.decode("utf-8", "replace")
    try:
        rows: Any = json.loads("[" + ",".join(text.split("\n")[:-1]) + "]")
    except ValueError:  # one bad line: read them one by one
        rows = []
        for line in text.split("\n"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    for row in rows:
        try:
            key, digest, mod, question = row
            yield str(key), make_stamp(digest, mod, question)
        except (ValueError, KeyError, TypeError):
            continue
