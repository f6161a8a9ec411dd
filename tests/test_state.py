"""Note times move forward exactly when content changes (Anki's 'strictly newer' rule)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from helpers import git
from kam_anki.clock import build_time
from kam_anki.errors import UsageError
from kam_anki.files import read_shipped
from kam_anki.history import extended_record, load_record
from kam_anki.stamps import Changes, Stamper
from kam_anki.state import CLOCK_SLACK, ShippedStamps, Stamp, State, dump_state, load_state


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
        stamper.stamp(card_id, stamp.digest, stamp.text)
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


def test_content_back_at_an_older_version_is_a_change_newer_than_the_newest_shipped() -> None:
    """After ``git revert`` the lock says "a is at 1 since 100", but 2 was shipped at 200."""
    first, _ = advance(None, stamps(a="1"), "nt", now=100)
    shipped = ShippedStamps({"a": Stamp("2", 200, "Frage a")}, Stamp("nt", 100))
    stamper = Stamper(first, 150, shipped)
    assert stamper.stamp("a", "1", "Frage a") == 201
    state, changes = stamper.finish("nt")
    assert changes.changed == (("a", "Frage a"),) and state.cards["a"] == Stamp("1", 201, "Frage a")


def test_content_at_the_newest_shipped_version_keeps_its_time_whatever_the_lock_says() -> None:
    first, _ = advance(None, stamps(a="1"), "nt", now=100)
    stamper = Stamper(first, 300, ShippedStamps({"a": Stamp("2", 200, "Frage a")}))
    assert stamper.stamp("a", "2", "Frage a") == 200
    assert stamper.finish("nt")[1].unchanged == 1


def test_a_shipped_card_that_a_revert_took_out_of_the_lock_gets_a_tombstone() -> None:
    first, _ = advance(None, stamps(a="1"), "nt", now=100)
    history = ShippedStamps({"b": Stamp("9", 200, "Frage b")}, None, frozenset({"b"}))
    stamper = Stamper(first, 300, history)
    stamper.stamp("a", "1", "Frage a")
    state, changes = stamper.finish("nt")
    assert changes.removed == (("b", "Frage b"),)
    assert state.removed["b"] == Stamp.tombstone(300, "Frage b")


def test_a_card_only_another_branch_shipped_gets_no_tombstone() -> None:
    first, _ = advance(None, stamps(a="1"), "nt", now=100)
    stamper = Stamper(first, 300, ShippedStamps({"b": Stamp("9", 200, "Frage b")}))
    stamper.stamp("a", "1", "Frage a")
    state, changes = stamper.finish("nt")
    assert not changes.removed and not state.removed


def test_a_forgotten_tombstone_stays_forgotten() -> None:
    first, _ = advance(None, stamps(a="1"), "nt", now=100)
    shipped = ShippedStamps({"b": Stamp.tombstone(200, "Frage b")})
    stamper = Stamper(first, 300, shipped)
    stamper.stamp("a", "1", "Frage a")
    state, changes = stamper.finish("nt")
    assert not state.removed and not changes.removed


def test_times_ahead_of_the_clock_are_listed_with_how_far() -> None:
    first, _ = advance(None, stamps(a="1", b="2"), "nt", now=10_000)
    _, changes = advance(first, stamps(a="1", b="3"), "nt", now=10_000 - 3600)
    assert changes.ahead == (("", 3600), ("a", 3600), ("b", 3601))
    _, changes = advance(first, stamps(a="1", b="2"), "nt", now=10_000 - CLOCK_SLACK)
    assert changes.ahead == ()


@pytest.mark.parametrize(
    ("value", "problem"),
    [("0", "before 2001"), ("abc", "whole seconds"), ("٣", "whole seconds"), ("4e9", "whole")],
)
def test_source_date_epoch_is_checked(value: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        build_time(1_800_000_000, value, None)


def test_source_date_epoch_sets_only_a_first_build_and_never_the_future() -> None:
    assert build_time(1_800_000_000.7, "1700000000", None) == 1_700_000_000
    first, _ = advance(None, stamps(a="1"), "nt", now=1_700_000_000)
    assert build_time(1_800_000_000.7, "1700000000", first) == 1_800_000_000
    with pytest.raises(UsageError, match="future"):
        build_time(1_800_000_000, "1800001000", None)
    with pytest.raises(UsageError, match="clock"):
        build_time(86_400, None, None)


def test_every_version_in_the_locks_git_history_is_read_back(tmp_path: Path) -> None:
    """Through real git: three commits of a lock, the middle one reverted by the third."""
    lock = tmp_path / "kam-anki.lock"
    versions = [
        advance(None, stamps(a="1", b="2"), "nt", now=100)[0],
        advance(None, stamps(a="5", b="2"), "nt2", now=200)[0],
        advance(None, stamps(a="1", b="2"), "nt", now=100)[0],
    ]
    git(tmp_path, "init", "-q")
    for number, state in enumerate(versions):
        out = io.StringIO()
        dump_state(state, out)
        lock.write_text(out.getvalue())
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-q", "-m", str(number))
    shipped = read_shipped(tmp_path, b"").stamps
    assert shipped.cards == {"a": Stamp("5", 200, "Frage a"), "b": Stamp("2", 200, "Frage b")}
    assert shipped.notetype == Stamp("nt2", 200)
    assert read_shipped(tmp_path / "gone", b"").stamps == ShippedStamps()  # no git to ask there


def test_the_record_grows_by_what_is_newly_shipped_and_survives_a_bad_line() -> None:
    first, _ = advance(None, stamps(a="1", b="2"), "nt", now=100)
    record = extended_record(b"", ShippedStamps(), first)
    assert len(record.splitlines()) == 3  # note type, a, b
    assert load_record(record).cards == {**first.cards}
    unchanged = extended_record(record, load_record(record), first)
    assert unchanged == record
    second, _ = advance(first, stamps(a="1", b="3"), "nt", now=200)
    grown = extended_record(record + b'["a", "x", 9', load_record(record), second)
    assert grown.count(b"\n") == 5  # the broken end closed, then one line for b
    shipped = load_record(grown)
    assert shipped.cards["b"] == Stamp("3", 200, "Frage b") and shipped.cards["a"].mod == 100
    assert shipped.notetype == Stamp("nt", 100)
