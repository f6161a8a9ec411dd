"""Markdown -> HTML for card fields: the one place MarkdownIt is configured; pure.

Rendering also reports what validation needs to know about an answer (list items, images,
raw HTML), from the same parse. An answer's blocks come from its file's parse; only an
answer whose file defines link references (or leaves a block open past it) is parsed again
on its own. :func:`blocks` gives the block structure of a whole file, as CommonMark reads
it, for the parser.

HTML comments (``<!-- ... -->``) never reach a card, whether raw HTML is allowed or not:
they are how an author comments something out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_core import StateCore, block, normalize
from markdown_it.token import Token

from kam_anki.formulas import math_plugin, text_rule
from kam_anki.highlight import highlight
from kam_anki.mathcheck import math_problems
from kam_anki.rawhtml import (
    COMMENT,
    ImageResolver,
    comment_block,
    comment_inline,
    defuse_html,
    html_images,
    html_tokens,
    loading,
    markup_tags,
)
from kam_anki.remote import remote_resources

# Bumped whenever the HTML for the same Markdown may differ: it is part of every cache key.
CONVERTER_VERSION = "5"


# Bullets pasted from PDFs, slides and Word are list items too.
_PASTED_BULLET = re.compile(r"^([ \t]*)[•◦▪‣–](?:[ \t]+|$)")


_LIST_ITEM = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")


_LABEL = re.compile(r"^[^\s:][^:\n]{0,38}:$")


@dataclass(frozen=True, slots=True)
class Answer:
    html: str
    top_level_items: int  # items of the answer's outermost lists
    empty_items: tuple[int, ...]  # lines (1-based, in the answer) of empty list items
    raw_html: tuple[tuple[int, str], ...]  # (line, tag) of HTML shown as text (not allowed)
    math: tuple[tuple[int, str], ...] = ()  # (line, problem) of math MathJax cannot typeset
    remote: tuple[tuple[int, str], ...] = ()  # raw HTML that loads from the network, by line
    # The parse ``html`` was rendered from (for list cards); its line numbers depend on
    # where it was parsed, so it takes no part in comparing answers.
    tokens: Sequence[Token] = field(default=(), compare=False, repr=False)


def normalise_pasted(markdown: str) -> tuple[str, list[int]]:
    """Pasted bullets become list items, and a line at the left margin after a list item
    starts a new paragraph (CommonMark would glue it onto the item, which nobody pasting
    "Label:" lines means). Returns the text and, per line, its 0-based line in the input."""
    out: list[str] = []
    origin: list[int] = []
    in_list = False
    for number, raw in enumerate(markdown.split("\n")):
        line = _PASTED_BULLET.sub(r"\1- ", raw)
        if not line.strip():
            in_list = False
        elif _LIST_ITEM.match(line):
            in_list = True
        elif in_list and not line[0].isspace():
            out.append("")
            origin.append(number)
            in_list = False
        out.append(line)
        origin.append(number)
    return "\n".join(out), origin


def _mark_labels(state: StateCore) -> None:
    """A short "Label:" line before a list or a text line reads as a heading for what follows."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "inline" or not token.children:
            continue
        children = token.children
        first = children[0]
        if first.type != "text" or not _LABEL.match(first.content):
            continue
        if len(children) == 1:
            follower = tokens[index + 2] if index + 2 < len(tokens) else None
            if follower is not None and follower.type in ("bullet_list_open", "ordered_list_open"):
                tokens[index - 1].attrSet("class", "label")
        elif children[1].type in ("softbreak", "hardbreak"):
            opening = Token("label_open", "span", 1, attrs={"class": "label"})
            closing = Token("label_close", "span", -1)
            token.children = [opening, first, closing, *children[1:]]


def _rich(text: str) -> bool:
    """Whether ``text`` may hold a table (it needs a '|') or math (a '$', '\\(' or '\\['):
    text without them parses to the same tokens without those rules, and faster."""
    return "|" in text or "$" in text or "\\(" in text or "\\[" in text


@cache
def _markdown(allow_html: bool, rich: bool = True) -> MarkdownIt:
    """The one configuration; ``rich`` adds GitHub's pipe tables and math, which a deck
    without them does not pay for (see :func:`_rich`)."""
    options = {"html": allow_html, "breaks": True, "typographer": False, "highlight": highlight}
    md = MarkdownIt("commonmark", options)
    md.add_render_rule("text", text_rule)  # for both: entities can spell a '\\('
    if rich:
        md.enable("table")
        math_plugin(md)
    # A comment ends a paragraph, as an HTML block does.
    alternatives: RuleOptionsType = {"alt": ["paragraph", "reference", "blockquote"]}
    md.block.ruler.before("html_block", COMMENT, comment_block, alternatives)
    md.inline.ruler.before("html_inline", COMMENT, comment_inline)
    md.add_render_rule(COMMENT, lambda *_: "")
    md.core.ruler.push("kam_labels", _mark_labels)
    if allow_html:
        md.core.ruler.push("kam_defuse_html", defuse_html)
    return md


@dataclass(frozen=True, slots=True)
class Blocks:
    """Markdown split into blocks (markdown-it-py's block tokens), not yet into inline
    text: what the parser looks at for a file's structure, then renders card by card."""

    tokens: list[Token]
    origin: list[int]  # per line of the normalised text: its 0-based line in the input
    env: dict[str, Any]  # link reference definitions found
    rich: bool = True  # parsed with tables and math (see _rich)


