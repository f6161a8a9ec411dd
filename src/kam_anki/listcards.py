"""List cards: one more note per item of an opted-in card's list, asking for that item in
context; pure.

A card opts in with a class in its heading (``{#id .liste}``; ``.folge`` also reads a bullet
list as a sequence) or, with ``list_cards = N`` in ``deck.toml``, when its answer is exactly
one list of at least N items (``.ohne-liste`` opts out). The item's question shows the card's
question and the answer with the item as a gap: in a sequence (a numbered list) the items
after it are left out too, in a set (a bullet list) the others are shown. Every top-level
list of the answer takes part; labels and text stay as context; sub-items go with their item.
Which note an item is (its key) is decided later, against the lock (:mod:`kam_anki.items`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from kam_anki.model import Card, DeckConfig, ListItem
from kam_anki.render import Answer, render_tokens

# Each item card holds the whole list twice: past this, a list makes a deck quadratic in size
# (and no learner learns a list of hundreds of items this way).
MAX_ITEMS = 100
GAP = '<li><span class="luecke">…</span></li>\n'
ASKED = "gefragt"  # the class of the asked item on an item card's back
_LISTS = ("bullet_list_open", "ordered_list_open")


@dataclass(frozen=True, slots=True)
class _Span:
    start: int  # the item's list_item_open token
    end: int  # one past its list_item_close
    number: int  # which top-level list of the answer
    position: int  # 1-based, within its list
    size: int
    sequence: bool


def opted_in(card: Card, answer: Answer, config: DeckConfig) -> bool:
    if "liste" in card.classes or "folge" in card.classes:
        return True
    if "ohne-liste" in card.classes or not config.list_cards:
        return False
    spans = _spans(answer.tokens, sequence=False)
    # The deck-wide rule takes answers that are one list and nothing else.
    only_list = bool(spans) and answer.tokens[0].type in _LISTS
    only_list = only_list and all(t.level > 0 for t in answer.tokens[1:-1])
    return only_list and config.list_cards <= len(spans) <= MAX_ITEMS


def list_items(
    card: Card, answer: Answer, question: str, *, allow_html: bool = False
) -> tuple[tuple[ListItem, ...], str | None]:
    """The item cards of an opted-in card (fields but the key), or a problem with its list."""
    if "ohne-liste" in card.classes:
        return (), "classes .liste/.folge and .ohne-liste contradict each other"
    tokens = answer.tokens
    spans = _spans(tokens, sequence="folge" in card.classes)
    if not spans:
        return (), "list card (.liste) without a list in its answer"
    if len(spans) > MAX_ITEMS:
        return (), f"list card with {len(spans)} items: at most {MAX_ITEMS} items get item cards"
    between: list[str] = []  # rendered pieces around the items, each rendered once
    shown: list[str] = []
    marked: list[str] = []
    texts: list[str] = []
    cursor = 0
    for span in spans:
        between.append(render_tokens(tokens[cursor : span.start], allow_html=allow_html))
        item = tokens[span.start : span.end]
        shown.append(render_tokens(item, allow_html=allow_html))
        opening = item[0].copy(attrs={**item[0].attrs, "class": ASKED})
        marked.append(render_tokens([opening, *item[1:]], allow_html=allow_html))
        texts.append(_plain(item))
        cursor = span.end
    tail = render_tokens(tokens[cursor:], allow_html=allow_html)

    def page(pieces: Sequence[str]) -> str:
        return "".join(part for pair in zip(between, pieces, strict=True) for part in pair) + tail

    items = []
    for asked, span in enumerate(spans):
        front = [
            GAP
            if index == asked
            else ""
            if span.sequence and other.number == span.number and index > asked
            else html
            for index, (other, html) in enumerate(zip(spans, shown, strict=True))
        ]
        back = [marked[asked] if index == asked else html for index, html in enumerate(shown)]
        items.append(
            ListItem(
                texts[asked],
                f'{question} <span class="position">({span.position}/{span.size})</span>'
                f'<div class="kontext">{page(front)}</div>',
                page(back),
            )
        )
    return tuple(items), None


def _spans(tokens: Sequence[Token], *, sequence: bool) -> list[_Span]:
    """The top-level items of the answer's top-level lists, in order."""
    spans: list[_Span] = []
    number = 0
    opened = 0
    ordered = False
    for index, token in enumerate(tokens):
        if token.level == 0 and token.type in _LISTS:
            number += 1
            opened = len(spans)
            ordered = token.type == "ordered_list_open"
        elif token.level == 0 and token.type in ("bullet_list_close", "ordered_list_close"):
            size = len(spans) - opened
            for at in range(opened, len(spans)):
                start, end = spans[at].start, spans[at].end
                spans[at] = _Span(start, end, number, at - opened + 1, size, sequence or ordered)
        elif token.level == 1 and token.type == "list_item_open":
            spans.append(_Span(index, index, number, 0, 0, False))
        elif token.level == 1 and token.type == "list_item_close":
            last = spans[-1]
            spans[-1] = _Span(last.start, index + 1, number, 0, 0, False)
    return spans


def _plain(tokens: Sequence[Token]) -> str:
    """What the item says, as one line of plain text (sub-items included)."""
    words = []
    for token in tokens:
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
        words.append(" ")
    return " ".join("".join(words).split())
