"""A note's HTML, as Anki keeps it after a learner's edit -> the Markdown the build accepts;
pure. The way back of :mod:`kam_anki.render`.

Anki's editors add markup without meaning: ``<div>`` per line, ``&nbsp;``, empty or bare
``<span>``, ``<b>``/``<i>`` for bold and italic, a ``<br>`` at the end. :func:`clean` drops
or translates it; :func:`canonical` is the text two fields are compared by (what a reader
sees: blanks between blocks and around line breaks do not count, labels are the build's own
markup). :func:`answer_markdown` and :func:`question_markdown` write Markdown, then render
it again: only Markdown that renders to what the learner sees is given back, anything else
comes with the reason (:class:`Unsayable`).

The dialect of :mod:`kam_anki.render`: math is what Anki's MathJax reads in a text,
``\\(…\\)`` and ``\\[…\\]``, written back with its LaTeX as it is (the build's
``\\<span></span>(`` is a backslash and a parenthesis, no math); escapes never open math
(``[`` is ``\\[`` only where no ``\\]`` follows); tables come back as pipe tables;
highlighted code as its text in a fence with its language (highlighting is the build's
markup, as labels are).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

from markdown_it.common.normalize_url import normalizeLink

from kam_anki.characters import describe, unfit
from kam_anki.render import render_answer, render_question

VOID = frozenset({"br", "img", "hr", "wbr", "input", "col", "area", "source", "meta", "link"})
BLOCKS = frozenset(
    {"p", "ul", "ol", "li", "pre", "blockquote", "hr", "div", "table", "thead", "tbody"}
    | {"tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_RENAMED = {"b": "strong", "i": "em"}
_EMPHASIS = {"strong": "**", "em": "*"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_SPACE = re.compile(r"[ \t\n\r\f]+")
_LINE_BREAKS = re.compile(r"[\n\r\f]")
# Blanks next to a block's tag or a line break do not show.
_AROUND_BLOCK = re.compile(r" ?(</?(?:" + "|".join(sorted(BLOCKS)) + r")(?: [^>]*)?>|<br>) ?")
_PRE = re.compile(r"(<pre>.*?</pre>)", re.DOTALL)
_INTO_INLINE = re.compile(r"(<(?:strong|em|a|span|u|sup|sub|font)(?: [^>]*)?>) ")
_OUT_OF_INLINE = re.compile(r" (</(?:strong|em|a|span|u|sup|sub|font)>)")
# Characters that make Markdown out of text wherever they are ('[' and ']' apart, below).
_ALWAYS = re.compile(r"([\\`*<$|])")
# Math as Anki's MathJax finds it in a text: from its opening delimiter to the first closing.
_MATH_OPENING = re.compile(r"\\[(\[]")
_MATH_CLOSING = {"(": "\\)", "[": "\\]"}
_SEQUENCE = {"class": "folge"}  # a list note's sequence (kam_anki.listcards)
_MATH_CLASSES = frozenset({"math", "math math-display"})
# Stand-ins while writing, never in the output: an empty element between a backslash and a
# delimiter character (no math there), an escaped '[' (how, once the whole text is known),
# and a line end inside math (kept as it is, not a line of the paragraph).
_CUT = "\ufdd0"
_OPEN = "\ufdd1"
_MATH_LINE = "\ufdd2"
_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LINE_START = re.compile(
    r"^(?:(#{1,6}|>|[-+*](?= |$)|=+$|-+$|~~~)|(\d{1,9})([.)])(?= |$)|([•◦▪‣–])(?=[ \t]|$))"
)


class Unsayable(Exception):
    """A change the Markdown cannot say: the reason, for the report."""


@dataclass
class Element:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)


Node = Element | str


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("")
        self.open: list[Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        # A stray end tag is ignored; one that closes an outer element closes the inner too.
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _is_block(node: Node) -> bool:
    return isinstance(node, Element) and node.tag in BLOCKS


def _is_br(node: Node) -> bool:
    return isinstance(node, Element) and node.tag == "br"


def clean(root: Element) -> Element:
    """The tree without the editor's noise (a new tree)."""
    children: list[Node] = []
    for child in root.children:
        if _cuts_math(child, children):
            children.append(_CUT)
        children.extend(_clean_node(child))
    children = _merge_neighbours(_divs_as_lines(children))
    if root.tag == "pre":
        children = [_plain_code(c) for c in children]
    if root.tag in ("", "p", "li", "td", "th", "blockquote") or root.tag in _HEADINGS:
        children = _trim_breaks(children)
    attrs = dict(root.attrs)
    if attrs.get("class") == "label" or (root.tag in ("ul", "ol") and attrs == _SEQUENCE):
        del attrs["class"]  # the build sets labels from the text, sequences from the card
    return Element(root.tag, attrs, children)


def _cuts_math(node: Node, before: list[Node]) -> bool:
    """The build's ``\\<span></span>(``: a backslash and a delimiter character as text."""
    return (
        isinstance(node, Element)
        and node.tag == "span"
        and not node.attrs
        and not node.children
        and bool(before)
        and isinstance(before[-1], str)
        and before[-1].endswith("\\")
    )


def _plain_code(node: Node) -> Node:
    """Highlighted code (Pygments' ``<span class>`` runs) is its text: the build colours it."""
    if not isinstance(node, Element) or node.tag != "code":
        return node
    text = _span_text(node.children)
    return node if text is None else Element("code", node.attrs, [text] if text else [])


def _span_text(nodes: list[Node]) -> str | None:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
            continue
        inner = _span_text(node.children) if node.tag == "span" else None
        if inner is None or set(node.attrs) - {"class"}:
            return None
        parts.append(inner)
    return "".join(parts)


def _clean_node(node: Node) -> list[Node]:
    if isinstance(node, str):
        return [node.replace("\xa0", " ")] if node else []
    node = _styled(node)
    if node.attrs.get("class") in _MATH_CLASSES and len(node.attrs) == 1:
        # The build's wrappers of math: MathJax reads the delimiters, not them. Display math
        # alone on its lines is a paragraph of its own, as its Markdown is.
        tag = {"span": "span", "div": "p"}.get(node.tag)
        if tag is not None:
            node = Element(tag, {}, node.children)
    element = clean(Element(_RENAMED.get(node.tag, node.tag), node.attrs, node.children))
    empty = not element.children and element.tag not in VOID
    if element.tag == "span" and (empty or not element.attrs):
        return element.children  # a bare or empty span: only its content counts
    if empty and element.tag in ("strong", "em", "u", "sup", "sub", "font", "p", "div"):
        return []
    return [element]


def _styled(node: Element) -> Element:
    """``<span style="font-weight: bold">`` (as some editors set bold) is bold."""
    style = node.attrs.get("style")
    if node.tag != "span" or set(node.attrs) != {"style"} or style is None:
        return node
    declared = {
        tuple(part.strip().lower() for part in rule.split(":", 1))
        for rule in style.split(";")
        if ":" in rule
    }
    marks: dict[tuple[str, ...], str] = {
        ("font-weight", "bold"): "strong",
        ("font-weight", "700"): "strong",
        ("font-style", "italic"): "em",
    }
    if not declared or not declared <= marks.keys():
        return node
    children = node.children
    for rule in sorted(declared):
        children = [Element(marks[rule], {}, children)]
    return Element("span", {}, children)


