"""Notes -> ``.apkg``: the only importer of genanki; byte-reproducible.

genanki's ``Package.write_to_file`` uses one clock time for every note, stamps zip entries
with the clock and leaves a temporary SQLite file behind. Here notes go one by one into a
scratch collection (a file the caller provides and removes, so a deck of any size never
sits in memory), each with its own time; genanki writes the schema, decks and note type;
and the zip has fixed entry times, order and modes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import sys
import types
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from kam_anki.model import DeckConfig, Note
from kam_anki.notetype import NoteType

_STUB = "cached_property" not in sys.modules
if _STUB:
    # genanki takes only the decorator from the cached_property backport, whose import pulls
    # in asyncio: a third of a small build's start-up. The standard library's is the same.
    # The stand-in is there while genanki is imported, and gone after: a later import of
    # the real backport (by a script) finds the real one.
    _backport = types.ModuleType("cached_property")
    _backport.cached_property = functools.cached_property  # type: ignore[attr-defined]
    sys.modules["cached_property"] = _backport
try:
    import genanki
finally:
    if _STUB:
        del sys.modules["cached_property"]

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_BATCH = 512  # rows per executemany: fewer round trips, little memory
_CHUNK = 1 << 20  # bytes of the collection compressed at a time


def guid(config: DeckConfig, card_id: str) -> str:
    """Derived from the card id alone (namespaced by the deck), never from its text or place."""
    return str(genanki.guid_for("kam-anki", config.deck_id, card_id))


def list_notetype_id(config: DeckConfig) -> int:
    """The list note type's id: derived from the deck's note type id, so ``deck.toml`` needs
    no second id, and fixed as long as that one is."""
    digest = hashlib.sha256(f"{config.notetype_id}\x1flisten".encode()).digest()
    return (1 << 40) + int.from_bytes(digest[:4], "big")


def subdeck_id(config: DeckConfig, name: str) -> int:
    """Anki matches decks by name on import; a stable id keeps the package reproducible."""
    if name == config.name:
        return config.deck_id
    digest = hashlib.sha256(f"{config.deck_id}\x1f{name}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)


class PackageWriter:
    """Collects notes in package order, then writes the ``.apkg``.

    Note and card ids count up from ``epoch`` (seconds) in package order, and each card's
    "due" is its position, so new cards arrive in the order of the Markdown (a list note's
    cards right after their card, in the list's order). A list note has one card per cloze
    number ``n``, of template ordinal ``n - 1``, as Anki's cloze note type numbers them.
    """

    def __init__(self, config: DeckConfig, notetype: NoteType, epoch: int, scratch: Path):
        """``scratch`` is an empty file for the collection while it is being filled."""
        self.config = config
        self.notetype = notetype
        self.first_id = epoch * 1000
        self.decks: dict[str, int] = {config.name: config.deck_id}
        self.count = 0  # notes
        self.position = 0  # cards
        self.notes: list[tuple[object, ...]] = []
        self.cards: list[tuple[object, ...]] = []
        self.path = scratch
        self.db = sqlite3.connect(scratch)
        self.db.execute("PRAGMA journal_mode = OFF")  # a scratch file: nothing to recover
        # The schema and the collection row, from genanki; decks and note type come last.
        genanki.Package([]).write_to_db(self.db.cursor(), 0, None)

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: types.TracebackType | None,
    ) -> None:
        self.db.close()

    def add(self, note: Note) -> None:
        # Ids are unique across notes and cards alike: one counter, a note then its cards.
        note_id = self.first_id + self.count + self.position
        self.count += 1
        deck_id = self.decks.get(note.deck)
        if deck_id is None:
            deck_id = self.decks[note.deck] = subdeck_id(self.config, note.deck)
        notetype_id = list_notetype_id(self.config) if note.clozes else self.config.notetype_id
        self.notes.append(
            (
                note_id,
                guid(self.config, note.card_id),
                notetype_id,
                note.mod,
                f" {' '.join(note.tags)} ",
                "\x1f".join(note.fields.values()),
                note.fields.question,  # Anki's sort field: the first
            )
        )
        for number, ordinal in enumerate([n - 1 for n in note.clozes] or [0], start=1):
            self.position += 1
            card = (note_id + number, note_id, deck_id, ordinal, note.mod, self.position)
            self.cards.append(card)
        if len(self.notes) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO notes VALUES (?,?,?,?,-1,?,?,?,0,0,'')", self.notes)
        self.db.executemany(
            "INSERT INTO cards VALUES (?,?,?,?,?,-1,0,0,?,0,0,0,0,0,0,0,0,'')", self.cards
        )
        self.notes.clear()
        self.cards.clear()

    def write(
        self,
        out: BinaryIO,
        notetype_mod: int,
        media: Mapping[str, bytes],
        on_bytes: Callable[[int, int], None] | None = None,
    ) -> None:
        """The package into ``out``; ``media`` maps the names the notes use to the bytes.
        ``on_bytes`` is called as the collection goes in: bytes done, bytes in all."""
        self._flush()
        models = [_model(self.config.notetype_id, self.notetype)]
        if self.notetype.lists is not None:
            models.append(_model(list_notetype_id(self.config), self.notetype.lists))
        cursor = self.db.cursor()
        for name, deck_id in self.decks.items():
            deck = genanki.Deck(deck_id, name)
            if deck_id == self.config.deck_id:
                for model in models:
                    deck.add_model(model)
            deck.write_to_db(cursor, notetype_mod, None)
        self.db.commit()
        names = sorted(media)
        manifest = json.dumps({str(i): name for i, name in enumerate(names)}, sort_keys=True)
        with zipfile.ZipFile(out, "w") as archive:
            entry = archive.open(_entry("collection.anki2"), "w")
            with entry, self.path.open("rb") as collection:
                total, done = self.path.stat().st_size, 0
                if on_bytes is not None:
                    on_bytes(done, total)
                while chunk := collection.read(_CHUNK):
                    entry.write(chunk)
                    done += len(chunk)
                    if on_bytes is not None:
                        on_bytes(done, total)
            archive.writestr(_entry("media"), manifest.encode())
            for index, name in enumerate(names):
                archive.writestr(_entry(str(index)), media[name])


def _model(model_id: int, notetype: NoteType) -> genanki.Model:
    return genanki.Model(
        model_id,
        notetype.name,
        fields=[{"name": name} for name in notetype.fields],
        templates=[{"name": notetype.template_name, "qfmt": notetype.front, "afmt": notetype.back}],
        css=notetype.css,
        model_type=genanki.Model.CLOZE if notetype.cloze else genanki.Model.FRONT_BACK,
    )


def _entry(name: str) -> zipfile.ZipInfo:
    """Fixed time, mode and compression: the same bytes on every machine and clock."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    # Level 1: several times faster than the default, and the collection still shrinks ~8x.
    info._compresslevel = 1  # type: ignore[attr-defined]  # ZipFile.open has no level argument
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info
