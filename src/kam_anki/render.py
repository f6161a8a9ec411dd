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
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore, block, normalize
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from kam_anki.formulas import math_plugin, math_problems, script_link, text_rule
from kam_anki.highlight import highlight
from kam_anki.remote import remote_resources

# Bumped whenever the HTML for the same Markdown may differ: it is part of every cache key.
CONVERTER_VERSION = "5"
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
# A tag as CommonMark reads raw HTML: <name attributes> or </name>.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s(?:[^<>\"']|\"[^\"]*\"|'[^']*')*)?(/?)>")
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.IGNORECASE)  # scheme: or a host
_SRC = re.compile(r"(\ssrc\s*=\s*)(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+))", re.IGNORECASE)
# HTML's elements (and a few old ones still in pasted text): a tag with another name, such
# as the placeholder in "kubectl get pod <podname>", is text, never markup.
_ELEMENT_NAMES = """
    a abbr acronym address area article aside audio b base bdi bdo big blockquote body br
    button canvas caption center cite code col colgroup data datalist dd del details dfn
    dialog div dl dt em embed fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6
    head header hgroup hr html i iframe img input ins kbd label legend li link main map mark
    marquee math menu meta meter nav nobr noscript object ol optgroup option output p param
    picture pre progress q rp rt ruby s samp script search section select slot small source
    span strike strong style sub summary sup svg table tbody td template textarea tfoot th
    thead time title tr track tt u ul var video wbr"""
# Elements that need no end tag: void ones, and those whose end tag HTML lets one leave out.
_VOID_NAMES = """
    area base br col embed hr img input link meta param source track wbr
    body caption colgroup dd dt head html li optgroup option p rp rt tbody td tfoot th thead tr"""
_ELEMENTS = frozenset(_ELEMENT_NAMES.split())
_VOID = frozenset(_VOID_NAMES.split())

# (src as written, 1-based line in the answer) -> the src to put into the field
ImageResolver = Callable[[str, int], str]


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
    """With raw HTML allowed, markup that could run code is still shown as text, and so is
    anything that only looks like a tag (``<podname>``), which a browser would hide."""
    parts = _html_tokens(state.tokens)
    closed = _closed(parts)
    for part in parts:
        decoded = unescape(part.content)
        dangerous = _DANGEROUS_HTML.search(decoded) or script_link(decoded)
        if dangerous or _SCRIPT_URL.search(_BLANKS.sub("", decoded)):
            part.type = "text"
            part.meta["defused"] = True  # still named if it would load from the network
        elif part.type == "html_inline":
            tag = _TAG.fullmatch(part.content)
            if tag is None or not _is_markup(tag, closed):
                part.type = "text"
                part.meta["defused"] = True
        else:
            part.meta["raw"] = part.content  # as written, for what it would load
            part.content = _TAG.sub(
                lambda tag: tag.group() if _is_markup(tag, closed) else escape(tag.group()),
                part.content,
            )


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


def _closed(parts: Sequence[Token]) -> frozenset[str]:
    """The elements closed somewhere in these tokens (``</b>``)."""
    return frozenset(
        tag.group(2).lower()
        for part in parts
        for tag in _TAG.finditer(part.content)
        if tag.group(1)
    )


def _is_markup(tag: re.Match[str], closed: frozenset[str]) -> bool:
    """A tag of a real HTML element: its name is one, and it needs no end tag (``<br>``,
    ``<li>``), closes itself, is a closing tag or is closed somewhere (``<table>`` in
    "SELECT * FROM <table>" is a placeholder)."""
    name = tag.group(2).lower()
    if name not in _ELEMENTS:
        return False
    return bool(tag.group(1) or tag.group(3)) or name in _VOID or name in closed


def markup_tags(parts: Sequence[Token]) -> list[tuple[Token, str]]:
    """The tags of real HTML elements in these raw HTML tokens, each with its token."""
    closed = _closed(parts)
    return [
        (part, tag.group())
        for part in parts
        for tag in _TAG.finditer(part.content)
        if _is_markup(tag, closed)
    ]


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
    rich: bool = True  # parsed with tables and math (see _rich)


def blocks(markdown: str, *, allow_html: bool = False) -> Blocks:
    """The blocks of ``markdown`` as the answers are rendered: from the normalised text,
    with the same settings, comments recognised whether raw HTML is allowed or not."""
    text, origin = normalise(markdown)
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
        for part in _loading([token])
        for fetch in remote_resources(part.meta.get("raw", part.content))
    )
    html = render_tokens(tokens, allow_html=allow_html)
    return Answer(html, top_level, tuple(empty), tuple(raw), math, remote, tokens)


def _raw_markup(markdown: str) -> list[tuple[int, str]]:
    """Each real HTML tag (see :func:`_is_markup`) in ``markdown``, with its line (1-based):
    the same text with HTML parsing on shows what a reader would have meant as markup."""
    text, origin = normalise(markdown)
    lines: dict[int, int] = {}
    parts: list[Token] = []
    line = 1
    for token in _markdown(True, _rich(text)).parse(text):
        line = origin[token.map[0]] + 1 if token.map else line
        for part in _html_tokens([token]):
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
    for part in _html_tokens([token]) if allow_html else ():
        part.content = _html_images(part.content, line, images)


def _html_images(content: str, line: int, images: ImageResolver) -> str:
    """Raw HTML with the ``src`` of each ``<img>`` resolved as a Markdown image's is."""

    def one(tag: re.Match[str]) -> str:
        if tag.group(1) or tag.group(2).lower() != "img":
            return tag.group()
        at = line + content.count("\n", 0, tag.start())

        def source(value: re.Match[str]) -> str:
            written = next(group for group in value.group(2, 3, 4) if group is not None)
            if _URL.match(unescape(written).strip()):
                return value.group()  # a URL: remote.py names one that loads from outside
            return f'{value.group(1)}"{escape(images(unescape(written), at))}"'

        return _SRC.sub(source, tag.group(), count=1)

    return _TAG.sub(one, content)


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
        for part in _loading(tokens)
        for fetch in remote_resources(part.meta.get("raw", part.content))
    ]
    html = str(md.renderer.render(tokens, md.options, env))
    return found + [fetch for fetch in remote_resources(html) if fetch not in found]


def render_text(text: str) -> str:
    """Plain text for a field (chapter, source): escaped, never interpreted."""
    return escape(text, quote=False)