def _divs_as_lines(children: list[Node]) -> list[Node]:
    """Anki's editor writes each line as a ``<div>``: a line break before and after it
    unless a block is there already; ``<div><br></div>`` is an empty line."""
    out: list[Node] = []
    for index, child in enumerate(children):
        if not (isinstance(child, Element) and child.tag == "div"):
            out.append(child)
            continue
        content = child.children
        if any(_is_block(c) for c in content) or child.attrs:
            out.append(child)  # a div around blocks, or with a meaning of its own
            continue
        if len(content) == 1 and _is_br(content[0]):
            content = []
        before = next((c for c in reversed(out) if not _blank(c)), None)
        if before is not None and not _is_br(before) and not _is_block(before):
            out.append(Element("br"))
        out.extend(content)
        following = next(
            (children[n] for n in range(index + 1, len(children)) if not _blank(children[n])),
            None,
        )
        if following is not None and not _is_block(following):
            out.append(Element("br"))
    return out


def _has_text(nodes: list[Node]) -> bool:
    return any(not isinstance(n, str) or n.strip() for n in nodes)


def _trim_breaks(children: list[Node]) -> list[Node]:
    """Line breaks at the end of a block (and blanks after them) show nothing."""
    end = len(children)
    while end and (_is_br(children[end - 1]) or _blank(children[end - 1])):
        end -= 1
    if end == len(children) or not any(_is_br(c) for c in children[end:]):
        return children
    return children[:end]


def _blank(node: Node) -> bool:
    return isinstance(node, str) and not node.strip()


def _merge_neighbours(children: list[Node]) -> list[Node]:
    """``<b>a</b><b>b</b>`` is one bold run (and texts next to each other one text)."""
    out: list[Node] = []
    for child in children:
        last = out[-1] if out else None
        if isinstance(child, str) and isinstance(last, str):
            out[-1] = last + child
        elif (
            isinstance(child, Element)
            and isinstance(last, Element)
            and child.tag in _EMPHASIS
            and child.tag == last.tag
            and child.attrs == last.attrs
        ):
            out[-1] = Element(
                last.tag, last.attrs, _merge_neighbours(last.children + child.children)
            )
        else:
            out.append(child)
    return out


def canonical(html: str) -> str:
    """What a reader sees of a field's HTML, as a string: equal for two fields that show the
    same (editor noise, blanks, entities and ``<b>`` versus ``<strong>`` aside)."""
    tree = clean(parse(html))
    # Text outside any block (typed into an empty field) shows as a paragraph does.
    tree.children = [
        Element("p", {}, g) if isinstance(g, list) else g for g in _groups(tree.children)
    ]
    parts = _PRE.split(_serialise(tree, pre=False))
    for index in range(0, len(parts), 2):  # outside <pre>
        text = parts[index]
        for _ in range(text.count("<")):  # blanks move out of inline markup
            moved = _INTO_INLINE.sub(r" \1", _OUT_OF_INLINE.sub(r"\1 ", text))
            if moved == text:
                break
            text = moved
        parts[index] = _AROUND_BLOCK.sub(r"\1", _SPACE.sub(" ", text))
    return "".join(parts).strip()


def _serialise(element: Element, *, pre: bool) -> str:
    parts: list[str] = []
    for child in element.children:
        if isinstance(child, str):
            parts.append(
                escape(child.replace(_CUT, ""), quote=False)
                if pre
                else _SPACE.sub(" ", _marked_math(child))
            )
            continue
        attrs = "".join(
            f' {k}="{escape(_attribute(k, v))}"' for k, v in sorted(child.attrs.items())
        )
        parts.append(f"<{child.tag}{attrs}>")
        if child.tag not in VOID:
            parts.append(_serialise(child, pre=pre or child.tag == "pre"))
            parts.append(f"</{child.tag}>")
    return "".join(parts)


def _marked_math(text: str) -> str:
    """A text with its math marked (``<m>`` inline, ``<M>`` display), escaped."""
    out: list[str] = []
    for plain, tex, display in _math_parts(text):
        out.append(escape(plain.replace(_CUT, ""), quote=False))
        if tex is not None:
            tag = "M" if display else "m"
            out.append(f"<{tag}>{escape(tex, quote=False)}</{tag}>")
    return "".join(out)


