"""The edge where content comes in: finding and reading ``content/`` (and the records of
what was shipped before). Writing is :mod:`kam_anki.output`."""

from __future__ import annotations

import os
import posixpath
import subprocess
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kam_anki.characters import decode
from kam_anki.config import parse_config
from kam_anki.errors import ContentError, Diagnostic, PathError, printable
from kam_anki.history import ISSUED_NAME, from_lock_log, load_issued, shipped_digests
from kam_anki.media import is_image
from kam_anki.model import Assets, DeckConfig, SourceFile
from kam_anki.state import LOCK_NAME, Issued, State, load_state, merge_issued

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

    A folder that cannot be listed is an error: its cards would silently count as removed.
    """

    def unreadable(exc: OSError) -> None:
        raise PathError(printable(str(exc.filename)), f"cannot read: {exc.strerror}")

    found: dict[str, Path] = {}
    for folder, folders, files in os.walk(root, onerror=unreadable):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for file in files:
            path = Path(folder, file)
            name = relative(path, root)
            if is_source(name) and path.is_file():
                found[name] = path
    return dict(sorted(found.items()))


def source_paths(root: Path) -> list[Path]:
    """The files a build reads, sorted by :func:`relative` name. A name that is not UTF-8
    is an error: it would reach the cards' source field and the lock file, which must be
    Unicode."""
    found = find_sources(root)
    bad = [name for name in found if printable(name) != name]
    if bad:
        message = "the file name is not UTF-8 (Anki needs Unicode): rename the file"
        raise ContentError([Diagnostic(printable(name), 0, "error", message) for name in bad])
    return list(found.values())


def markdown_paths(root: Path) -> list[Path]:
    """Every ``*.md`` below ``root`` but hidden ones, sorted by :func:`relative` name."""
    return [p for p in source_paths(root) if _is_markdown(p)]


def _is_markdown(path: Path) -> bool:
    return path.suffix == ".md"


def read_assets(root: Path, paths: Iterable[Path]) -> Assets:
    """The image files among ``paths``; symlinks that lead out of ``root`` are noted,
    never read."""
    inside = root.resolve()
    files: dict[str, bytes] = {}
    escaping: set[str] = set()
    for path in paths:
        if not is_image(path.name):
            continue
        name = relative(path, root)
        if not path.resolve().is_relative_to(inside):
            escaping.add(name)
        else:
            files[name] = read_bytes(path)
    return Assets(files, frozenset(escaping))


def require_folder(root: Path) -> None:
    """Raises :class:`PathError` unless ``root`` is a folder (what content must be)."""
    if not root.is_dir():
        message = f"not a folder (expected the content folder with {CONFIG_NAME})"
        raise PathError(printable(root.as_posix()), message)


def read_content(root: Path) -> Content:
    require_folder(root)
    config_path = root / CONFIG_NAME
    if not config_path.is_file():
        raise ContentError.at(CONFIG_NAME, 1, f"missing {CONFIG_NAME} in {root}")
    config = parse_config(decode(read_bytes(config_path), CONFIG_NAME), CONFIG_NAME)
    paths = source_paths(root)
    markdown = tuple(p for p in paths if _is_markdown(p))
    return Content(root, config, read_state(root), read_assets(root, paths), markdown)


def read_state(root: Path) -> State | None:
    """The lock file's state, or None before the first build."""
    lock = root / LOCK_NAME
    return load_state(read_bytes(lock), LOCK_NAME) if lock.is_file() else None


def read_record(output_dir: Path) -> bytes:
    """The record of what the builds written to ``output_dir`` shipped (empty before the
    first; see :mod:`kam_anki.history`)."""
    try:
        return (output_dir / ISSUED_NAME).read_bytes()
    except OSError:
        return b""


def read_issued(root: Path, record: bytes) -> Issued:
    """Every card version shipped before, as far as this checkout can tell: the lock file's
    git history (the commits HEAD descends from, reverted ones too, and every commit any
    reflog knows: reset, stashed, other branches) and the ``record`` beside the output."""
    return merge_issued(
        [
            from_lock_log(_lock_log(root, "HEAD"), lineage=True),
            from_lock_log(_lock_log(root, "--reflog", "--not", "HEAD"), lineage=False),
            load_issued(record),
        ]
    )


def lock_history(root: Path) -> bool:
    """Whether git knows a version of a lock file in ``root`` (from HEAD or a reflog)."""
    return bool(_lock_log(root, "HEAD").strip() or _lock_log(root, "--reflog").strip())


def read_shipped_digests(root: Path, record: bytes) -> dict[str, set[str]]:
    """Every version of each card shipped before, by digest (see :func:`read_issued`)."""
    logs = [_lock_log(root, "HEAD"), _lock_log(root, "--reflog", "--not", "HEAD")]
    return shipped_digests(logs, record)


def _lock_log(root: Path, *revisions: str) -> str:
    """``git log -p`` of the lock; empty outside a git checkout or without git."""
    command = [
        "git", "-C", str(root), "log", *revisions, "--format=", "-p", "--unified=0",
        "--no-color", "--no-ext-diff", "--no-textconv", "--diff-merges=separate",
        "--", LOCK_NAME,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""
