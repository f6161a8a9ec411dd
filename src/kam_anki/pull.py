"""Learners' edits in Anki -> the Markdown: what ``kam-anki pull`` decides, card by card; pure.

A note in Anki is matched to its card by GUID. Whether the learner changed it is told by the
versions ever shipped (their digests, :func:`kam_anki.history.shipped_digests`): a note that
is one of them is as shipped. An edited note is pulled when the card's Markdown did not
change since: the card is as last shipped, and that version is not newer than the edit
(were it newer, an import would have replaced the edit, and the learner edited an older
version). Otherwise both sides changed: a conflict, and the Markdown stays as it is.

A list note (:mod:`kam_anki.listcards`) holds its card's question and its answer with each
item a cloze: an edit there is an edit of the card. Each cloze's number names its item (the
lock keeps which): the list field with the clozes taken off, their numbers checked against
the list's items, is the card's answer again. A card edited through its own note and its
list note is pulled when the two agree (or changed different fields). (A new kind of note
comes in as a :class:`Target` with the card it is made from, and a way back to that card's
fields in :func:`_decide`.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kam_anki.ankihtml import Unsayable
from kam_anki.learner import LearnerNote
from kam_anki.mdtext import canonical
from kam_anki.model import Card, Note
from kam_anki.notetype import FIELDS, LIST_FIELDS
from kam_anki.pulltext import Edit, Images, apply_edits
from kam_anki.unrender import answer_markdown, question_markdown

Kind = Literal["pulled", "conflict", "not pulled"]


# A cloze as Anki reads it: up to the first "}}" (the build writes braces in an item as
# character references, and a "::" in it would start a hint).
_CLOZE = re.compile(r"\{\{c(\d{1,9})::(.*?)\}\}", re.DOTALL)


_QUESTION, _ANSWER, _CHAPTER, _SOURCE = FIELDS


@dataclass(frozen=True)
class Target:
    """A note of the deck, as the content has it now, that a learner's note may be."""

    card: Card  # its card (for a list note: the card with the list)
    note: Note  # as the build makes it now
    changed: bool  # the Markdown changed since the card was last shipped
    shipped: frozenset[str]  # the digests of every version shipped

    @property
    def names(self) -> tuple[str, ...]:
        """Its note type's field names (a list note's answer is its list)."""
        return LIST_FIELDS if self.note.clozes else FIELDS


@dataclass(frozen=True)
class Finding:
    """One line of the report (and, for a conflict, both texts)."""

    kind: Kind
    path: str
    line: int
    card_id: str
    message: str
    learner: str = ""
    author: str = ""


@dataclass(frozen=True)
class Pulled:
    findings: tuple[Finding, ...]
    texts: Mapping[str, str]  # the files that change -> their new text
    unchanged: int  # notes found as shipped (or as the Markdown has them now)


def plan(
    targets: Mapping[str, Target],
    learner: Sequence[LearnerNote],
    read: Callable[[str], str],
    *,
    allow_html: bool,
    images: Images,
) -> Pulled:
    """What to write where: ``targets`` by GUID, the learner's notes, and ``read`` giving a
    content file's text (line ends as they are) by its path."""
    findings: list[Finding] = []
    by_card: dict[str, list[tuple[str, Edit]]] = {}  # by card id: from its note, its list note
    edits: dict[str, list[Edit]] = {}  # by file
    unchanged = 0
    for note in learner:
        target = targets.get(note.guid)
        if target is None:
            continue
        try:
            outcome = _decide(target, note, allow_html=allow_html, images=images)
        except RecursionError:  # markup nested thousands deep: no editor writes that
            card = target.card
            outcome = Finding(
                "not pulled", card.path, card.line, target.note.card_id,
                "the note's HTML is nested too deeply to read",
            )  # fmt: skip
        if isinstance(outcome, Edit):
            by_card.setdefault(target.card.id, []).append((target.note.card_id, outcome))
        elif outcome is None:
            unchanged += 1
        else:
            findings.append(outcome)
    for found in by_card.values():
        edit = _one_edit(found)
        if isinstance(edit, Finding):
            findings.append(edit)
        else:
            edits.setdefault(edit.card.path, []).append(edit)
    texts: dict[str, str] = {}
    for path, file_edits in sorted(edits.items()):
        text, lines = apply_edits(read(path), file_edits, allow_html=allow_html, images=images)
        texts[path] = text
        for edit in file_edits:
            parts = [n for n, v in (("question", edit.question), ("answer", edit.answer)) if v]
            findings.append(
                Finding(
                    "pulled",
                    path,
                    lines[edit.card.id],
                    edit.card.id,
                    f"{' and '.join(parts)} as the learner wrote it",
                )
            )
    findings.sort(key=lambda f: (f.path, f.line, f.card_id))
    return Pulled(tuple(findings), texts, unchanged)


def _one_edit(found: Sequence[tuple[str, Edit]]) -> Edit | Finding:
    """A card edited through its note and its list note: one edit if no field was edited
    differently in the two."""
    first = found[0][1]
    questions = {e.question for _, e in found} - {None}
    answers = {e.answer for _, e in found} - {None}
    if len(questions) <= 1 and len(answers) <= 1:
        return Edit(first.card, next(iter(questions), None), next(iter(answers), None))
    card = first.card
    names = ", ".join(sorted(note_id for note_id, _ in found))
    return Finding(
        "not pulled", card.path, card.line, card.id,
        f"edited differently in several notes ({names}): make the edit by hand",
    )  # fmt: skip


