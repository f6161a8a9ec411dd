"""The edge where outputs go out: files written atomically (alone or together), one writing
build per output folder, what killed builds left swept away (in the file cache's folder too).
Holds signals while files move into place."""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from kam_anki.cache import CACHE_DIR
from kam_anki.errors import KamError, PathError, printable
from kam_anki.interrupts import STOPPING

# Every temporary file kam-anki makes starts with this: what a killed build leaves behind is
# recognised and removed by the next build (see output_lock).
TEMP_PREFIX = ".kam-anki-tmp-"
_LOCK_WAIT = 30.0  # seconds to wait for another build writing to the same folder


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


# The names tempfile gives our temporaries: the prefix, eight random characters, then
# ".anki2" (the scratch collection) or "-" and the target's name. A name of another shape,
# even a hidden "*.tmp", is the user's: never deleted.
_OURS = re.compile(rf"{re.escape(TEMP_PREFIX)}[a-z0-9_]{{8}}(?:\.anki2|-.+)", re.DOTALL)


def sweep(*folders: Path) -> None:
    """Remove what killed builds left in ``folders`` (call it holding :func:`output_lock`):
    temporary files of this program's own naming only."""
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.glob(f"{TEMP_PREFIX}*"):
            if _OURS.fullmatch(path.name) and not path.is_dir():
                path.unlink(missing_ok=True)


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
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
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
