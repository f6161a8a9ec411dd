"""Text written as Markdown for :mod:`kam_anki.unrender`: escapes that make no Markdown
(and open no math), code spans, link destinations; :func:`canonical`, the text two fields
are compared by (what a reader sees); the checks that a written field is what it was."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import escape

from markdown_it.common.normalize_url import normalizeLink

from kam_anki.ankihtml import (
    ALWAYS,
    BLOCKS,
    CUT,
    LINE_BREAKS,
    MATH_CLOSING,
    MATH_LINE,
    MATH_OPENING,
    OPEN,
    SPACE,
    VOID,
    Element,
    Unsayable,
    clean,
    grouped,
    parse,
)
from kam_anki.characters import describe, unfit

# Blanks next to a block's tag or a line break do not show.
_AROUND_BLOCK = re.compile(r" ?(</?(?:" + "|".join(sorted(BLOCKS)) + r")(?: [^>]*)?>|<br>) ?")


_PRE = re.compile(r"(<pre>.*?</pre>)", re.DOTALL)


_INTO_INLINE = re.compile(r"(<(?:strong|em|a|span|u|sup|sub|font)(?: [^>]*)?>) ")


_OUT_OF_INLINE = re.compile(r" (</(?:strong|em|a|span|u|sup|sub|font)>)")


_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


_LINE_START = re.compile(
    r"^(?:(#{1,6}|>|[-+*](?= |$)|=+$|-+$|~~~)|(\d{1,9})([.)])(?= |$)|([•◦▪‣–])(?=[ \t]|$))"
)


def canonical(html: str) -> str:
    """What a reader sees of a field's HTML, as a string: equal for two fields that show the
    same (editor noise, blanks, entities and ``<b>`` versus ``<strong>`` aside)."""
    tree = clean(parse(html))
    # Text outside any block (typed into an empty field) shows as a paragraph does.
    tree.children = [
        Element("p", {}, g) if isinstance(g, list) else g for g in grouped(tree.children)
    ]
    parts = _PRE.split(serialise(tree, pre=False))
    for index in range(0, len(parts), 2):  # outside <pre>
        text = parts[index]
        for _ in range(text.count("<")):  # blanks move out of inline markup
            moved = _INTO_INLINE.sub(r" \1", _OUT_OF_INLINE.sub(r"\1 ", text))
            if moved == text:
                break
            text = moved
        parts[index] = _AROUND_BLOCK.sub(r"\1", SPACE.sub(" ", text))
    return "".join(parts).strip()


def serialise(element: Element, *, pre: bool) -> str:
    parts: list[str] = []
    for child in element.children:
        if isinstance(child, str):
            parts.append(
                escape(child.replace(CUT, ""), quote=False)
                if pre
                else SPACE.sub(" ", _marked_math(child))
            )
            continue
        attrs = "".join(
            f' {k}="{escape(_attribute(k, v))}"' for k, v in sorted(child.attrs.items())
        )
        parts.append(f"<{child.tag}{attrs}>")
        if child.tag not in VOID:
            parts.append(serialise(child, pre=pre or child.tag == "pre"))
            parts.append(f"</{child.tag}>")
    return "".join(parts)


def _marked_math(text: str) -> str:
    """A text with its math marked (``<m>`` inline, ``<M>`` display), escaped."""
    out: list[str] = []
    for plain, tex, display in _math_parts(text):
        out.append(escape(plain.replace(CUT, ""), quote=False))
        if tex is not None:
            tag = "M" if display else "m"
            out.append(f"<{tag}>{escape(tex, quote=False)}</{tag}>")
    return "".join(out)


def _math_parts(text: str) -> Iterator[tuple[str, str | None, bool]]:
    """(text before, the math's LaTeX or None at the end, whether it is display math)."""
    at = search = 0
    # Where each closing delimiter is last: an opening after it is text, known at once (so
    # a text of thousands of openings is read once, not once per opening).
    last = {kind: text.rfind(close) for kind, close in MATH_CLOSING.items()}
    while (found := MATH_OPENING.search(text, search)) is not None:
        kind, begin = found.group()[1], found.end()
        if last[kind] < begin:
            search = found.start() + 1
            continue
        end = text.find(MATH_CLOSING[kind], begin)
        yield text[at : found.start()], text[begin:end], kind == "["
        at = search = end + 2
    yield text[at:], None, False


def _attribute(name: str, value: str) -> str:
    """A link's address as Markdown writes it (``a b`` is ``a%20b``)."""
    return normalizeLink(value) if name in ("href", "src") else value


def markdown_text(text: str, *, link: bool) -> str:
    """A text node: its math as it is, the rest escaped (blanks as they are: a field's own
    line ends are blanks too)."""
    out: list[str] = []
    for plain, tex, display in _math_parts(text):
        out.append(escape_text(LINE_BREAKS.sub(" ", plain.replace(CUT, "")), link=link))
        if tex is not None:
            opening, closing = ("\\[", "\\]") if display else ("\\(", "\\)")
            out.append(opening + tex.replace("\n", MATH_LINE) + closing)
    return "".join(out)


def escape_text(text: str, *, link: bool = False) -> str:
    text = ALWAYS.sub(r"\\\1", text).replace("[", OPEN)
    if link:  # elsewhere a ']' closes no link: no '[' opens one
        text = text.replace("]", "\\]")
    text = _ENTITY_LIKE.sub(r"\\&", text)
    # An underscore between letters is a letter; next to anything else it may be emphasis.
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)


