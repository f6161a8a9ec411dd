"""The edge: reading ``content/`` and writing outputs atomically. No logic beyond I/O."""

from __future__ import annotations

import errno
import io
import os
import posixpath
import signal
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from kam_anki.build import IMAGE_TYPES
from kam_anki.cache import CACHE_DIR, dump_checked, load_checked
from kam_anki.config import parse_config
from kam_anki.errors import ContentError, Diagnostic, KamError, PathError, printable
from kam_anki.history import ISSUED_NAME, from_lock_log, load_issued
from kam_anki.model import Assets, Checked, DeckConfig, SourceFile
from kam_anki.parse import decode
from kam_anki.state import LOCK_NAME, Issued, State, load_state, merge_issued

CONFIG_NAME = "deck.toml"
# Every temporary file kam-anki makes starts with this: what a killed build leaves behind is
# recognised and removed by the next build (see output_lock).
TEMP_PREFIX = ".kam-anki-tmp-"
_LOCK_WAIT = 30.0  # seconds to wait for another build writing to the same folder


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
    return name == CONFIG_NAME or suffix == ".md" or suffix.lower() in IMAGE_TYPES


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
        if path.suffix.lower() not in IMAGE_TYPES:
            continue
        name = relative(path, root)
        if not path.resolve().is_relative_to(inside):
            escaping.add(name)
        else:
            files[name] = read_bytes(path)
    return Assets(files, frozenset(escaping))


def read_content(root: Path) -> Content:
    if not root.is_dir():
        message = f"not a folder (expected the content folder with {CONFIG_NAME})"
        raise PathError(printable(root.as_posix()), message)
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


def read_issued(root: Path, output_dir: Path) -> Issued:
    """Every card version shipped before, as far as this checkout can tell: the lock file's
    git history (the commits HEAD descends from, reverted ones too, and every commit any
    reflog knows: reset, stashed, other branches) and the record of the builds written to
    ``output_dir``."""
    record = output_dir / ISSUED_NAME
    try:
        issued = load_issued(record.read_bytes())
    except OSError:
        issued = Issued()
    return merge_issued(
        [
            from_lock_log(_lock_log(root, "HEAD"), lineage=True),
            from_lock_log(_lock_log(root, "--reflog", "--not", "HEAD"), lineage=False),
            issued,
        ]
    )


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


@contextmanager
def writing(output: Path, content: Path) -> Iterator[Path]:
    """One writing build at a time per output folder, and a scratch file for it there.

    While a build holds the folder, any temporary file of ours in it, in its cache or in
    ``content`` was left by a build that was killed (SIGKILL, power loss): it is removed.
    A folder that cannot be written is reported under the output's name.
    """
    folder = output.parent
    with ExitStack() as held:
        try:
            held.enter_context(_output_lock(folder))
            sweep(folder, folder / CACHE_DIR, content)
            scratch = held.enter_context(temporary_file(folder, ".anki2"))
        except OSError as exc:
            message = f"cannot write: {exc.strerror}"
            raise PathError(printable(output.as_posix()), message) from None
        yield scratch


@contextmanager
def _output_lock(folder: Path) -> Iterator[None]:
    import fcntl  # POSIX; imported here so that reading content needs no more than os

    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + _LOCK_WAIT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise KamError(
                        f"{folder}: another kam-anki build has been writing here for "
                        f"{_LOCK_WAIT:.0f} s; stop it or wait"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(handle)


# What kam-anki 0.1 named its temporary files: a killed build of that version left these.
_LEGACY_TEMPORARY = (".kam-anki-*.anki2", f".{LOCK_NAME}.*.tmp", ".*.apkg.*.tmp", ".*.json.*.tmp")


def sweep(*folders: Path) -> None:
    """Remove what killed builds left in ``folders`` (call it holding :func:`output_lock`)."""
    for folder in folders:
        if not folder.is_dir():
            continue
        for pattern in (f"{TEMP_PREFIX}*", *_LEGACY_TEMPORARY):
            for path in folder.glob(pattern):
                path.unlink(missing_ok=True)


class DirectoryCache:
    """The file cache as a folder of small JSON files, one per checked Markdown file.

    A read-only one (for ``check`` and dry runs, which write nothing) only reads.
    """

    def __init__(self, folder: Path, *, writable: bool) -> None:
        self.folder = folder
        self.writable = writable

    def get(self, key: str) -> Checked | None:
        try:
            return load_checked((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, key: str, checked: Checked) -> None:
        if self.writable:
            path = self.folder / f"{key}.json"
            write_atomic(path, dump_checked(checked).encode("utf-8"), durable=False)

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


def as_text(writer: Callable[[TextIO], None]) -> Callable[[BinaryIO], None]:
    """A writer of UTF-8 text (``\\n`` line ends on every system) for :func:`write_atomic`."""

    def write(out: BinaryIO) -> None:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
        writer(text)
        text.flush()
        text.detach()  # the file stays open for write_atomic

    return write


Data = bytes | Callable[[BinaryIO], None]


def write_atomic(path: Path, data: Data, *, durable: bool = True) -> None:
    """Readers see the old file or the new one, never a part; a failure leaves no litter.

    ``data`` is the content, or a function that writes it to the file it is given.
    ``durable`` waits until the data is on disk (not needed for a cache).
    """
    write_together([(path, data)], durable=durable)


def write_together(
    files: Sequence[tuple[Path, Data]], *, durable: bool = True, stage_in: Path | None = None
) -> None:
    """Like :func:`write_atomic` for several files that belong together: every one is
    written in full first, and only then are they moved into place, in order. So a failure
    while writing (a full disk, a read-only folder) changes none.

    Files are written in ``stage_in`` (default: beside each target), so that a build killed
    at any moment leaves its temporary files there, never in ``content/``; only where the
    target lies on another file system are they written beside it.
    """
    staged: list[tuple[Path, Path]] = []
    path = files[0][0] if files else Path()
    try:
        for path, data in files:
            staged.append((_stage(path, data, durable, stage_in or path.parent), path))
        # Ctrl-C or SIGTERM wait until all are in place (kill -9 cannot be held back).
        with _signals_held():
            for index, (temporary, path) in enumerate(staged):
                try:
                    os.replace(temporary, path)
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
                    temporary.unlink()
                    staged[index] = (_stage(path, files[index][1], durable, path.parent), path)
                    os.replace(staged[index][0], path)
    except OSError as exc:
        # The target's name, never a temporary file's: that is the one the user knows.
        message = f"cannot write: {exc.strerror or exc}"
        raise PathError(printable(path.as_posix()), message) from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def temporary_file(folder: Path, suffix: str) -> Iterator[Path]:
    """An empty file of ours in ``folder``, removed afterwards whatever happens."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=suffix)
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _stage(path: Path, data: Data, durable: bool, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=f"-{path.name}")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                data(out)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary
