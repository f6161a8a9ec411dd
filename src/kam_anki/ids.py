"""Readable card ids for headings that lack one; pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from kam_anki.parse import outline, split_id

_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"}
)
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_MAX_LENGTH = 60
_LINE_END = re.compile(r"(\r\n|\r|\n)")


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


def add_ids(text: str, taken: Iterable[str]) -> tuple[str, list[str]]:
    """Append ``{#id}`` to each card heading without one; every other byte stays as it was.

    ``text`` is the file as read (BOM, line ends and normalisation untouched).
    ``taken`` are ids already used anywhere in the deck. Returns the new text and the new ids.
    """
    used = set(taken)
    pieces = _LINE_END.split(text)  # [line, sep, line, sep, ..., line]
    lines = pieces[0::2]
    added: list[str] = []
    for heading in outline([unicodedata.normalize("NFC", line) for line in lines]).headings:
        question, card_id = split_id(heading.text)
        if heading.level != 2 or card_id is not None or not question:
            continue
        new_id = unique(slugify(question), used)
        line = lines[heading.index]
        stripped = line.rstrip(" \t")
        pieces[2 * heading.index] = f"{stripped} {{#{new_id}}}{line[len(stripped) :]}"
        added.append(new_id)
    return "".join(pieces), added
