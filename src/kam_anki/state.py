"""The lock file: what each note looked like at the last build and when it last changed.

Anki updates a note on import only if the incoming modification time is strictly newer
than its own. So each note's time must move forward exactly when its content changes and
stay put otherwise; the lock file remembers both across builds. Pure: text in, text out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from kam_anki.errors import ContentError

LOCK_NAME = "kam-anki.lock"
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Stamp:
    digest: str
    mod: int
    question: str = ""


@dataclass(frozen=True, slots=True)
class State:
    epoch: int  # the first build's time: base of the package's note and card ids
    notetype: Stamp
    cards: Mapping[str, Stamp] = field(default_factory=dict)
    removed: Mapping[str, Stamp] = field(default_factory=dict)  # tombstones


@dataclass(frozen=True, slots=True)
class Changes:
    """What an import of the new package will do, card by card: ``(id, question)`` pairs."""

    added: tuple[tuple[str, str], ...]
    changed: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    unchanged: int
    notetype_changed: bool


def first_epoch(previous: State | None, now: int) -> int:
    """The deck's first build time: the base of its note and card ids, fixed from then on."""
    return previous.epoch if previous is not None else now


class Stamper:
    """Gives each card of a build its time, card by card, then the next state.

    A new time is never earlier than ``now`` and always later than the one it replaces;
    a card whose content is unchanged keeps its time.
    """

    def __init__(self, previous: State | None, now: int) -> None:
        self.old = previous or State(epoch=first_epoch(previous, now), notetype=Stamp("", 0))
        self.now = now
        self.cards: dict[str, Stamp] = {}
        self.added: list[tuple[str, str]] = []
        self.changed: list[tuple[str, str]] = []
        self.unchanged = 0

    @property
    def epoch(self) -> int:
        return self.old.epoch

    def _stamp(self, digest: str, question: str, before: Stamp | None) -> Stamp:
        if before is not None and before.digest == digest:
            return Stamp(digest, before.mod, question)
        floor = before.mod + 1 if before is not None else 0
        return Stamp(digest, max(self.now, floor), question)

    def stamp(self, card_id: str, digest: str, question: str) -> int:
        """The card's modification time."""
        before = self.old.cards.get(card_id)
        stamp = self._stamp(digest, question, before or self.old.removed.get(card_id))
        self.cards[card_id] = stamp
        if before is None:
            self.added.append((card_id, question))
        elif before.digest != digest:
            self.changed.append((card_id, question))
        else:
            self.unchanged += 1
        return stamp.mod

    def finish(
        self, notetype_digest: str, *, forget_removed: bool = False
    ) -> tuple[State, Changes]:
        """The next state, with tombstones for cards that are gone, and what changed."""
        old, now = self.old, self.now
        removed_now = sorted(set(old.cards) - set(self.cards))
        # Forgetting applies to tombstones the learner has had a chance to see: a card
        # removed in this very build always gets one.
        tombstones: dict[str, Stamp] = {}
        if not forget_removed:
            tombstones = {k: v for k, v in old.removed.items() if k not in self.cards}
        for card_id in removed_now:
            gone = old.cards[card_id]
            tombstones[card_id] = Stamp("removed", max(now, gone.mod + 1), gone.question)
        notetype = self._stamp(notetype_digest, "", old.notetype)
        state = State(old.epoch, notetype, self.cards, dict(sorted(tombstones.items())))
        changes = Changes(
            added=tuple(self.added),
            changed=tuple(self.changed),
            removed=tuple((k, old.cards[k].question) for k in removed_now),
            unchanged=self.unchanged,
            notetype_changed=notetype.mod != old.notetype.mod,
        )
        return state, changes


def dump_state(state: State, out: TextIO) -> None:
    """One card a line, sorted by id, so the file diffs well in git; written line by line,
    so a large deck's lock is never one big string."""

    def table(name: str, stamps: Mapping[str, Stamp]) -> None:
        out.write(f' "{name}": {{')
        for number, (key, s) in enumerate(sorted(stamps.items())):
            question = json.dumps(s.question, ensure_ascii=False)
            out.write(
                f"{',' if number else ''}\n  {json.dumps(key)}: "
                f'{{"digest": "{s.digest}", "mod": {s.mod}, "question": {question}}}'
            )
        out.write("\n }" if stamps else "}")

    notetype = json.dumps({"digest": state.notetype.digest, "mod": state.notetype.mod})
    out.write(f'{{\n "format": {_FORMAT},\n "epoch": {state.epoch},\n "notetype": {notetype},\n')
    table("cards", state.cards)
    out.write(",\n")
    table("removed", state.removed)
    out.write("\n}\n")


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

        def stamps(table: Mapping[str, Any]) -> dict[str, Stamp]:
            return {
                str(k): Stamp(str(v["digest"]), _int(v["mod"]), str(v.get("question", "")))
                for k, v in table.items()
            }

        return State(
            epoch=_int(data["epoch"]),
            notetype=Stamp(str(data["notetype"]["digest"]), _int(data["notetype"]["mod"])),
            cards=stamps(data["cards"]),
            removed=stamps(data.get("removed", {})),
        )
    except json.JSONDecodeError as exc:
        raise ContentError.at(path, exc.lineno, f"corrupt lock file: {exc.msg}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # UnicodeError too
        raise ContentError.at(
            path, 1, f"corrupt lock file ({exc}): restore it from git, do not delete it"
        ) from None


def _int(value: Any) -> int:
    """A time in seconds: Anki's note ids are milliseconds in a signed 64-bit integer."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**12:
        raise ValueError(f"expected a time in seconds, got {value!r}")
    return value
