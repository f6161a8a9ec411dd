"""Notes -> ``.apkg`` bytes: the only importer of genanki; pure and byte-reproducible.

genanki's ``Package.write_to_file`` uses one clock time for every note, stamps zip entries
with the clock and leaves a temporary SQLite file behind. Here genanki writes the collection
skeleton (schema, decks, note type) into an in-memory database, each note carries its own
time, and the zip has fixed entry times, order and modes.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile
from collections.abc import Sequence

import genanki

from kam_anki.model import DeckConfig, Note
from kam_anki.notetype import NoteType

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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
    for name in dict.fromkeys(note.deck for note in notes):
        decks.setdefault(name, genanki.Deck(subdeck_id(config, name), name))
    decks[config.name].add_model(model)
    connection = sqlite3.connect(":memory:")
    try:
        # genanki writes the schema, the collection row, decks and the note type ...
        genanki.Package(list(decks.values())).write_to_db(connection.cursor(), notetype_mod, None)
        # ... the rows of notes and cards go in here in bulk, each note with its own time
        # (genanki would give every note the package's one timestamp, one row at a time).
        connection.executemany(
            "INSERT INTO notes VALUES (?,?,?,?,-1,?,?,?,0,0,'')",
            (
                (
                    epoch * 1000 + 2 * index,
                    guid(config, note.card_id),
                    config.notetype_id,
                    note.mod,
                    f" {' '.join(note.tags)} ",
                    "\x1f".join(note.fields),
                    note.fields[0],
                )
                for index, note in enumerate(notes)
            ),
        )
        # One card per note; "due" orders new cards as the Markdown does.
        connection.executemany(
            "INSERT INTO cards VALUES (?,?,?,0,?,-1,0,0,?,0,0,0,0,0,0,0,0,'')",
            (
                (
                    epoch * 1000 + 2 * index + 1,
                    epoch * 1000 + 2 * index,
                    decks[note.deck].deck_id,
                    note.mod,
                    index + 1,
                )
                for index, note in enumerate(notes)
            ),
        )
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
            archive.writestr(info, data, compresslevel=1)
    return buffer.getvalue()