def brackets(markdown: str) -> str:
    """Each escaped '[' as ``\\[``, or as ``&#91;`` where a ``\\]`` follows (which would
    close display math opened by ``\\[``)."""
    if OPEN not in markdown:
        return markdown
    last = markdown.rfind("\\]")
    parts = markdown.split(OPEN)
    out, at = [parts[0]], len(parts[0])
    for part in parts[1:]:
        out += ["&#91;" if at < last else "\\[", part]
        at += 1 + len(part)
    return "".join(out)


def line_start(line: str) -> str:
    """A line of text that would start a block (a heading, a list, a quote) is escaped."""
    match = _LINE_START.match(line)
    if match is None:
        return line
    if match.group(1):
        return "\\" + line
    if match.group(2):
        return f"{match.group(2)}\\{line[match.end(2) :]}"
    # A pasted bullet (• or –) starts a list item: written as a character reference.
    return f"&#{ord(line[0])};{line[1:]}"


def code_span(text: str) -> str:
    text = text.replace("\n", " ")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = (
        text.startswith("`")
        or text.endswith("`")
        or (text.startswith(" ") and text.endswith(" ") and text.strip())
    )
    return f"{ticks} {text} {ticks}" if pad else f"{ticks}{text}{ticks}"


def destination(attrs: dict[str, str]) -> str:
    href = attrs["href"]
    target = f"<{href}>" if re.search(r"[\s()<>]", href) or not href else href
    target = target.replace("\\", "\\\\") if target is href else target
    title = attrs.get("title")
    if title is None:
        return target
    return target + ' "' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'


def refuse_stand_ins(html: str) -> None:
    found = next((c for c in (CUT, OPEN, MATH_LINE) if c in html), None)
    if found is not None:
        raise Unsayable(f"{describe(found)}: a noncharacter, kept by nobody's Markdown")


def refuse_unkeepable(markdown: str) -> None:
    bad = unfit(markdown)
    if bad >= 0:
        raise Unsayable(f"{describe(markdown[bad])}: Anki cannot keep it in a card")


def refuse_unless_same(wanted: str, rendered: str) -> None:
    want, got = canonical(wanted), canonical(rendered)
    if want == got:
        return
    at = next(
        (n for n, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
        min(len(want), len(got)),
    )
    raise Unsayable(
        f"Markdown cannot say it exactly: it would show {got[max(0, at - 30) : at + 30]!r} "
        f"instead of {want[max(0, at - 30) : at + 30]!r}"
    )


def column_alignment(cell: Element) -> str:
    """A table cell's alignment as a pipe table's separator row says it."""
    style = "".join(cell.attrs.get("style", "").split()).rstrip(";").lower()
    if set(cell.attrs) - {"style"}:
        raise Unsayable(f"{describe_element(cell)}: a table cell a pipe table cannot say")
    aligned = {"": "---", "text-align:left": ":--", "text-align:right": "--:"}
    aligned["text-align:center"] = ":-:"
    if style not in aligned:
        raise Unsayable(f"{describe_element(cell)}: a table cell a pipe table cannot say")
    return aligned[style]


def describe_element(node: Element) -> str:
    attrs = "".join(f' {k}="{v}"' for k, v in node.attrs.items())
    return f"<{node.tag}{attrs}>"
