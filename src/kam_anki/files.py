"""The edge: reading ``content/`` and writing outputs atomically. No logic beyond I/O."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kam_anki.build import IMAGE_TYPES
from kam_anki.cache import CACHE_NAME, Rendered, dump_cache, load_cache
from kam_anki.config import parse_config
from kam_anki.errors import ContentError, KamError
from kam_anki.model import Assets, DeckConfig, SourceFile
from kam_anki.parse import decode
from kam_anki.state import LOCK_NAME, State, load_state

CONFIG_NAME = "deck.toml"


@dataclass(frozen=True)
class Content:
    root: Path
    config: DeckConfig
    sources: tuple[SourceFile, ...]
    previous: State | None
    assets: Assets

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME


def markdown_paths(root: Path) -> list[Path]:
    """Every ``*.md`` below ``root``, in sorted order of their relative POSIX paths."""
    found = [p for p in root.rglob("*.md") if p.is_file()]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_assets(root: Path) -> Assets:
    """Image files under ``root``; symlinks that lead out of it are noted, never read."""
    inside = root.resolve()
    files: dict[str, bytes] = {}
    escaping: set[str] = set()
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in IMAGE_TYPES or not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        if not path.resolve().is_relative_to(inside):
            escaping.add(relative)
        else:
            files[relative] = path.read_bytes()
    return Assets(files, frozenset(escaping))


def read_content(root: Path) -> Content:
    if not root.is_dir():
        raise KamError(f"{root}: not a folder (expected the content folder with {CONFIG_NAME})")
    config_path = root / CONFIG_NAME
    if not config_path.is_file():
        raise ContentError.at(CONFIG_NAME, 1, f"missing {CONFIG_NAME} in {root}")
    config = parse_config(decode(config_path.read_bytes(), CONFIG_NAME), CONFIG_NAME)
    sources = []
    for path in markdown_paths(root):
        relative = path.relative_to(root).as_posix()
        sources.append(SourceFile(relative, decode(path.read_bytes(), relative)))
    lock = root / LOCK_NAME
    previous = load_state(lock.read_text(encoding="utf-8"), LOCK_NAME) if lock.is_file() else None
    return Content(root, config, tuple(sources), previous, read_assets(root))


def read_cache(output: Path) -> dict[str, Rendered]:
    """The render cache beside ``output``; a missing or unreadable one is empty."""
    try:
        return load_cache((output.parent / CACHE_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}


def write_cache(output: Path, entries: Mapping[str, Rendered]) -> None:
    write_atomic(output.parent / CACHE_NAME, dump_cache(entries).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a part; a failure leaves no litter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
