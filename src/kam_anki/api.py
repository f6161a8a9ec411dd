"""The public API: load the content, build it, write the outcome, add ids, preview, pull
(the pipeline itself is :mod:`kam_anki.pipeline`). The command line and the tests go
through here. The public names are in ``__all__``; the README's "From a Python script"
has an example.

Everything a user can cause (bad content, a file or folder that cannot be read or written,
a wrong clock) raises :class:`kam_anki.errors.KamError`, never a bare ``OSError``; nothing
here prints.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from kam_anki import pipeline
from kam_anki.characters import decode
from kam_anki.errors import Diagnostic, KamError, PathError
from kam_anki.files import (
    DEFAULT_OUTPUT,
    read_bytes,
    read_content,
    read_record,
    read_shipped_digests,
    relative,
)
from kam_anki.ids import add_ids as add_ids_to_text
from kam_anki.learner import Forecast
from kam_anki.listnotes import ItemChange, ItemChanges, list_note_card
from kam_anki.media import media_name
from kam_anki.model import SourceFile
from kam_anki.notetype import NoteType
from kam_anki.output import write_atomic
from kam_anki.parse import parse_file
from kam_anki.pipeline import Built, Outcome, Project
from kam_anki.pull import Pulled, Target, plan
from kam_anki.pulltext import Images
from kam_anki.stamps import CardChange, Changes
from kam_anki.tombstones import REMOVED_TAG

__all__ = [
    "DEFAULT_OUTPUT",
    "Built",
    "CardChange",
    "Changes",
    "Diagnostic",
    "IdsAdded",
    "ItemChange",
    "ItemChanges",
    "KamError",
    "NoteType",
    "Outcome",
    "Project",
    "PullOutcome",
    "add_ids",
    "check",
    "init",
    "load",
    "preview",
    "pull",
    "write",
    "write_preview",
]

_BOM = b"\xef\xbb\xbf"
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _documented_errors(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """A file or folder that cannot be read or written ends as :class:`PathError` (a
    :class:`KamError`, as documented), naming it; a reader that went away stays itself."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except BrokenPipeError:
            raise
        except OSError as exc:
            where = str(exc.filename) if exc.filename else ""
            raise PathError(where, exc.strerror or str(exc)) from exc

    return wrapper


@dataclass(frozen=True)
class IdsAdded:
    """The ids :func:`add_ids` wrote into one file."""

    path: Path
    added: tuple[str, ...]
    restored: tuple[str, ...]  # of those, ids the lock knew (a card coming back)


load = _documented_errors(pipeline.load)
check = _documented_errors(pipeline.check)
write = _documented_errors(pipeline.write)
preview = _documented_errors(pipeline.preview)
write_preview = _documented_errors(pipeline.write_preview)
package_bytes = _documented_errors(pipeline.package_bytes)  # for tests: content in memory


@_documented_errors
def add_ids(content_dir: Path) -> list[IdsAdded]:
    """Give every card heading without an id a readable one; returns the files written.

    Ids of removed cards stay taken: a new card must not take over an old note's reviews.
    An id the lock knows but the content lacks comes back to a heading with its question.
    """
    content = read_content(content_dir)
    allow_html = content.config.allow_html
    raw = {path: read_bytes(path) for path in content.paths}
    present: set[str] = set()
    for path, data in raw.items():
        name = relative(path, content_dir)
        cards, _ = parse_file(SourceFile(name, decode(data, name)), allow_html=allow_html)
        present.update(card.id for card in cards if card.id)
    previous = content.previous
    locked = {**previous.removed, **previous.cards} if previous is not None else {}
    known = {card_id: stamp.text for card_id, stamp in locked.items() if card_id not in present}
    taken = present | set(locked)
    done: list[IdsAdded] = []
    for path, data in raw.items():
        bom = _BOM if data.startswith(_BOM) else b""
        text, added = add_ids_to_text(data[len(bom) :].decode("utf-8"), taken, known, allow_html)
        if added:
            # A link (inside content/, see files) keeps pointing at the file it names.
            write_atomic(path.resolve(), bom + text.encode("utf-8"))
            restored = tuple(card_id for card_id in added if card_id in known)
            taken.update(added)
            for card_id in restored:
                del known[card_id]
            done.append(IdsAdded(path, tuple(added), restored))
    return done


