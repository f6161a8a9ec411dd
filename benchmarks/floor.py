"""The floor: the least any Markdown -> .apkg tool must do, to compare kam-anki against.

Usage: python benchmarks/floor.py CONTENT_DIR OUTPUT.apkg

Reads every ``*.md``, splits it at ``## `` headings, renders each answer with
markdown-it-py's CommonMark preset and writes one genanki deck of one note type, each
note's guid taken from the card id. Nothing else: no checks, no state, no subdecks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genanki
from markdown_it import MarkdownIt

MODEL = genanki.Model(
    1607392319,
    "Floor",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[
        {"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}
    ],
)


def main(content: Path, output: str) -> None:
    md = MarkdownIt("commonmark")
    deck = genanki.Deck(2059400110, "Floor")
    for path in sorted(content.rglob("*.md")):
        for chunk in path.read_text(encoding="utf-8").split("\n## ")[1:]:
            heading, _, answer = chunk.partition("\n")
            question, _, card_id = heading.rpartition(" {#")
            guid = genanki.guid_for(card_id.rstrip("} "))
            fields = [question, md.render(answer)]
            deck.add_note(genanki.Note(model=MODEL, fields=fields, guid=guid))
    genanki.Package(deck).write_to_file(output)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
