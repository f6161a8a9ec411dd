"""Note times move forward exactly when content changes (Anki's 'strictly newer' rule)."""

from __future__ import annotations

import io

from kam_anki.state import Changes, Stamp, Stamper, State, dump_state, load_state


def advance(
    previous: State | None,
    cards: dict[str, Stamp],
    notetype: str,
    now: int,
    *,
    forget_removed: bool = False,
) -> tuple[State, Changes]:
    """One build's worth of stamping."""
    stamper = Stamper(previous, now)
    for card_id, stamp in cards.items():
        stamper.stamp(card_id, stamp.digest, stamp.question)
    return stamper.finish(notetype, forget_removed=forget_removed)


def stamps(**digests: str) -> dict[str, Stamp]:
    return {
        key.replace("_", "-"): Stamp(digest, 0, f"Frage {key}") for key, digest in digests.items()
    }


def test_first_build_stamps_every_card_with_now() -> None:
    state, changes = advance(None, stamps(a="1", b="2"), "nt", now=100)
    assert {k: s.mod for k, s in state.cards.items()} == {"a": 100, "b": 100}
    assert state.epoch == 100 and state.notetype.mod == 100
    assert [k for k, _ in changes.added] == ["a", "b"]


def test_unchanged_card_keeps_its_time_changed_card_gets_now() -> None:
    first, _ = advance(None, stamps(a="1", b="2"), "nt", now=100)
    second, changes = advance(first, stamps(a="1", b="3"), "nt", now=500)
    assert second.cards["a"].mod == 100
    assert second.cards["b"].mod == 500
    assert changes.changed == (("b", "Frage b"),) and changes.unchanged == 1
    assert second.notetype.mod == 100 and not changes.notetype_changed


def test_changed_card_is_strictly_newer_even_when_the_clock_went_back() -> None:
    first, _ = advance(None, stamps(a="1"), "nt", now=1000)
    second, _ = advance(first, stamps(a="2"), "nt2", now=10)
    assert second.cards["a"].mod == 1001
    assert second.notetype.mod == 1001


def test_removed_card_becomes_a_newer_tombstone_until_forgotten() -> None:
    first, _ = advance(None, stamps(a="1", b="2"), "nt", now=100)
    second, changes = advance(first, stamps(a="1"), "nt", now=200)
    assert changes.removed == (("b", "Frage b"),)
    assert second.removed["b"].mod == 200 and "b" not in second.cards
    third, changes = advance(second, stamps(a="1"), "nt", now=300)
    assert third.removed["b"].mod == 200
    assert (changes.added, changes.changed, changes.removed, changes.unchanged) == ((), (), (), 1)
    forgotten, _ = advance(third, stamps(a="1"), "nt", now=400, forget_removed=True)
    assert not forgotten.removed


def test_card_that_comes_back_is_newer_than_its_tombstone() -> None:
    first, _ = advance(None, stamps(a="1", b="2"), "nt", now=100)
    second, _ = advance(first, stamps(a="1"), "nt", now=200)
    third, changes = advance(second, stamps(a="1", b="2"), "nt", now=150)
    assert third.cards["b"].mod == 201 and "b" not in third.removed
    assert changes.added == (("b", "Frage b"),)


def test_lock_file_round_trips() -> None:
    first, _ = advance(None, stamps(a="1", b="2"), "nt", now=100)
    second, _ = advance(first, stamps(a="1"), "nt", now=200)
    text = io.StringIO()
    dump_state(second, text)
    assert load_state(text.getvalue().encode(), "lock") == second
