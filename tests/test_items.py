"""Which item is which when a list is edited: keys (cloze numbers) by text, then similarity,
an item that comes back gets its old key, and a key is never reused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kam_anki.characters import text_key
from kam_anki.items import (
    ItemKeys,
    assign_keys,
    item_id,
    split_item_id,
)

TASKS = [
    "Schlüsselkundengewinnung und -sicherung",
    "Kontraktmanagement und Konditionenverhandlungen",
    "Projektabwicklung mit Kunden",
    "Marktforschung mit Kunden",
    "Abstimmung mit Flächenvertrieb",
]
PREVIOUS = dict(enumerate(TASKS, start=1))


def test_first_build_numbers_items_in_order() -> None:
    assert assign_keys({}, 0, TASKS) == [1, 2, 3, 4, 5]


def test_reorder_insert_remove_and_reword_keep_every_other_key() -> None:
    edited = [
        "Marktforschung mit Kunden",  # moved up
        "Schlüsselkundengewinnung und -sicherung",
        "Neu: Kundenbesuche planen",  # inserted
        "Projektabwicklung mit Kunden",
        "Abstimmung mit dem Flächenvertrieb",  # reworded a little
    ]  # "Kontraktmanagement …" removed
    assert assign_keys(PREVIOUS, 5, edited) == [4, 1, 6, 3, 5]


def test_case_blanks_and_decomposed_umlauts_are_the_same_text() -> None:
    assert text_key("  Marktforschung\tMIT  Kunden ") == "marktforschung mit kunden"
    assert assign_keys({1: "Größe"}, 1, ["Gro\u0308\u00dfe"]) == [1]


def test_equal_items_pair_one_to_one_in_order() -> None:
    assert assign_keys({1: "x", 2: "y", 3: "x"}, 3, ["x", "x", "x"]) == [1, 3, 4]


def test_a_new_key_is_never_one_used_before_even_by_a_tombstone() -> None:
    assert assign_keys({1: "a"}, 9, ["a", "ganz anders"]) == [1, 10]
    assert assign_keys({12: "a"}, 3, ["b"]) == [13]


def test_a_rewritten_item_is_a_new_item() -> None:
    assert assign_keys({1: "Marktforschung mit Kunden"}, 1, ["Vertragsrecht"]) == [2]


def test_another_item_with_the_same_ending_is_not_a_rewording() -> None:
    """One item goes, another comes: they share "mit Kunden", not their meaning."""
    previous = {1: "Marktforschung mit Kunden"}
    assert assign_keys(previous, 1, ["Projektabwicklung mit Kunden"]) == [2]


def test_fuzzy_matching_of_long_repetitive_items_pairs_each_with_its_rewording() -> None:
    previous = {key: "ab" * 5_000 + f" Punkt {key}" for key in range(1, 11)}
    texts = ["ab" * 5_000 + f" Punkt {key}!" for key in range(1, 11)]
    assert assign_keys(previous, 10, texts) == list(range(1, 11))


def test_an_item_that_comes_back_gets_its_old_key_anywhere_in_the_list() -> None:
    gone = {2: "Abwicklung Beanstandungen"}
    assert assign_keys({1: "a", 3: "c"}, 3, ["Abwicklung Beanstandungen", "c", "a"], gone) == [
        2,
        3,
        1,
    ]
    # Nearly the same text is the same item coming back.
    assert assign_keys({1: "a"}, 2, ["a", "Abwicklung der Beanstandungen"], gone) == [1, 2]


def test_the_last_builds_item_wins_over_a_gone_one_with_the_same_text() -> None:
    assert assign_keys({5: "x"}, 5, ["x"], {2: "x"}) == [5]
    assert assign_keys({5: "x"}, 5, ["x", "x"], {2: "x"}) == [5, 2]


def test_every_item_of_the_longest_list_reworded_at_once_keeps_its_key() -> None:
    """No cut-off: all 100 items (the most a list card takes) reworded, all matched."""
    count = 100
    previous = {key: f"Schritt {key}: Kunden {key * 7} analysieren" for key in range(1, count + 1)}
    texts = [f"Schritt {key}: Kunden {key * 7} analysieren!" for key in range(count, 0, -1)]
    assert assign_keys(previous, count, texts) == list(range(count, 0, -1))


def test_item_ids_never_clash_with_card_ids() -> None:
    assert item_id("aufgaben-des-kam-8", 3) == "aufgaben-des-kam-8/3"
    assert split_item_id("aufgaben-des-kam-8/3") == ("aufgaben-des-kam-8", 3)
    assert split_item_id("aufgaben-des-kam-8") is None
    assert split_item_id("a/３") is None  # a fullwidth digit is not a key


def test_keys_come_from_the_lock_and_every_id_ever_shipped() -> None:
    keys = ItemKeys({"a/1": "x", "a/2": "y", "b": "Frage"}, {"a/3": "z"}, ["a/7", "b", "c/3"])
    assert keys.keys("a", ["y", "neu", "z"]) == [2, 8, 3]
    assert keys.keys("c", ["z"]) == [4]
    assert keys.keys("d", ["z"]) == [1]


WORDS = st.sampled_from(["Kunde", "Markt", "Plan", "Team", "Ziel", "Preis", "Leistung"])
TEXT = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)


@given(st.lists(TEXT, max_size=12), st.data())
def test_keys_survive_any_permutation_insertion_and_removal(
    texts: list[str], data: st.DataObject
) -> None:
    first = assign_keys({}, 0, texts)
    previous = dict(zip(first, texts, strict=True))
    indexes = st.sampled_from(range(len(texts))) if texts else st.nothing()
    kept = data.draw(st.lists(indexes, unique=True))
    order = data.draw(st.permutations(kept))
    added = data.draw(st.lists(st.just("Völlig neuer Punkt über Vertragsrecht"), max_size=2))
    edited = [texts[i] for i in order] + added
    keys = assign_keys(previous, max(first, default=0), edited)
    assert len(set(keys)) == len(keys), "two items share a key"
    for position, index in enumerate(order):
        # Equal texts may trade keys among themselves; a key always stays with its text.
        assert previous[keys[position]] == texts[index]
    new = keys[len(order) :]
    assert all(key > max(first, default=0) for key in new), "a key was reused"


@given(
    st.dictionaries(st.integers(1, 50), TEXT, max_size=10),
    st.integers(0, 60),
    st.lists(TEXT, max_size=10),
)
def test_keys_are_unique_and_only_old_keys_or_fresh_ones(
    previous: dict[int, str], highest: int, texts: list[str]
) -> None:
    keys = assign_keys(previous, highest, texts)
    assert len(keys) == len(texts) and len(set(keys)) == len(keys)
    top = max([highest, *previous], default=0)
    assert all(key in previous or key > top for key in keys)
    assert assign_keys(previous, highest, texts) == keys  # deterministic
