"""The converter against golden HTML: one Markdown answer, the HTML a card back gets.

After a deliberate change to the converter, run with KAM_ANKI_UPDATE_GOLDEN=1, read the
diff of tests/golden/*.html, and bump CONVERTER_VERSION in render.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kam_anki.render import render_answer

GOLDEN = Path(__file__).with_name("golden")
CASES = sorted(GOLDEN.glob("*.md"))


@pytest.mark.parametrize("source", CASES, ids=[case.stem for case in CASES])
def test_answer_renders_as_the_golden_html(source: Path) -> None:
    html = render_answer(source.read_text(encoding="utf-8")).html
    expected = source.with_suffix(".html")
    if os.environ.get("KAM_ANKI_UPDATE_GOLDEN"):
        expected.write_text(html, encoding="utf-8")
    assert html == expected.read_text(encoding="utf-8")


def test_every_golden_case_has_its_html() -> None:
    assert len(CASES) >= 9
    assert sorted(p.stem for p in GOLDEN.glob("*.html")) == [p.stem for p in CASES]
