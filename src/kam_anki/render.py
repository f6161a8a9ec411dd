"""Markdown -> HTML for card fields: the one place MarkdownIt is configured; pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from html import escape

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# Bumped whenever the HTML for the same Markdown may differ: it is part of every cache key.
CONVERTER_VERSION = "1"

# Bullets pasted from PDFs, slides and Word are list items too.
_PASTED_BULLET = re.compile(r"^([ \t]*)[•◦▪‣–](?:[ \t]+|$)", re.MULTILINE)
_LABEL = re.compile(r"^[^\s:][^:\n]{0,38}:$")
# Markup that would run code or load something in Anki's web view, even with HTML allowed.
_DANGEROUS_HTML = re.compile(
    r"<\s*/?\s*(?:script|iframe|object|embed|style|link|meta|base|form)\b"
    r"|\son[a-z]+\s*=|javascript:|vbscript:",
    re.IGNORECASE,
)


_LIST_ITEM = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")


def normalise(markdown: str) -> str:
    """Pasted bullets become list items, and a line at the left margin after a list item
    starts a new paragraph (CommonMark would glue it onto the item, which nobody pasting
    "Label:" lines means)."""
    lines = _PASTED_BULLET.sub(r"\1- ", markdown).split("\n")
    out: list[str] = []
    in_list = False
    for line in lines:
        if not line.strip():
            in_list = False
        elif _LIST_ITEM.match(line):
            in_list = True
        elif in_list and not line[0].isspace():
            out.append("")
            in_list = False
        out.append(line)
    return "\n".join(out)


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
            opening = Token("html_inline", "", 0, content='<span class="label">')
            closing = Token("html_inline", "", 0, content="</span>")
            token.children = [opening, first, closing, *children[1:]]


def _defuse_html(state: StateCore) -> None:
    """With raw HTML allowed, markup that could run code is still shown as text."""
    for token in state.tokens:
        candidates: Sequence[Token] = token.children or () if token.type == "inline" else (token,)
        for part in candidates:
            if part.type in ("html_block", "html_inline") and _DANGEROUS_HTML.search(part.content):
                part.type = "text"


@cache
def _markdown(allow_html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "breaks": True, "typographer": False})
    md.core.ruler.push("kam_labels", _mark_labels)
    if allow_html:
        md.core.ruler.push("kam_defuse_html", _defuse_html)
    return md


def render_answer(markdown: str, *, allow_html: bool = False) -> str:
    return _markdown(allow_html).render(normalise(markdown))


def render_question(markdown: str, *, allow_html: bool = False) -> str:
    return _markdown(allow_html).renderInline(markdown)


def render_text(text: str) -> str:
    """Plain text for a field (chapter, source): escaped, never interpreted."""
    return escape(text, quote=False)
