"""Synthetic KAM-like decks for the benchmarks: deterministic, in kam-anki's format and the peers'.

A deck is generated once as data (chapters of cards) and then written out in a format:
kam-anki's (``# Chapter`` / ``## Question {#id}`` plus ``deck.toml``), ankdown's
(``question % answer ---``) or md2anki's (``# Deck (id)`` / ``## Question (uuid)``).
"""

from __future__ import annotations

import random
import re
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SEED = 20240611
CARDS_PER_FILE = 100
DECK_TOML = """\
name = "KAM Benchmark"
deck_id = 1712345678
notetype_id = 1812345678
tags = ["kam", "benchmark"]
"""

_TOPICS = (
    "Key Account Management",
    "Schlüsselkundengewinnung",
    "Kontraktmanagement",
    "Konditionenverhandlung",
    "Projektabwicklung",
    "Prozessoptimierung",
    "Marktforschung",
    "Beanstandungsmanagement",
    "Flächenvertrieb",
    "Verkaufsförderung",
    "Kundenportfolio",
    "Wettbewerbsanalyse",
    "Austrittsbarrieren",
    "Deckungsbeitragsrechnung",
    "Kundenbindung",
    "Rahmenvereinbarung",
    "Jahresgespräch",
    "Category Management",
    "Efficient Consumer Response",
    "Supply Chain Management",
    "Preispolitik",
    "Leistungsbilanz",
    "Kundenzufriedenheit",
)
_COUNTED = (  # "(n)": the answer lists n items, as kam-anki checks
    "Aufgaben im Bereich {t}? ({n})",
    "Ziele des {t}? ({n})",
    "Schritte im Rahmen von {t}? ({n})",
)
_PLAIN = (
    "Was versteht man unter {t}?",
    "Welche Vorteile bietet {t} dem Key Account?",
    "Kurze Beschreibung: {t}",
    "Welche Risiken birgt {t}?",
    "Bestandteile und Inhalte von {t}?",
)
_CONTEXTS = (
    "",
    " im Lebensmittelhandel",
    " in der Automobilindustrie",
    " im Projektgeschäft",
    " in der Pharmabranche",
    " im Ersatzteilgeschäft",
    " bei internationalen Kunden",
    " im Mittelstand",
    " nach dem St. Galler Modell",
)
_SUBJECTS = (
    "Der Key Account Manager",
    "Das Projektteam",
    "Der Lieferant",
    "Der Schlüsselkunde",
    "Die Geschäftsleitung",
    "Der Flächenvertrieb",
    "Das Produktmanagement",
    "Der Einkauf",
)
_VERBS = (
    "optimiert",
    "verhandelt",
    "koordiniert",
    "analysiert",
    "sichert",
    "entwickelt",
    "überwacht",
    "plant",
    "bewertet",
    "gestaltet",
)
_OBJECTS = (
    "die Konditionen",
    "die Kundenbeziehung",
    "gemeinsame Prozesse",
    "neue Produkte",
    "den Deckungsbeitrag",
    "die Auftragsabwicklung",
    "die Wettbewerbsposition",
    "die Jahresplanung",
    "die Logistikkette",
    "die Sortimentsgestaltung",
    "das Preisniveau",
)
_DETAILS = (
    "langfristig und partnerschaftlich",
    "mit klaren Messgrößen",
    "über alle Ressorts hinweg",
    "im Rahmen der Jahresvereinbarung",
    "gemeinsam mit dem Großkunden",
    "unter Beachtung der Unternehmensstrategie",
    "zur Senkung der Prozesskosten",
    "für beide Seiten transparent",
)
_LABELS = ("Integration:", "Fundament:", "Vorteile:", "Nachteile:", "Beispiel:", "Wichtig:")


@dataclass(frozen=True)
class Card:
    id: str
    question: str
    answer: str


@dataclass(frozen=True)
class Chapter:
    title: str
    cards: tuple[Card, ...]


_ASCII: dict[str, str | int | None] = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}


