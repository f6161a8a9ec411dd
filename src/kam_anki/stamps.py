"""The stamping rules: each note's time moves forward exactly when its content changes
(compared with the newest version ever shipped, :class:`kam_anki.state.ShippedStamps`), tombstones
for the cards that are gone, and what an import will change (:class:`Changes`). The lock's
records and format are :mod:`kam_anki.state`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from kam_anki.errors import ContentError
from kam_anki.state import (
    CLOCK_SLACK,
    LOCK_NAME,
    MAX_TIME,
    MIN_TIME,
    Item,
    ShippedStamps,
    Stamp,
    State,
    merge_shipped,
    newest,
    shipped_by,
    valid_time,
)


class CardChange(NamedTuple):
    """One card (or list note) an import adds, changes or removes: its id and question."""

    card_id: str
    question: str


@dataclass(frozen=True, slots=True)
class Changes:
    """What an import of the new package will do, card by card."""

    added: tuple[CardChange, ...]
    changed: tuple[CardChange, ...]
    removed: tuple[CardChange, ...]
    unchanged: int
    notetype_changed: bool
    # Cards (and NOTETYPE_KEY for the note type) whose time lies ahead of the clock, by how
    # many seconds.
    ahead: tuple[tuple[str, int], ...] = ()


def first_epoch(previous: State | None, now: int) -> int:
    """The deck's first build time: the base of its note and card ids, fixed from then on.

    A lock whose epoch Anki cannot take as an id base (a first build with
    ``SOURCE_DATE_EPOCH=0``) gets a new one: notes are matched by GUID, not by id, so only
    new learners' note ids change.
    """
    if previous is not None and previous.epoch >= MIN_TIME:
        return previous.epoch
    return now


class Stamper:
    """Gives each card of a build its time, card by card, then the next state.

    Each card is compared with the newest version shipped so far (the lock's, or a newer one
    in ``shipped``): unchanged, it keeps that version's time; changed, it gets a time never
    earlier than ``now`` and always later than that version's.
    """

    def __init__(
        self,
        previous: State | None,
        now: int,
        shipped: ShippedStamps | None = None,
        *,
        epoch: int | None = None,
    ) -> None:
        """``epoch``: :func:`first_epoch`, when the caller has it already (the package's ids
        need it before the build)."""
        old = previous or State(epoch=now, notetype=Stamp("", 0))
        epoch = first_epoch(previous, now) if epoch is None else epoch
        self.old = State(epoch, old.notetype, old.cards, old.removed, old.items)
        self.shipped = merge_shipped([shipped_by(self.old), shipped or ShippedStamps()])
        self.now = now
        self.cards: dict[str, Stamp] = {}
        self.added: list[CardChange] = []
        self.changed: list[CardChange] = []
        self.unchanged = 0

    def _stamp(self, digest: str, question: str, before: Stamp | None) -> Stamp:
        if before is not None and before.digest == digest:
            return Stamp(digest, before.mod, question)
        floor = before.mod + 1 if before is not None else 0
        return Stamp(digest, max(self.now, floor), question)

    def stamp(self, card_id: str, digest: str, question: str) -> int:
        """The card's modification time."""
        before = self.shipped.cards.get(card_id)
        stamp = self._stamp(digest, question, before)
        self.cards[card_id] = stamp
        if before is None or before.is_tombstone:
            self.added.append(CardChange(card_id, question))
        elif before.digest != digest:
            self.changed.append(CardChange(card_id, question))
        else:
            self.unchanged += 1
        return stamp.mod

    def finish(
        self,
        notetype_digest: str,
        *,
        forget_removed: bool = False,
        items: Mapping[str, Item] | None = None,
    ) -> tuple[State, Changes]:
        """The next state, with tombstones for cards that are gone, and what changed;
        ``items``: every list item ever keyed (the lock's, unless given)."""
        old, now, shipped = self.old, self.now, self.shipped.cards
        # Gone: every card of this line of history whose newest shipped version is a live
        # one (also one that a revert took out of the lock as well).
        removed_now = sorted(
            k for k in self.shipped.lineage if not shipped[k].is_tombstone and k not in self.cards
        )
        # Forgetting applies to tombstones the learner has had a chance to see: a card
        # removed in this very build always gets one.
        tombstones: dict[str, Stamp] = {}
        if not forget_removed:
            tombstones = {k: shipped[k] for k in old.removed if k not in self.cards}
        for card_id in removed_now:
            gone = shipped[card_id]
            tombstones[card_id] = Stamp.tombstone(max(now, gone.mod + 1), gone.text)
        before = newest(old.notetype, self.shipped.notetype)
        notetype = self._stamp(notetype_digest, "", before)
        state = State(
            old.epoch,
            notetype,
            self.cards,
            dict(sorted(tombstones.items())),
            old.items if items is None else items,
        )
        _refuse_beyond_max(state)
        changes = Changes(
            added=tuple(self.added),
            changed=tuple(self.changed),
            removed=tuple(CardChange(k, shipped[k].text) for k in removed_now),
            unchanged=self.unchanged,
            notetype_changed=before is None or notetype.mod != before.mod,
            ahead=_ahead(state, now),
        )
        return state, changes


def _refuse_beyond_max(state: State) -> None:
    """A lock the next build would refuse is never written: a time can pass
    :data:`MAX_TIME` only as one second after a time read back at that limit."""
    stamps = {"(note type)": state.notetype, **state.cards, **state.removed}
    late = sorted(key for key, stamp in stamps.items() if not valid_time(stamp.mod))
    if late:
        raise ContentError.at(
            LOCK_NAME,
            1,
            f"{', '.join(late[:10])}: the newest time shipped for these lies at the limit "
            f"{MAX_TIME} (2100-01-01), so no later one can follow; a lock, the record beside "
            "the output or the lock's git history holds a wrong time: correct it",
        )


def _ahead(state: State, now: int) -> tuple[tuple[str, int], ...]:
    """What lies ahead of the clock: a wrong clock now or at an earlier build."""
    stamps = state.stamps()
    return tuple(
        (key, stamp.mod - now)
        for key, stamp in sorted(stamps.items())
        if stamp.mod > now + CLOCK_SLACK
    )
