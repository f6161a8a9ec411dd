"""Content -> package: the build pipeline, pure (the clock comes in as ``now``)."""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import unquote

from kam_anki.cache import Rendered, cache_key
from kam_anki.errors import ContentError, Diagnostic
from kam_anki.model import Assets, Card, DeckConfig, Note, SourceFile
from kam_anki.notetype import NoteType
from kam_anki.package import build_apkg
from kam_anki.parse import parse_sources
from kam_anki.render import ImageResolver, render_answer, render_question, render_text
from kam_anki.state import Changes, Stamp, State, advance

REMOVED_TAG = "kam::entfernt"
REMOVED_DECK = "Entfernt"
REMOVED_ANSWER = (
    "<p><em>Diese Karte ist nicht mehr in den Markdown-Quellen des Stapels. "
    "Sie kann gelöscht werden.</em></p>"
)
IMAGE_TYPES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"})
_COUNT_HINT = re.compile(r"\((\d{1,3})\)[\s?.:!]*$")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


@dataclass(frozen=True)
class Result:
    apkg: bytes
    state: State
    changes: Changes
    notes: tuple[Note, ...]
    warnings: tuple[Diagnostic, ...]
    cache: Mapping[str, Rendered]


def removed_search(config: DeckConfig) -> str:
    """What to paste into Anki's browser to find the cards removed from the Markdown."""
    return f'"deck:{config.name}" tag:{REMOVED_TAG}'


def media_name(path: str, data: bytes) -> str:
    """Content-addressed: equal names mean equal bytes, so images never collide."""
    suffix = posixpath.splitext(path)[1].lower()
    return f"kam-{hashlib.sha256(data).hexdigest()[:20]}{suffix}"


@dataclass
class _Checked:
    """What rendering the cards found: media to package and problems to report."""

    assets: Assets
    cached: Mapping[str, Rendered]
    used: dict[str, Rendered] = field(default_factory=dict)  # the next build's cache
    media: dict[str, bytes] = field(default_factory=dict)
    found: list[Diagnostic] = field(default_factory=list)

    def _render(self, config: DeckConfig, card: Card, images: ImageResolver) -> Rendered:
        if "![" in card.answer:  # image names depend on the image files: not cacheable
            return (
                render_question(card.question, allow_html=config.allow_html),
                render_answer(card.answer, allow_html=config.allow_html, images=images),
            )
        key = cache_key(card.question, card.answer, config.allow_html)
        rendered = self.cached.get(key)
        if rendered is None:
            rendered = (
                render_question(card.question, allow_html=config.allow_html),
                render_answer(card.answer, allow_html=config.allow_html),
            )
        self.used[key] = rendered
        return rendered

    def note(self, config: DeckConfig, card: Card) -> Note:
        def at(line: int) -> int:
            return card.answer_line + line - 1

        def image(src: str, line: int) -> str:
            resolved, problem = self._resolve(card.path, unquote(src))
            if problem:
                self.found.append(Diagnostic(card.path, at(line), "error", problem))
                return src
            data = self.assets.files[resolved]
            name = media_name(resolved, data)
            self.media[name] = data
            return name

        question, answer = self._render(config, card, image)

        def warn(line: int, message: str) -> None:
            self.found.append(Diagnostic(card.path, line, "warning", message))

        hint = _COUNT_HINT.search(card.question)
        if hint and int(hint.group(1)) != answer.top_level_items:
            warn(
                card.line,
                f"question says ({hint.group(1)}) but the answer lists "
                f"{answer.top_level_items} items",
            )
        for line in answer.empty_items:
            warn(at(line), "empty list item")
        if not config.allow_html:
            for line in answer.raw_html:
                warn(at(line), "raw HTML is shown as text (allow_html = true in deck.toml)")
        return Note(
            card_id=card.id,
            fields=(
                question,
                answer.html,
                render_text(card.chapter),
                render_text(card.source),
            ),
            tags=config.tags,
            deck=f"{config.name}::{card.chapter}",
        )

    def _resolve(self, page: str, target: str) -> tuple[str, str | None]:
        """An image path relative to its Markdown file, checked to stay inside content/."""
        if _URL_SCHEME.match(target):
            return (
                "",
                f"image {target!r} is not a file: put it into content/ and link it relatively",
            )
        if target.startswith("/") or "\\" in target:
            return "", f"image {target!r}: use a relative path with '/' inside content/"
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page), target))
        if path == ".." or path.startswith("../"):
            return "", f"image {target!r} points outside content/"
        if path in self.assets.escaping:
            return "", f"image {target!r} is a symlink leading outside content/"
        if posixpath.splitext(path)[1].lower() not in IMAGE_TYPES:
            return "", f"image {target!r}: not a PNG, JPEG, GIF, SVG or WebP file"
        if path not in self.assets.files:
            return "", f"image {target!r} not found (looked for content/{path})"
        return path, None


def _duplicate_questions(cards: Sequence[Card]) -> list[Diagnostic]:
    first: dict[str, Card] = {}
    found = []
    for card in cards:
        other = first.setdefault(card.question.casefold(), card)
        if other is not card:
            found.append(
                Diagnostic(
                    card.path,
                    card.line,
                    "warning",
                    f"same question as {other.path}:{other.line} ({other.id})",
                )
            )
    return found


def note_digest(note: Note) -> str:
    """Everything an import writes into the note: fields and tags (not the deck)."""
    # Anki's own separators: they cannot occur inside a field or a tag.
    payload = "\x1f".join(note.fields) + "\x1e" + " ".join(note.tags)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def tombstone_note(config: DeckConfig, card_id: str, stamp: Stamp) -> Note:
    return Note(
        card_id=card_id,
        fields=(
            render_question(stamp.question, allow_html=config.allow_html),
            REMOVED_ANSWER,
            "entfernt",
            render_text(f"#{card_id}"),
        ),
        tags=(*config.tags, REMOVED_TAG),
        # Cards already in a collection stay where they are; a new learner finds these
        # in a subdeck that says what they are.
        deck=f"{config.name}::{REMOVED_DECK}",
        mod=stamp.mod,
    )


def build(
    config: DeckConfig,
    notetype: NoteType,
    sources: Sequence[SourceFile],
    previous: State | None,
    now: int,
    *,
    assets: Assets | None = None,
    cache: Mapping[str, Rendered] | None = None,
    forget_removed: bool = False,
) -> Result:
    """``cache`` holds earlier renders; ``Result.cache`` what this build rendered."""
    cards, found = parse_sources(sources, where="")
    checked = _Checked(assets or Assets(), cache or {})
    notes = [checked.note(config, card) for card in cards]
    problems = sorted([*found, *checked.found, *_duplicate_questions(cards)])
    errors = [d for d in problems if d.severity == "error"]
    if errors:
        raise ContentError(errors)
    stamps = {
        note.card_id: Stamp(note_digest(note), 0, card.question)
        for note, card in zip(notes, cards, strict=True)
    }
    state, changes = advance(previous, stamps, notetype.digest, now, forget_removed=forget_removed)
    timed = [replace(note, mod=state.cards[note.card_id].mod) for note in notes]
    tombstones = [tombstone_note(config, key, s) for key, s in state.removed.items()]
    apkg = build_apkg(
        config,
        notetype,
        state.notetype.mod,
        [*timed, *tombstones],
        state.epoch,
        media=sorted(checked.media.items()),
    )
    notes_out = (*timed, *tombstones)
    return Result(apkg, state, changes, notes_out, tuple(problems), checked.used)
