"""Math in Markdown -> Anki's own MathJax delimiters, and what cannot be typeset; pure.

``$…$`` and ``\\(…\\)`` become ``\\(…\\)``; ``$$…$$`` and ``\\[…\\]`` become ``\\[…\\]``: the
delimiters Anki's MathJax reads, offline, on desktop, AnkiMobile and AnkiDroid. The LaTeX is
kept byte for byte: the math rules run before markdown-it's backslash escapes and emphasis,
and only ``&``, ``<`` and ``>`` become entities, which the web view turns back into the same
characters before MathJax reads the text.

Dollars are mdit-py-plugins' dollarmath rules. A ``$`` in prose stays a dollar: math needs a
non-blank right after the opening ``$`` and right before the closing one, no digit after the
closing one ("$5 and $10"), and no backtick in between. The backslash delimiters are two
small rules here (texmath's regular expressions copy the rest of the text at every ``\\(``,
quadratic in huge input). Display math spans at most :data:`MAX_DISPLAY_LINES` lines and no
blank line, so that an unclosed ``$$`` costs a bounded look ahead, whatever the input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererProtocol
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar, math_inline_dollar

from kam_anki.mathcheck import (
    DISPLAY_IN_TEXT,
    INLINE,
    MATH_BLOCKS,
    MAX_DISPLAY_LINES,
    check_math,
    script_link,
)

# Like a code fence, display math on its own lines may interrupt a paragraph or a list.
_BLOCK_ALT: RuleOptionsType = {"alt": ["paragraph", "reference", "blockquote", "list"]}


def math_plugin(md: MarkdownIt) -> None:
    """The four kinds of delimiters, rendered for Anki, and the check of what they hold."""
    dollarmath_plugin(
        md,
        allow_labels=False,  # Anki numbers no equations: "(1)" after "$$" stays text
        allow_space=False,
        allow_digits=False,
        allow_blank_lines=False,
        double_inline=True,
    )
    # One inline and one block rule for all delimiters, each looking at one or two characters
    # first: markdown-it asks them at every stop in the text and at every line.
    md.inline.ruler.at("math_inline", _inline_math)
    md.block.ruler.at("math_block", _block_math, _BLOCK_ALT)
    for name in INLINE:
        md.add_render_rule(name, _render_inline)
    for name in DISPLAY_IN_TEXT:
        md.add_render_rule(name, _render_display_in_text)
    for name in MATH_BLOCKS:
        md.add_render_rule(name, _render_display_block)
    md.core.ruler.before("text_join", "kam_math_check", check_math)


_dollar_block = math_block_dollar(allow_labels=False, allow_blank_lines=False)


_dollars = math_inline_dollar(allow_space=False, allow_digits=False, allow_double=True)


def _inline_math(state: StateInline, silent: bool) -> bool:
    start = state.pos
    if not _inline_delimited(state, silent):
        return False
    if not script_link(state.src[start : state.pos]):
        return True
    if not silent:  # taken back: the text stays text
        state.tokens.pop()
        state.tokens_meta.pop()
    state.pos = start
    return False


def _inline_delimited(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src[pos] == "$":
        return _dollars_around_no_code(state, silent)
    if src.startswith("\\(", pos):
        return _backslashed(state, silent, "\\)", "math_paren")
    if src.startswith("\\[", pos):
        return _backslashed(state, silent, "\\]", "math_bracket")
    return False


def _dollars_around_no_code(state: StateInline, silent: bool) -> bool:
    """Dollar math, unless a backtick lies between the dollars: "$10, or `$x`" is a
    price and a code span, not math (a backtick has no use in LaTeX)."""
    start = state.pos
    if not _dollars(state, True):
        return False
    end, state.pos = state.pos, start
    if "`" in state.src[start:end]:
        return False
    return _dollars(state, silent)


def _backslashed(state: StateInline, silent: bool, close: str, kind: str) -> bool:
    """``\\(…\\)`` or ``\\[…\\]`` inside a paragraph, up to the first closing delimiter."""
    start = state.pos + 2
    if state.html_terminator_last(close) < start:
        return False  # none after here: known at once, also for the next '\\(' (huge input)
    end = state.src.find(close, start, state.posMax)
    if end <= start:
        return False
    if not silent:
        token = state.push(kind, "math", 0)
        token.content = state.src[start:end]
        token.markup = state.src[start - 2 : start]
    state.pos = end + 2
    return True


def _block_math(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``$$`` or ``\\[`` starting a line, closed at the end of a line (the same or a later one,
    no blank line between): display math on lines of its own."""
    if state.is_code_block(start):
        return False
    at = state.bMarks[start] + state.tShift[start]
    opening = state.src[at : at + 2]
    if opening not in ("$$", "\\["):
        return False
    close = "$$" if opening == "$$" else "\\]"
    last = _last_line(state, start, end, close)
    if last is None or script_link(state.src[at : state.eMarks[last]]):
        return False
    if opening == "$$":
        return _dollars_block_asked(state, start, end, silent)
    if not silent:
        token = state.push("math_block_bracket", "math", 0)
        token.block = True
        token.content = _lines_between(state, at + 2, start, last, close)
        token.markup = opening
        token.map = [start, last + 1]
    state.line = last + 1
    return True


