"""``deck.toml`` text -> :class:`DeckConfig`; pure."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from kam_anki.characters import deck_name, describe, unfit
from kam_anki.errors import ContentError, Diagnostic
from kam_anki.model import DeckConfig
from kam_anki.notetype import NAME
from kam_anki.tombstones import REMOVED_TAG, selects_removed

_REQUIRED: dict[str, type] = {"name": str, "deck_id": int, "notetype_id": int}
_OPTIONAL: dict[str, type] = {
    "tags": list,
    "allow_html": bool,
    "list_cards": int,
    "notetype_name": str,
    "language": str,
}
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_TAG = re.compile(r"^[^\s\"]+$")
_TOML_POSITION = re.compile(r"^(.*) \(at line (\d+), column \d+\)$")


def parse_config(text: str, path: str) -> DeckConfig:
    """``deck.toml``'s text -> :class:`DeckConfig`; raises :class:`ContentError` with every
    setting that is wrong, each at its line."""
    data = _toml(text, path)
    written = data.get("name")  # as written; the deck's name is what Anki keeps of it
    if isinstance(written, str):
        data["name"] = deck_name(written)
    found = [*_key_problems(data), *_value_problems(data, text, written), *_tag_problems(data)]
    if found:
        raise ContentError(
            [Diagnostic(path, _line_of(text, key) if key else 1, "error", m) for key, m in found]
        )
    tags = data.get("tags", [])
    return DeckConfig(
        name=data["name"],
        deck_id=data["deck_id"],
        notetype_id=data["notetype_id"],
        tags=tuple(tags),
        allow_html=data.get("allow_html", False),
        list_cards=data.get("list_cards", 0),
        notetype_name=data.get("notetype_name", NAME),
        language=data.get("language", "de"),
    )


def _is(value: Any, kind: type) -> bool:
    # bool is an int in Python, but never a valid id.
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", list: "a list", bool: "true or false"}[kind]


def _line_of(text: str, key: str) -> int:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.split("\n"), start=1):
        if pattern.match(line):
            return number
    return 1


def _toml(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's error carries its position only in the text: "msg (at line 9, column 8)".
        found = _TOML_POSITION.match(str(exc))
        message, line = (found.group(1), int(found.group(2))) if found else (str(exc), 1)
        raise ContentError.at(path, line, f"invalid TOML: {message}") from None


# Each check gives (the key, at whose line the message goes, or "" for line 1; the message).
def _key_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Unknown and missing keys, values of the wrong type or out of range."""
    known = ", ".join(sorted({*_REQUIRED, *_OPTIONAL}))
    found = [
        (key, f"unknown key {key!r} (known: {known})")
        for key in sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    ]
    found += [("", f"missing key {key!r}") for key in _REQUIRED if key not in data]
    for key, kind in {**_REQUIRED, **_OPTIONAL}.items():
        if key in data and not _is(data[key], kind):
            found.append(
                (key, f"{key!r} must be {_kind_name(kind)}, not {type(data[key]).__name__}")
            )
    for key in ("deck_id", "notetype_id"):
        if _is(data.get(key), int) and not 1 <= data[key] < 2**63:
            found.append((key, f"{key!r} must be a positive 64-bit integer"))
    if _is(data.get("list_cards"), int) and not 0 <= data["list_cards"] <= 1000:
        message = "'list_cards' must be 0 (off) or the least number of items, up to 1000"
        found.append(("list_cards", message))
    return found


def _value_problems(data: dict[str, Any], text: str, written: object) -> list[tuple[str, str]]:
    """The deck's name (``written``, and as Anki would keep it), the language tag, the note
    type's name."""
    found: list[tuple[str, str]] = []
    if isinstance(written, str):
        bad = unfit(written, name=True)
        if not written.strip():
            found.append(("name", "'name' must not be empty"))
        elif not all(data["name"].split("::")):
            found.append(("name", "'name' has an empty part around '::'"))
        elif bad >= 0:
            line = text.split("\n")[_line_of(text, "name") - 1]
            column = line.find(written[bad])
            where = f"at column {column + 1}" if column >= 0 else "(written as an escape)"
            message = f"{describe(written[bad])} {where} in 'name': Anki drops it from deck names"
            found.append(("name", message))
    if _is(data.get("language"), str) and not _LANGUAGE.match(data["language"]):
        found.append(("language", '\'language\' must be a language tag such as "en" or "de-CH"'))
    notetype_name = data.get("notetype_name")
    if isinstance(notetype_name, str) and (
        not notetype_name.strip() or unfit(notetype_name, name=True) >= 0
    ):
        message = "'notetype_name' must be a name without control characters"
        found.append(("notetype_name", message))
    return found


def _tag_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    tags = data.get("tags", [])
    if not _is(tags, list):
        return []
    found: list[tuple[str, str]] = []
    for tag in tags:
        if not isinstance(tag, str) or not _TAG.match(tag):
            found.append(("tags", f"tag {tag!r} must be a string without spaces or quotes"))
        elif selects_removed(tag):
            message = (
                f"tag {tag!r} is {REMOVED_TAG!r} or a tag below it to Anki (its tag search "
                f"ignores case and finds child tags): the search for removed cards would "
                f"select every note of the deck; choose another tag"
            )
            found.append(("tags", message))
    return found
