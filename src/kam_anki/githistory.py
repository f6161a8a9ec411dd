"""The edge where git comes in: every committed version of the lock file, read as git
stores it, incrementally (a cache beside the output remembers what earlier builds read).

Which commits count: those ``HEAD`` descends from (the lineage: its cards become tombstones
when they are gone), and every other commit a reflog knows (reset, stashed, other
branches). Where the history cannot be read in full (a shallow clone, no git, a repository
git refuses), the build says so and what to do.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kam_anki.errors import Diagnostic
from kam_anki.history import HistoryCache, Newest, load_cache
from kam_anki.state import LOCK_NAME, MAX_TIME, ShippedStamps

_TIMEOUT = 300  # seconds for one git command; a larger history is read over several builds
# English messages (they are recognised below), no pager or prompt, no index refresh.
_ENV = {"LC_ALL": "C", "LANGUAGE": "", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


@dataclass(frozen=True)
class LockHistory:
    stamps: ShippedStamps
    warnings: tuple[Diagnostic, ...] = ()
    cache: HistoryCache | None = None  # to keep beside the output for the next build


class _GitFailed(Exception):
    """A git command failed: its first line of complaint."""


def read_lock_history(root: Path, cached: bytes) -> LockHistory:
    """Every committed version of ``root``'s lock file, merged; ``cached`` is what an
    earlier build kept (:func:`kam_anki.history.dump_cache`), or empty."""
    where = _repository(root)
    if isinstance(where, LockHistory):
        return where
    git_dir, shallow, prefix, tip = where
    warnings = []
    if shallow == "true":
        warnings.append(
            _warning(
                "this is a shallow clone (git clone --depth, the default of many CI "
                "checkouts): lock versions older than its first commit cannot be read, so "
                "a card that git revert or reset brings back may not reach learners; run "
                "git fetch --unshallow (in CI: fetch the whole history, e.g. fetch-depth: 0)"
            )
        )
    # A shallow clone can be deepened below the commits read before: it is read in full
    # every time (it is short) and nothing is kept.
    cache = load_cache(b"" if shallow == "true" else cached, f"{git_dir}\n{prefix}{LOCK_NAME}")
    try:
        tracked, late = _read(root, cache, tip)
        ignored = not tracked and (root / LOCK_NAME).exists()
        if ignored and _run(root, "check-ignore", "-q", LOCK_NAME).returncode == 0:
            warnings.append(
                _warning(
                    "git ignores this file (.gitignore), so its history is never kept: a card "
                    "that git revert, reset or checkout brings back may not reach learners; "
                    f"commit it with the content (git add -f {prefix}{LOCK_NAME})"
                )
            )
    except (_GitFailed, OSError, subprocess.SubprocessError) as exc:
        return _unread(_advice(str(exc)))
    if late:  # said by the build that reads them (no build ever shipped such a time)
        warnings.append(
            _warning(
                f"{sum(late.values())} line(s) in the lock's git history (commit(s) "
                f"{', '.join(c[:12] for c in sorted(late)[:3])}) have a time after 2100 "
                f"({MAX_TIME}), which no lock may hold: passed over"
            )
        )
    return LockHistory(cache.stamps(tip), tuple(warnings), cache if shallow != "true" else None)


def lock_versions(root: Path) -> Iterator[str]:
    """Every committed version of the lock, read whole (no cache: ``pull`` needs every
    version of each card, not the newest); nothing outside git or where git cannot say."""
    try:
        commits = _log(root, "HEAD") + _log(root, "--reflog", "--not", "HEAD")
        for _, _, text in _versions(root, commits):
            yield text
    except (_GitFailed, OSError, subprocess.SubprocessError):
        return


def knows_a_lock(root: Path) -> bool:
    """Whether git remembers a version of a lock file in ``root`` (HEAD or a reflog)."""
    try:
        return bool(_log(root, "HEAD") or _log(root, "--reflog"))
    except (_GitFailed, OSError, subprocess.SubprocessError):
        return False


def _repository(root: Path) -> tuple[str, str, str, str] | LockHistory:
    """The git folder, whether the clone is shallow, where ``root`` is in the checkout and
    HEAD's commit ("" before the first); or the history to use when git cannot say."""
    asked = ("rev-parse", "--absolute-git-dir", "--is-shallow-repository", "--show-prefix")
    try:
        done = _run(root, *asked, "HEAD^{commit}")
    except FileNotFoundError:
        checkout = _checkout_of(root)
        if checkout is None:
            return LockHistory(ShippedStamps())
        return _unread(
            f"{checkout} is a git checkout, but git is not installed (not on PATH): the "
            "lock's history cannot be read; install git and build again"
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return _unread(_advice(str(exc)))
    lines = done.stdout.decode("utf-8", "surrogateescape").split("\n")
    complaint = done.stderr.decode("utf-8", "replace")
    if done.returncode and "unknown revision" in complaint and len(lines) >= 3:
        lines[3:] = [""]  # no commit yet
    elif done.returncode:
        if "not a git repository (or any" in complaint and _checkout_of(root) is None:
            return LockHistory(ShippedStamps())  # outside git: the record and the lock count
        return _unread(_advice(complaint.strip() or "git rev-parse failed"))
    git_dir, shallow, prefix, tip = [*lines, "", "", "", ""][:4]
    return git_dir, shallow, prefix, tip


def _read(root: Path, cache: HistoryCache, tip: str) -> tuple[bool, dict[str, int]]:
    """``cache`` brought up to date with the commits made (or reached) since: when HEAD
    (``tip``) descends from a commit HEAD was at in a recent build, only the commits in
    between are read. Returns whether the lock is in git's index (tracked), and the lines
    passed over (times after :data:`MAX_TIME`) by the commit they were first read in."""
    if not tip:  # no commit yet
        return any(True for _ in _versions(root, [""])), {}
    since = next((t for t in cache.lineages if t == tip or _descends(root, tip, t)), "")
    lineage = [] if since == tip else _log(root, tip, *(("--not", since) if since else ()))
    kept = dict(cache.lineages.get(since, {}))  # a copy: the old one stays its commit's
    seen = {*cache.commits, *lineage}
    others = [c for c in _log(root, "--reflog", "--not", tip) if c not in seen]
    in_lineage = set(lineage)
    found = {True: Newest(), False: Newest()}
    read: set[tuple[str, bool]] = set()
    late: dict[str, int] = {}
    tracked = False
    for commit, blob, text in _versions(root, ["", *lineage, *others]):
        if not commit:
            tracked = True  # the index has it
            continue
        newest = found[commit in in_lineage]
        if (blob, commit in in_lineage) in read:
            continue  # the same version again (a revert): read once
        read.add((blob, commit in in_lineage))
        before = newest.ignored
        newest.read(text)
        if newest.ignored > before:
            late[commit] = newest.ignored - before
    cache.take(found[True], lineage, kept)
    cache.take(found[False], others)
    cache.keep(tip, kept)
    return tracked, late


def _descends(root: Path, commit: str, ancestor: str) -> bool:
    return _run(root, "merge-base", "--is-ancestor", ancestor, commit).returncode == 0


def _log(root: Path, *revisions: str) -> list[str]:
    """The commits among ``revisions`` that changed the lock, newest first; merges and both
    sides of them too (no history simplification)."""
    out = _git(root, "log", "--format=%H", "--full-history", *revisions, "--", LOCK_NAME)
    return out.decode("ascii").split()


def _versions(root: Path, commits: Sequence[str]) -> Iterator[tuple[str, str, str]]:
    """The lock as each commit holds it (``""``: as git's index holds it), as stored (no
    diff, no attributes), with its blob id: ``(commit, blob, text)`` for those that have
    it. One git process, read one version at a time as it answers: a long history is never
    held in memory."""
    # git keeps up to 96 MiB of delta bases by default: a long history of one file would
    # fill it (the file's versions are deltas of each other); 16 MiB reads as fast.
    command = ["git", "-C", str(root), "-c", "core.deltaBaseCacheLimit=16m", "cat-file", "--batch"]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **_ENV},
    ) as git:
        assert git.stdin is not None and git.stdout is not None
        stdin = git.stdin

        def ask() -> None:  # in a thread: git answers while it is still being asked
            with contextlib.suppress(OSError), stdin:  # git gone: the reading side says so
                stdin.write("".join(f"{c}:./{LOCK_NAME}\n" for c in commits).encode("ascii"))

        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        for commit in commits:
            header = git.stdout.readline().split()
            if not header:
                raise _GitFailed("git cat-file gave no answer")
            if len(header) != 3:
                continue  # "missing": this commit deleted the lock (or the index lacks it)
            data = git.stdout.read(int(header[2]) + 1)[:-1]
            if header[1] == b"blob":
                yield commit, header[0].decode("ascii"), data.decode("utf-8", "replace")
        asking.join()