def _last_line(state: StateBlock, start: int, end: int, close: str) -> int | None:
    """The line whose end closes the display math opened at the start of line ``start``."""
    at = state.bMarks[start] + state.tShift[start]
    first = state.src[at + 2 : state.eMarks[start]].rstrip()
    if not (first.endswith(close) and len(first) > 2):
        return _closing_line(state, start, end, close)
    if close in first[:-2] or state.src[at : at + 2] in first[:-2]:
        return None  # "$$a$$ and $$b$$": math inside the text, for the inline rule
    return start


def _closing_line(state: StateBlock, start: int, end: int, close: str) -> int | None:
    """The line after ``start`` that ends with ``close``, before a blank line, within
    MAX_DISPLAY_LINES."""
    for line in range(start + 1, min(end, start + MAX_DISPLAY_LINES)):
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].rstrip()
        if not text:
            return None
        if text.endswith(close):
            return line
    return None


def _lines_between(state: StateBlock, begin: int, start: int, last: int, close: str) -> str:
    """The text from ``begin`` (on line ``start``) to the ``close`` that ends line ``last``,
    without what a container (a quote's '>') puts before each line."""
    if start == last:
        return state.src[begin : state.eMarks[start]].rstrip()[: -len(close)]
    parts = [state.src[begin : state.eMarks[start]]]
    parts += [state.src[state.bMarks[line] : state.eMarks[line]] for line in range(start + 1, last)]
    parts.append(state.src[state.bMarks[last] : state.eMarks[last]].rstrip()[: -len(close)])
    return "\n".join(parts)


def _dollars_block_asked(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """The dollar block rule pushes its token even when only asked whether a block starts
    (as a paragraph asks each line): that token and the line it moved to are taken back."""
    if not silent:
        return _dollar_block(state, start, end, False)
    count, line = len(state.tokens), state.line
    found = _dollar_block(state, start, end, False)
    del state.tokens[count:]
    state.line = line
    return found


_DELIMITER_IN_TEXT = re.compile(r"\\(?=[()[\]])")


def text_rule(
    self: RendererProtocol, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Text as markdown-it writes it, but a ``\\(`` in it (written ``\\\\(`` or as an entity)
    is no delimiter for MathJax: an empty element between the two characters ends MathJax's
    string there. Only math written as math is typeset."""
    shown = escapeHtml(tokens[idx].content)  # as markdown-it's own rule
    return _DELIMITER_IN_TEXT.sub(r"\\<span></span>", shown) if "\\" in shown else shown


def _tex(token: Token) -> str:
    return escape(token.content, quote=False)


def _render_inline(
    self: RendererProtocol, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<span class="math">\\({_tex(tokens[idx])}\\)</span>'


def _render_display_in_text(
    self: RendererProtocol, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<span class="math math-display">\\[{_tex(tokens[idx])}\\]</span>'


def _render_display_block(
    self: RendererProtocol, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<div class="math math-display">\\[{_tex(tokens[idx])}\\]</div>\n'
