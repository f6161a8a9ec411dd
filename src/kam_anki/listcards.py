"""List cards: an opted-in card's list becomes one cloze note, one cloze (one card) per item;
pure.

A card opts in with a class in its heading (``{#id .liste}``; ``.folge`` also reads a bullet
list as a sequence) or, with ``list_cards = N`` in ``deck.toml``, when its answer is exactly
one list of N to :data:`MAX_ITEMS` items (``.ohne-liste`` opts out). Every top-level list of
the answer takes part; labels and text stay as context; sub-items go with their item. Anki's
cloze shows the other items of a set around the asked one; a sequence's list carries the
class ``folge``, and the CSS hides the items after the asked one on the question side.
Which cloze number an item has (its key) is decided later, against the lock
(:mod:`kam_anki.items`); :func:`cloze_field` then writes the note's list field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from kam_anki.model import Card, DeckConfig, ListCard, ListItem
from kam_anki.render import Answer, render_tokens

# A learner learns no list of hundreds of items one cloze at a time; Anki's own limit on
# cards per note is far above this.
MAX_ITEMS = 100
_LISTS = ("bullet_list_open", "ordered_list_open")


@dataclass(frozen=True, slots=True)
class _Span:
    start: int  # the item's list_item_open token
    end: int  # its list_item_close


def deck_rule(card: Card, answer: Answer, config: DeckConfig) -> str | None:
    """Why the deck-wide rule (``list_cards = N``) does not take the card, or None if it
    does; "" when the rule is off or the card opted out."""
    if "ohne-liste" in card.classes or not config.list_cards:
        return ""
    tokens = answer.tokens
    spans = _spans(tokens)
    if not spans or tokens[0].type not in _LISTS or any(t.level == 0 for t in tokens[1:-1]):
        return "its answer is no longer exactly one list (no label, no text around it)"
    if len(spans) < config.list_cards:
        return f"its list has {len(spans)} items, fewer than list_cards = {config.list_cards}"
    if len(spans) > MAX_ITEMS:
        return f"its list has {len(spans)} items, more than {MAX_ITEMS}"
    return None


def explicit(card: Card) -> bool:
    return "liste" in card.classes or "folge" in card.classes


def list_card(
    card: Card, answer: Answer, *, allow_html: bool = False
) -> tuple[ListCard | None, str | None]:
    """The list of an opted-in card cut at its items, or a problem with its list."""
    if "ohne-liste" in card.classes:
        return None, "classes .liste/.folge and .ohne-liste contradict each other"
    tokens = list(answer.tokens)
    spans = _spans(tokens)
    if not spans:
        return None, "list card (.liste) without a list in its answer"
    if len(spans) > MAX_ITEMS:
        return None, f"list card with {len(spans)} items: at most {MAX_ITEMS} items get item cards"
    folge = "folge" in card.classes
    for index, token in enumerate(tokens):
        sequence = folge or token.type == "ordered_list_open"
        if token.level == 0 and sequence and token.type in _LISTS:
            tokens[index] = token.copy(attrs={**token.attrs, "class": "folge"})
    before: list[str] = []
    items: list[ListItem] = []
    cursor = 0
    for span in spans:
        inner = tokens[span.start + 1 : span.end]
        shown = _inner_html(inner, allow_html)
        if not shown:  # an empty item (warned about), or a comment alone, asks nothing
            continue
        opening = render_tokens(tokens[cursor : span.start + 1], allow_html=allow_html)
        before.append(opening.rstrip("\n"))
        identity = _identity(inner) or _plain(inner)
        items.append(ListItem(identity, shown, _plain(inner) or identity))
        cursor = span.end
    if not items:
        return None, "list card (.liste) whose list items are all empty"
    tail = render_tokens(tokens[cursor:], allow_html=allow_html)
    return ListCard(tuple(before), tuple(items), tail), None


def cloze_field(listed: ListCard, keys: Sequence[int]) -> str:
    """The list note's list field: each item a cloze with its number (its key)."""
    parts: list[str] = []
    for before, item, key in zip(listed.before, listed.items, keys, strict=True):
        parts += (_outside(before), f"{{{{c{key}::{_inside(item.html)}}}}}")
    parts.append(_outside(listed.tail))
    return "".join(parts)


def removed_cloze_field(notice: str, items: Sequence[tuple[int, str]]) -> str:
    """A removed list note's list field: the notice, and each item's last text as its cloze,
    so every card still asks something and says it was removed."""
    clozes = "".join(f"<li>{{{{c{key}::{_inside(_escape(text))}}}}}</li>" for key, text in items)
    return f"{notice}<ul>{clozes}</ul>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _outside(html: str) -> str:
    """Text that must not open or close a cloze: braces as character references."""
    return html.replace("{{", "{&#123;").replace("}}", "}&#125;")


def _inside(html: str) -> str:
    """A cloze's content: no brace or colon may end it early or start its hint (``::``)."""
    return html.replace("{", "&#123;").replace("}", "&#125;").replace(":", "&#58;")


def _inner_html(inner: Sequence[Token], allow_html: bool) -> str:
    # No line end at either side: it would put a blank into the cloze.
    return render_tokens(inner, allow_html=allow_html).strip()


def _spans(tokens: Sequence[Token]) -> list[_Span]:
    """The top-level items of the answer's top-level lists, in order."""
    spans: list[_Span] = []
    for index, token in enumerate(tokens):
        if token.level == 1 and token.type == "list_item_open":
            spans.append(_Span(index, index))
        elif token.level == 1 and token.type == "list_item_close":
            spans[-1] = _Span(spans[-1].start, index)
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
        if token.type in ("fence", "code_block"):
            words.append(token.content)
        words.append(" ")
    return " ".join("".join(words).split())


def _identity(tokens: Sequence[Token]) -> str:
    """What identifies an item besides its words: the images it shows (their media names
    are made from their bytes) and its code, so that two items of images alone or code
    alone are told apart by what they show."""
    shown = []
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                shown.append(f"[{child.attrGet('src')}]")
    if not shown and not any(t.type in ("fence", "code_block") for t in tokens):
        return ""
    return " ".join([_plain(tokens), *shown]).strip()