def _slug(text: str) -> str:
    text = text.lower().translate(str.maketrans(_ASCII))
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _sentence(rng: random.Random) -> str:
    obj = rng.choice(_OBJECTS)
    if rng.random() < 0.3:
        obj = f"**{obj}**"
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {obj} {rng.choice(_DETAILS)}."


def _items(rng: random.Random, count: int) -> list[str]:
    return [_sentence(rng).rstrip(".") for _ in range(count)]


def _answer(rng: random.Random, count: int) -> tuple[str, bool]:
    """Mostly bullet lists, some numbered lists, labels, pasted bullets and paragraphs;
    and whether the answer lists ``count`` items."""
    shape = rng.random()
    if shape < 0.45:
        return "\n".join(f"- {item}" for item in _items(rng, count)), True
    if shape < 0.6:
        numbered = enumerate(_items(rng, count), start=1)
        return "\n".join(f"{i}. {item}" for i, item in numbered), True
    if shape < 0.75:
        bullets = "\n".join(f"• {item}" for item in _items(rng, count))
        return f"{rng.choice(_LABELS)}\n{bullets}\n\n{_sentence(rng)}", True
    if shape < 0.9:
        bullets = "\n".join(f"- {item}" for item in _items(rng, count))
        return f"{_sentence(rng)} {_sentence(rng)}\n\n{bullets}", True
    prose = f"{_sentence(rng)} {_sentence(rng)}\n\n{rng.choice(_LABELS)} {_sentence(rng)}"
    return prose, False


def generate(cards: int, seed: int = SEED) -> list[Chapter]:
    """``cards`` cards in chapters of :data:`CARDS_PER_FILE`; the same arguments, the same deck."""
    rng = random.Random(seed)
    chapters: list[Chapter] = []
    asked: set[str] = set()
    for first in range(0, cards, CARDS_PER_FILE):
        topic = rng.choice(_TOPICS)
        deck = []
        for index in range(first, min(first + CARDS_PER_FILE, cards)):
            count = rng.randint(3, 8)
            answer, listed = _answer(rng, count)
            template = rng.choice(_COUNTED + _PLAIN if listed else _PLAIN)
            subject = rng.choice(_TOPICS) + rng.choice(_CONTEXTS)
            question = template.format(t=subject, n=count)
            if question in asked:  # every question is asked once, as in a real deck
                question = template.format(t=f"{subject} (Fallstudie {index})", n=count)
            asked.add(question)
            deck.append(Card(f"{_slug(question)}-{index}", question, answer))
        chapters.append(Chapter(f"Kapitel {len(chapters) + 1}: {topic}", tuple(deck)))
    return chapters


def kam_file(chapter: Chapter) -> str:
    cards = "".join(f"## {c.question} {{#{c.id}}}\n\n{c.answer}\n\n" for c in chapter.cards)
    return f"# {chapter.title}\n\n{cards}"


def ankdown_file(chapter: Chapter) -> str:
    return "\n\n---\n\n".join(f"{c.question}\n\n%\n\n{c.answer}" for c in chapter.cards) + "\n"


def md2anki_file(chapter: Chapter) -> str:
    deck_id = zlib.crc32(chapter.title.encode("utf-8"))
    cards = "".join(
        f"## {c.question} ({uuid.uuid5(uuid.NAMESPACE_URL, c.id)})\n\n{c.answer}\n\n"
        for c in chapter.cards
    )
    return f"# {chapter.title} ({deck_id})\n\n{cards}"


FORMATS: dict[str, Callable[[Chapter], str]] = {
    "kam-anki": kam_file,
    "ankdown": ankdown_file,
    "md2anki": md2anki_file,
}


def write(chapters: list[Chapter], folder: Path, form: str = "kam-anki") -> None:
    """One file per chapter (``0001.md`` ...) in ``folder``; kam-anki's also gets ``deck.toml``."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, chapter in enumerate(chapters, start=1):
        (folder / f"{number:04d}.md").write_text(FORMATS[form](chapter), encoding="utf-8")
    if form == "kam-anki":
        (folder / "deck.toml").write_text(DECK_TOML, encoding="utf-8")
