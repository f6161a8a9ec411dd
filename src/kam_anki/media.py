"""Images a card may show: which file types, their MIME types, and the name in the package."""

from __future__ import annotations

import hashlib
import posixpath

# By lower-case suffix: what the package may carry and the preview inlines.
MIME_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
IMAGE_TYPES = frozenset(MIME_TYPES)


def is_image(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in IMAGE_TYPES


def mime_type(name: str) -> str | None:
    return MIME_TYPES.get(posixpath.splitext(name)[1].lower())


def media_name(path: str, data: bytes) -> str:
    """Content-addressed: equal names mean equal bytes, so images never collide."""
    suffix = posixpath.splitext(path)[1].lower()
    return f"kam-{hashlib.sha256(data).hexdigest()[:20]}{suffix}"
