"""The file cache: each Markdown file's checked cards by a hash of everything they depend
on, so a rebuild parses and renders only the files that changed. :class:`FileCache` owns
all of it: the key, the entries' format, the folder beside the output, whether a build may
write it, and which results are kept.

Safe to delete. Never stale: the key covers the file's path and text, the deck settings,
the converter version, the versions of markdown-it-py, mdit-py-plugins and Pygments,
and kam-anki's own code. Pure apart from
reading kam-anki's own source once, for that last part.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from markdown_it import __version__ as MARKDOWN_IT_VERSION
from mdit_py_plugins import __version__ as PLUGINS_VERSION
from pygments import __version__ as PYGMENTS_VERSION

from kam_anki.errors import Diagnostic
from kam_anki.model import DeckConfig, FileResult, ListCard, ListItem, Note, Place, SourceFile
from kam_anki.notetype import Fields
from kam_anki.render import CONVERTER_VERSION

CACHE_DIR = ".kam-anki-cache"


class FileCache:
    """The file cache as a folder of small JSON files, one per checked Markdown file, in
    :data:`CACHE_DIR` beside the output.

    A read-only one (for ``check`` and dry runs, which write nothing) has no ``write``; a
    writable one is given the atomic write it stores entries with (from
    :mod:`kam_anki.output`, which sits above this module).
    """

    def __init__(
        self, output_folder: Path, write: Callable[[Path, bytes], None] | None = None
    ) -> None:
        self.folder = output_folder / CACHE_DIR
        self._write = write

    @staticmethod
    def key(config: DeckConfig, source: SourceFile) -> str:
        """What a file's entry is stored under: a hash of all its result depends on."""
        payload = f"{_code_version()}\0{config!r}\0{source.path}\0{source.text}"
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    def get(self, key: str) -> FileResult | None:
        try:
            return _load((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, key: str, checked: FileResult) -> None:
        """Keep a file's result, if this cache is writable and the result may be kept:
        images tie a file to other files, and a file with errors is not built at all."""
        cacheable = not checked.media and all(d.severity != "error" for d in checked.diagnostics)
        if self._write is not None and cacheable:
            self._write(self.folder / f"{key}.json", _dump(checked).encode("utf-8"))

    def __len__(self) -> int:
        return len(self._entries())

    def keep_only(self, keys: Iterable[str]) -> None:
        """Forget entries of files that no longer exist or changed."""
        keep = set(keys)
        for path in self._entries():
            if path.stem not in keep:
                path.unlink(missing_ok=True)

    def _entries(self) -> list[Path]:
        return list(self.folder.glob("*.json")) if self.folder.is_dir() else []


@cache
def _code_version() -> str:
    """Any change to kam-anki's code may change its output: it is part of every key."""
    versions = (CONVERTER_VERSION, MARKDOWN_IT_VERSION, PLUGINS_VERSION, PYGMENTS_VERSION)
    digest = hashlib.sha256("/".join(versions).encode())
    package = files("kam_anki")
    for name in sorted(p.name for p in package.iterdir() if p.name.endswith((".py", ".css"))):
        digest.update(name.encode() + b"\0" + package.joinpath(name).read_bytes())
    return digest.hexdigest()


def _dump(checked: FileResult) -> str:
    """An entry as JSON records named like the dataclasses they come from. Media are never
    cached (files with images are always checked again)."""
    return json.dumps(
        {
            "notes": [asdict(note) for note in checked.notes],
            "cards": [{"place": asdict(p), "question": q} for p, q in checked.cards],
            "diagnostics": [asdict(d) for d in checked.diagnostics],
            "lists": [one if isinstance(one, str) else asdict(one) for one in checked.lists],
        },
        ensure_ascii=False,
    )


def _load(text: str) -> FileResult | None:
    """A cache entry, or None if it cannot be read: the file is then checked again."""
    try:
        data: Any = json.loads(text)
        return FileResult(
            tuple(_load_note(note) for note in data["notes"]),
            tuple((Place(**card["place"]), card["question"]) for card in data["cards"]),
            {},
            tuple(Diagnostic(**d) for d in data["diagnostics"]),
            tuple(_load_list(one) for one in data["lists"]),
        )
    except (ValueError, TypeError, KeyError):
        return None


def _load_note(value: Any) -> Note:
    fields, tags, clozes = Fields(**value["fields"]), tuple(value["tags"]), tuple(value["clozes"])
    return Note(**{**value, "fields": fields, "tags": tags, "clozes": clozes})


def _load_list(value: Any) -> ListCard | str:
    if isinstance(value, str):
        return value
    items = tuple(ListItem(**item) for item in value["items"])
    return ListCard(tuple(value["before"]), items, value["tail"])
