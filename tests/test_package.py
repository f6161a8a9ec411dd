"""Identity and reproducibility of the package itself."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from anki_helpers import import_apkg, open_collection
from kam_anki import notetype
from kam_anki.model import DeckConfig, Note
from kam_anki.notetype import Fields
from kam_anki.output import temporary_file
from kam_anki.package import PackageWriter, guid

CONFIG = DeckConfig(name="KAM", deck_id=1121604270, notetype_id=1886530249, tags=("kam",))


def test_field_and_template_names_are_frozen() -> None:
    # Renaming any of these makes Anki fork the note type; existing notes stop updating.
    assert notetype.FIELDS == ("Frage", "Antwort", "Kapitel", "Quelle")
    assert notetype.TEMPLATE_NAME == "Karte 1"
    assert notetype.NAME == "KAM-Anki Frage/Antwort"


def test_shipped_note_type_has_the_frozen_names_in_anki(tmp_path: Path) -> None:
    from helpers import SHIPPED_APKG

    col = open_collection(tmp_path / "c.anki2")
    import_apkg(col, SHIPPED_APKG)
    shipped = col._backend.get_notetype(CONFIG.notetype_id)
    assert tuple(f.name for f in shipped.fields) == notetype.FIELDS
    assert [t.name for t in shipped.templates] == [notetype.TEMPLATE_NAME]
    col.close()


# The GUIDs learners' collections hold. A change of genanki's hashing (a version bump) or of
# the namespace would give every learner a second copy of every card: it must fail here.
SHIPPED_GUIDS = {
    "kurze-beschreibung-eines-key-account-managers": "iG63^=>BIV",
    "aufgaben-des-kam-8": "r#_E[8yC+w",
    "ziele-des-kam-5": "LJ@55EQ$4J",
    "kurze-beschreibung-des-st-galler-kam": "i`Llx2Zuz^",
    "kam-zirkel-schritte-im-rahmen-der-analyse-5": "t#qu)K;(#y",
    "kam-zirkel-schritte-im-rahmen-der-realisierung-5": "I(XQ;PPt0=",
    "bestandteile-und-inhalte-des-funktionalen-kam": "C<,|[Gq0Vw",
    "bestandteile-und-inhalte-des-organisatorischen-kam": "J^|{|N2Q6[",
}


def test_guid_depends_on_card_id_only() -> None:
    assert guid(CONFIG, "ziele") == "o(2x}NqWD;"
    # The same id in another build, whatever its deck name or note type, keeps its GUID.
    assert guid(DeckConfig("Umbenannt", CONFIG.deck_id, 99), "ziele") == "o(2x}NqWD;"
    assert guid(CONFIG, "aufgaben") == "v|kxR$vl#2"
    assert guid(DeckConfig("X", 2, 3), "ziele") == "EJJYmDB$cD"  # another deck's own
    assert {card: guid(CONFIG, card) for card in SHIPPED_GUIDS} == SHIPPED_GUIDS


def test_the_shipped_package_holds_the_pinned_guids(tmp_path: Path) -> None:
    from helpers import SHIPPED_APKG

    col = open_collection(tmp_path / "c.anki2")
    import_apkg(col, SHIPPED_APKG)
    found = {col.get_note(n)["Quelle"]: col.get_note(n).guid for n in col.find_notes("")}
    col.close()
    assert {
        source.split("#", 1)[1]: value
        for source, value in found.items()
        if source.split("#", 1)[1] in SHIPPED_GUIDS
    } == SHIPPED_GUIDS


def note(card_id: str, answer: str, mod: int) -> Note:
    fields = Fields("Frage", answer, "Kapitel", f"k.md#{card_id}")
    return Note(card_id, fields, ("kam",), "KAM::K", mod)


def package(tmp_path: Path, notes: list[Note], **media: bytes) -> bytes:
    out = io.BytesIO()
    with (
        temporary_file(tmp_path, ".anki2") as scratch,
        PackageWriter(CONFIG, notetype.default_notetype(), 1_700_000_000, scratch) as writer,
    ):
        for one in notes:
            writer.add(one)
        writer.write(out, 5, media)
    assert os.listdir(tmp_path) == []  # the scratch collection is gone
    return out.getvalue()


def test_zip_entries_have_fixed_times_order_and_modes(tmp_path: Path) -> None:
    data = package(tmp_path, [note("a", "x", 7)], **{"b.png": b"2", "a.png": b"1"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["collection.anki2", "media", "0", "1"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert archive.read("media") == b'{"0": "a.png", "1": "b.png"}'


@pytest.mark.parametrize("mods", [(10, 20), (20, 10)])
def test_each_note_carries_its_own_time_into_anki(tmp_path: Path, mods: tuple[int, int]) -> None:
    apkg = tmp_path / "t.apkg"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    apkg.write_bytes(package(scratch, [note("a", "x", mods[0]), note("b", "y", mods[1])]))
    col = open_collection(tmp_path / "c.anki2")
    import_apkg(col, apkg)
    found = {col.get_note(n)["Quelle"]: col.get_note(n).mod for n in col.find_notes("")}
    assert found == {"k.md#a": mods[0], "k.md#b": mods[1]}
    col.close()
