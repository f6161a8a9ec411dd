"""One rule for "the same text": the duplicate-question warning, rename detection and item
keys all use characters.text_key (NFC, case folded, invisible characters dropped, blanks
folded)."""

from __future__ import annotations

from pathlib import Path

from kam_anki import api
from kam_anki.characters import text_key


def test_text_key_folds_case_blanks_and_invisible_characters() -> None:
    assert text_key("Ziele  des\u200b KAM?") == text_key("ziele des KAM?") == "ziele des kam?"
    assert text_key("Ziele des KAM?") != text_key("Ziele der KAM?")


def test_questions_differing_only_in_blanks_are_warned_as_the_same(tmp_path: Path) -> None:
    api.init(tmp_path, "Deck")
    (tmp_path / "content" / "zwei.md").write_text(
        "# Kapitel\n\n## Ziele  des KAM? {#eins}\n\n- a\n\n## ziele des KAM? {#zwei}\n\n- b\n",
        encoding="utf-8",
    )
    warnings = api.check(api.load(tmp_path / "content")).warnings
    same = [w for w in warnings if "same question as" in w.message]
    assert [(w.path, w.line) for w in same] == [("zwei.md", 7)]
