"""A note's HTML, as Anki keeps it after a learner's edit -> the Markdown the build accepts;
pure. The way back of :mod:`kam_anki.render`. The HTML is cleaned first
(:mod:`kam_anki.ankihtml`); :func:`answer_markdown` and :func:`question_markdown` write
Markdown (its text: :mod:`kam_anki.mdtext`), then render it again: only Markdown that
renders to what the learner sees is given back, anything else comes with the reason
(:class:`Unsayable`).

The dialect of :mod:`kam_anki.render`: math is what Anki's MathJax reads in a text,
``\\(…\\)`` and ``\\[…\\]``, written back with its LaTeX as it is (the build's
``\\<span></span>(`` is a backslash and a parenthesis, no math); escapes never open math
(``[`` is ``\\[`` only where no ``\\]`` follows); tables come back as pipe tables;
highlighted code as its text in a fence with its language (highlighting is the build's
markup, as labels are).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from kam_anki.ankihtml import (
    BLOCKS,
    EMPHASIS,
    HEADINGS,
    MATH_LINE,
    VOID,
    Element,
    Node,
    Unsayable,
    clean,
    grouped,
    is_blank,
    is_block,
    parse,
)
from kam_anki.mdtext import (
    brackets,
    code_span,
    column_alignment,
    describe_element,
    destination,
    escape_text,
    line_start,
    markdown_text,
    refuse_stand_ins,
    refuse_unkeepable,
    refuse_unless_same,
    serialise,
)
from kam_anki.render import render_answer, render_question

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
        text = "\n".join(line_start(line.strip()) or "\\" for line in lines)
        return text.replace(MATH_LINE, "\n")

    def inline_raw(self, nodes: list[Node], outer: str, *, link: bool = False) -> str:
        """``outer``: the emphasis character around (one inside is written with the other);
        ``link``: inside a link's text (where a ']' would end it)."""
        out: list[str] = []
        for node in nodes:
            if isinstance(node, str):
                out.append(markdown_text(node, link=link))
            elif node.tag == "br":
                out.append("\n")
            else:
                out.append(self.inline_element(node, outer, link=link))
        return "".join(out)

    def inline_element(self, node: Element, outer: str, *, link: bool = False) -> str:
        tag = node.tag
        if tag in EMPHASIS:
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
            mark = EMPHASIS[tag].replace("*", char)
            return f"{lead}{mark}{stripped}{mark}{trail}"
        if tag == "code" and all(isinstance(c, str) for c in node.children) and not node.attrs:
            return code_span("".join(str(c) for c in node.children))
        if tag == "a" and set(node.attrs) <= {"href", "title"} and "href" in node.attrs:
            text = self.inline_raw(node.children, outer, link=True)
            return f"[{text}]({destination(node.attrs)})"
        if tag == "img" and set(node.attrs) <= {"src", "alt", "title"}:
            alt = escape_text(node.attrs.get("alt", ""), link=True)
            path = self.image_path(node.attrs.get("src", ""))
            return f"![{alt}]({destination({**node.attrs, 'href': path})})"
        if self.allow_html and tag not in BLOCKS:
            return self.raw(node, inline=True)
        raise Unsayable(f"{describe_element(node)}: Markdown cannot say it{self._hint()}")

    def raw(self, node: Element, *, inline: bool) -> str:
        attrs = "".join(f' {k}="{escape(v)}"' for k, v in node.attrs.items())
        if node.tag in VOID:
            return f"<{node.tag}{attrs}>"
        inner = (
            self.inline_raw(node.children, "")
            if inline
            else serialise(Element("", {}, node.children), pre=True)
        )
        return f"<{node.tag}{attrs}>{inner}</{node.tag}>"

    def _hint(self) -> str:
        return "" if self.allow_html else " (allow_html = false in deck.toml)"

    # Blocks ------------------------------------------------------------------------------

    def blocks(self, nodes: list[Node], *, tight: bool = False) -> list[str]:
        """Block nodes (and runs of inline ones, as a paragraph) -> Markdown lines."""
        out: list[str] = []
        last_list = ""
        for group in grouped(nodes):
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

    def block(self, node: Element, last_list: str) -> tuple[list[str], str]:
        """One block -> its lines, and the list marker it used (a list right after another
        needs another marker, or the two would be one list)."""
        if node.tag in ("ul", "ol"):
            return self.list_block(node, last_list)
        return self.other_block(node), ""

    def other_block(self, node: Element) -> list[str]:
        tag = node.tag
        if tag == "hr":
            return ["---"]
        plain: dict[str, Callable[[Element], list[str]]] = {"pre": self.fence, "table": self.table}
        if tag in plain:
            return plain[tag](node)
        if tag == "p" and not node.attrs:
            text = self.inline(node.children)
            return text.split("\n") if text else []
        if tag in HEADINGS and HEADINGS[tag] >= 3 and not node.attrs:
            return [f"{'#' * HEADINGS[tag]} {self.inline(node.children)}"]
        if tag == "blockquote" and not node.attrs:
            return [f"> {line}".rstrip() for line in self.blocks(node.children)]
        if self.allow_html and tag not in ("h1", "h2"):
            return self.raw(node, inline=False).split("\n")
        raise Unsayable(f"{describe_element(node)}: Markdown cannot say it here{self._hint()}")

    def list_block(self, node: Element, last_list: str) -> tuple[list[str], str]:
        items = [c for c in node.children if isinstance(c, Element) and c.tag == "li"]
        strays = len(node.children) - len(items) - sum(map(is_blank, node.children))
        if strays or set(node.attrs) - {"start"} or any(i.attrs for i in items):
            raise Unsayable(f"{describe_element(node)}: a list with other markup in it")
        loose = any(
            is_block(c) and isinstance(c, Element) and c.tag == "p"
            for i in items
            for c in i.children
        )
        if node.tag == "ol":
            delimiter = ")" if last_list == "." else "."
            try:
                start = int(node.attrs.get("start", "1"))
            except ValueError:
                raise Unsayable(
                    f"{describe_element(node)}: a list start that is no number"
                ) from None
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
            [c for c in row.children if not is_blank(c)]
            for row in rows
            if isinstance(row, Element) and row.tag == "tr" and not row.attrs
        ]
        width = len(cells[0]) if cells else 0
        kinds = [[isinstance(c, Element) and c.tag for c in row] for row in cells]
        if (
            node.attrs
            or not width
            or len(cells) != sum(not is_blank(row) for row in rows)
            or kinds[0] != ["th"] * width
            or any(kind != ["td"] * width for kind in kinds[1:])
        ):
            raise Unsayable(f"{describe_element(node)}: a table a pipe table cannot say")
        header = [c for c in cells[0] if isinstance(c, Element)]
        lines = [self.row(header), "| " + " | ".join(map(column_alignment, header)) + " |"]
        lines += [self.row([c for c in row if isinstance(c, Element)]) for row in cells[1:]]
        return lines

    def row(self, cells: list[Element]) -> str:
        written = []
        for cell in cells:
            text = self.inline_raw(cell.children, "").strip()
            if "\n" in text or MATH_LINE in text or any(is_block(c) for c in cell.children):
                raise Unsayable("a line break or a block in a table cell: a pipe table has none")
            written.append(re.sub(r"(?<!\\)\|", r"\\|", text))  # a '|' in code too
        return "| " + " | ".join(written) + " |"

    def fence(self, node: Element) -> list[str]:
        code = node.children[0] if len(node.children) == 1 else None
        if not isinstance(code, Element) or code.tag != "code" or node.attrs:
            raise Unsayable(f"{describe_element(node)}: a preformatted block that is not code")
        language = code.attrs.get("class", "")
        if set(code.attrs) - {"class"} or (language and not language.startswith("language-")):
            raise Unsayable(f"{describe_element(code)}: code with markup Markdown cannot say")
        if not all(isinstance(c, str) for c in code.children):
            raise Unsayable("code with markup inside: Markdown cannot say it")
        text = "".join(str(c) for c in code.children)
        longest = max((len(run) for run in re.findall("`+", text)), default=0)
        ticks = "`" * max(3, longest + 1)
        body = text[:-1] if text.endswith("\n") else text
        return [ticks + language.removeprefix("language-"), *body.split("\n"), ticks]


