"""The render cache: rendered cards by content hash, so a rebuild renders only what changed.

Safe to delete. Never stale: the key covers everything the HTML depends on (question, answer,
HTML setting, converter and markdown-it-py versions). Pure: text in, text out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from markdown_it import __version__ as MARKDOWN_IT_VERSION

from kam_anki.render import CONVERTER_VERSION, Answer

CACHE_NAME = ".kam-anki-cache.json"
# Anything that changes how the same Markdown renders must change this prefix.
_VERSION = f"{CONVERTER_VERSION}/{MARKDOWN_IT_VERSION}"

Rendered = tuple[str, Answer]  # question HTML, answer


def cache_key(question: str, answer: str, allow_html: bool) -> str:
    payload = f"{_VERSION}\0{int(allow_html)}\0{question}\0{answer}".encode()
    return hashlib.sha256(payload).hexdigest()[:32]


def load_cache(text: str) -> dict[str, Rendered]:
    """Entries of a cache file; anything unreadable or from another version counts as empty."""
    try:
        data = json.loads(text)
        if data.get("version") != _VERSION:
            return {}
        return {
            key: (q, Answer(html, top, tuple(empty), tuple(raw)))
            for key, (q, html, top, empty, raw) in data["cards"].items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def dump_cache(entries: Mapping[str, Rendered]) -> str:
    cards = {
        key: [q, a.html, a.top_level_items, list(a.empty_items), list(a.raw_html)]
        for key, (q, a) in sorted(entries.items())
    }
    return json.dumps({"version": _VERSION, "cards": cards}, ensure_ascii=False)
