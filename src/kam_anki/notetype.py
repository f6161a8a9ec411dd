"""The two note types: every card's, and the list notes' (cloze kind, one card per item).

Field and template names are FROZEN: Anki matches a note type by id, and if its field or
template names differ from the collection's copy it makes a new note type and the existing
notes stop updating. CSS and template text may change; that updates the note type in place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib.resources import files

FIELDS: tuple[str, ...] = ("Frage", "Antwort", "Kapitel", "Quelle")
TEMPLATE_NAME = "Karte 1"
NAME = "KAM-Anki Frage/Antwort"
# The list notes (list cards): the card's question, its list with one cloze per item (the
# cloze number is the item's identity), chapter and source. FROZEN like the above.
LIST_FIELDS: tuple[str, ...] = ("Frage", "Liste", "Kapitel", "Quelle")
LIST_TEMPLATE_NAME = "Listenpunkt"
LIST_NAME = "KAM-Anki Liste"

# Shortened words ("und -sicherung", ", -Vision"): Chromium-based reviewers (Anki desktop,
# AnkiDroid) break a line right after such a hyphen, whatever the CSS says (no CSS property
# governs breaks at U+002D). When the card is shown, this puts an invisible word joiner
# (U+2060) after the hyphen, so the hyphen stays with its word; the note field keeps the text
# exactly as the Markdown has it. Code and math (LaTeX for MathJax) are left alone. Runs in
# Anki desktop, AnkiMobile, AnkiDroid and the preview; without scripts the card just looks as
# before.
KEEP_SHORTENED_WORDS = r"""<script>
(function (root) {
  var cards = root ? [root] : document.querySelectorAll(".kam-card");
  Array.prototype.forEach.call(cards, function (card) {
    var walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT), node;
    while ((node = walker.nextNode())) {
      if (node.parentNode.closest("code, pre, script, .math")) continue;
      var text = node.nodeValue.replace(/(^|\s)-(?=\p{L})/gu, "$1-\u2060");
      if (text !== node.nodeValue) node.nodeValue = text;
    }
  });
})(document.currentScript && document.currentScript.closest(".kam-card"));
</script>"""


def _front(language: str) -> str:
    return f"""<div class="kam-card" lang="{language}">
<div class="frage">{{{{Frage}}}}</div>
{KEEP_SHORTENED_WORDS}
</div>"""


def _back(language: str) -> str:
    return f"""<div class="kam-card" lang="{language}">
<div class="frage">{{{{Frage}}}}</div>
<hr id="answer">
<div class="antwort">{{{{Antwort}}}}</div>
{{{{#Kapitel}}}}<div class="kapitel">{{{{Kapitel}}}}</div>{{{{/Kapitel}}}}
{KEEP_SHORTENED_WORDS}
</div>"""


# The question side shows the list with the asked item as Anki's gap; "vorne" lets the CSS
# hide the items after it in a sequence (a list of class "folge").
LIST_FRONT = f"""<div class="kam-card kam-liste vorne" lang="de">
<div class="frage">{{{{Frage}}}}</div>
<div class="antwort">{{{{cloze:Liste}}}}</div>
{KEEP_SHORTENED_WORDS}
</div>"""

LIST_BACK = f"""<div class="kam-card kam-liste" lang="de">
<div class="frage">{{{{Frage}}}}</div>
<hr id="answer">
<div class="antwort">{{{{cloze:Liste}}}}</div>
{{{{#Kapitel}}}}<div class="kapitel">{{{{Kapitel}}}}</div>{{{{/Kapitel}}}}
{KEEP_SHORTENED_WORDS}
</div>"""


# The shipped KAM deck's (German: lang="de" picks the hyphenation dictionary).
FRONT = _front("de")
BACK = _back("de")


def source_field(path: str, note_id: str) -> str:
    """The source field's text (escaped for HTML by the caller): where a note comes from in
    ``content/``, stable under reordering. ``path#id`` for a card, ``path#id/liste`` for its
    list note (its id), ``#id`` for a tombstone (its file is gone: ``path`` is empty)."""
    return f"{path}#{note_id}"


@dataclass(frozen=True, slots=True)
class Fields:
    """A note's rendered fields (HTML) by meaning; :meth:`values` puts them in the note
    type's order (:data:`FIELDS`), the one place that order is spelled out."""

    question: str
    answer: str
    chapter: str
    source: str

    def values(self) -> tuple[str, str, str, str]:
        """In the order of :data:`FIELDS`: Frage, Antwort, Kapitel, Quelle."""
        return (self.question, self.answer, self.chapter, self.source)

    @classmethod
    def from_values(cls, values: Sequence[str]) -> Fields:
        """The inverse of :meth:`values`; raises ValueError for the wrong number."""
        question, answer, chapter, source = values
        return cls(question, answer, chapter, source)

    def by_name(self, names: Sequence[str] = FIELDS) -> dict[str, str]:
        """By the note type's field names, as its templates use them (a list note's
        ``answer`` is its list: :data:`LIST_FIELDS`)."""
        return dict(zip(names, self.values(), strict=True))


@dataclass(frozen=True)
class NoteType:
    """A note type; ``lists`` is the list notes' type that goes with it (one stamp covers
    both: they share the CSS)."""

    name: str
    fields: tuple[str, ...]
    template_name: str
    front: str
    back: str
    css: str
    cloze: bool = False
    lists: NoteType | None = None

    @property
    def digest(self) -> str:
        """Changes exactly when anything Anki stores for the note type (or its list note
        type) changes."""
        payload = json.dumps(
            [self.name, self.fields, self.template_name, self.front, self.back, self.css]
            + ([self.cloze, self.lists.digest] if self.lists is not None else [])
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def for_deck(self, name: str, language: str) -> NoteType:
        """The same note type under the deck's ``name`` for cards in ``language`` (a BCP 47
        tag: the hyphenation dictionary). Fields and template keep their names in every deck;
        for the shipped deck's name and "de" nothing changes."""
        return replace(self, name=name, front=_front(language), back=_back(language))


def default_notetype() -> NoteType:
    """The shipped deck's note type."""
    css = files("kam_anki").joinpath("card.css").read_text(encoding="utf-8")
    lists = NoteType(LIST_NAME, LIST_FIELDS, LIST_TEMPLATE_NAME, LIST_FRONT, LIST_BACK, css, True)
    return NoteType(NAME, FIELDS, TEMPLATE_NAME, FRONT, BACK, css, lists=lists)
