"""Math in Markdown -> Anki's own MathJax delimiters, and what cannot be typeset; pure.

``$…$`` and ``\\(…\\)`` become ``\\(…\\)``; ``$$…$$`` and ``\\[…\\]`` become ``\\[…\\]``: the
delimiters Anki's MathJax reads, offline, on desktop, AnkiMobile and AnkiDroid. The LaTeX is
kept byte for byte: the math rules (mdit-py-plugins' dollarmath and texmath rule makers) run
before markdown-it's backslash escapes and emphasis, and only ``&``, ``<`` and ``>`` become
entities, which the web view turns back into the same characters before MathJax reads the text.

A ``$`` in prose stays a dollar: math needs a non-blank right after the opening ``$`` and
right before the closing one, and no digit after the closing one ("$5 and $10").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererProtocol
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar, math_inline_dollar
from mdit_py_plugins.texmath.index import RuleDictType, make_block_func, make_inline_func

PROBLEMS = "kam_math"  # a token's meta key: what is wrong with the math in it

# Token types by how they are shown: in the line, or as a display (own line, centred).
_INLINE = ("math_inline", "math_paren")
_DISPLAY_IN_TEXT = ("math_inline_double", "math_bracket")
MATH_BLOCKS = ("math_block", "math_block_bracket")

_PAREN: RuleDictType = {
    "name": "math_paren",
    "rex": re.compile(r"^\\\((.+?)\\\)", re.DOTALL),
    "tmpl": "",
    "tag": "\\(",
}
_BRACKET: RuleDictType = {
    "name": "math_bracket",
    "rex": re.compile(r"^\\\[(.+?)\\\]", re.DOTALL),
    "tmpl": "",
    "tag": "\\[",
}
# ``\[`` at the start of a line up to a ``\]`` that ends a line, without a blank line
# between: nothing after the ``\]`` on its line could be lost.
_BRACKET_BLOCK: RuleDictType = {
    "name": "math_block_bracket",
    "rex": re.compile(r"^\\\[((?:(?!\n[ \t]*\n)[\s\S])+?)\\\][ \t]*$", re.MULTILINE),
    "tmpl": "",
    "tag": "\\[",
}
# Like a code fence, display math on its own lines may interrupt a paragraph or a list.
_BLOCK_ALT: RuleOptionsType = {"alt": ["paragraph", "reference", "blockquote", "list"]}
_LATEX_PART = re.compile(r"\\(begin|end)\s*\{([^{}]*)\}|\\(left|right)(?![a-zA-Z])|\\.|[{}]")


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
    # first: markdown-it asks them at every stop in the text and at every line, so a deck
    # without math pays for little more than that look.
    md.inline.ruler.at("math_inline", _inline_math)
    md.block.ruler.at("math_block", _block_math, _BLOCK_ALT)
    for name in _INLINE:
        md.add_render_rule(name, _render_inline)
    for name in _DISPLAY_IN_TEXT:
        md.add_render_rule(name, _render_display_in_text)
    for name in MATH_BLOCKS:
        md.add_render_rule(name, _render_display_block)
    md.core.ruler.before("text_join", "kam_math_check", _check)


_dollar_block = math_block_dollar(allow_labels=False, allow_blank_lines=False)
_dollars = math_inline_dollar(allow_space=False, allow_digits=False, allow_double=True)
_paren = make_inline_func(_PAREN)
_bracket = make_inline_func(_BRACKET)
_bracket_block = make_block_func(_BRACKET_BLOCK)


def _inline_math(state: StateInline, silent: bool) -> bool:
    char = state.src[state.pos]
    if char == "$":
        return _dollars_around_no_code(state, silent)
    if char != "\\":
        return False
    return _paren(state, silent) or _bracket(state, silent)


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


def _block_math(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    at = state.bMarks[start] + state.tShift[start]
    opening = state.src[at : at + 2]
    if opening == "$$":
        return _dollars_block_asked(state, start, end, silent)
    if opening != "\\[":
        return False
    found: bool = _bracket_block(state, start, end, silent)
    if found and not silent:
        state.tokens[-1].map = [start, state.line]  # texmath's token has none: warnings need it
    return found


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


def is_math(token: Token) -> bool:
    return token.type in _INLINE or token.type in _DISPLAY_IN_TEXT or token.type in MATH_BLOCKS


def _check(state: StateCore) -> None:
    """Notes on the block or inline token what MathJax could not typeset: a delimiter
    never closed, or LaTeX whose braces or environments do not match."""
    for token in state.tokens:
        if token.type in MATH_BLOCKS:
            found = _latex_problems(token.content)
        elif token.type == "inline" and ("$" in token.content or "\\" in token.content):
            found = _inline_problems(token.children or ())
        else:
            continue  # nothing to look at: the common case
        if found:
            token.meta[PROBLEMS] = found


def _inline_problems(children: Sequence[Token]) -> list[str]:
    found: list[str] = []
    for child in children:
        if is_math(child):
            found.extend(_latex_problems(child.content))
        elif child.type == "text_special" and child.markup in ("\\(", "\\["):
            close = "\\)" if child.markup == "\\(" else "\\]"
            found.append(
                f"'{child.markup}' opens math that is never closed with '{close}' "
                "(the card shows the text, not a formula)"
            )
        elif child.type == "text" and "$$" in child.content:
            found.append(
                "'$$' opens display math that is never closed with '$$' "
                "(the card shows the text, not a formula)"
            )
    return found


def _latex_problems(tex: str) -> list[str]:
    """Braces, ``\\begin``/``\\end`` and ``\\left``/``\\right`` that do not pair up."""
    problems: list[str] = []
    depth = 0
    environments: list[str] = []
    sides = 0
    for part in _LATEX_PART.finditer(tex):
        text, kind, name, side = part.group(0), part.group(1), part.group(2), part.group(3)
        if text == "{":
            depth += 1
        elif text == "}":
            depth -= 1
            if depth < 0:
                problems.append(f"math {_short(tex)}: '}}' without its '{{'")
                depth = 0
        elif kind == "begin":
            environments.append(name)
        elif kind == "end":
            if not environments or environments.pop() != name:
                problems.append(f"math {_short(tex)}: '\\end{{{name}}}' without its '\\begin'")
        elif side:
            sides += 1 if side == "left" else -1
    if depth > 0:
        problems.append(f"math {_short(tex)}: '{{' never closed with '}}'")
    problems += [
        f"math {_short(tex)}: '\\begin{{{n}}}' without '\\end{{{n}}}'" for n in environments
    ]
    if sides:
        problems.append(f"math {_short(tex)}: '\\left' and '\\right' do not pair up")
    return [f"{problem}: MathJax cannot typeset it" for problem in problems]


def _short(tex: str) -> str:
    flat = " ".join(tex.split())
    return "'" + (flat if len(flat) <= 40 else flat[:39] + "…") + "'"


def math_problems(tokens: Sequence[Token]) -> list[tuple[Token, str]]:
    """The problems :func:`_check` found, with the token each belongs to."""
    return [(token, problem) for token in tokens for problem in token.meta.get(PROBLEMS, ())]
