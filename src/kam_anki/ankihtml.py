"""A field's HTML as Anki's editors leave it -> a small element tree, its editor markup
without meaning cleaned away (``<div>`` per line, ``&nbsp;``, empty or bare ``<span>``,
``<b>``/``<i>``, a ``<br>`` at the end); math kept as Anki's MathJax reads it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"br", "img", "hr", "wbr", "input", "col", "area", "source", "meta", "link"})


BLOCKS = frozenset(
    {"p", "ul", "ol", "li", "pre", "blockquote", "hr", "div", "table", "thead", "tbody"}
    | {"tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"}
)


_RENAMED = {"b": "strong", "i": "em"}


EMPHASIS = {"strong": "**", "em": "*"}


HEADINGS = {f"h{n}": n for n in range(1, 7)}


SPACE = re.compile(r"[ \t\n\r\f]+")


LINE_BREAKS = re.compile(r"[\n\r\f]")


# Characters that make Markdown out of text wherever they are ('[' and ']' apart, below).
ALWAYS = re.compile(r"([\\`*<$|])")


# Math as Anki's MathJax finds it in a text: from its opening delimiter to the first closing.
MATH_OPENING = re.compile(r"\\[(\[]")


MATH_CLOSING = {"(": "\\)", "[": "\\]"}


_SEQUENCE = {"class": "folge"}  # a list note's sequence (kam_anki.listcards)


_MATH_CLASSES = frozenset({"math", "math math-display"})


# Stand-ins while writing, never in the output: an empty element between a backslash and a
# delimiter character (no math there), an escaped '[' (how, once the whole text is known),
# and a line end inside math (kept as it is, not a line of the paragraph).
CUT = "\ufdd0"


OPEN = "\ufdd1"


MATH_LINE = "\ufdd2"


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


def is_block(node: Node) -> bool:
    return isinstance(node, Element) and node.tag in BLOCKS


def _is_br(node: Node) -> bool:
    return isinstance(node, Element) and node.tag == "br"


def clean(root: Element) -> Element:
    """The tree without the editor's noise (a new tree)."""
    children: list[Node] = []
    for child in root.children:
        if _cuts_math(child, children):
            children.append(CUT)
        children.extend(_clean_node(child))
    children = _merge_neighbours(_divs_as_lines(children))
    if root.tag == "pre":
        children = [_plain_code(c) for c in children]
    if root.tag in ("", "p", "li", "td", "th", "blockquote") or root.tag in HEADINGS:
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
        if any(is_block(c) for c in content) or child.attrs:
            out.append(child)  # a div around blocks, or with a meaning of its own
            continue
        if len(content) == 1 and _is_br(content[0]):
            content = []
        before = next((c for c in reversed(out) if not is_blank(c)), None)
        if before is not None and not _is_br(before) and not is_block(before):
            out.append(Element("br"))
        out.extend(content)
        following = next(
            (children[n] for n in range(index + 1, len(children)) if not is_blank(children[n])),
            None,
        )
        if following is not None and not is_block(following):
            out.append(Element("br"))
    return out


def _has_text(nodes: list[Node]) -> bool:
    return any(not isinstance(n, str) or n.strip() for n in nodes)


def _trim_breaks(children: list[Node]) -> list[Node]:
    """Line breaks at the end of a block (and blanks after them) show nothing."""
    end = len(children)
    while end and (_is_br(children[end - 1]) or is_blank(children[end - 1])):
        end -= 1
    if end == len(children) or not any(_is_br(c) for c in children[end:]):
        return children
    return children[:end]


def is_blank(node: Node) -> bool:
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
            and child.tag in EMPHASIS
            and child.tag == last.tag
            and child.attrs == last.attrs
        ):
            out[-1] = Element(
                last.tag, last.attrs, _merge_neighbours(last.children + child.children)
            )
        else:
            out.append(child)
    return out


def grouped(nodes: list[Node]) -> Iterator[Element | list[Node]]:
    """Blocks one by one; inline nodes between them together (a paragraph of their own)."""
    run: list[Node] = []
    for node in [*nodes, Element("p")]:  # an empty paragraph at the end: the last run ends
        if not is_block(node):
            run.append(node)
            continue
        run = _trim_breaks(run)  # a line break before a block shows nothing
        if _has_text(run):
            yield run
        run = []
        assert isinstance(node, Element)
        if node.children or node.tag != "p":
            yield node
