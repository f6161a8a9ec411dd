"""How long work tells its caller how far it has got. Nothing here prints: the command line
shows it on a terminal (:mod:`kam_anki.terminal`); a script passes nothing and pays nothing."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Steps of a build, one after the other, each counted in units of its own."""

    def start(self, step: str, total: int) -> None:
        """A step begins: ``step`` says what is done ("checking files"), ``total`` is how
        many units it has."""

    def advance(self, done: int, detail: str = "") -> None:
        """``done`` units of the current step are finished; ``detail`` says more
        ("12,000 cards")."""


class Silent:
    """Progress nobody watches."""

    def start(self, step: str, total: int) -> None:
        pass

    def advance(self, done: int, detail: str = "") -> None:
        pass


SILENT = Silent()
