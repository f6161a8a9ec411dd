"""The one error hierarchy: core code raises, only the CLI prints."""

from __future__ import annotations

import re
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
        where = f"{self.path}:{self.line}" if self.line else self.path  # line 0: the whole file
        return f"{where}: {self.severity}: {self.message}"


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` safe to print: a file name's bytes that are not UTF-8 (which Python carries
    as lone surrogates) shown as ``\\xNN``, as ``ls`` would escape them."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"

    return _SURROGATE.sub(escape, text)


class KamError(Exception):
    """Base of every error kam-anki reports to the user (exit status 1)."""


class UsageError(KamError):
    """The command was called wrongly (an option, an environment variable): exit status 2."""


class ContentError(KamError):
    """The content cannot be built; carries every error found, not just the first, and the
    warnings found with them (for ``--json``; the errors are what a person needs first)."""

    def __init__(
        self,
        diagnostics: list[Diagnostic] | tuple[Diagnostic, ...],
        warnings: list[Diagnostic] | tuple[Diagnostic, ...] = (),
    ) -> None:
        self.diagnostics = tuple(sorted(diagnostics))
        self.warnings = tuple(sorted(warnings))
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @classmethod
    def at(cls, path: str, line: int, message: str) -> ContentError:
        return cls([Diagnostic(path, line, "error", message)])


class PathError(KamError):
    """A file or folder the user named or owns cannot be used: ``path: error: message``."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: error: {message}")
