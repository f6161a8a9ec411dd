"""The note type every card uses.

Field and template names are FROZEN: Anki matches a note type by id, and if its field or
template names differ from the collection's copy it makes a new note type and the existing
notes stop updating. CSS and template text may change; that updates the note type in place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.resources import files

FIELDS: tuple[str, ...] = ("Frage", "Antwort", "Kapitel", "Quelle")
TEMPLATE_NAME = "Karte 1"
NAME = "KAM-Anki Frage/Antwort"

FRONT = """<div class="kam-card" lang="de">
<div class="frage">{{Frage}}</div>
</div>"""

BACK = """<div class="kam-card" lang="de">
<div class="frage">{{Frage}}</div>
<hr id="answer">
<div class="antwort">{{Antwort}}</div>
{{#Kapitel}}<div class="kapitel">{{Kapitel}}</div>{{/Kapitel}}
</div>"""


@dataclass(frozen=True)
class NoteType:
    name: str
    fields: tuple[str, ...]
    template_name: str
    front: str
    back: str
    css: str

    @property
    def digest(self) -> str:
        """Changes exactly when anything Anki stores for the note type changes."""
        payload = json.dumps(
            [self.name, self.fields, self.template_name, self.front, self.back, self.css]
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def default_notetype() -> NoteType:
    css = files("kam_anki").joinpath("card.css").read_text(encoding="utf-8")
    return NoteType(NAME, FIELDS, TEMPLATE_NAME, FRONT, BACK, css)
