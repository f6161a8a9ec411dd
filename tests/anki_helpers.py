"""Driving the official Anki engine (PyPI ``anki``) the way the desktop app does."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

# anki.collection must be imported before anki.cards (circular import otherwise).
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

# isort: split
from anki.cards import Card
from anki.scheduler.v3 import CardAnswer
from anki.sync import SyncOutput


def open_collection(path: Path) -> Any:
    return Collection(str(path))


@dataclass(frozen=True)
class ImportLog:
    new: tuple[int, ...]
    updated: tuple[int, ...]
    duplicate: tuple[int, ...]
    conflicting: tuple[int, ...]
    other: int  # first_field_match, missing notetype or deck, empty first field


def import_apkg(col: Any, apkg: Path, *, merge_notetypes: bool = False) -> ImportLog:
    """Import with the options Anki's import dialog starts with, or with its "Merge note
    types" box ticked."""
    options = ImportAnkiPackageOptions(merge_notetypes=merge_notetypes)
    request = ImportAnkiPackageRequest(package_path=str(apkg), options=options)
    log = col.import_anki_package(request).log

    def ids(entries: Any) -> tuple[int, ...]:
        return tuple(sorted(entry.id.nid for entry in entries))

    other = (
        len(log.first_field_match)
        + len(log.missing_notetype)
        + len(log.missing_deck)
        + len(log.empty_first_field)
    )
    return ImportLog(
        ids(log.new), ids(log.updated), ids(log.duplicate), ids(log.conflicting), other
    )


def note_by_guid(col: Any, guid: str) -> Any:
    note_id = col.db.scalar("select id from notes where guid = ?", guid)
    assert note_id, f"no note with guid {guid}"
    return col.get_note(note_id)


def notes_by_source(col: Any) -> dict[str, Any]:
    """Notes keyed by their Quelle field (``path#card-id``)."""
    return {
        col.get_note(nid)["Quelle"].split("#", 1)[1]: col.get_note(nid)
        for nid in col.find_notes("")
    }


def scheduling(col: Any) -> dict[int, tuple[int, ...]]:
    """Every card's scheduling state: type, queue, interval, due, reps, lapses, ease."""
    rows = col.db.all("select id, type, queue, ivl, due, reps, lapses, factor from cards")
    return {row[0]: tuple(row[1:]) for row in rows}


def review_all(col: Any, deck_name: str, rating: int = CardAnswer.GOOD) -> int:
    """Answer every card the scheduler serves in ``deck_name``; returns answers given."""
    col.decks.set_current(col.decks.id_for_name(deck_name))
    answers = 0
    while True:
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            return answers
        top = queued.cards[0]
        card = Card(col, backend_card=top.card)
        card.start_timer()
        col.sched.answer_card(col.sched.build_answer(card=card, states=top.states, rating=rating))
        answers += 1


def new_learner(path: Path, apkg: Path, cards: int = 8) -> tuple[Any, dict[int, tuple[int, ...]]]:
    """A new collection that imports ``apkg`` (``cards`` new notes) and reviews every card;
    returns it with its scheduling."""
    col = open_collection(path)
    assert len(import_apkg(col, apkg).new) == cards
    review_all(col, "KAM")
    return col, scheduling(col)


def notetype_css(col: Any, notetype_id: int) -> str:
    """Read through the backend: the Python-side ``col.models`` cache is stale after import."""
    return str(col._backend.get_notetype(notetype_id).config.css)


class _Text(HTMLParser):
    _BREAKS = frozenset({"br", "li", "p", "ul", "ol", "div"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_lines(field_html: str) -> list[str]:
    """The lines a reader sees in a field: one per paragraph line and list item."""
    parser = _Text()
    parser.feed(field_html)
    text = html.unescape("".join(parser.parts))
    return [line.strip() for line in re.split(r"\n+", text) if line.strip()]


# --- Anki's own sync server ------------------------------------------------------------


@dataclass(frozen=True)
class SyncServer:
    endpoint: str
    user: str
    password: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sync_server(base: Path) -> Iterator[SyncServer]:
    """``python -m anki.syncserver`` on a free loopback port, stopped afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "SYNC_USER1": "learner:secret",
        "SYNC_HOST": "127.0.0.1",
        "SYNC_PORT": str(port),
        "SYNC_BASE": str(base),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "anki.syncserver"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("anki.syncserver did not start") from None
                time.sleep(0.05)
        yield SyncServer(f"http://127.0.0.1:{port}/", "learner", "secret")
    finally:
        process.terminate()
        process.wait(timeout=10)


def sync(col: Any, auth: Any) -> str:
    """One sync as Anki's main window does it; returns what it demanded.

    A normal sync finishes with ``NO_CHANGES`` left to do; a full one demands an upload or
    download, which is then done as the app does it.
    """
    out = col.sync_collection(auth, sync_media=False)
    required = SyncOutput.ChangesRequired.Name(out.required)
    if out.required in (SyncOutput.FULL_UPLOAD, SyncOutput.FULL_DOWNLOAD):
        col.close_for_full_sync()
        col.full_upload_or_download(
            auth=auth, server_usn=None, upload=out.required == SyncOutput.FULL_UPLOAD
        )
        col.reopen(after_full_sync=True)
    return str(required)


def first_sync(desktop: Any, server: SyncServer, phone: Path) -> tuple[Any, Any, Any]:
    """The desktop uploads its collection, a new phone collection downloads it, as a
    learner's first sync does; returns the desktop's login, the phone and its login."""
    auth = desktop.sync_login(server.user, server.password, server.endpoint)
    assert sync(desktop, auth) == "FULL_UPLOAD"
    mobile = open_collection(phone)
    mobile_auth = mobile.sync_login(server.user, server.password, server.endpoint)
    assert sync(mobile, mobile_auth) == "FULL_DOWNLOAD"
    return auth, mobile, mobile_auth


def status_name(col: Any, auth: Any) -> str:
    """What the next sync needs, from local changes alone (no full sync after an import)."""
    status = col.sync_status(auth)
    return str(status.Required.Name(status.required))