def _math_parts(text: str) -> Iterator[tuple[str, str | None, bool]]:
    """(text before, the math's LaTeX or None at the end, whether it is display math)."""
    at = search = 0
    # Where each closing delimiter is last: an opening after it is text, known at once (so
    # a text of thousands of openings is read once, not once per opening).
    last = {kind: text.rfind(close) for kind, close in _MATH_CLOSING.items()}
    while (found := _MATH_OPENING.search(text, search)) is not None:
        kind, begin = found.group()[1], found.end()
        if last[kind] < begin:
            search = found.start() + 1
            continue
        end = text.find(_MATH_CLOSING[kind], begin)
        yield text[at : found.start()], text[begin:end], kind == "["
        at = search = end + 2
    yield text[at:], None, False


def _attribute(name: str, value: str) -> str:
    """A link's address as Markdown writes it (``a b`` is ``a%20b``)."""
    return normalizeLink(value) if name in ("href", "src") else value


# --- HTML -> Markdown ---------------------------------------------------------------------

# The name Anki has for an image (its media file) -> the path to write in the Markdown;
# raises Unsayable for an image the content does not have.
ImagePath = Callable[[str], str]


@dataclass(frozen=True)
class _Writer:
    allow_html: bool
    image_path: ImagePath

    # Inline ------------------------------------------------------------------------------

    def inline(self, nodes: list[Node]) -> str:
        """Inline nodes -> the lines of a paragraph; a line break is a line end."""
        lines = self.inline_raw(nodes, "").split("\n")
        # Markdown drops blanks at line ends; an empty line would end the paragraph.
        text = "\n".join(_line_start(line.strip()) or "\\" for line in lines)
        return text.replace(_MATH_LINE, "\n")

    def inline_raw(self, nodes: list[Node], outer: str, *, link: bool = False) -> str:
        """``outer``: the emphasis character around (one inside is written with the other);
        ``link``: inside a link's text (where a ']' would end it)."""
        out: list[str] = []
        for node in nodes:
            if isinstance(node, str):
                out.append(_text(node, link=link))
            elif node.tag == "br":
                out.append("\n")
            else:
                out.append(self.inline_element(node, outer, link=link))
        return "".join(out)

    def inline_element(self, node: Element, outer: str, *, link: bool = False) -> str:
        tag = node.tag
        if tag in _EMPHASIS:
            char = "_" if outer == "*" else "*"
            inner = self.inline_raw(node.children, char, link=link)
            stripped = inner.strip()
            if not stripped:
                return inner
            lead = " " if inner[:1].isspace() else ""
            trail = " " if inner[-1:].isspace() else ""
            if char == "*" and (stripped[0] == "*" or stripped[-1] == "*"):
                char = "_"  # "***" could be read two ways
                inner = self.inline_raw(node.children, char, link=link)
                stripped = inner.strip()
            mark = _EMPHASIS[tag].replace("*", char)
            return f"{lead}{mark}{stripped}{mark}{trail}"
        if tag == "code" and all(isinstance(c, str) for c in node.children) and not node.attrs:
            return _code_span("".join(str(c) for c in node.children))
        if tag == "a" and set(node.attrs) <= {"href", "title"} and "href" in node.attrs:
            text = self.inline_raw(node.children, outer, link=True)
            return f"[{text}]({_destination(node.attrs)})"
        if tag == "img" and set(node.attrs) <= {"src", "alt", "title"}:
            alt = _escape_text(node.attrs.get("alt", ""), link=True)
            path = self.image_path(node.attrs.get("src", ""))
            return f"![{alt}]({_destination({**node.attrs, 'href': path})})"
        if self.allow_html and tag not in BLOCKS:
            return self.raw(node, inline=True)
        raise Unsayable(f"{_describe(node)}: Markdown cannot say it{self._hint()}")

    def raw(self, node: Element, *, inline: bool) -> str:
        attrs = "".join(f' {k}="{escape(v)}"' for k, v in node.attrs.items())
        if node.tag in VOID:
            return f"<{node.tag}{attrs}>"
        inner = (
            self.inline_raw(node.children, "")
            if inline
            else _serialise(Element("", {}, node.children), pre=True)
        )
        return f"<{node.tag}{attrs}>{inner}</{node.tag}>"

    def _hint(self) -> str:
        return "" if self.allow_html else " (allow_html = false in deck.toml)"

    # Blocks ------------------------------------------------------------------------------

    def blocks(self, nodes: list[Node], *, tight: bool = False) -> list[str]:
        """Block nodes (and runs of inline ones, as a paragraph) -> Markdown lines."""
        out: list[str] = []
        last_list = ""
        for group in _groups(nodes):
            if isinstance(group, list):
                text = self.inline(group)
                lines = text.split("\n") if text else []
                kind = ""
            else:
                lines, kind = self.block(group, last_list)
            if not lines:
                continue
            if out and not tight:
                out.append("")
            out.extend(lines)
            last_list = kind
        return out

    # One return per kind of block.
    def block(self, node: Element, last_list: str) -> tuple[list[str], str]:  # noqa: PLR0911
        """One block -> its lines, and the list marker it used (a list right after another
        needs another marker, or the two would be one list)."""
        tag = node.tag
        if tag == "p" and not node.attrs:
            text = self.inline(node.children)
            return (text.split("\n") if text else []), ""
        if tag in ("ul", "ol"):
            return self.list_block(node, last_list)
        if tag == "pre":
            return self.fence(node), ""
        if tag == "table":
            return self.table(node), ""
        if tag in _HEADINGS and _HEADINGS[tag] >= 3 and not node.attrs:
            return [f"{'#' * _HEADINGS[tag]} {self.inline(node.children)}"], ""
        if tag == "hr":
            return ["---"], ""
        if tag == "blockquote" and not node.attrs:
            return [f"> {line}".rstrip() for line in self.blocks(node.children)], ""
        if self.allow_html and tag not in ("h1", "h2"):
            return self.raw(node, inline=False).split("\n"), ""
        raise Unsayable(f"{_describe(node)}: Markdown cannot say it here{self._hint()}")

    def list_block(self, node: Element, last_list: str) -> tuple[list[str], str]:
        items = [c for c in node.children if isinstance(c, Element) and c.tag == "li"]
        strays = len(node.children) - len(items) - sum(map(_blank, node.children))
        if strays or set(node.attrs) - {"start"} or any(i.attrs for i in items):
            raise Unsayable(f"{_describe(node)}: a list with other markup in it")
        loose = any(
            _is_block(c) and isinstance(c, Element) and c.tag == "p"
            for i in items
            for c in i.children
        )
        if node.tag == "ol":
            delimiter = ")" if last_list == "." else "."
            try:
                start = int(node.attrs.get("start", "1"))
            except ValueError:
                raise Unsayable(f"{_describe(node)}: a list start that is no number") from None
            markers = [f"{start + n}{delimiter} " for n in range(len(items))]
            kind = delimiter
        else:
            kind = "*" if last_list == "-" else "-"
            markers = [f"{kind} "] * len(items)
        lines: list[str] = []
        for marker, item in zip(markers, items, strict=True):
            if loose and lines:
                lines.append("")
            body = self.blocks(item.children, tight=not loose)
            if not body:
                lines.append(marker.rstrip())
                continue
            indent = " " * len(marker)
            lines.append(marker + body[0])
            lines.extend(indent + line if line else "" for line in body[1:])
        return lines, kind

    def table(self, node: Element) -> list[str]:
        """A table -> a pipe table: its first row the header, alignment from the header."""
        rows: list[Node] = []
        for part in node.children:
            if isinstance(part, Element) and part.tag in ("thead", "tbody") and not part.attrs:
                rows += part.children
            else:
                rows.append(part)
        cells = [
            [c for c in row.children if not _blank(c)]
            for row in rows
            if isinstance(row, Element) and row.tag == "tr" and not row.attrs
        ]
        width = len(cells[0]) if cells else 0
        kinds = [[isinstance(c, Element) and c.tag for c in row] for row in cells]
        if (
            node.attrs
            or not width
            or len(cells) != sum(not _blank(row) for row in rows)
            or kinds[0] != ["th"] * width
            or any(kind != ["td"] * width for kind in kinds[1:])
        ):
            raise Unsayable(f"{_describe(node)}: a table a pipe table cannot say")
        header = [c for c in cells[0] if isinstance(c, Element)]
        lines = [self.row(header), "| " + " | ".join(map(_alignment, header)) + " |"]
        lines += [self.row([c for c in row if isinstance(c, Element)]) for row in cells[1:]]
        return lines

    def row(self, cells: list[Element]) -> str:
        written = []
        for cell in cells:
            text = self.inline_raw(cell.children, "").strip()
            if "\n" in text or _MATH_LINE in text or any(_is_block(c) for c in cell.children):
                raise Unsayable("a line break or a block in a table cell: a pipe table has none")
            written.append(re.sub(r"(?<!\\)\|", r"\\|", text))  # a '|' in code too
        return "| " + " | ".join(written) + " |"

    def fence(self, node: Element) -> list[str]:
        code = node.children[0] if len(node.children) == 1 else None
        if not isinstance(code, Element) or code.tag != "code" or node.attrs:
            raise Unsayable(f"{_describe(node)}: a preformatted block that is not code")
        language = code.attrs.get("class", "")
        if set(code.attrs) - {"class"} or (language and not language.startswith("language-")):
            raise Unsayable(f"{_describe(code)}: code with markup Markdown cannot say")
        if not all(isinstance(c, str) for c in code.children):
            raise Unsayable("code with markup inside: Markdown cannot say it")
        text = "".join(str(c) for c in code.children)
        longest = max((len(run) for run in re.findall("`+", text)), default=0)
        ticks = "`" * max(3, longest + 1)
        body = text[:-1] if text.endswith("\n") else text
        return [ticks + language.removeprefix("language-"), *body.split("\n"), ticks]


