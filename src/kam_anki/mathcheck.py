"""Math that cannot be typeset, found after parsing (a token's ``PROBLEMS`` meta): LaTeX
whose braces or environments do not close, a closing delimiter inside the formula that
would end it early for MathJax, display math too long for a card."""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

PROBLEMS = "kam_math"  # a token's meta key: what is wrong with the math in it


MAX_DISPLAY_LINES = 100


# Token types by how they are shown: in the line, or as a display (own line, centred).
INLINE = ("math_inline", "math_paren")


DISPLAY_IN_TEXT = ("math_inline_double", "math_bracket")


MATH_BLOCKS = ("math_block", "math_block_bracket")


_BLANKS = re.compile(r"[\x00-\x20\x7f]+")


_SCRIPT_URL = re.compile(r"(?:java|vb)script:|data:text/html")


_LATEX_PART = re.compile(r"\\(begin|end)\s*\{([^{}]*)\}|\\(left|right)(?![a-zA-Z])|\\.|[{}]")


def script_link(tex: str) -> bool:
    """A ``\\href`` or ``\\url`` to a script: MathJax would make it a live link on the card.
    Such math stays text, as raw HTML does (blanks and control characters ignored)."""
    flat = _BLANKS.sub("", tex).lower()
    return ("\\href" in flat or "\\url" in flat) and _SCRIPT_URL.search(flat) is not None


def is_math(token: Token) -> bool:
    return token.type in INLINE or token.type in DISPLAY_IN_TEXT or token.type in MATH_BLOCKS


def check_math(state: StateCore) -> None:
    """Notes on the block or inline token what MathJax could not typeset: a delimiter
    never closed, or LaTeX whose braces or environments do not match."""
    for token in state.tokens:
        if token.type in MATH_BLOCKS:
            found = _latex_problems(token.content, "\\]")
        elif token.type == "inline" and script_link(token.content):
            found = ["a link to a script in math ('\\href', '\\url') is shown as text"]
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
            close = "\\)" if child.type in INLINE else "\\]"
            found.extend(_latex_problems(child.content, close))
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


def _latex_problems(tex: str, close: str) -> list[str]:
    """Braces, ``\\begin``/``\\end`` and ``\\left``/``\\right`` that do not pair up, and
    Anki's own closing delimiter ``close`` inside (``$a \\) b$``): MathJax would end the
    formula there and show the rest as text."""
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
        elif text == close:
            problems.append(f"math {_short(tex)}: '{close}' inside ends the formula early")
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
    """The problems :func:`check_math` found, with the token each belongs to."""
    return [(token, problem) for token in tokens for problem in token.meta.get(PROBLEMS, ())]
