"""Images travel as Anki media; raw HTML never becomes live markup."""

from __future__ import annotations

import hashlib
import struct
import unicodedata
import zlib
from pathlib import Path

from anki_helpers import import_apkg, open_collection
from helpers import RunBuild


def png(red: int) -> bytes:
    """A valid 1x1 PNG of the given red value."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, red, 0, 0]))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def imported_answer(tmp_path: Path, search: str) -> str:
    """The Antwort field of the one note ``search`` finds after importing the built deck."""
    col = open_collection(tmp_path / "desktop.anki2")
    try:
        import_apkg(col, tmp_path / "kam.apkg")
        (note_id,) = col.find_notes(search)
        return str(col.get_note(note_id)["Antwort"])
    finally:
        col.close()


def test_images_with_the_same_name_in_two_folders_arrive_in_anki_media(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    for folder, red in (("analyse", 10), ("realisierung", 200)):
        (content / folder).mkdir()
        (content / folder / "bild.png").write_bytes(png(red))
        (content / folder / "karten.md").write_text(
            f"# {folder.title()}\n\n## Wie sieht die {folder} aus? {{#bild-{folder}}}\n\n"
            f"![Skizze](bild.png)\n",
            encoding="utf-8",
        )
    build()
    col = open_collection(tmp_path / "desktop.anki2")
    import_apkg(col, tmp_path / "kam.apkg")
    media = Path(col.media.dir())
    for folder, red in (("analyse", 10), ("realisierung", 200)):
        (note_id,) = col.find_notes(f"Quelle:{folder}/karten.md#bild-{folder}")
        answer = col.get_note(note_id)["Antwort"]
        name = f"kam-{hashlib.sha256(png(red)).hexdigest()[:20]}.png"
        assert f'<img src="{name}" alt="Skizze" />' in answer
        assert (media / name).read_bytes() == png(red)
    col.close()


def test_dangerous_html_is_shown_as_text_even_when_html_is_allowed(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    config = content / "deck.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("allow_html = false", "allow_html = true"),
        encoding="utf-8",
    )
    (content / "html.md").write_text(
        "# HTML\n\n## Gefährlich {#gefaehrlich}\n\n"
        "<script>alert(1)</script>\n\n"
        'Bild <img src="x" onerror="alert(2)"> und <b>fett</b>\n\n'
        "[Link](javascript:alert(3)) <a href='javascript:alert(4)'>a</a>\n\n"
        '<a href="jav&#x61;script:alert(5)">b</a> <a href="java&#9;script:x">c</a>\n\n'
        '<svg><a href="javascript&colon;x">d</a></svg>\n',
        encoding="utf-8",
    )
    build()
    answer = imported_answer(tmp_path, "Quelle:html.md*")
    assert "<script" not in answer and "&lt;script&gt;" in answer
    assert "<img" not in answer and "<a href" not in answer and "<svg" not in answer
    assert "<b>fett</b>" in answer  # harmless markup stays, as the author allowed


def test_raw_html_is_escaped_by_default(content: Path, tmp_path: Path, build: RunBuild) -> None:
    (content / "html.md").write_text(
        "# HTML\n\n## Frage {#html}\n\n<i onclick=alert(1)>x</i> <b>y</b>\n", encoding="utf-8"
    )
    build()
    assert imported_answer(tmp_path, "Quelle:html.md*") == (
        "<p>&lt;i onclick=alert(1)&gt;x&lt;/i&gt; &lt;b&gt;y&lt;/b&gt;</p>\n"
    )


def test_image_named_in_decomposed_unicode_on_disk_is_found(
    content: Path, tmp_path: Path, build: RunBuild
) -> None:
    (content / unicodedata.normalize("NFD", "Größe.png")).write_bytes(png(30))
    (content / "bild.md").write_text(
        "# Bilder\n\n## Wie groß? {#groesse}\n\n![Größe](Größe.png)\n", encoding="utf-8"
    )
    build()
    answer = imported_answer(tmp_path, "Quelle:bild.md*")
    assert f"kam-{hashlib.sha256(png(30)).hexdigest()[:20]}.png" in answer
