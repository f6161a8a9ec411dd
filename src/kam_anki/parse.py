"""Markdown text -> cards; pure.

A file is a chapter (``# Title``) followed by cards (text on no card is reported, see
:mod:`kam_anki.leftovers`). A card is ``## Question {#card-id}``
and everything below it up to the next heading of level 1 or 2. Which lines are those
headings is CommonMark's word (markdown-it-py's block parser, see :func:`render.blocks`),
so what a Markdown reader sees is what Anki gets; a ``{#id}`` heading that CommonMark does
not read as one (in a code block, a list, a quote, underlined) is an error that says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it.token import Token

from kam_anki.characters import deck_name, describe, unfit, unfit_characters
from kam_anki.errors import Diagnostic
from kam_anki.headings import find_id, heading_span, id_problem, read_classes
from kam_anki.leftovers import leftovers
from kam_anki.model import Card, SourceFile
from kam_anki.outline import Heading, outline, unclosed
from kam_anki.render import Blocks
from kam_anki.tombstones import is_reserved_chapter


def _own_blocks(whole: Blocks, tokens: list[Token], last: int) -> Blocks | None:
    """A card's blocks, taken from its file's, if they are the ones its answer gives on its
    own: not if the file defines link references (each answer has its own), nor if an HTML
    block or a code block never closed keeps the line end after the answer's last line
    (which the answer, cut out of its file, has not)."""
    if whole.env:
        return None
    for token in tokens:
        if token.type not in ("html_block", "fence") or token.map is None:
            continue
        if whole.origin[token.map[1] - 1] >= last and (
            token.type == "html_block" or unclosed(token, token.content)
        ):
            return None
    return Blocks(tokens, whole.origin, {}, whole.rich)


def parse_file(
    source: SourceFile, *, allow_html: bool = False
) -> tuple[list[Card], list[Diagnostic]]:
    """Cards of one file, plus problems found (errors are not raised here, so all are seen)."""
    cards, _, diagnostics = read_cards(source, allow_html=allow_html)
    return cards, diagnostics


def read_cards(
    source: SourceFile, *, allow_html: bool = False
) -> tuple[list[Card], list[Blocks | None], list[Diagnostic]]:
    """Like :func:`parse_file`, with each card's answer already split into blocks, for its
    rendering; None where the file has link references (each answer has its own)."""
    lines = source.text.split("\n")
    structure = outline(source.text, source.path, allow_html=allow_html)
    answers: list[Blocks | None] = []
    diagnostics = structure.diagnostics
    cards: list[Card] = []

    def error(index: int, message: str) -> None:
        diagnostics.append(Diagnostic(source.path, index + 1, "error", message))

    bad = unfit(source.path)
    if bad >= 0:
        error(0, f"the file name has {describe(source.path[bad])}: Anki cannot keep it; rename")
    exempt: dict[int, int] = {}  # a card heading's line: where its id attribute starts
    chapter: str | None = None
    untitled = False  # reported once per file
    marks = structure.headings
    for position, heading in enumerate(marks):
        if heading.level == 1:
            chapter, problem = _chapter(lines[heading.index])
            if problem:
                error(heading.index, problem)
            continue
        if heading.notes:
            continue
        if chapter is None and not untitled:
            error(heading.index, "card before the chapter title: start the file with '# Title'")
        untitled = untitled or chapter is None
        following = marks[position + 1] if position + 1 < len(marks) else None
        read = _card(source.path, lines, structure.blocks, (heading, following), chapter or "")
        for message in read.problems:
            error(heading.index, message)
        if read.id_starts is not None:
            exempt[heading.index] = read.id_starts
        cards.append(read.card)
        answers.append(read.blocks)
    for index, column in unfit_characters(source.text, exempt):
        char = lines[index][column]
        message = f"{describe(char)} at column {column + 1}: Anki cannot keep it in a card"
        error(index, message + " (delete it)")
    diagnostics += leftovers(source.path, lines, structure)
    return cards, answers, diagnostics


def _chapter(line: str) -> tuple[str, str | None]:
    """A chapter heading's deck name, and what is wrong with it (if anything)."""
    start, stop = heading_span(line, len(line))
    tab = unfit(line[start:stop], name=True)
    chapter = deck_name(line[start:stop])
    if not all(chapter.split("::")):
        return chapter, "empty chapter title (or an empty part around '::')"
    if is_reserved_chapter(chapter):
        return chapter, f"chapter title {chapter!r} is kept for removed cards"
    if tab >= 0 and line[start + tab] == "\t":  # other such characters: in read_cards
        return chapter, (
            f"{describe(chr(9))} at column {start + tab + 1} in a chapter title: Anki "
            "drops it from deck names (use a space)"
        )
    return chapter, None


@dataclass(frozen=True)
class _CardRead:
    card: Card
    blocks: Blocks | None  # its answer's, from the file's parse (None: parse it on its own)
    problems: list[str]  # errors at its heading's line
    id_starts: int | None  # where its id attribute starts on the heading's line


def _card(
    path: str,
    lines: list[str],
    whole: Blocks,
    headings: tuple[Heading, Heading | None],
    chapter: str,
) -> _CardRead:
    """The card under ``headings[0]``, up to the next heading (``headings[1]``, if any)."""
    heading, following = headings
    line = lines[heading.index]
    attribute = find_id(line)
    start, stop = heading_span(line, attribute.start if attribute else len(line))
    question = line[start:stop]
    end = following.index if following else len(lines)
    body = lines[heading.index + 1 : end]
    while body and not body[-1].strip():
        body.pop()
    tokens = whole.tokens[heading.position + 3 : following.position if following else None]
    blocks = _own_blocks(whole, tokens, heading.index + len(body))
    skipped = 0
    while skipped < len(body) and not body[skipped].strip():
        skipped += 1
    answer = "\n".join(body[skipped:])
    problems = [] if question else ["card heading has no question text"]
    problem: str | None = "card has no id: run 'kam-anki ids' to add one to every heading"
    classes: tuple[str, ...] = ()
    if attribute is not None:
        classes, problem = read_classes(attribute.classes)
        problem = problem or id_problem(line, attribute)
    if problem:
        problems.append(problem)
    if not answer:
        problems.append(f"card {question!r} has no answer")
    card = Card(
        id=attribute.card_id if attribute else "",
        question=question,
        answer=answer,
        chapter=chapter,
        path=path,
        line=heading.index + 1,
        answer_line=heading.index + 2 + skipped,
        classes=classes,
    )
    return _CardRead(card, blocks, problems, stop if attribute is not None else None)
