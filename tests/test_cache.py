"""The file cache speeds rebuilds up and can never serve stale cards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import RunBuild, edit
from kam_anki import cache, render
from kam_anki.cache import CACHE_DIR

MARK = "<p>AUS DEM CACHE</p>"


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / CACHE_DIR).glob("*.json"))


def tamper(tmp_path: Path) -> None:
    """Replace every cached answer with marked HTML, to see whether the cache is used."""
    for path in entries(tmp_path):
        data = json.loads(path.read_text(encoding="utf-8"))
        for note in data["notes"]:
            note["fields"]["answer"] = MARK
        path.write_text(json.dumps(data), encoding="utf-8")


def test_output_is_byte_identical_with_and_without_cache(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    assert len(entries(tmp_path)) == 1  # one Markdown file, one entry
    with_cache = (tmp_path / "kam.apkg").read_bytes()
    for path in entries(tmp_path):
        path.unlink()
    build()
    assert (tmp_path / "kam.apkg").read_bytes() == with_cache


def test_rebuild_takes_unchanged_files_from_the_cache(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    build()
    tamper(tmp_path)
    result = build("--dry-run")  # the marked HTML is used, so every digest differs
    assert "8 changed" in result.output


def test_edited_file_is_checked_again(content: Path, tmp_path: Path, build: RunBuild) -> None:
    build()
    tamper(tmp_path)
    edit(content / "key-account-management.md", "- Erfolgsmessung", "- Erfolgskontrolle")
    result = build()
    assert "1 changed, 0 removed, 7 unchanged" in result.output
    (entry,) = entries(tmp_path)  # the old entry is gone, the new one is right
    assert MARK not in entry.read_text(encoding="utf-8")


def test_another_converter_version_never_uses_old_entries(
    content: Path, tmp_path: Path, build: RunBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    build()
    good = (tmp_path / "kam.apkg").read_bytes()
    tamper(tmp_path)
    monkeypatch.setattr(render, "CONVERTER_VERSION", "test-next")
    monkeypatch.setattr(cache, "CONVERTER_VERSION", "test-next")
    cache._code_version.cache_clear()
    try:
        result = build()
    finally:
        cache._code_version.cache_clear()
    assert "0 changed" in result.output
    assert (tmp_path / "kam.apkg").read_bytes() == good


def test_dry_run_writes_no_cache(content: Path, tmp_path: Path, build: RunBuild) -> None:
    build("--dry-run")
    assert entries(tmp_path) == []


def test_parallel_render_gives_the_same_package_as_one_process(tmp_path: Path) -> None:
    from kam_anki.api import package_bytes
    from kam_anki.model import DeckConfig, SourceFile

    config = DeckConfig("T", 11, 12, ("t",))
    sources = [
        SourceFile(
            f"k{f:02d}.md",
            f"# Kapitel {f}\n\n"
            + "".join(
                f"## Frage {f}-{c} (2) {{#f{f}-c{c}}}\n\n- **eins** {c}\n- zwei\n\n"
                for c in range(12)
            ),
        )
        for f in range(20)
    ]
    packages = []
    for jobs in (1, 2):
        data, outcome = package_bytes(config, sources, 1_700_000_000, scratch=tmp_path, jobs=jobs)
        packages.append((data, outcome.result.state, outcome.result.warnings))
    assert len(packages[0][1].cards) == 240
    assert packages[0] == packages[1]
