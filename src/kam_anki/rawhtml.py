"""Raw HTML in Markdown, for :mod:`kam_anki.render`: comments (``<!-- ... -->``) that never
reach a card, what is defused when raw HTML is not allowed (scripts, event handlers), which
tags are markup, and the images an ``<img>`` loads."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape, unescape

from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from kam_anki.mathcheck import script_link

COMMENT = "kam_comment"  # the type of a comment's block token


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


def defuse_html(state: StateCore) -> None:
    """With raw HTML allowed, markup that could run code is still shown as text, and so is
    anything that only looks like a tag (``<podname>``), which a browser would hide."""
    parts = html_tokens(state.tokens)
    closed = _closed(parts)
    for part in parts:
        decoded = unescape(part.content)
        dangerous = _DANGEROUS_HTML.search(decoded) or script_link(decoded)
        if dangerous or _SCRIPT_URL.search(_BLANKS.sub("", decoded)):
            part.type = "text"
            part.meta["defused"] = True  # still named if it would load from the network
        elif part.type == "html_inline":
            tag = _TAG.fullmatch(part.content)
            if tag is None or not is_markup(tag, closed):
                part.type = "text"
                part.meta["defused"] = True
        else:
            part.meta["raw"] = part.content  # as written, for what it would load
            part.content = _TAG.sub(
                lambda tag: tag.group() if is_markup(tag, closed) else escape(tag.group()),
                part.content,
            )


def loading(tokens: Sequence[Token]) -> list[Token]:
    """The raw HTML among ``tokens``, kept or shown as text (:func:`defuse_html`)."""
    found = []
    for token in tokens:
        for part in token.children or () if token.type == "inline" else (token,):
            if part.type in ("html_block", "html_inline") or part.meta.get("defused"):
                found.append(part)
    return found


def html_tokens(tokens: Sequence[Token]) -> list[Token]:
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


def is_markup(tag: re.Match[str], closed: frozenset[str]) -> bool:
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
        if is_markup(tag, closed)
    ]


def comment_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
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


def comment_inline(state: StateInline, silent: bool) -> bool:
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


def html_images(content: str, line: int, images: ImageResolver) -> str:
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
