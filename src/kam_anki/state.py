"""The lock file: what each note looked like at the last build and when it last changed.

Anki updates a note on import only if the incoming modification time is strictly newer
than its own. So each note's time must move forward exactly when its content changes and
stay put otherwise; the lock file remembers both across builds. Pure: text in, text out.

The lock alone is not enough: ``git revert`` or ``git checkout`` bring back an older lock
together with older Markdown, and learners already have the newer version. So a card is
compared with the newest version ever shipped (:class:`ShippedStamps`: the lock, its git history
and a record beside the output, merged), and a new time is always later than that one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from kam_anki.errors import ContentError
from kam_anki.tombstones import REMOVED_DIGEST

LOCK_NAME = "kam-anki.lock"


_FORMAT = 1


ITEM = "item"  # the digest of a list item's row in the record beside the output


# The note type's key among the stamps (a line of the record beside the output, a time ahead
# of the clock): no card id is empty.
NOTETYPE_KEY = ""


# Anki's note and card ids are milliseconds since 1970, made from the first build's time:
# id 0 breaks Anki's Check Database. No Anki collection predates 2001-09-09.
MIN_TIME = 1_000_000_000


# The latest time any stamp may have (2100-01-01): a lock, the record beside the output and
# the lock's git history are held to it alike, and a build never writes a time after it.
# A time beyond it is no clock's (a corrupt or hand-made value): read back, it is passed
# over with a warning; Anki could never again take an update of a note that had it.
MAX_TIME = 4_102_444_800


# A lock time this far ahead of the clock is worth a warning (a few changes within one
# second legitimately run a little ahead: each must be newer than the last).
CLOCK_SLACK = 120


@dataclass(frozen=True, slots=True)
class Stamp:
    """A note's time and what it held: its ``digest`` (or a tombstone's, or an item row's
    :data:`ITEM`), the time it last changed, and its ``text``: a card's question, or a list
    item's text in the record (``"question"`` in the lock's JSON, as always)."""

    digest: str
    mod: int
    text: str = ""

    @classmethod
    def tombstone(cls, mod: int, question: str) -> Stamp:
        """A removed card's stamp: its last question kept for the tombstone note."""
        return cls(REMOVED_DIGEST, mod, question)

    @property
    def is_tombstone(self) -> bool:
        return self.digest == REMOVED_DIGEST


@dataclass(frozen=True, slots=True)
class Item:
    """A list item's last text, by its id ``card/key``; ``live``: in its list at the last
    build (a gone item's key stays its own, for when it comes back)."""

    text: str
    live: bool = True


@dataclass(frozen=True, slots=True)
class State:
    epoch: int  # the first build's time: base of the package's note and card ids
    notetype: Stamp
    cards: Mapping[str, Stamp] = field(default_factory=dict)
    removed: Mapping[str, Stamp] = field(default_factory=dict)  # tombstones
    items: Mapping[str, Item] = field(default_factory=dict)  # every list item ever keyed

    def stamps(self) -> dict[str, Stamp]:
        """Every stamp the lock ships: the note type's (:data:`NOTETYPE_KEY`), each card's
        and each tombstone's."""
        return {NOTETYPE_KEY: self.notetype, **self.cards, **self.removed}


@dataclass(frozen=True, slots=True)
class ShippedStamps:
    """The newest stamp ever shipped for each card id (tombstones included) and for the note
    type, as far as the build can see: what a learner who imported every build has."""

    cards: Mapping[str, Stamp] = field(default_factory=dict)
    notetype: Stamp | None = None
    # Card ids shipped on the current line of history (the lock, and its versions in the
    # commits HEAD descends from): only these become tombstones when they are gone. A card
    # only another branch or a discarded build had is not this deck's to remove.
    lineage: frozenset[str] = frozenset()
    items: Mapping[str, str] = field(default_factory=dict)  # list items ever keyed: their text


def newest(*stamps: Stamp | None) -> Stamp | None:
    """The stamp with the latest time (the first of equals)."""
    found: Stamp | None = None
    for stamp in stamps:
        if stamp is not None and (found is None or stamp.mod > found.mod):
            found = stamp
    return found


def merge_shipped(records: Iterable[ShippedStamps]) -> ShippedStamps:
    cards: dict[str, Stamp] = {}
    notetype: Stamp | None = None
    lineage: set[str] = set()
    items: dict[str, str] = {}
    for record in records:
        for card_id, stamp in record.cards.items():
            best = newest(cards.get(card_id), stamp)
            assert best is not None
            cards[card_id] = best
        notetype = newest(notetype, record.notetype)
        lineage |= record.lineage
        for item, text in record.items.items():
            items.setdefault(item, text)  # the first record's text: the lock's comes first
    return ShippedStamps(cards, notetype, frozenset(lineage), items)