def blocks(markdown: str, *, allow_html: bool = False) -> Blocks:
    """The blocks of ``markdown`` as the answers are rendered: from the normalised text,
    with the same settings, comments recognised whether raw HTML is allowed or not."""
    text, origin = normalise_pasted(markdown)
    rich = _rich(text)
    md = _markdown(allow_html, rich)
    tokens: list[Token] = []
    env: dict[str, Any] = {}
    md.block.parse(text, md, env, tokens)
    return Blocks(tokens, origin, env, rich)


@cache
def _after_blocks(allow_html: bool, rich: bool) -> list[Callable[[StateCore], None]]:
    """The core rules that come after splitting into blocks: inline parsing and ours."""
    skip = {normalize, block}
    rules = _markdown(allow_html, rich).core.ruler.getRules("")
    return [rule for rule in rules if rule not in skip]


# One pass over the tokens of an answer, collecting what validation needs as it goes.
def render_answer(
    markdown: str,
    *,
    allow_html: bool = False,
    images: ImageResolver | None = None,
    parsed: Blocks | None = None,
    first: int = 0,
) -> Answer:
    """``markdown`` as a card's back. ``parsed``, if given, are its blocks, taken from its
    file's (so the file is parsed once): their lines count from ``first``, the answer's
    first line in the file."""
    if parsed is None:
        parsed, first = blocks(markdown, allow_html=allow_html), 0
    tokens, origin = parsed.tokens, parsed.origin
    state = StateCore("", _markdown(allow_html, parsed.rich), parsed.env, tokens)
    for rule in _after_blocks(allow_html, parsed.rich):
        rule(state)

    def line_of(token: Token) -> int:
        return origin[token.map[0]] - first + 1 if token.map else 1

    top_level = 0
    empty: list[int] = []
    current = tokens[0] if tokens else None
    for index, token in enumerate(tokens):
        if token.map:
            current = token
        if token.type == "list_item_open":
            top_level += token.level == 1
            if tokens[index + 1].type == "list_item_close":
                empty.append(line_of(token))
        if images is not None:
            line = line_of(current) if current is not None else 1
            _resolve_images(token, line, images, allow_html=allow_html)
    raw = _raw_markup(markdown) if not allow_html and "<" in markdown else []
    found = math_problems(tokens) if parsed.rich else ()
    math = tuple((line_of(token), problem) for token, problem in found)
    remote = tuple(
        (line_of(token), fetch)
        for token in tokens
        for part in loading([token])
        for fetch in remote_resources(part.meta.get("raw", part.content))
    )
    html = render_tokens(tokens, allow_html=allow_html)
    return Answer(html, top_level, tuple(empty), tuple(raw), math, remote, tokens)


def _raw_markup(markdown: str) -> list[tuple[int, str]]:
    """Each real HTML tag (see :func:`is_markup`) in ``markdown``, with its line (1-based):
    the same text with HTML parsing on shows what a reader would have meant as markup."""
    text, origin = normalise_pasted(markdown)
    lines: dict[int, int] = {}
    parts: list[Token] = []
    line = 1
    for token in _markdown(True, _rich(text)).parse(text):
        line = origin[token.map[0]] + 1 if token.map else line
        for part in html_tokens([token]):
            lines[id(part)] = line
            parts.append(part)
    return [(lines[id(part)], tag) for part, tag in markup_tags(parts)]


def _resolve_images(token: Token, line: int, images: ImageResolver, *, allow_html: bool) -> None:
    """Every image of a token, in Markdown or (with raw HTML allowed) as ``<img src>``, gets
    the name ``images`` gives it."""
    if token.type == "inline":
        for child in token.children or ():
            if child.type == "image":
                child.attrSet("src", images(str(child.attrGet("src") or ""), line))
    for part in html_tokens([token]) if allow_html else ():
        part.content = html_images(part.content, line, images)


def render_tokens(tokens: Sequence[Token], *, allow_html: bool = False) -> str:
    """HTML for a parse, or a run of block tokens out of one (list cards render it piecewise);
    the rich renderer renders plain tokens as the plain one does."""
    md = _markdown(allow_html)
    return str(md.renderer.render(tokens, md.options, {}))


def render_question(
    markdown: str, *, allow_html: bool = False, images: ImageResolver | None = None
) -> str:
    md = _markdown(allow_html, _rich(markdown))
    tokens = md.parseInline(markdown, {})
    if images is not None:
        for token in tokens:
            _resolve_images(token, 1, images, allow_html=allow_html)
    return str(md.renderer.render(tokens, md.options, {}))


def question_math_problems(markdown: str, *, allow_html: bool = False) -> list[str]:
    """What is wrong with the math in a question (nothing to parse without '$' or '\\')."""
    if "$" not in markdown and "\\" not in markdown:
        return []
    tokens = _markdown(allow_html).parseInline(markdown)
    return [problem for _, problem in math_problems(tokens)]


def question_remote(markdown: str, *, allow_html: bool = False) -> list[str]:
    """What a question would load from outside the deck (see :func:`remote_resources`):
    its raw HTML (kept or shown as text) and its Markdown images."""
    md = _markdown(allow_html)
    env: dict[str, Any] = {}
    tokens = md.parseInline(markdown, env)
    found = [
        fetch
        for part in loading(tokens)
        for fetch in remote_resources(part.meta.get("raw", part.content))
    ]
    html = str(md.renderer.render(tokens, md.options, env))
    return found + [fetch for fetch in remote_resources(html) if fetch not in found]


def render_text(text: str) -> str:
    """Plain text for a field (chapter, source): escaped, never interpreted."""
    return escape(text, quote=False)
