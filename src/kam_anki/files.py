"""The edge where content comes in: finding and reading ``content/`` (and the records of
what was shipped before). Writing is :mod:`kam_anki.output`."""

from __future__ import annotations

import os
import posixpath
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kam_anki.cache import CACHE_DIR
from kam_anki.characters import decode
from kam_anki.config import parse_config
from kam_anki.errors import ContentError, Diagnostic, PathError, printable
from kam_anki.githistory import knows_a_lock, lock_versions, read_lock_history
from kam_anki.history import RECORD_NAME, HistoryCache, load_record, shipped_digests
from kam_anki.media import is_image
from kam_anki.model import Assets, DeckConfig, SourceFile
from kam_anki.state import LOCK_NAME, ShippedStamps, State, load_state, merge_shipped

DEFAULT_OUTPUT = Path("build/kam.apkg")  # the package, relative to the project folder
HISTORY_CACHE = "lock-history"  # in the file cache's folder: not a *.json entry

CONFIG_NAME = "deck.toml"


@dataclass(frozen=True)
class Content:
    root: Path
    config: DeckConfig
    previous: State | None
    assets: Assets
    paths: tuple[Path, ...]  # the Markdown files, found once

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    def markdown_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.paths)

    def sources(self) -> Iterator[SourceFile]:
        """The Markdown files in sorted path order, read one at a time as they are needed."""
        for path in self.paths:
            name = relative(path, self.root)
            yield SourceFile(name, decode(read_bytes(path), name))


def relative(path: Path, root: Path) -> str:
    """The name content uses for a file: POSIX, NFC (macOS tools often write NFD names)."""
    return unicodedata.normalize("NFC", path.relative_to(root).as_posix())