@_documented_errors
def init(folder: Path, name: str, language: str = "en") -> list[Path]:
    """A new project in ``folder`` (made if missing): ``content/deck.toml`` with fresh random
    ids and ``name``, and one example card; returns the files written. Refuses a folder
    whose ``content/`` exists, or where git remembers a lock file (another deck's history
    would come back as removed cards)."""
    from kam_anki.files import lock_history
    from kam_anki.starter import new_ids, starter_files

    content = folder / "content"
    files = starter_files(name, language, new_ids())
    if content.exists():
        raise PathError(content.as_posix(), "exists already: init makes a new project")
    content.mkdir(parents=True)
    if lock_history(content):
        content.rmdir()
        raise PathError(
            content.as_posix(),
            "git remembers a lock file here (another deck's history): init into a new folder",
        )
    written = []
    for file_name, text in files.items():
        write_atomic(content / file_name, text.encode("utf-8"))
        written.append(content / file_name)
    return written


@dataclass(frozen=True)
class PullOutcome:
    """What :func:`pull` found and did."""

    pulled: Pulled
    before: dict[str, str]  # the files it changes (or, in a dry run, would): their old text
    forecast: Forecast | None  # importing the package into the learner's collection now
    card_ids: dict[str, str]  # note GUID -> card id, for the forecast
    package_stale: bool  # the content changed since the package was built


@_documented_errors
def pull(project: Project, source: Path, *, dry_run: bool = False) -> PullOutcome:
    """Bring the learner's edits in ``source`` (an exported ``.apkg`` or a
    ``collection.anki2``, read with the Anki engine, never written) into the Markdown;
    ``dry_run`` writes nothing."""
    from kam_anki import learner  # the Anki engine: loaded by pull only
    from kam_anki.package import guid

    content = project.content
    config = content.config
    outcome = pipeline.check(project)
    changes = outcome.result.changes
    changed = {card_id for card_id, _ in (*changes.added, *changes.changed)}
    cards = {}
    for source_file in content.sources():
        cards.update({c.id: c for c in parse_file(source_file, allow_html=config.allow_html)[0]})
    shipped = read_shipped_digests(content.root, read_record(project.folder))
    locked = {**content.previous.removed, **content.previous.cards} if content.previous else {}
    for card_id, stamp in locked.items():
        shipped.setdefault(card_id, set()).add(stamp.digest)
    targets: dict[str, Target] = {}
    for note in outcome.notes:  # a card's note, and its list note (``card-id/liste``)
        parent = list_note_card(note.card_id) if note.clozes else note.card_id
        if parent not in cards or REMOVED_TAG in note.tags:
            continue
        targets[guid(config, note.card_id)] = Target(
            cards[parent],
            note,
            changed=note.card_id in changed,
            shipped=frozenset(shipped.get(note.card_id, ())),
        )
    card_ids = {guid(config, card_id): card_id for card_id in {*locked, *shipped}}
    card_ids.update({key: target.note.card_id for key, target in targets.items()})
    package = project.output if project.output.is_file() else None
    reading = learner.read(source, card_ids.keys(), package)
    boms: dict[str, bytes] = {}
    before: dict[str, str] = {}

    def read(path: str) -> str:
        data = read_bytes(content.root / path)
        boms[path] = _BOM if data.startswith(_BOM) else b""
        # As it is, line ends too (the build, which read it already, found it UTF-8).
        before[path] = data[len(boms[path]) :].decode("utf-8")
        return before[path]

    images = Images({media_name(p, data): p for p, data in content.assets.files.items()})
    pulled = plan(targets, reading.notes, read, allow_html=config.allow_html, images=images)
    if not dry_run:
        for path, text in pulled.texts.items():
            write_atomic(content.root / path, boms[path] + text.encode("utf-8"))
    return PullOutcome(
        pulled,
        {path: before[path] for path in pulled.texts},
        reading.forecast,
        card_ids,
        package_stale=package is not None and bool(changed or changes.removed),
    )
