"""Worker processes hand back every file, in order, however unevenly the files take.

Found with a 20,000-card first build at a terminal (issue 23): one slow file let the other
worker run ahead to the limit of files in flight; when both were idle at once, the build
ended as if every file were done and shipped 4,800 of the 20,000 cards, without a word.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kam_anki import workers
from kam_anki.errors import Diagnostic
from kam_anki.model import Assets, DeckConfig, FileResult, SourceFile
from kam_anki.notes import FileContext

FILES = 40
JOBS = 2


def test_a_slow_file_loses_no_file_behind_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first file waits until the eighth is done (the other worker's whole share of the
    files in flight), so both workers fall idle together with the first file's result."""
    eighth_done = tmp_path / "eighth-done"

    def check_file(context: FileContext, source: SourceFile, key: str) -> FileResult:
        if key == "0":
            deadline = time.monotonic() + 30  # only a broken test waits this long
            while not eighth_done.exists() and time.monotonic() < deadline:
                time.sleep(0.005)
        if key == str(4 * JOBS - 1):
            eighth_done.touch()
        return FileResult((), (), {}, (Diagnostic(source.path, 1, "warning", key),))

    monkeypatch.setattr(workers, "check_file", check_file)  # the forked workers run it
    context = FileContext(DeckConfig("D", 1, 2), Assets(), None)
    tasks = [(SourceFile(f"{n:02d}.md", ""), str(n)) for n in range(FILES)]
    with workers.checked_files(context, tasks, JOBS) as checked:
        done = [one.diagnostics[0].message for one in checked]
    assert done == [str(n) for n in range(FILES)]