def shipped_by(state: State) -> ShippedStamps:
    """What a build that wrote ``state`` shipped."""
    items = {item: known.text for item, known in state.items.items()}
    return ShippedStamps(
        {**state.cards, **state.removed}, state.notetype, frozenset(state.cards), items
    )


def dump_state(state: State, out: TextIO) -> None:
    """One card a line, sorted by id, so the file diffs well in git; written line by line,
    so a large deck's lock is never one big string."""
    notetype = json.dumps({"digest": state.notetype.digest, "mod": state.notetype.mod})
    out.write(f'{{\n "format": {_FORMAT},\n "epoch": {state.epoch},\n "notetype": {notetype},\n')
    dump_table(out, "cards", state.cards)
    out.write(",\n")
    dump_table(out, "removed", state.removed)
    if state.items:
        out.write(',\n "items": {')
        for number, (key, item) in enumerate(sorted(state.items.items())):
            gone = "" if item.live else ', "gone": true'
            text = json.dumps(item.text, ensure_ascii=False)
            out.write(f'{"," if number else ""}\n  {json.dumps(key)}: {{"item": {text}{gone}}}')
        out.write("\n }")
    out.write("\n}\n")


def dump_table(out: TextIO, name: str, stamps: Mapping[str, Stamp]) -> None:
    """``"name": {...}`` with one stamp a line: the lock's line format, which the git
    history of the lock is read back in (:mod:`kam_anki.history`)."""
    out.write(f' "{name}": {{')
    for number, (key, s) in enumerate(sorted(stamps.items())):
        question = json.dumps(s.text, ensure_ascii=False)
        out.write(
            f"{',' if number else ''}\n  {json.dumps(key)}: "
            f'{{"digest": "{s.digest}", "mod": {s.mod}, "question": {question}}}'
        )
    out.write("\n }" if stamps else "}")


_CONFLICT = re.compile(rb"^(?:<{7}|={7}|>{7})(?:[ \r\n]|$)", re.MULTILINE)


def load_state(raw: bytes, path: str) -> State:
    conflict = _CONFLICT.search(raw)
    if conflict:
        # Either side is a consistent lock: a rebuild stamps what the other side changed.
        raise ContentError.at(
            path,
            raw.count(b"\n", 0, conflict.start()) + 1,
            "unresolved git merge conflict: keep one side whole (git checkout --ours or "
            "--theirs on this file, then git add it) and run kam-anki build again; "
            "do not merge the lines by hand",
        )
    try:
        data = json.loads(raw.decode("utf-8"))
        if data.get("format") != _FORMAT:
            raise ValueError(f"unsupported format {data.get('format')!r}")
        return State(
            epoch=_int(data["epoch"]),
            notetype=load_stamp(data["notetype"]),
            cards=load_table(data["cards"]),
            removed=load_table(data.get("removed", {})),
            items={str(k): load_item(v) for k, v in data.get("items", {}).items()},
        )
    except json.JSONDecodeError as exc:
        raise ContentError.at(path, exc.lineno, f"corrupt lock file: {exc.msg}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # UnicodeError too
        raise ContentError.at(
            path, 1, f"corrupt lock file ({exc}): restore it from git, do not delete it"
        ) from None


def load_stamp(value: Mapping[str, Any]) -> Stamp:
    """One stamp as :func:`dump_table` writes it; raises ValueError, KeyError or TypeError."""
    return make_stamp(value["digest"], value["mod"], value.get("question", ""))


def make_stamp(digest: Any, mod: Any, question: Any) -> Stamp:
    """A stamp from values read back; raises ValueError for an impossible time."""
    return Stamp(str(digest), _int(mod), str(question))


def load_item(value: Mapping[str, Any]) -> Item:
    """One line of the lock's ``items``; raises KeyError or TypeError."""
    if not isinstance(value["item"], str):
        raise TypeError(f"expected an item's text, got {value['item']!r}")
    return Item(value["item"], not value.get("gone", False))


def load_table(table: Mapping[str, Any]) -> dict[str, Stamp]:
    return {str(k): load_stamp(v) for k, v in table.items()}


def valid_time(value: object) -> bool:
    """Whether ``value`` is a time a stamp may have: whole seconds, 0 to :data:`MAX_TIME`."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TIME


def _int(value: Any) -> int:
    """A time in seconds (:func:`valid_time`); raises ValueError for any other value."""
    if not valid_time(value):
        raise ValueError(f"expected a time in seconds up to {MAX_TIME} (2100), got {value!r}")
    return int(value)