def read_bytes(path: Path) -> bytes:
    """A file's bytes; a file that cannot be read is named as the user wrote its path."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PathError(printable(path.as_posix()), f"cannot read: {exc.strerror}") from None


def is_source(name: str) -> bool:
    """Whether a build reads the file of this name (relative to content/, POSIX): the one
    rule that ``build`` and ``watch`` share. Markdown, images and deck.toml count; hidden
    files and folders do not, nor do the lock file (which a build writes) and editors'
    backups."""
    if is_hidden(name):
        return False
    suffix = posixpath.splitext(name)[1]
    return name == CONFIG_NAME or suffix == ".md" or is_image(name)


def is_hidden(name: str) -> bool:
    """A name (relative, POSIX) in or under a hidden folder or of a hidden file."""
    return any(part.startswith(".") for part in name.split("/"))


def find_sources(root: Path) -> dict[str, Path]:
    """Every file below ``root`` that :func:`is_source`, by :func:`relative` name, sorted.

    Raises :class:`ContentError` for what would lose cards or package something from
    elsewhere in silence (see :func:`_scan`); a folder that cannot be listed is an error too:
    its cards would silently count as removed.
    """
    found, diagnostics = _scan(root)
    if diagnostics:
        raise ContentError(diagnostics)
    return found


def _scan(root: Path) -> tuple[dict[str, Path], list[Diagnostic]]:
    """The sources below ``root``, and what is wrong with the names and links found.

    One rule for links, to files and folders alike: a link whose target lies inside
    ``root`` is followed (its files count under the link's name); one that leads outside,
    that points nowhere or that loops is an error naming the link and its target. Two
    names that are one name in Unicode (composed and decomposed ``ä``, as copies from
    macOS arrive) are an error naming both: they would be keyed alike and one lost.
    """
    inside = root.resolve()
    found: dict[str, Path] = {}
    written: dict[str, str] = {}  # by relative name: the name as the file system spells it
    diagnostics: list[Diagnostic] = []

    def problem(path: Path, message: str) -> None:
        diagnostics.append(Diagnostic(printable(relative(path, root)), 0, "error", message))

    def walk(folder: Path, ancestors: tuple[Path, ...]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            raise PathError(printable(str(exc.filename)), f"cannot read: {exc.strerror}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(folder, entry.name)
            name = relative(path, root)
            if entry.is_symlink() and not _link_fits(path, name, inside, problem):
                continue
            real = path.resolve() if entry.is_symlink() else ancestors[-1] / entry.name
            if entry.is_dir():
                if real in ancestors:
                    problem(
                        path, f"a link to {_target(path)}, a folder it is in: a loop; remove it"
                    )
                else:
                    walk(path, (*ancestors, real))
            elif is_source(name):
                spelled = path.relative_to(root).as_posix()
                if name in written:
                    problem(path, _twins(written[name], spelled))
                elif not entry.is_file():
                    problem(path, "not a regular file (a pipe, socket or device): remove it")
                else:
                    found[name] = path
                    written[name] = spelled

    walk(root, (inside,))
    return dict(sorted(found.items())), diagnostics


def _link_fits(path: Path, name: str, inside: Path, problem: Callable[[Path, str], None]) -> bool:
    """Whether a link is followed: its target exists and lies inside content/."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a loop of links
        if is_source(name) or not posixpath.splitext(name)[1]:
            problem(path, f"a link to {_target(path)}, which does not exist: fix or remove it")
        return False
    if not target.is_relative_to(inside):
        problem(
            path,
            f"a link to {_target(path)}, outside content/ (only what is in content/ is "
            "packaged): move or copy it into content/, or remove the link",
        )
        return False
    return True


def _target(link: Path) -> str:
    """A link's target as written, and where it leads if that differs."""
    written = os.readlink(link)
    shown = repr(printable(written))
    try:
        resolved = link.resolve().as_posix()
    except (OSError, RuntimeError):  # links that lead to each other
        return f"{shown} (links that lead to each other)"
    return shown if resolved == written else f"{shown} ({printable(resolved)})"


def _twins(first: str, second: str) -> str:
    def spelled(name: str) -> str:
        return "'" + name.encode("ascii", "backslashreplace").decode("ascii") + "'"

    return (
        f"{spelled(first)} and {spelled(second)} are two files with one name in Unicode (one "
        "written composed, one decomposed, as copies from macOS arrive): the build cannot "
        "tell them apart; keep one (merge their cards into it) and delete the other"
    )


def source_paths(root: Path) -> list[Path]:
    """The files a build reads, sorted by :func:`relative` name. A name that is not UTF-8
    is an error: it would reach the cards' source field and the lock file, which must be
    Unicode."""
    found, diagnostics = _scan(root)
    message = "the file name is not UTF-8 (Anki needs Unicode): rename the file"
    diagnostics += [
        Diagnostic(printable(n), 0, "error", message) for n in found if printable(n) != n
    ]
    if diagnostics:
        raise ContentError(diagnostics)
    return list(found.values())


def _is_markdown(path: Path) -> bool:
    return path.suffix == ".md"


def read_assets(root: Path, paths: Iterable[Path]) -> Assets:
    """The image files among ``paths`` (found by :func:`source_paths`: inside ``root``)."""
    return Assets({relative(p, root): read_bytes(p) for p in paths if is_image(p.name)})


def require_folder(root: Path) -> None:
    """Raises :class:`PathError` unless ``root`` is a folder (what content must be)."""
    if not root.is_dir():
        message = f"not a folder (expected the content folder with {CONFIG_NAME})"
        raise PathError(printable(root.as_posix()), message)


def read_content(root: Path) -> Content:
    require_folder(root)
    paths = source_paths(root)
    config_path = root / CONFIG_NAME
    if not config_path.is_file():
        raise ContentError.at(CONFIG_NAME, 1, f"missing {CONFIG_NAME} in {root}")
    config = parse_config(decode(read_bytes(config_path), CONFIG_NAME), CONFIG_NAME)
    markdown = tuple(p for p in paths if _is_markdown(p))
    return Content(root, config, read_state(root), read_assets(root, paths), markdown)


def read_state(root: Path) -> State | None:
    """The lock file's state, or None before the first build."""
    lock = root / LOCK_NAME
    return load_state(read_bytes(lock), LOCK_NAME) if lock.is_file() else None


def read_record(output_dir: Path) -> bytes:
    """The record of what the builds written to ``output_dir`` shipped (empty before the
    first; see :mod:`kam_anki.history`)."""
    return _read_or_empty(output_dir / RECORD_NAME)


@dataclass(frozen=True)
class Shipped:
    """What was shipped before, as far as this checkout can tell (see :func:`read_shipped`),
    what the build should say about it, and the git history's cache to keep."""

    stamps: ShippedStamps
    warnings: tuple[Diagnostic, ...] = ()
    history: HistoryCache | None = None  # to keep for the next build (dump_cache)


def read_shipped(root: Path, record: bytes, output_dir: Path | None = None) -> Shipped:
    """Every card version shipped before, as far as this checkout can tell: the lock file's
    git history (the commits HEAD descends from, reverted ones too, and every commit any
    reflog knows: reset, stashed, other branches) and the ``record`` beside the output
    (``output_dir``, which also keeps the history's cache)."""
    cache = output_dir / CACHE_DIR / HISTORY_CACHE if output_dir is not None else None
    history = read_lock_history(root, _read_or_empty(cache) if cache is not None else b"")
    late: list[int] = []
    stamps = merge_shipped([history.stamps, load_record(record, late)])
    warnings = list(history.warnings)
    if late:
        where = printable(((output_dir or Path()) / RECORD_NAME).resolve().as_posix())
        lines = ", ".join(map(str, late[:10])) + (" and more" if len(late) > 10 else "")
        message = (
            f"line(s) {lines} have a time after 2100, which no lock may hold: passed over "
            "(delete those lines)"
        )
        warnings.append(Diagnostic(where, 0, "warning", message))
    return Shipped(stamps, tuple(warnings), history.cache)


def lock_history(root: Path) -> bool:
    """Whether git knows a version of a lock file in ``root`` (from HEAD or a reflog)."""
    return knows_a_lock(root)


def read_shipped_digests(root: Path, record: bytes) -> dict[str, set[str]]:
    """Every version of each card shipped before, by digest (see :func:`read_shipped`)."""
    return shipped_digests(lock_versions(root), record)


def _read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
