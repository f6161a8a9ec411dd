"""What learners may already have: the newest stamp ever shipped per card, read back from
versions of the lock file (its git history) and from the record a build keeps beside its
output; and the cache of what was read from git. Pure: text in, data out.

Each card's line in the lock reads ``  "id": {"digest": …, "mod": …, "question": …}`` and
the note type's `` "notetype": {…}``, so the lines of every committed version of the lock
are every version of every card that was ever committed, whatever was reverted since.
Versions are read as git stores them (``git cat-file``), never as a diff: attributes such
as ``*.lock -diff`` or ``binary`` in ``.gitattributes`` change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kam_anki.state import (
    ITEM,
    MAX_TIME,
    NOTETYPE_KEY,
    ShippedStamps,
    Stamp,
    State,
    load_stamp,
    make_stamp,
    merge_shipped,
    newest,
    valid_time,
)

RECORD_NAME = ".kam-anki-issued.jsonl"
_CARD_LINE = '  "'
_NOTETYPE_LINE = ' "notetype": '
_MOD = '"mod": '
_CACHE_FORMAT = 3
_LINEAGES = 4  # lines of history kept: where HEAD is and the last few it was (branches)
# Per card id: the newest time over a line of history, and whether that version was a
# tombstone.
Lineage = dict[str, tuple[int, bool]]


@dataclass
class Newest:
    """The newest stamp per card id (and of the note type) over lock versions, fed one at a
    time, newest version first (as ``git log`` lists them): of two equal times the first
    read wins. A line whose time lies beyond :data:`MAX_TIME` is counted in ``ignored``."""

    cards: dict[str, Stamp] = field(default_factory=dict)
    notetype: Stamp | None = None
    ignored: int = 0
    items: dict[str, str] = field(default_factory=dict)  # a list item's newest text, by id
    _mods: dict[str, int] = field(default_factory=dict)  # by the id as the line spells it

    def read(self, text: str) -> None:
        for line in text.splitlines():
            if line.startswith(_CARD_LINE):
                self._card(line)
            elif line.startswith(_NOTETYPE_LINE):
                stamp = _stamp_of(line)
                if stamp is None:
                    self.ignored += _is_late(line)
                elif self.notetype is None or stamp.mod > self.notetype.mod:
                    self.notetype = stamp

    def _card(self, line: str) -> None:
        # Most lines of a long history are older versions of a card already seen: their
        # time, found without parsing the line, is enough to pass them over.
        spelled = line[: line.find('": {') + 1]
        at = line.find(_MOD)
        if at < 0:  # no time: a list item's line of the lock's items (its key and text)
            self._item(line)
            return
        end = line.find(",", at)
        try:
            mod = int(line[at + len(_MOD) : end])
        except ValueError:
            mod = -1  # a line of another shape: parsed in full below, or passed over
        known = self._mods.get(spelled)
        if known is not None and 0 <= mod <= known:
            return
        if mod > MAX_TIME:
            self.ignored += 1
            return
        try:
            data: Any = json.loads("{" + line.strip().rstrip(",") + "}")
            ((key, value),) = data.items()
            stamp = load_stamp(value)
        except (ValueError, KeyError, TypeError, AttributeError):
            return  # a line of another shape, or of a lock that was never valid
        if known is None or stamp.mod > known:
            self._mods[spelled] = stamp.mod
            self.cards[str(key)] = stamp

    def _item(self, line: str) -> None:
        try:
            data: Any = json.loads("{" + line.strip().rstrip(",") + "}")
            ((key, value),) = data.items()
        except (ValueError, AttributeError):
            return
        if isinstance(value, dict) and isinstance(value.get(ITEM), str):
            self.items.setdefault(str(key), value[ITEM])  # the newest version comes first


def _stamp_of(line: str) -> Stamp | None:
    try:
        data: Any = json.loads("{" + line.strip().rstrip(",") + "}")
        ((_, value),) = data.items()
        return load_stamp(value)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _is_late(line: str) -> bool:
    at = line.find(_MOD)
    digits = line[at + len(_MOD) :].split(",")[0].split("}")[0].strip()
    return at >= 0 and digits.isdigit() and int(digits) > MAX_TIME


@dataclass
class HistoryCache:
    """What earlier builds read from the lock's git history, so that a build reads only the
    commits made since (kept beside the output; safe to delete).

    ``commits`` were read into ``cards`` and ``notetype``; ``lineages`` hold, for the commit
    HEAD was at in the last few builds (the latest first), the :data:`Lineage` over the
    commits it descends from (its own included): a build whose HEAD descends from one of
    them reads only the commits in between, also after switching branches.
    """

    where: str  # the repository and the lock's path in it: another one's cache is not used
    commits: set[str] = field(default_factory=set)
    cards: dict[str, Stamp] = field(default_factory=dict)
    notetype: Stamp | None = None
    lineages: dict[str, Lineage] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)  # every list item's key and text

    def stamps(self, tip: str) -> ShippedStamps:
        lineage = self.lineages.get(tip, {})
        live = frozenset(key for key, (_, removed) in lineage.items() if not removed)
        return ShippedStamps(self.cards, self.notetype, live, self.items)

    def take(self, found: Newest, commits: Iterable[str], lineage: Lineage | None = None) -> None:
        """Lock versions newer than all read before (``found``), of ``commits``; into
        ``lineage`` too if they are of that line of history (its newer commits)."""
        self.commits.update(commits)
        merged = merge_shipped(
            [ShippedStamps(self.cards, self.notetype), ShippedStamps(found.cards)]
        )
        self.cards = dict(merged.cards)
        self.notetype = newest(self.notetype, found.notetype)
        self.items = {**self.items, **found.items}  # newer commits' text wins
        if lineage is not None:  # the newer commits win a tie
            for key, stamp in found.cards.items():
                before = lineage.get(key)
                if before is None or stamp.mod >= before[0]:
                    lineage[key] = (stamp.mod, stamp.is_tombstone)

    def keep(self, tip: str, lineage: Lineage) -> None:
        """``lineage`` as the one of ``tip``, HEAD now: the first; the oldest goes."""
        others = [(t, kept) for t, kept in self.lineages.items() if t != tip]
        self.lineages = dict([(tip, lineage), *others][:_LINEAGES])


def dump_cache(cache: HistoryCache) -> bytes:
    def row(stamp: Stamp) -> list[Any]:
        return [stamp.digest, stamp.mod, stamp.text]

    data = {
        "format": _CACHE_FORMAT,
        "where": cache.where,
        "commits": sorted(cache.commits),
        "cards": {key: row(stamp) for key, stamp in sorted(cache.cards.items())},
        "notetype": row(cache.notetype) if cache.notetype is not None else None,
        "lineages": [
            [tip, {key: list(value) for key, value in sorted(lineage.items())}]
            for tip, lineage in cache.lineages.items()
        ],
        "items": dict(sorted(cache.items.items())),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_cache(raw: bytes, where: str) -> HistoryCache:
    """The cache for ``where``; an empty one if ``raw`` is of another repository, or cannot
    be read, or holds a time a lock could not (then everything is read again)."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
        if data["format"] != _CACHE_FORMAT or data["where"] != where:
            return HistoryCache(where)
        notetype = data["notetype"]
        lineages = {
            str(tip): {str(k): (int(mod), bool(gone)) for k, (mod, gone) in lineage.items()}
            for tip, lineage in data["lineages"]
        }
        mods = (mod for lineage in lineages.values() for mod, _ in lineage.values())
        if not all(valid_time(mod) for mod in mods):
            return HistoryCache(where)
        return HistoryCache(
            where,
            {str(commit) for commit in data["commits"]},
            {str(k): make_stamp(*row) for k, row in data["cards"].items()},
            make_stamp(*notetype) if notetype is not None else None,
            lineages,
            {str(key): str(text) for key, text in data["items"].items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return HistoryCache(where)


def extended_record(record: bytes, before: ShippedStamps, state: State) -> bytes:
    """The record with a line for each stamp ``state`` ships that ``before`` does not hold
    yet: one JSON array a stamp, ``[id, digest, mod, question]`` (the note type's id is
    :data:`NOTETYPE_KEY`). The record only ever grows by these lines, and its old bytes are
    kept as they are, so a build after one edit adds one line and formats nothing else."""
    known = {NOTETYPE_KEY: before.notetype, **before.cards}
    rows = [
        [key, stamp.digest, stamp.mod, stamp.text]
        for key, stamp in state.stamps().items()
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


def load_record(raw: bytes, late: list[int] | None = None) -> ShippedStamps:
    """The record beside the output, newest stamp per id. A line that cannot be read is
    passed over; an unreadable record counts as empty: it only ever makes times later, so
    losing it is the same as a fresh clone. A line with a time no lock may hold (see
    :data:`MAX_TIME`) is passed over too, and its number added to ``late``."""
    cards: dict[str, Stamp] = {}
    notetype: Stamp | None = None
    items: dict[str, str] = {}
    for key, stamp in _record_stamps(raw, late):
        if stamp.digest == ITEM:
            items[key] = stamp.text  # later lines are newer
        elif key == NOTETYPE_KEY:
            notetype = newest(notetype, stamp)
        elif key not in cards or stamp.mod > cards[key].mod:
            cards[key] = stamp
    return ShippedStamps(cards, notetype, items=items)


def _record_stamps(raw: bytes, late: list[int] | None = None) -> Iterator[tuple[str, Stamp]]:
    """The record's stamps in order; a line that cannot be read is passed over (its number
    into ``late`` if its time is beyond :data:`MAX_TIME`)."""
    lines = raw.decode("utf-8", "replace").split("\n")
    try:  # one parse for the whole record, the usual case
        rows: list[tuple[int, Any]] = list(
            enumerate(json.loads("[" + ",".join(lines[:-1]) + "]"), start=1)
        )
    except ValueError:  # one bad line: read them one by one
        rows = []
        for number, line in enumerate(lines, start=1):
            try:
                rows.append((number, json.loads(line)))
            except ValueError:
                continue
    for number, row in rows:
        try:
            key, digest, mod, question = row
            stamp = make_stamp(digest, mod, question)
        except (ValueError, KeyError, TypeError):
            if late is not None and _late_row(row):
                late.append(number)
            continue
        yield str(key), stamp


def shipped_digests(versions: Iterable[str], record: bytes) -> dict[str, set[str]]:
    """Every version ever shipped of each card (by digest), not just the newest, from the
    lock's versions (their text) and the record: a learner whose note is one of them has not
    edited it (``pull``)."""
    found: dict[str, set[str]] = {}
    for version in versions:
        for line in version.splitlines():
            stamp = _stamp_of(line) if line.startswith(_CARD_LINE) else None
            if stamp is not None:
                key = line.strip().split('"', 2)[1]
                found.setdefault(key, set()).add(stamp.digest)
    for key, stamp in _record_stamps(record):
        if key and stamp.digest != ITEM:
            found.setdefault(key, set()).add(stamp.digest)
    return found


def _late_row(row: Any) -> bool:
    try:
        return isinstance(row[2], int | float) and row[2] > MAX_TIME
    except (KeyError, TypeError, IndexError):
        return False
