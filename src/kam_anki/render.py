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
from html import escape, unescape
from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore, block, normalize
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

# Bumped whenever the HTML for the same Markdown may differ: it is part of every cache key.
CONVERTER_VERSION = "2"
COMMENT = "kam_comment"  # the type of a comment's block token

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
# Attributes whose URL a browser loads as it shows the element (href only where it is not a
# link to follow: <a> and <area> load nothing until clicked).
_FETCHING = frozenset(
    {
        *("src", "srcset", "imagesrcset", "poster", "data", "background", "lowsrc", "dynsrc"),
        *("codebase", "archive", "manifest", "icon", "href", "xlink:href"),
    }
)
_LINKS = frozenset({"a", "area"})
# A URL that is not a file of the deck: any scheme but data:, or a host ("//", "\\").
_NOT_LOCAL = re.compile(r"^(?:(?!data:)[a-z][a-z0-9+.-]*:|[/\\]{2})", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
# What CSS loads: url(…), src(…), and strings where a string is a URL (image-set("…"),
# @import "…"); elsewhere a string is text (content: "https://…" loads nothing).
_CSS_URL = re.compile(r"""(?:url|src)\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))""", re.IGNORECASE)
_CSS_STRING = re.compile(r"""(?:"([^"]*)"|'([^']*)')""")
_CSS_STRING_URLS = re.compile(r"image-set|image\(|cross-fade|@import", re.IGNORECASE)

# (src as written, 1-based line in the answer) -> the src to put into the field
ImageResolver = Callable[[str, int], str]


@dataclass(frozen=True, slots=True)
class Answer:
    html: str
    top_level_items: int  # items of the answer's outermost lists
    empty_items: tuple[int, ...]  # lines (1-based, in the answer) of empty list items
    raw_html: tuple[int, ...]  # lines of raw HTML (escaped unless allowed)
    remote: tuple[tuple[int, str], ...] = ()  # raw HTML that loads from the network, by line
    # The parse ``html`` was rendered from (for list cards); its line numbers depend on
    # where it was parsed, so it takes no part in comparing answers.
    tokens: Sequence[Token] = field(default=(), compare=False, repr=False)


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
            part.meta["defused"] = True  # still named if it would load from the network


class _Fetches(HTMLParser):
    """The URLs that tags in a piece of HTML would load from outside the deck as they are
    shown, described for a message: ``<img src="https://…">``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._tag = ""

    def handle_data(self, data: str) -> None:
        if self._tag == "style":  # a style sheet: @import, url(), image-set()
            self._check("style", "", _css_urls(data))

    def handle_endtag(self, tag: str) -> None:
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        for name, value in attrs:
            if value is None or (name == "href" and tag in _LINKS):
                continue
            if name == "style":
                urls = _css_urls(value)
            elif name.endswith("srcset"):  # "a.png 1x, b.png 2x"
                urls = [part.split()[0] for part in value.split(",") if part.split()]
            elif name in _FETCHING:
                urls = [value]
            else:
                continue
            self._check(tag, name, urls)

    def _check(self, tag: str, name: str, urls: list[str]) -> None:
        for url in urls:
            if _NOT_LOCAL.match(_BLANKS.sub("", url)):
                if not name:
                    self.found.append(f"<{tag}>…{url.strip()}…</{tag}>")
                elif name == "style":
                    self.found.append(f'<{tag} {name}="…{url.strip()}…">')
                else:
                    self.found.append(f'<{tag} {name}="{url.strip()}">')


def _css_urls(text: str) -> list[str]:
    css = _css(text)
    found = list(_CSS_URL.finditer(css))
    if _CSS_STRING_URLS.search(css):
        found += _CSS_STRING.finditer(css)
    return [next(filter(None, match.groups()), "") for match in found]


def _css(text: str) -> str:
    """CSS as a browser reads it: escapes decoded (``u\\72l(`` is ``url(``), no comments."""

    def character(match: re.Match[str]) -> str:
        code, other = match.groups()
        if other is not None:
            return other
        number = int(code, 16)
        return chr(number) if 0 < number < 0x110000 and not 0xD800 <= number < 0xE000 else ""

    return _CSS_COMMENT.sub("", _CSS_ESCAPE.sub(character, text))


def remote_resources(html: str) -> list[str]:
    """What ``html`` would load from the network (or another place outside the deck) as it
    is shown: on every review, and never offline. A tag left open at the end is read as the
    page would close it."""
    found: list[str] = []
    for ending in ("", '">', "'>"):
        parser = _Fetches()
        parser.feed(html + ending)
        parser.close()
        found += [one for one in parser.found if one not in found]
    return found


def _loading(tokens: Sequence[Token]) -> list[Token]:
    """The raw HTML among ``tokens``, kept or shown as text (:func:`_defuse_html`)."""
    found = []
    for token in tokens:
        for part in token.children or () if token.type == "inline" else (token,):
            if part.type in ("html_block", "html_inline") or part.meta.get("defused"):
                found.append(part)
    return found


def _html_tokens(tokens: Sequence[Token]) -> list[Token]:
    found = []
    for token in tokens:
        for part in token.children or () if token.type == "inline" else (token,):
            if part.type in ("html_block", "html_inline"):
                found.append(part)
    return found


def _comment_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """CommonMark's HTML block of type 2: from a line starting with ``<!--`` to the line
    that holds ``-->`` (blank lines included); a token that renders as nothing."""
    begin = state.bMarks[start] + state.tShift[start]
    if not state.src.startswith("<!--", begin) or state.is_code_block(start):
        return False
    if silent:
        return True
    line = start + 1
    if "-->" not in state.src[begin : state.eMarks[start]]:
        while line < end:
            if state.sCount[line] < state.blkIndent and not state.isEmpty(line):
                break  # the end of the container (list item, quote) ends the comment too
            text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
            line += 1
            if "-->" in text:
                break
    token = state.push(COMMENT, "", 0)
    token.map = [start, line]
    token.content = state.getLines(start, line, state.blkIndent, True)
    state.line = line
    return True


def _comment_inline(state: StateInline, silent: bool) -> bool:
    """``<!-->``, ``<!--->`` or ``<!--`` ... ``-->`` inside a paragraph: skipped."""
    start = state.pos
    if not state.src.startswith("<!--", start):
        return False
    # The last '-->' of the text, found once: no comment can close before a start after it,
    # so a long run of '<!--' is not searched to its end again and again.
    if state.html_terminator_last("-->") < start + 2:
        return False
    end = state.src.find("-->", start + 2) + 3
    if end > state.posMax:
        return False
    state.pos = end
    return True


@cache
def _markdown(allow_html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "breaks": True, "typographer": False})
    # A comment ends a paragraph, as an HTML block does.
    alternatives: RuleOptionsType = {"alt": ["paragraph", "reference", "blockquote"]}
    md.block.ruler.before("html_block", COMMENT, _comment_block, alternatives)
    md.inline.ruler.before("html_inline", COMMENT, _comment_inline)
    md.add_render_rule(COMMENT, lambda *_: "")
    md.core.ruler.push("kam_labels", _mark_labels)
    if allow_html:
        md.core.ruler.push("kam_defuse_html", _defuse_html)
    return md


@dataclass(frozen=True, slots=True)
class Blocks:
    """Markdown split into blocks (markdown-it-py's block tokens), not yet into inline
    text: what the parser looks at for a file's structure, then renders card by card."""

    tokens: list[Token]
    origin: list[int]  # per line of the normalised text: its 0-based line in the input
    env: dict[str, Any]  # link reference definitions found


def blocks(markdown: str, *, allow_html: bool = False) -> Blocks:
    """The blocks of ``markdown`` as the answers are rendered: from the normalised text,
    with the same settings, comments recognised whether raw HTML is allowed or not."""
    text, origin = normalise(markdown)
    md = _markdown(allow_html)
    tokens: list[Token] = []
    env: dict[str, Any] = {}
    md.block.parse(text, md, env, tokens)
    return Blocks(tokens, origin, env)


@cache
def _after_blocks(allow_html: bool) -> list[Callable[[StateCore], None]]:
    """The core rules that come after splitting into blocks: inline parsing and ours."""
    skip = {normalize, block}
    return [rule for rule in _markdown(allow_html).core.ruler.getRules("") if rule not in skip]


# One pass over the tokens of an answer, collecting what validation needs as it goes.
def render_answer(  # noqa: C901
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
    md = _markdown(allow_html)
    if parsed is None:
        parsed, first = blocks(markdown, allow_html=allow_html), 0
    tokens, origin = parsed.tokens, parsed.origin
    state = StateCore("", md, parsed.env, tokens)
    for rule in _after_blocks(allow_html):
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
        if token.type == "inline" and images is not None:
            for child in token.children or ():
                if child.type == "image":
                    line = line_of(current) if current is not None else 1
                    child.attrSet("src", images(str(child.attrGet("src") or ""), line))
    raw = [line_of(t) for t in tokens if t.type == "html_block"]
    raw += [line_of(t) for t in tokens if t.type == "inline" and _html_tokens([t])]
    if not allow_html and "<" in markdown:
        # The same text with HTML parsing on shows what a reader would have meant as markup.
        text, answer_origin = normalise(markdown)
        for token in _markdown(True).parse(text):
            if token.map and _html_tokens([token]):
                raw.append(answer_origin[token.map[0]] + 1)
    remote = [
        (line_of(token), fetch)
        for token in tokens
        for part in _loading([token])
        for fetch in remote_resources(part.content)
    ]
    html = render_tokens(tokens, allow_html=allow_html)
    return Answer(html, top_level, tuple(empty), tuple(sorted(set(raw))), tuple(remote), tokens)


def render_tokens(tokens: Sequence[Token], *, allow_html: bool = False) -> str:
    """HTML for a parse, or a run of block tokens out of one (list cards render it piecewise)."""
    md = _markdown(allow_html)
    return str(md.renderer.render(tokens, md.options, {}))


def render_question(markdown: str, *, allow_html: bool = False) -> str:
    return str(_markdown(allow_html).renderInline(markdown))


def question_remote(markdown: str, *, allow_html: bool = False) -> list[str]:
    """What a question would load from outside the deck (see :func:`remote_resources`):
    its raw HTML (kept or shown as text) and its Markdown images."""
    md = _markdown(allow_html)
    env: dict[str, Any] = {}
    tokens = md.parseInline(markdown, env)
    found = [fetch for part in _loading(tokens) for fetch in remote_resources(part.content)]
    html = str(md.renderer.render(tokens, md.options, env))
    return found + [fetch for fetch in remote_resources(html) if fetch not in found]


def render_text(text: str) -> str:
    """Plain text for a field (chapter, source): escaped, never interpreted."""
    return escape(text, quote=False)
