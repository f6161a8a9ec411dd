"""Content -> package: the build pipeline, pure (the clock comes in as ``now``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kam_anki.errors import Diagnostic
from kam_anki.model import Card, DeckConfig, Note, SourceFile
from kam_anki.notetype import NoteType
from kam_anki.package import build_apkg
from kam_anki.parse import parse_sources
from kam_anki.render import render_answer, render_question, render_text
from kam_anki.state import Changes, Stamp, State, advance

REMOVED_TAG = "kam::entfernt"
REMOVED_DECK = "Entfernt"
REMOVED_ANSWER = (
    "<p><em>Diese Karte ist nicht mehr in den Markdown-Quellen des Stapels. "
    "Sie kann gelöscht werden.</em></p>"
)


@dataclass(frozen=True)
class Result:
    apkg: bytes
    state: State
    changes: Changes
    notes: tuple[Note, ...]
    warnings: tuple[Diagnostic, ...]


def removed_search(config: DeckConfig) -> str:
    """What to paste into Anki's browser to find the cards removed from the Markdown."""
    return f'"deck:{config.name}" tag:{REMOVED_TAG}'


def card_note(config: DeckConfig, card: Card) -> Note:
    return Note(
        card_id=card.id,
        fields=(
            render_question(card.question, allow_html=config.allow_html),
            render_answer(card.answer, allow_html=config.allow_html),
            render_text(card.chapter),
            render_text(card.source),
        ),
        tags=config.tags,
        deck=f"{config.name}::{card.chapter}",
    )


def note_digest(note: Note) -> str:
    """Everything an import writes into the note: fields and tags (not the deck)."""
    payload = json.dumps([note.fields, note.tags], ensure_ascii=False)
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
    forget_removed: bool = False,
) -> Result:
    cards, warnings = parse_sources(sources, where="")
    notes = [card_note(config, card) for card in cards]
    stamps = {
        note.card_id: Stamp(note_digest(note), 0, card.question)
        for note, card in zip(notes, cards, strict=True)
    }
    state, changes = advance(
        previous, stamps, notetype.digest, now, forget_removed=forget_removed
    )
    timed = [replace(note, mod=state.cards[note.card_id].mod) for note in notes]
    tombstones = [tombstone_note(config, key, s) for key, s in state.removed.items()]
    apkg = build_apkg(
        config,
        notetype,
        state.notetype.mod,
        [*timed, *tombstones],
        state.epoch,
    )
    return Result(apkg, state, changes, tuple([*timed, *tombstones]), tuple(warnings))
