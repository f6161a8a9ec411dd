"""The one error hierarchy: core code raises, only the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True, slots=True)
class Diagnostic:
    """One finding about the content, printed as ``path:line: severity: message``."""

    path: str
    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class KamError(Exception):
    """Base of every error kam-anki reports to the user (exit status 1)."""


class UsageError(KamError):
    """The command was called wrongly (an option, an environment variable): exit status 2."""


class ContentError(KamError):
    """The content cannot be built; carries every error found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(sorted(diagnostics))
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @classmethod
    def at(cls, path: str, line: int, message: str) -> ContentError:
        return cls([Diagnostic(path, line, "error", message)])
