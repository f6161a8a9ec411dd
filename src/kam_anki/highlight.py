"""Fenced code with a language -> HTML with Pygments' token classes; pure.

The colours are the note type's (``card.css``, light and night): no script, nothing loaded,
so highlighted code reads the same offline on every client. Pygments is imported only when a
deck has such a fence: a deck without one pays nothing for it.
"""

from __future__ import annotations

from functools import cache
from typing import Any


def highlight(code: str, lang: str, attrs: str) -> str:
    """markdown-it's ``highlight`` option: the inside of ``<code>``, or "" for markdown-it's
    own escaped text (a fence without a language, or one Pygments does not know)."""
    lexer = _lexer(lang.lower()) if lang else None
    if lexer is None:
        return ""
    from pygments import highlight as pygmentize

    return str(pygmentize(code, lexer, _formatter()))


@cache
def _lexer(name: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        # The code as written: no blank lines dropped at either end, tabs kept.
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@cache
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)
