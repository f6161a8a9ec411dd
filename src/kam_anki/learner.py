"""What a learner has: the notes of an Anki file, read with the official Anki engine.

The edge of ``pull``, and the only module that imports ``anki`` (an optional extra: the other
commands never load it). Anki's formats are not parsed here: a package (``.apkg``, current or
legacy, with or without scheduling) is imported into a fresh collection in a temporary
folder and read from there; a collection file (``collection.anki2``) is copied there first,
so the learner's own file is only ever read. What importing the built package into that
collection would do is found the same way: by importing it, into the temporary copy.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Collection as Names
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kam_anki.errors import KamError, PathError, UsageError

INSTALL_HINT = (
    "kam-anki pull reads Anki's files with the official Anki engine, which is not installed: "
    "pip install 'kam-anki[anki]' (in a clone: pip install -e '.[anki]')"
)
PACKAGE_SUFFIXES = (".apkg",)
COLLECTION_SUFFIXES = (".anki2", ".anki21")


@dataclass(frozen=True)
class LearnerNote:
    """One note as the learner has it."""

    guid: str
    mod: int  # seconds: when it was last changed (an edit, or the import that wrote it)
    fields: dict[str, str]  # by the note type's field names
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Forecast:
    """What Anki's importer (with its dialog's defaults) does with the package: note GUIDs."""

    new: tuple[str, ...]
    updated: tuple[str, ...]
    skipped: tuple[str, ...]  # not newer than the learner's note: left as it is
    conflicting: tuple[str, ...]  # the learner's note type differs: not updated


@dataclass(frozen=True)
class Reading:
    notes: tuple[LearnerNote, ...]
    forecast: Forecast | None  # None without a package to try


def read(source: Path, guids: Names[str], package: Path | None) -> Reading:
    """The notes of ``source`` whose GUID is one of ``guids``, and what importing
    ``package`` into it would do. Raises :class:`KamError` with what to do."""
    try:
        from anki.collection import Collection  # noqa: F401
    except ImportError:
        raise KamError(INSTALL_HINT) from None
    suffix = source.suffix.lower()
    if suffix not in PACKAGE_SUFFIXES + COLLECTION_SUFFIXES:
        raise UsageError(
            f"{source}: not an Anki package (.apkg, from File > Export…) or a collection "
            "file (collection.anki2)"
        )
    with tempfile.TemporaryDirectory(prefix="kam-anki-pull-") as scratch:
        copy = Path(scratch) / "collection.anki2"
        if suffix in COLLECTION_SUFFIXES:
            col = _open_copy(source, copy)
        else:
            col = _open(copy, source)
            _import(col, source, what=f"{source}: cannot read it as an Anki package")
        try:
            notes = _notes(col, guids)
            forecast = _forecast(col, package) if package is not None else None
        finally:
            col.close(downgrade=False)
    return Reading(notes, forecast)


def _busy(source: Path) -> KamError:
    return PathError(
        str(source),
        "Anki has this collection open: close Anki (or export the deck with File > Export… "
        "as an .apkg and pull that); if Anki is closed, open and close it once",
    )


def _open_copy(source: Path, copy: Path) -> Any:
    # While Anki has a collection open, its write-ahead log lies beside it: a copy of the
    # file alone may miss the last changes (or be torn), so it is not read.
    if Path(f"{source}-wal").exists():
        raise _busy(source)
    try:
        shutil.copyfile(source, copy)
    except OSError as exc:
        raise PathError(str(source), f"cannot read: {exc.strerror}") from None
    try:
        return _open(copy, source)
    except KamError:
        raise _busy(source) from None


def _open(path: Path, source: Path) -> Any:
    from anki.collection import Collection
    from anki.errors import DBError

    try:
        return Collection(str(path))
    except DBError as exc:
        raise PathError(str(source), f"cannot open it as an Anki collection ({exc})") from None


def _import(col: Any, package: Path, *, what: str) -> Any:
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.errors import AnkiException

    request = ImportAnkiPackageRequest(
        package_path=str(package), options=ImportAnkiPackageOptions()
    )
    try:
        return col.import_anki_package(request).log
    except AnkiException as exc:
        raise KamError(f"{what} ({exc})") from None


def _notes(col: Any, guids: Names[str]) -> tuple[LearnerNote, ...]:
    found: list[LearnerNote] = []
    for note_id, guid in col.db.all("select id, guid from notes order by id"):
        if guid not in guids:
            continue
        note = col.get_note(note_id)
        found.append(
            LearnerNote(
                guid=str(guid),
                mod=int(note.mod),
                fields=dict(zip(note.keys(), note.values(), strict=True)),
                tags=tuple(note.tags),
            )
        )
    return tuple(found)


def _forecast(col: Any, package: Path) -> Forecast:
    log = _import(col, package, what=f"{package}: Anki cannot import it")

    def guids(entries: Any) -> tuple[str, ...]:
        return tuple(
            sorted(
                str(col.db.scalar("select guid from notes where id = ?", entry.id.nid) or "")
                for entry in entries
            )
        )

    return Forecast(
        new=guids(log.new),
        updated=guids(log.updated),
        skipped=guids(log.duplicate),
        conflicting=guids(log.conflicting),
    )
