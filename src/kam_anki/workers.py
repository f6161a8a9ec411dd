"""Checking a build's files in forked worker processes (or in this one for a small build).

Sets signal handlers in the workers: the parent handles Ctrl-C and cleans up.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kam_anki.interrupts import STOPPING
from kam_anki.model import FileResult, SourceFile
from kam_anki.notes import FileContext, check_file

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess


def _serve(context: FileContext, tasks: Connection, parents_ends: list[Connection]) -> None:
    """A worker process: checks the files it is sent until its pipe closes."""
    for pipe in parents_ends:  # inherited: with them open here, no worker would see its end
        pipe.close()
    # The parent handles Ctrl-C and cleans up; it ends its workers with SIGTERM, which
    # (or SIGHUP) must simply end them (not run a handler inherited from the command line).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)  # held by the parent for the fork
    try:
        while True:
            task = tasks.recv()
            answer: tuple[bool, FileResult | Exception]
            try:
                answer = (True, check_file(context, *task))
            except Exception as exc:  # a bug: raised in the parent, which reports it
                answer = (False, exc)
            tasks.send(answer)
    except (EOFError, OSError):  # the parent closed its end: it needs nothing more
        return


class _Workers:
    """Forked processes that check files, each one file at a time over its own pipe.

    No queue, lock or helper thread is shared (multiprocessing.Pool has all three): a signal
    at any moment, or a worker that is gone, can never leave the parent waiting.
    """

    def __init__(self, context: FileContext, jobs: int) -> None:
        import multiprocessing  # only here: a small build never pays for importing it

        fork = multiprocessing.get_context("fork")
        self.pipes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        try:
            for _ in range(jobs):
                mine, theirs = fork.Pipe()
                self.pipes.append(mine)
                process = fork.Process(
                    target=_serve, args=(context, theirs, list(self.pipes)), daemon=True
                )
                # A signal during a fork would be handled in an at-fork callback, where
                # Python drops the KeyboardInterrupt it raises: hold it until after.
                old = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
                try:
                    process.start()
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, old)
                self.processes.append(process)
                theirs.close()  # so that a worker's end shows as the pipe's end
        except BaseException:
            self.stop(finished=False)
            raise

    def check(self, tasks: Iterable[tuple[SourceFile, str]]) -> Iterator[FileResult]:
        """Checked files in the order of ``tasks``; a few are in flight at a time."""
        from multiprocessing.connection import wait

        pending = iter(tasks)
        idle = list(self.pipes)
        busy: dict[Connection, int] = {}
        results: dict[int, FileResult] = {}
        sent = done = 0
        exhausted = False
        while True:
            while idle and not exhausted and sent - done < 4 * len(self.pipes):
                task = next(pending, None)
                if task is None:
                    exhausted = True
                    break
                pipe = idle.pop()
                pipe.send(task)
                busy[pipe] = sent
                sent += 1
            while done in results:
                yield results.pop(done)
                done += 1
            if not busy:
                # All workers idle: the end only if no task is left (they may have been
                # idle because the files in flight were at their limit, now yielded).
                if exhausted:
                    return
                continue
            ready = wait(list(busy))
            for pipe in [pipe for pipe in busy if pipe in ready]:
                try:
                    ok, value = pipe.recv()
                except EOFError:
                    raise RuntimeError("a worker process ended unexpectedly") from None
                if not ok:
                    raise value
                results[busy.pop(pipe)] = value
                idle.append(pipe)

    def stop(self, *, finished: bool) -> None:
        """Closed pipes end idle workers; after an interruption busy ones are ended first
        (so none is left to find its pipe closed in the middle of an answer)."""
        if not finished:
            for process in self.processes:
                process.terminate()
        for pipe in self.pipes:
            pipe.close()
        for process in self.processes:
            process.join()


@contextmanager
def checked_files(
    context: FileContext, tasks: Iterable[tuple[SourceFile, str]], jobs: int
) -> Iterator[Iterable[FileResult]]:
    """Checked files in the order of ``tasks``; with ``jobs`` > 1 from worker processes.

    Workers are forked: they start with the context without copying it through a pipe.
    """
    if jobs <= 1 or "fork" not in _start_methods():
        yield (check_file(context, *task) for task in tasks)
        return
    workers = _Workers(context, jobs)
    finished = False
    try:
        yield workers.check(tasks)
        finished = True
    finally:
        workers.stop(finished=finished)


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def cores() -> int:
    """Cores this process may use (all of the machine's where that cannot be asked)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def jobs_for(cores: int, markdown_bytes: int, cached: int) -> int:
    """How many processes to render with. Rendering is most of a cold build; a second
    process pays for its start from about a thousand cards (~150 KB of Markdown). A build
    with a warm cache renders little, so it stays in one process."""
    if cached or markdown_bytes < 150_000:
        return 1
    return max(1, min(cores, 4))