def digest(fields: Sequence[str], tags: Sequence[str]) -> str:
    """As :func:`kam_anki.notes.note_digest` makes it."""
    payload = "\x1f".join(fields) + "\x1e" + " ".join(tags)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _decide(
    target: Target, note: LearnerNote, *, allow_html: bool, images: Images
) -> Edit | Finding | None:
    """None: nothing to pull (as shipped, or as the Markdown is now)."""
    card = target.card
    differs = _edited(target, note)
    if not differs:
        return None
    where = (card.path, card.line, target.note.card_id)
    try:
        note = _as_card_note(target, note)
    except Unsayable as exc:
        return Finding("not pulled", *where, str(exc))
    differs = [FIELDS[target.names.index(name)] for name in differs]
    if target.changed or note.mod < target.note.mod:
        return _conflict(target, note, allow_html=allow_html, images=images)
    fixed = [name for name in differs if name in (_CHAPTER, _SOURCE)]
    if fixed:
        return Finding(
            "not pulled", *where,
            f"the learner changed the field {fixed[0]!r}, which the build makes (the chapter "
            "from the file's '# ' heading, the source from where the card is): change the "
            "Markdown instead",
        )  # fmt: skip
    try:
        question = answer = None
        if _QUESTION in differs:
            question = question_markdown(
                note.fields[_QUESTION], allow_html=allow_html, image_path=lambda src: src
            )
        if _ANSWER in differs:
            answer = answer_markdown(
                note.fields[_ANSWER],
                allow_html=allow_html,
                image_path=images.path_for(card.path),
                image_name=images.name_for(card.path),
            )
    except Unsayable as exc:
        return Finding("not pulled", *where, str(exc))
    return Edit(card, question, answer)


def _edited(target: Target, note: LearnerNote) -> list[str]:
    """The fields the learner's note shows otherwise than the Markdown does now; none if
    it is a version as shipped (the next import brings the new one)."""
    names = target.names
    built = target.note.fields.by_name(names)
    mine = [note.fields.get(name) for name in names]
    differs = [
        name
        for name, value in zip(names, mine, strict=True)
        if value is None or canonical(value) != canonical(built[name])
    ]
    values = [value for value in mine if value is not None]
    if len(values) == len(names) and digest(values, target.note.tags) in target.shipped:
        return []
    return differs


def _as_card_note(target: Target, note: LearnerNote) -> LearnerNote:
    """The learner's note as its card's own note: a list note's list field with each item's
    cloze taken off, each cloze number one of the list's items (its key), once. Raises
    :class:`Unsayable`."""
    missing = [name for name in target.names[:2] if name not in note.fields]
    if missing:
        raise Unsayable(
            f"the learner's note has no field {missing[0]!r} (note type changed in Anki)"
        )
    if not target.note.clozes:
        return note
    keys = set(target.note.clozes)
    seen: set[int] = set()

    def item(cloze: re.Match[str]) -> str:
        number, inside = int(cloze.group(1)), cloze.group(2)
        if number not in keys:
            raise Unsayable(
                f"cloze c{number} is no item of this list (the build numbers the items): "
                "add the item in the Markdown"
            )
        if number in seen:
            raise Unsayable(f"cloze c{number} twice: each item is one cloze")
        if "::" in inside:
            raise Unsayable(f"cloze c{number} has a hint: Markdown has no place for it")
        seen.add(number)
        return inside

    listed = note.fields[target.names[1]]
    end = listed.rfind("}}") + 2  # no cloze after the last "}}": not looked for there
    plain = _CLOZE.sub(item, listed[:end]) + listed[end:]
    fields = {
        mine: note.fields.get(theirs, "") for mine, theirs in zip(FIELDS, target.names, strict=True)
    }
    return LearnerNote(note.guid, note.mod, {**fields, _ANSWER: plain}, note.tags)


def _conflict(target: Target, note: LearnerNote, *, allow_html: bool, images: Images) -> Finding:
    card = target.card
    author = f"## {card.question}\n\n{card.answer}"
    try:
        question = question_markdown(
            note.fields[_QUESTION], allow_html=allow_html, image_path=lambda src: src
        )
    except Unsayable:
        question = canonical(note.fields[_QUESTION])
    try:
        answer = answer_markdown(
            note.fields[_ANSWER],
            allow_html=allow_html,
            image_path=images.path_for(card.path),
            image_name=images.name_for(card.path),
        )
    except Unsayable:
        answer = canonical(note.fields[_ANSWER])
    why = (
        "the Markdown changed since it was last built"
        if target.changed
        else "the Markdown changed after the learner's version (built later than the edit)"
    )
    return Finding(
        "conflict",
        card.path,
        card.line,
        card.id,
        f"changed in Anki and in the Markdown ({why}); the Markdown is kept",
        learner=f"## {question}\n\n{answer}",
        author=author,
    )
