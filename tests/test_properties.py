"""Robustness: whatever the text, the pipeline returns cards or raises the project's own error."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import examples, kam
from kam_anki.api import package_bytes
from kam_anki.characters import decode
from kam_anki.errors import ContentError
from kam_anki.model import Assets, DeckConfig, SourceFile
from kam_anki.notetype import default_notetype
from kam_anki.parse import parse_file, read_cards
from kam_anki.render import render_answer

CONFIG = DeckConfig(name="T", deck_id=11, notetype_id=12, tags=("t",))
NOTETYPE = default_notetype()
ASSETS = Assets({"bild.png": b"png"})

WORDS = st.sampled_from(
    [
        "Kunde",
        "Größe",
        "KAM",
        "Ziele?",
        "(5)",
        "**fett**",
        "*kursiv*",
        "`code`",
        "&",
        "<b>",
        "<script>",
        "[a](javascript:x)",
        "![b](bild.png)",
        "![c](raus.png)",
        "![d](../x.png)",
        "{#id}",
        "{#Bad_Id}",
        "\\",
        "|",
        "~~~",
        "---",
        "Label:",
        "1.",
        ">",
        "\t",
        "  ",
    ]
)
# Any character but line breaks (those make lines of their own) and lone surrogates.
CHARS = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=8)
TEXT = st.lists(st.one_of(WORDS, CHARS), max_size=6).map(" ".join)
IDS = st.sampled_from(["a", "b", "a-1", "zz", "x-y-z"])
BODY = st.one_of(
    TEXT,
    TEXT.map(lambda t: f"- {t}"),
    TEXT.map(lambda t: f"  - {t}"),
    TEXT.map(lambda t: f"• {t}"),
    TEXT.map(lambda t: f"1. {t}"),
    st.sampled_from(["", "```", "~~~", "-", "•", "<div>", "</div>", "***", "===", "\r", "\ufeff"]),
)
LINES = st.one_of(
    BODY,
    TEXT.map(lambda t: f"# {t}"),
    st.tuples(TEXT, IDS).map(lambda p: f"## {p[0]} {{#{p[1]}}}"),
    TEXT.map(lambda t: f"## {t}"),
)
NOISE = st.lists(LINES, max_size=25).map("\n".join)
NAMED = TEXT.filter(lambda t: bool(t.strip()) and "#" not in t)
CARDS = st.lists(st.tuples(NAMED, st.lists(BODY, min_size=1, max_size=6)), min_size=1, max_size=5)
NAMES = st.sampled_from(["a.md", "b.md", "sub/c.md", "sub/d/e.md", "ä.md"])


def structured(title: str, cards: list[tuple[str, list[str]]], prefix: str) -> str:
    """A file in the documented shape, with arbitrary text in every slot."""
    body = "".join(
        f"## {question} {{#{prefix}-{index}}}\n\n" + "\n".join(answer) + "\n\n"
        for index, (question, answer) in enumerate(cards)
    )
    return f"# {title}\n\n{body}"


# Mostly well-shaped files (so the whole pipeline runs), sometimes pure noise.
FILE = st.sampled_from([True] * 7 + [False]).flatmap(
    lambda shaped: st.tuples(NAMED, CARDS) if shaped else NOISE
)
CONTENT = st.dictionaries(NAMES, FILE, min_size=1, max_size=4).map(
    lambda files: {
        name: text if isinstance(text, str) else structured(text[0], text[1], f"f{index}")
        for index, (name, text) in enumerate(sorted(files.items()))
    }
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scratch")


@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONTENT, st.booleans())
def test_any_markdown_builds_or_raises_content_error(
    scratch: Path, files: dict[str, str], html: bool
) -> None:
    config = DeckConfig(CONFIG.name, CONFIG.deck_id, CONFIG.notetype_id, CONFIG.tags, html)
    sources = [SourceFile(name, decode(text.encode(), name)) for name, text in files.items()]
    try:
        data, outcome = package_bytes(
            config, sources, 1_700_000_000, scratch=scratch, assets=ASSETS
        )
    except ContentError as error:
        assert error.diagnostics and all(d.severity == "error" for d in error.diagnostics)
        return
    notes, package = outcome.notes, io.BytesIO(data)
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None
    assert os.listdir(scratch) == []
    for note in notes:
        for field in note.fields.values():
            assert not live_markup(field), field


_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data"})


class _Live(HTMLParser):
    """Collects what a web view would run: script-like tags, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "style", "link", "meta", "base"}:
            self.found.append(tag)
        for name, value in attrs:
            url = (value or "").lower().replace(" ", "")
            if name.startswith("on") or (name in _URL_ATTRIBUTES and "script:" in url):
                self.found.append(f"{tag} {name}={value}")


def live_markup(field: str) -> list[str]:
    parser = _Live()
    parser.feed(field)
    return parser.found


@settings(max_examples=examples(2000), deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "replace")))
def test_any_bytes_decode_or_raise_content_error(data: bytes) -> None:
    try:
        text = decode(data, "x.md")
    except ContentError as error:
        assert error.diagnostics[0].message.startswith("invalid UTF-8")
        return
    cards, found = parse_file(SourceFile("x.md", text))
    assert all(card.line >= 1 for card in cards) and all(d.line >= 1 for d in found)


def built_digest(order: list[str]) -> str:
    """Build a small deck whose files were created on disk in ``order``."""
    with tempfile.TemporaryDirectory() as folder:
        content = Path(folder) / "content"
        content.mkdir()
        (content / "deck.toml").write_text('name = "T"\ndeck_id = 11\nnotetype_id = 12\n')
        for name in order:
            card = f"karte-{sorted(order).index(name)}"
            (content / name).parent.mkdir(exist_ok=True)
            (content / name).write_text(f"# K {card}\n\n## Frage {card} {{#{card}}}\n\n- {card}\n")
        result = kam(
            ["build", "--content", str(content), "-o", f"{folder}/k.apkg"],
            env={"SOURCE_DATE_EPOCH": "1700000000"},
        )
        assert result.exit_code == 0, result.output
        return hashlib.sha256(Path(folder, "k.apkg").read_bytes()).hexdigest()


@settings(max_examples=examples(24), deadline=None)
@given(st.permutations(["a.md", "b.md", "sub/c.md", "z.md", "ä.md", "sub/ab.md"]))
def test_output_does_not_depend_on_the_order_files_were_made_on_disk(order: list[str]) -> None:
    assert built_digest(order) == built_digest(sorted(order))


TRICKY = st.sampled_from(
    ["<!--", "-->", "  ```", "  ~~~", "> q", ">", "    code", "[x]: /u", "[x]", "<pre>", "- ```"]
)
ANSWER_LINES = st.lists(BODY | TRICKY, min_size=1, max_size=8)
FILE_TEXT = st.one_of(
    NOISE,
    st.lists(st.tuples(NAMED, ANSWER_LINES), min_size=1, max_size=4).map(
        lambda cards: structured("K", cards, "k")
    ),
)


@settings(max_examples=examples(1000), deadline=None)
@given(FILE_TEXT, st.booleans())
def test_answers_render_the_same_from_their_files_blocks(text: str, html: bool) -> None:
    """A file is split into blocks once; each answer is rendered from its share, exactly
    as if it had been parsed on its own."""
    cards, answers, _ = read_cards(
        SourceFile("a.md", decode(text.encode(), "a.md")), allow_html=html
    )
    for card, parsed in zip(cards, answers, strict=True):
        if parsed is not None:
            shared = render_answer(
                card.answer, allow_html=html, parsed=parsed, first=card.answer_line - 1
            )
            assert shared == render_answer(card.answer, allow_html=html)