def _groups(nodes: list[Node]) -> Iterator[Element | list[Node]]:
    """Blocks one by one; inline nodes between them together (a paragraph of their own)."""
    run: list[Node] = []
    for node in [*nodes, Element("p")]:  # an empty paragraph at the end: the last run ends
        if not _is_block(node):
            run.append(node)
            continue
        run = _trim_breaks(run)  # a line break before a block shows nothing
        if _has_text(run):
            yield run
        run = []
        assert isinstance(node, Element)
        if node.children or node.tag != "p":
            yield node


def _alignment(cell: Element) -> str:
    style = "".join(cell.attrs.get("style", "").split()).rstrip(";").lower()
    if set(cell.attrs) - {"style"}:
        raise Unsayable(f"{_describe(cell)}: a table cell a pipe table cannot say")
    aligned = {"": "---", "text-align:left": ":--", "text-align:right": "--:"}
    aligned["text-align:center"] = ":-:"
    if style not in aligned:
        raise Unsayable(f"{_describe(cell)}: a table cell a pipe table cannot say")
    return aligned[style]


def _describe(node: Element) -> str:
    attrs = "".join(f' {k}="{v}"' for k, v in node.attrs.items())
    return f"<{node.tag}{attrs}>"


def _text(text: str, *, link: bool) -> str:
    """A text node: its math as it is, the rest escaped (blanks as they are: a field's own
    line ends are blanks too)."""
    out: list[str] = []
    for plain, tex, display in _math_parts(text):
        out.append(_escape_text(_LINE_BREAKS.sub(" ", plain.replace(_CUT, "")), link=link))
        if tex is not None:
            opening, closing = ("\\[", "\\]") if display else ("\\(", "\\)")
            out.append(opening + tex.replace("\n", _MATH_LINE) + closing)
    return "".join(out)


