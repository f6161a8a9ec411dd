"""The render cache speeds rebuilds up and can never serve stale HTML."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Build
from kam_anki.cache import CACHE_NAME
from test_update_in_place import edit


def cache_file(tmp_path: Path) -> Path:
    return tmp_path / CACHE_NAME


def tamper(path: Path, version: str | None = None) -> None:
    """Replace every cached answer with marked HTML (optionally under another version)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for entry in data["cards"].values():
        entry[1] = "<p>AUS DEM CACHE</p>"
    if version is not None:
        data["version"] = version
    path.write_text(json.dumps(data), encoding="utf-8")


def test_output_is_byte_identical_with_and_without_cache(
    content: Path, tmp_path: Path, build: Build
) -> None:
    build()
    assert cache_file(tmp_path).exists()
    with_cache = (tmp_path / "kam.apkg").read_bytes()
    cache_file(tmp_path).unlink()
    build()
    assert (tmp_path / "kam.apkg").read_bytes() == with_cache


def test_rebuild_takes_unchanged_cards_from_the_cache(
    content: Path, tmp_path: Path, build: Build
) -> None:
    build()
    tamper(cache_file(tmp_path))
    result = build("--dry-run")  # the marked HTML is used, so every digest differs
    assert "8 changed" in result.output


def test_cache_of_another_converter_version_is_ignored(
    content: Path, tmp_path: Path, build: Build
) -> None:
    build()
    good = (tmp_path / "kam.apkg").read_bytes()
    tamper(cache_file(tmp_path), version="0/0.0.0")
    result = build()
    assert "0 changed" in result.output
    assert (tmp_path / "kam.apkg").read_bytes() == good
    assert "AUS DEM CACHE" not in cache_file(tmp_path).read_text(encoding="utf-8")


def test_edited_card_is_rendered_again(content: Path, tmp_path: Path, build: Build) -> None:
    build()
    tamper(cache_file(tmp_path))
    edit(content / "key-account-management.md", "- Erfolgsmessung", "- Erfolgskontrolle")
    build()
    answers = [e[1] for e in json.loads(cache_file(tmp_path).read_text("utf-8"))["cards"].values()]
    assert answers.count("<p>AUS DEM CACHE</p>") == 7
    assert [a for a in answers if "Erfolgskontrolle" in a] == [
        "<ul>\n<li>KA-Strategie, -Vision &amp; Ziele</li>\n<li>Leistung &amp; Gegenleistung</li>\n"
        "<li>Aufgaben und Prozesse</li>\n<li>Koordination &amp; Team</li>\n"
        "<li>Erfolgskontrolle</li>\n</ul>\n"
    ]
