"""Notes -> ``.apkg`` bytes: the only importer of genanki; pure and byte-reproducible.

genanki's ``Package.write_to_file`` uses one clock time for every note, stamps zip entries
with the clock and leaves a temporary SQLite file behind. Here each note carries its own
time, the collection lives in memory, and the zip has fixed entry times, order and modes.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import sqlite3
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

import genanki

from kam_anki.model import DeckConfig, Note
from kam_anki.notetype import NoteType

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class _TimedNote(genanki.Note):  # type: ignore[misc]
    """A note with its own modification time instead of the package-wide one."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._mod = mod

    def write_to_db(
        self, cursor: sqlite3.Cursor, timestamp: float, deck_id: int, id_gen: Iterator[int]
    ) -> None:
        super().write_to_db(cursor, self._mod, deck_id, id_gen)


def guid(config: DeckConfig, card_id: str) -> str:
    """Derived from the card id alone (namespaced by the deck), never from its text or place."""
    return str(genanki.guid_for("kam-anki", config.deck_id, card_id))


def subdeck_id(config: DeckConfig, name: str) -> int:
    """Anki matches decks by name on import; a stable id keeps the package reproducible."""
    if name == config.name:
        return config.deck_id
    digest = hashlib.sha256(f"{config.deck_id}\x1f{name}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)


def build_apkg(
    config: DeckConfig,
    notetype: NoteType,
    notetype_mod: int,
    notes: Sequence[Note],
    epoch: int,
    media: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """The package as bytes. ``epoch`` seeds note and card ids; ``media`` is (name, data)."""
    model = genanki.Model(
        config.notetype_id,
        notetype.name,
        fields=[{"name": name} for name in notetype.fields],
        templates=[{"name": notetype.template_name, "qfmt": notetype.front, "afmt": notetype.back}],
        css=notetype.css,
    )
    decks: dict[str, genanki.Deck] = {config.name: genanki.Deck(config.deck_id, config.name)}
    for position, note in enumerate(notes, start=1):
        deck = decks.get(note.deck)
        if deck is None:
            deck = decks[note.deck] = genanki.Deck(subdeck_id(config, note.deck), note.deck)
        deck.add_note(
            _TimedNote(
                note.mod,
                model=model,
                fields=list(note.fields),
                tags=list(note.tags),
                guid=guid(config, note.card_id),
                due=position,
            )
        )
    connection = sqlite3.connect(":memory:")
    try:
        cursor = connection.cursor()
        package = genanki.Package(list(decks.values()))
        package.write_to_db(cursor, notetype_mod, itertools.count(epoch * 1000))
        connection.commit()
        database = connection.serialize()
    finally:
        connection.close()
    media = sorted(media)
    manifest = json.dumps({str(i): name for i, (name, _) in enumerate(media)}, sort_keys=True)
    entries = [("collection.anki2", database), ("media", manifest.encode())]
    entries += [(str(i), data) for i, (_, data) in enumerate(media)]
    return _zip(entries)


def _zip(entries: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compresslevel=6)
    return buffer.getvalue()
