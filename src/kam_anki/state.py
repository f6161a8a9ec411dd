"""The lock file: what each note looked like at the last build and when it last changed.

Anki updates a note on import only if the incoming modification time is strictly newer
than its own. So each note's time must move forward exactly when its content changes and
stay put otherwise; the lock file remembers both across builds. Pure: text in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kam_anki.errors import ContentError

LOCK_NAME = "kam-anki.lock"
_FORMAT = 1


@dataclass(frozen=True)
class Stamp:
    digest: str
    mod: int
    question: str = ""


@dataclass(frozen=True)
class State:
    epoch: int  # the first build's time: base of the package's note and card ids
    notetype: Stamp
    cards: Mapping[str, Stamp] = field(default_factory=dict)
    removed: Mapping[str, Stamp] = field(default_factory=dict)  # tombstones


@dataclass(frozen=True)
class Changes:
    """What an import of the new package will do, card by card: ``(id, question)`` pairs."""

    added: tuple[tuple[str, str], ...]
    changed: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    unchanged: int
    notetype_changed: bool

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.notetype_changed)


def advance(
    previous: State | None,
    cards: Mapping[str, Stamp],
    notetype_digest: str,
    now: int,
    *,
    forget_removed: bool = False,
) -> tuple[State, Changes]:
    """The next state given the current cards (``mod`` ignored) and the clock.

    A new time is never earlier than ``now`` and always later than the one it replaces.
    """
    old = previous or State(epoch=now, notetype=Stamp("", 0))

    def stamp(new: Stamp, before: Stamp | None) -> Stamp:
        if before is not None and before.digest == new.digest:
            return Stamp(new.digest, before.mod, new.question)
        floor = before.mod + 1 if before is not None else 0
        return Stamp(new.digest, max(now, floor), new.question)

    added, changed, unchanged = [], [], 0
    stamped: dict[str, Stamp] = {}
    for card_id, new in cards.items():
        before = old.cards.get(card_id)
        stamped[card_id] = stamp(new, before or old.removed.get(card_id))
        if before is None:
            added.append((card_id, new.question))
        elif before.digest != new.digest:
            changed.append((card_id, new.question))
        else:
            unchanged += 1

    removed_now = sorted(set(old.cards) - set(cards))
    tombstones: dict[str, Stamp] = {}
    if not forget_removed:
        tombstones = {k: v for k, v in old.removed.items() if k not in cards}
        for card_id in removed_now:
            gone = old.cards[card_id]
            tombstones[card_id] = Stamp("removed", max(now, gone.mod + 1), gone.question)

    notetype = stamp(Stamp(notetype_digest, 0), old.notetype)
    state = State(
        epoch=old.epoch,
        notetype=notetype,
        cards=stamped,
        removed=dict(sorted(tombstones.items())),
    )
    changes = Changes(
        added=tuple(added),
        changed=tuple(changed),
        removed=tuple((k, old.cards[k].question) for k in removed_now),
        unchanged=unchanged,
        notetype_changed=notetype.mod != old.notetype.mod,
    )
    return state, changes


def dump_state(state: State) -> str:
    """One card a line, sorted by id, so the file diffs well in git."""

    def entry(stamp: Stamp) -> str:
        fields = {"digest": stamp.digest, "mod": stamp.mod, "question": stamp.question}
        return json.dumps(fields, ensure_ascii=False)

    def table(name: str, stamps: Mapping[str, Stamp]) -> str:
        rows = ",\n".join(
            f"  {json.dumps(key)}: {entry(stamp)}" for key, stamp in sorted(stamps.items())
        )
        return f' "{name}": {{\n{rows}\n }}' if rows else f' "{name}": {{}}'

    notetype = json.dumps({"digest": state.notetype.digest, "mod": state.notetype.mod})
    return (
        f'{{\n "format": {_FORMAT},\n "epoch": {state.epoch},\n "notetype": {notetype},\n'
        f"{table('cards', state.cards)},\n{table('removed', state.removed)}\n}}\n"
    )


def load_state(text: str, path: str) -> State:
    try:
        data = json.loads(text)
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
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContentError.at(
            path, 1, f"corrupt lock file ({exc}): restore it from git, do not delete it"
        ) from None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value