def answer_markdown(
    html: str,
    *,
    allow_html: bool,
    image_path: ImagePath,
    image_name: Callable[[str, int], str],
) -> str:
    """An answer field -> Markdown whose rendering shows what ``html`` shows; raises
    :class:`Unsayable`. ``image_name`` maps a path back to Anki's name (as the build does)."""
    refuse_stand_ins(html)
    tree = clean(parse(html))
    writer = _Writer(allow_html, image_path)
    markdown = brackets("\n".join(writer.blocks(tree.children)))
    if not markdown.strip():
        raise Unsayable("the learner emptied the answer: a card needs one")
    refuse_unkeepable(markdown)
    rendered = render_answer(markdown, allow_html=allow_html, images=image_name).html
    refuse_unless_same(html, rendered)
    return markdown


def question_markdown(html: str, *, allow_html: bool, image_path: ImagePath) -> str:
    """A question field -> the heading's Markdown (one line); raises :class:`Unsayable`."""
    refuse_stand_ins(html)
    tree = clean(parse(html))
    if any(is_block(c) for c in tree.children):
        raise Unsayable("the question holds a block (a list, a paragraph): a heading cannot")
    markdown = brackets(_Writer(allow_html, image_path).inline(tree.children))
    if not markdown.strip():
        raise Unsayable("the learner emptied the question: a card needs one")
    refuse_unkeepable(markdown)
    if "\n" in markdown:
        raise Unsayable("the question holds a line break: a heading is one line")
    markdown = re.sub(r"(#+)$", r"\\\1", markdown)  # not the heading's closing hashes
    refuse_unless_same(html, render_question(markdown, allow_html=allow_html))
    return markdown