def _escape_text(text: str, *, link: bool = False) -> str:
    text = _ALWAYS.sub(r"\\\1", text).replace("[", _OPEN)
    if link:  # elsewhere a ']' closes no link: no '[' opens one
        text = text.replace("]", "\\]")
    text = _ENTITY_LIKE.sub(r"\\&", text)
    # An underscore between letters is a letter; next to anything else it may be emphasis.
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)


def _brackets(markdown: str) -> str:
    """Each escaped '[' as ``\\[``, or as ``&#91;`` where a ``\\]`` follows (which would
    close display math opened by ``\\[``)."""
    if _OPEN not in markdown:
        return markdown
    last = markdown.rfind("\\]")
    parts = markdown.split(_OPEN)
    out, at = [parts[0]], len(parts[0])
    for part in parts[1:]:
        out += ["&#91;" if at < last else "\\[", part]
        at += 1 + len(part)
    return "".join(out)


def _line_start(line: str) -> str:
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


def _code_span(text: str) -> str:
    text = text.replace("\n", " ")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = (
        text.startswith("`")
        or text.endswith("`")
        or (text.startswith(" ") and text.endswith(" ") and text.strip())
    )
    return f"{ticks} {text} {ticks}" if pad else f"{ticks}{text}{ticks}"


def _destination(attrs: dict[str, str]) -> str:
    href = attrs["href"]
    target = f"<{href}>" if re.search(r"[\s()<>]", href) or not href else href
    target = target.replace("\\", "\\\\") if target is href else target
    title = attrs.get("title")
    if title is None:
        return target
    return target + ' "' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the two fields ------------------------------------------------------------------------


def answer_markdown(
    html: str,
    *,
    allow_html: bool,
    image_path: ImagePath,
    image_name: Callable[[str, int], str],
) -> str:
    """An answer field -> Markdown whose rendering shows what ``html`` shows; raises
    :class:`Unsayable`. ``image_name`` maps a path back to Anki's name (as the build does)."""
    _no_stand_ins(html)
    tree = clean(parse(html))
    writer = _Writer(allow_html, image_path)
    markdown = _brackets("\n".join(writer.blocks(tree.children)))
    if not markdown.strip():
        raise Unsayable("the learner emptied the answer: a card needs one")
    _keepable(markdown)
    rendered = render_answer(markdown, allow_html=allow_html, images=image_name).html
    _same(html, rendered)
    return markdown


def question_markdown(html: str, *, allow_html: bool, image_path: ImagePath) -> str:
    """A question field -> the heading's Markdown (one line); raises :class:`Unsayable`."""
    _no_stand_ins(html)
    tree = clean(parse(html))
    if any(_is_block(c) for c in tree.children):
        raise Unsayable("the question holds a block (a list, a paragraph): a heading cannot")
    markdown = _brackets(_Writer(allow_html, image_path).inline(tree.children))
    if not markdown.strip():
        raise Unsayable("the learner emptied the question: a card needs one")
    _keepable(markdown)
    if "\n" in markdown:
        raise Unsayable("the question holds a line break: a heading is one line")
    markdown = re.sub(r"(#+)$", r"\\\1", markdown)  # not the heading's closing hashes
    _same(html, render_question(markdown, allow_html=allow_html))
    return markdown


def _no_stand_ins(html: str) -> None:
    found = next((c for c in (_CUT, _OPEN, _MATH_LINE) if c in html), None)
    if found is not None:
        raise Unsayable(f"{describe(found)}: a noncharacter, kept by nobody's Markdown")


def _keepable(markdown: str) -> None:
    bad = unfit(markdown)
    if bad >= 0:
        raise Unsayable(f"{describe(markdown[bad])}: Anki cannot keep it in a card")


def _same(wanted: str, rendered: str) -> None:
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