def _run(root: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **_ENV},
        timeout=_TIMEOUT,
        check=False,
    )


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """A git command's output; raises :class:`_GitFailed` with its complaint if it fails."""
    done = _run(root, *args, stdin=stdin)
    if done.returncode:
        raise _GitFailed(done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return done.stdout


def _checkout_of(root: Path) -> Path | None:
    """The folder of the git checkout ``root`` is in, found without git."""
    for folder in (root.resolve(), *root.resolve().parents):
        if (folder / ".git").exists():
            return folder
    return None


def _advice(complaint: str) -> str:
    lines = [line.strip() for line in complaint.splitlines() if line.strip()]
    if "dubious ownership" in complaint:
        command = next((line for line in lines if "safe.directory" in line), "")
        return (
            "git refuses this checkout (it belongs to another user: 'dubious ownership'), so "
            "the lock's history cannot be read; if you trust it, run: "
            + (command or "git config --global --add safe.directory <the checkout's folder>")
        )
    first = lines[0] if lines else "no message"
    return f"git cannot read the lock's history ({first}); fix that and build again"


def _warning(message: str) -> Diagnostic:
    return Diagnostic(LOCK_NAME, 0, "warning", message)


def _unread(message: str) -> LockHistory:
    """The history could not be read: a build still works from the lock and the record, and
    says that a card brought back by git (revert, reset, checkout) may not reach learners."""
    return LockHistory(
        ShippedStamps(),
        (
            _warning(
                f"{message}. Until then, a card that git revert, reset or checkout brings "
                "back to an older text may not reach learners who have the newer one"
            ),
        ),
    )
