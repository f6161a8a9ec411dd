"""A deck of your own: the files ``kam-anki init`` writes for a new project; pure.

The new deck shares nothing with the shipped KAM deck but the code: its own random deck and
note-type ids (Anki tells decks and note types apart by them), its name, one example card,
no lock and no record of anything shipped, so its first build ships that card and nothing
else. Field and template names are the same in every deck (they are frozen once shipped, and
templates, searches and the documentation name them), as are the removed cards' tag and
subdeck; the note type's name and the cards' language follow the new deck.
"""

from __future__ import annotations

import json
import re
import secrets

from kam_anki.config import parse_config
from kam_anki.files import CONFIG_NAME

EXAMPLE_NAME = "cards.md"
_SLUG = re.compile(r"[\W_]+")
# The shipped deck's ids: a new deck never takes them.
_SHIPPED_IDS = frozenset({1121604270, 1886530249})

EXAMPLE = """\
# Getting started

## How does kam-anki turn Markdown into a card? {#how-kam-anki-makes-a-card}

A `## Question {#card-id}` heading starts a card; everything below it is the answer:

- lists, **bold** and *italic*, as usual
- math for Anki's MathJax: $e^{i\\pi} + 1 = 0$
- tables and code with a language, highlighted

| write | get |
| --- | --- |
| `$…$` | a formula |
| a pipe table | a table |

```python
print("a fence with a language is highlighted")
```

Keep the id in braces when you reword the card: it is how Anki knows the note again.
"""


def new_ids() -> tuple[int, int]:
    """A random deck id and note-type id, as genanki recommends (between 2**30 and 2**31)."""
    while True:
        deck_id = (1 << 30) + secrets.randbelow(1 << 30)
        notetype_id = (1 << 30) + secrets.randbelow(1 << 30)
        if deck_id != notetype_id and not {deck_id, notetype_id} & _SHIPPED_IDS:
            return deck_id, notetype_id


def starter_files(name: str, language: str, ids: tuple[int, int]) -> dict[str, str]:
    """``content/``'s files by name: ``deck.toml`` and the example card. Raises
    :class:`~kam_anki.errors.ContentError` for a name or language ``deck.toml`` refuses."""
    deck_id, notetype_id = ids
    tag = _SLUG.sub("-", name.lower()).strip("-") or "deck"
    config = f"""\
# Deck settings. kam-anki init chose the two ids at random; never change them:
# Anki recognises the deck and the note type by them on every later import.
name = {_toml(name)}
deck_id = {deck_id}
notetype_id = {notetype_id}
# Shown in Anki's list of note types; may be renamed (the id stays).
notetype_name = {_toml(f"{name} (kam-anki)")}
# The cards' language (for hyphenation), e.g. "en", "de", "fr".
language = {_toml(language)}
tags = [{_toml(tag)}]
# Raw HTML in the Markdown is shown as text unless this is true.
allow_html = false
"""
    parse_config(config, CONFIG_NAME)  # raises for a name or language deck.toml refuses
    return {CONFIG_NAME: config, EXAMPLE_NAME: EXAMPLE}


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; control characters are refused later)."""
    return json.dumps(text, ensure_ascii=False)
