"""Markdown -> HTML for card fields: the one place MarkdownIt is configured; pure.

Rendering also reports what validation needs to know about an answer (list items, images,
raw HTML), from the same parse, so every answer is parsed once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape, unescape

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# Bumped whenever the HTML for the same Markdown may differ: it is part of every cache key.
CONVERTER_VERSION = "1"

# Bullets pasted from PDFs, slides and Word are list items too.
_PASTED_BULLET = re.compile(r"^([ \t]*)[•◦▪‣–](?:[ \t]+|$)")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_LABEL = re.compile(r"^[^\s:][^:\n]{0,38}:$")
# Markup that would run code or load something in Anki's web view, even with HTML allowed:
# looked for after entities are decoded and blanks and control characters dropped, as a
# browser reads "jav&#x61;script:" or "java\tscript:".
_DANGEROUS_HTML = re.compile(
    r"<\s*/?\s*(?:script|iframe|object|embed|style|link|meta|base|form|svg|math)\b"
    r"|[\s/\"']on[a-z]+\s*=",
    re.IGNORECASE,
)
_SCRIPT_URL = re.compile(r"(?:java|vb)script:|data:text/html", re.IGNORECASE)
_BLANKS = re.compile(r"[\x00-\x20\x7f]+")

# (src as written, 1-based line in the answer) -> the src to put into the field
ImageResolver = Callable[[str, int], str]


@dataclass(frozen=True, slots=True)
class Answer:
    html: str
    top_level_items: int  # items of the answer's outermost lists
    empty_items: tuple[int, ...]  # lines (1-based, in the answer) of empty list items
    raw_html: tuple[int, ...]  # lines of raw HTML (escaped unless allowed)
    tokens: Sequence[Token] = ()  # the parse ``html`` was rendered from (for list cards)


def normalise(markdown: str) -> tuple[str, list[int]]:
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


def _defuse_html(state: StateCore) -> None:
    """With raw HTML allowed, markup that could run code is still shown as text."""
    for part in _html_tokens(state.tokens):
        decoded = unescape(part.content)
        if _DANGEROUS_HTML.search(decoded) or _SCRIPT_URL.search(_BLANKS.sub("", decoded)):
            part.type = "text"


def _html_tokens(tokens: Sequence[Token]) -> list[Token]:
    found = []
    for token in tokens:
        for part in token.children or () if token.type == "inline" else (token,):
            if part.type in ("html_block", "html_inline"):
                found.append(part)
    return found


@cache
def _markdown(allow_html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "breaks": True, "typographer": False})
    md.core.ruler.push("kam_labels", _mark_labels)
    if allow_html:
        md.core.ruler.push("kam_defuse_html", _defuse_html)
    return md


def render_answer(
    markdown: str, *, allow_html: bool = False, images: ImageResolver | None = None
) -> Answer:
    text, origin = normalise(markdown)
    md = _markdown(allow_html)
    tokens = md.parse(text)

    def line_of(token: Token) -> int:
        return origin[token.map[0]] + 1 if token.map else 1

    top_level = 0
    empty: list[int] = []
    block = tokens[0] if tokens else None
    for index, token in enumerate(tokens):
        if token.map:
            block = token
        if token.type == "list_item_open":
            top_level += token.level == 1
            if tokens[index + 1].type == "list_item_close":
                empty.append(line_of(token))
        if token.type == "inline" and images is not None:
            for child in token.children or ():
                if child.type == "image":
                    line = line_of(block) if block is not None else 1
                    child.attrSet("src", images(str(child.attrGet("src") or ""), line))
    raw = [line_of(t) for t in tokens if t.type == "html_block"]
    raw += [line_of(t) for t in tokens if t.type == "inline" and _html_tokens([t])]
    if not allow_html and "<" in text:
        # The same text with HTML parsing on shows what a reader would have meant as markup.
        raw += [line_of(t) for t in _markdown(True).parse(text) if _html_tokens([t])]
    html = render_tokens(tokens, allow_html=allow_html)
    return Answer(html, top_level, tuple(empty), tuple(sorted(set(raw))), tokens)


def render_tokens(tokens: Sequence[Token], *, allow_html: bool = False) -> str:
    """HTML for a parse, or a run of block tokens out of one (list cards render it piecewise)."""
    md = _markdown(allow_html)
    return str(md.renderer.render(tokens, md.options, {}))


def render_question(markdown: str, *, allow_html: bool = False) -> str:
    return str(_markdown(allow_html).renderInline(markdown))


def render_text(text: str) -> str:
    """Plain text for a field (chapter, source): escaped, never interpreted."""
    return escape(text, quote=False)
