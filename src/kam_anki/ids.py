"""Readable card ids for headings that lack one; pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from kam_anki.characters import LINE_END, text_key
from kam_anki.headings import find_id, heading_span
from kam_anki.outline import outline

_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"}
)
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_MAX_LENGTH = 60


def slugify(text: str) -> str:
    """``"Ziele des KAM? (5)"`` -> ``"ziele-des-kam-5"``."""
    text = unicodedata.normalize("NFKD", text.translate(_GERMAN))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NON_SLUG.sub("-", text).strip("-")
    if len(slug) > _MAX_LENGTH:
        slug = slug[:_MAX_LENGTH].rsplit("-", 1)[0]
    return slug or "karte"


def unique(slug: str, taken: set[str]) -> str:
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    taken.add(candidate)
    return candidate


def add_ids(
    text: str,
    taken: Iterable[str],
    known: Mapping[str, str] | None = None,
    allow_html: bool = False,
) -> tuple[str, list[str]]:
    """Append ``{#id}`` to each card heading without anything id-like; every other byte
    stays as it was.

    ``text`` is the file as read (BOM, line ends and normalisation untouched).
    ``taken`` are ids already used anywhere in the deck. ``known`` maps ids the lock file
    knows but the content lacks to their questions: a heading with such a question gets
    its old id back (and so keeps its note and reviews), not a new one. ``allow_html`` is
    the deck's: it decides what is an HTML block. Returns the new text and the ids written.
    """
    used = set(taken)
    lost: dict[str, str] = {}
    for card_id, question in sorted((known or {}).items()):
        lost.setdefault(text_key(question), card_id)
    pieces = LINE_END.split(text)  # [line, sep, line, sep, ..., line]
    lines = [unicodedata.normalize("NFC", line) for line in pieces[0::2]]
    added: list[str] = []
    for heading in outline("\n".join(lines), allow_html=allow_html).headings:
        line = lines[heading.index]
        if heading.level != 2 or heading.notes or find_id(line) is not None:
            continue  # even a malformed id is left alone: the build says what is wrong
        start, stop = heading_span(line, len(line))
        if start == stop:
            continue
        new_id = lost.pop(text_key(line[start:stop]), None) or unique(
            slugify(line[start:stop]), used
        )
        used.add(new_id)
        raw = pieces[2 * heading.index]
        stripped = raw.rstrip(" \t")
        pieces[2 * heading.index] = f"{stripped} {{#{new_id}}}{raw[len(stripped) :]}"
        added.append(new_id)
    return "".join(pieces), added
