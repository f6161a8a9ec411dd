"""Nothing in a Markdown file vanishes, merges or splits without a word: every line is on a
card or named by a warning, and the messages about other people's Markdown help."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anki_helpers import import_apkg, open_collection
from helpers import CONTENT, examples, kam
from kam_anki import api
from kam_anki.errors import ContentError
from test_images_and_html import png

# "path:12: warning: lines 12-15 are on no card: ..." names what is not shipped.
_NO_CARD = re.compile(
    r"^(?P<path>.+?):\d+: warning: lines? (?P<first>\d+)(?:-(?P<last>\d+))? (?:is|are) "
    "on no card"
)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """An empty deck: the shipped deck.toml, no Markdown yet."""
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(CONTENT / "deck.toml", folder / "deck.toml")
    return folder


def allow_html(folder: Path) -> None:
    config = folder / "deck.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("allow_html = false", "allow_html = true"), encoding="utf-8")


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run(folder: Path, command: str, *extra: str) -> tuple[int, list[str], str]:
    """Exit status, the error and warning lines (paths relative to ``folder``), all output."""
    args = [command, "--content", str(folder), *extra]
    if command == "build":
        args += ["-o", str(folder.parent / "kam.apkg")]
    result = kam(args)
    assert "Traceback" not in result.output
    prefix = folder.as_posix() + "/"
    lines = [
        line.removeprefix(prefix)
        for line in result.output.splitlines()
        if ": error: " in line or ": warning: " in line
    ]
    return result.exit_code, lines, result.output


KEEP = (
    "to have it in the deck, move it into a card's answer (below a '## Question {#id}' "
    "heading); to leave it out without this warning, put it inside <!-- --> or below a "
    "'## Heading {.notiz}'"
)


def test_text_before_the_first_card_is_named_once_per_block(vault: Path) -> None:
    write(
        vault,
        "sql.md",
        "# SQL\n\nSchema:\n\n    users(id, name)\n    orders(id, user_id)\n\n"
        "## Was liefert SELECT? {#select}\n\nZeilen.\n",
    )
    code, lines, output = run(vault, "check")
    assert code == 0
    assert lines == [
        "sql.md:3: warning: lines 3-6 are on no card: it is between the chapter title 'SQL' "
        f"and its first card; {KEEP}"
    ]
    assert output.endswith("1 card ok, 1 warning(s)\n")


def test_text_before_the_title_and_in_a_chapter_without_cards_is_named(vault: Path) -> None:
    write(
        vault,
        "teile.md",
        "---\ntags: [sql]\n---\n\n# Eins\n\n## Frage? {#frage}\n\nAntwort.\n\n"
        "# Zwei\n\nNur Notizen.\n\n# Drei\n\n## Noch eine? {#noch}\n\nJa.\n",
    )
    code, lines, _ = run(vault, "check")
    assert code == 0
    assert lines == [
        "teile.md:1: warning: lines 1-3 are on no card: it is before the file's first card; "
        + KEEP,
        "teile.md:11: warning: lines 11-13 are on no card: the chapter 'Zwei' has no cards; "
        + KEEP,
    ]


def test_a_comment_keeps_text_out_without_a_warning(vault: Path) -> None:
    write(
        vault,
        "a.md",
        "# A\n\n<!--\nEntwurf, noch nicht abfragen\n-->\n\n## Frage? {#frage}\n\nAntwort.\n",
    )
    assert run(vault, "check")[:2] == (0, [])


def test_a_comment_never_closed_names_the_lines_it_takes(vault: Path) -> None:
    write(vault, "a.md", "# A\n\n## Frage? {#frage}\n\nAntwort.\n\n<!-- TODO\n\nNoch Antwort.\n")
    code, lines, _ = run(vault, "check")
    assert code == 0
    assert lines == [
        "a.md:7: warning: comment opened here is never closed: lines 7-9 are on no card "
        "(close it with '-->')"
    ]


def test_a_notes_heading_ends_the_card_above_and_keeps_its_text_out(vault: Path) -> None:
    write(
        vault,
        "a.md",
        "# A\n\n## Was ist KAM? {#kam}\n\nKey Account Management.\n\n"
        "## Weiterführendes {.notiz}\n\nLinks, Gedanken, ### und mehr\n\n### Offene Frage?\n\n"
        "## Was ist ein Key Account? {#key-account}\n\nEin Schlüsselkunde.\n",
    )
    assert kam(["ids", "--content", str(vault)]).output == "0 id(s) added\n"
    code, lines, _ = run(vault, "build")
    assert (code, lines) == (0, [])
    notes = api.check(api.load(vault)).notes
    assert [note.fields.answer for note in notes] == [
        "<p>Key Account Management.</p>\n",
        "<p>Ein Schlüsselkunde.</p>\n",
    ]


def test_a_notes_only_file_is_allowed_and_named_in_one_line(vault: Path) -> None:
    write(vault, "karten.md", "# K\n\n## Frage? {#frage}\n\nAntwort.\n")
    write(vault, "notizen.md", "# Notizen\n\nGedanken\n\n- und mehr\n")
    code, lines, _ = run(vault, "build")
    assert code == 0
    assert lines == [
        "notizen.md:1: warning: lines 1-5 are on no card: this file has no cards, which is fine "
        "for a note beside the deck (a card is '## Question {#card-id}')"
    ]


def test_a_deck_of_notes_only_is_an_error(vault: Path) -> None:
    write(vault, "notizen.md", "# Notizen\n\nGedanken\n")
    code, lines, _ = run(vault, "check")
    assert code == 1
    assert [line.endswith(":1: error: no Markdown files (*.md) with cards") for line in lines] == [
        True
    ]


def test_question_headings_at_level_3_are_named_with_how_to_make_them_cards(vault: Path) -> None:
    write(
        vault,
        "vault.md",
        "# Vault\n\n## Grundlagen {#grundlagen}\n\nText.\n\n### Was ist ein KAM?\n\nJemand.\n\n"
        "### Details\n\nNur ein Unterabschnitt.\n",
    )
    code, lines, _ = run(vault, "check")
    assert code == 0
    assert lines == [
        "vault.md:7: warning: heading 'Was ist ein KAM?' looks like a card (it ends in '?') "
        "but is none: it is a level-3 heading, so it is shown inside the answer of "
        "'grundlagen' (line 3); to make it a card, write '## Was ist ein KAM?' at the left "
        "margin and run 'kam-anki ids'"
    ]


def test_plain_sub_headings_of_an_answer_render_as_sub_headings(vault: Path) -> None:
    write(
        vault,
        "a.md",
        "# A\n\n## Phasen des KAM? {#phasen}\n\n### Analyse\n\n- a\n\n#### Realisierung\n\n- b\n",
    )
    code, lines, _ = run(vault, "build")
    assert (code, lines) == (0, [])
    outcome = api.check(api.load(vault))
    (note,) = outcome.notes
    assert "<h3>Analyse</h3>" in note.fields.answer
    assert "<h4>Realisierung</h4>" in note.fields.answer


def test_questions_in_a_numbered_list_give_one_warning_per_card(vault: Path) -> None:
    questions = "".join(
        f"{n}. ### Was ist Nummer {n}?\n{' ' * len(f'{n}. ')}Antwort {n}.\n" for n in range(1, 61)
    )
    write(vault, "liste.md", f"# Liste\n\n## Fragen {{#fragen}}\n\n{questions}")
    code, lines, _ = run(vault, "check")
    assert code == 0
    (line,) = lines
    assert line.startswith(
        "liste.md:5: warning: 60 headings look like cards but are none (lines 5, 7, 9, 11, 13, "
        "15, 17, 19, 21, 23, …): they are inside list items, so they are shown inside the "
        "answer of 'fragen' (line 3)"
    )


def test_questions_in_a_list_before_any_card_are_named_in_the_block_warning(vault: Path) -> None:
    write(
        vault,
        "liste.md",
        "# Liste\n\n1. ### Was ist A?\n   A.\n2. ### Was ist B?\n   B.\n\n"
        "## Was ist C? {#c}\n\nC.\n",
    )
    code, lines, _ = run(vault, "check")
    assert code == 0
    assert lines == [
        "liste.md:3: warning: lines 3-6 are on no card: it is between the chapter title "
        f"'Liste' and its first card; {KEEP}; 2 heading(s) in it look like cards (lines 3, 5): "
        "a card heading is '## Question' at the left margin (then run 'kam-anki ids')"
    ]


def test_headings_in_quotes_with_flashcard_tags_or_ids_look_like_cards(vault: Path) -> None:
    write(
        vault,
        "a.md",
        "# A\n\n## Karte {#karte}\n\nText.\n\n> ### Zitierte Frage?\n> Zitat\n\n"
        "### Markiert #flashcard\n\nX\n\n### Mit Id {#mit-id}\n\nY\n",
    )
    code, lines, _ = run(vault, "check")
    assert code == 0
    (line,) = lines
    assert line.startswith(
        "a.md:7: warning: 3 headings look like cards but are none (lines 7, 10, 14): they are "
        "inside block quotes or level-3 headings, so they are shown inside the answer of "
        "'karte' (line 3)"
    )


def test_a_missing_title_is_one_error_per_file(vault: Path) -> None:
    cards = "".join(f"## Frage {n}? {{#frage-{n}}}\n\nAntwort.\n\n" for n in range(5))
    write(vault, "a.md", cards)
    write(vault, "b.md", cards.replace("frage-", "andere-"))
    code, lines, _ = run(vault, "check")
    assert code == 1
    message = "error: card before the chapter title: start the file with '# Title'"
    assert lines == [f"a.md:1: {message}", f"b.md:1: {message}"]


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        ("Ziele? (2)", "- a\n- b\n- c\n", "question says (2) but the answer lists 3 items"),
        ("Ziele? (2)", "- a\n", "question says (2) but the answer lists 1 item"),
        ("Ziele (Teil 2)?", "- a\n", None),
        ("Ziele? (2)", "Nur Text, keine Liste.\n", None),
        ("Die (3) Ziele?", "- a\n", None),
        ("Ziele? (3)", "- a\n- b\n- c\n", None),
    ],
)
def test_the_count_check_reads_only_a_trailing_count(
    vault: Path, question: str, answer: str, expected: str | None
) -> None:
    write(vault, "a.md", f"# A\n\n## {question} {{#ziele}}\n\n{answer}")
    code, lines, _ = run(vault, "check")
    assert code == 0
    assert lines == ([f"a.md:3: warning: {expected}"] if expected else [])


def test_placeholders_are_no_html_and_stay_visible_with_html_allowed(vault: Path) -> None:
    text = (
        "# K8s\n\n## Wie liest man einen Pod? {#pod}\n\n"
        "kubectl get pod <podname> -n <namespace>\n\nSELECT * FROM <table>\n"
    )
    write(vault, "k8s.md", text)
    assert run(vault, "check")[:2] == (0, [])
    allow_html(vault)
    assert run(vault, "check")[:2] == (0, [])
    (note,) = api.check(api.load(vault)).notes
    assert "&lt;podname&gt;" in note.fields.answer
    assert "&lt;namespace&gt;" in note.fields.answer
    assert "&lt;table&gt;" in note.fields.answer


def test_elements_without_their_optional_end_tag_are_markup(vault: Path) -> None:
    allow_html(vault)
    write(
        vault,
        "a.md",
        "# A\n\n## Liste? {#liste}\n\n<ul>\n<li>eins\n<li>zwei\n</ul>\n\nText<p>mehr\n",
    )
    assert run(vault, "check")[:2] == (0, [])
    (note,) = api.check(api.load(vault)).notes
    assert "<li>eins" in note.fields.answer and "Text<p>mehr" in note.fields.answer


def test_raw_html_is_one_warning_per_file_with_a_count(vault: Path) -> None:
    lines_of_text = "".join(f"Zeile {n}<br/>\n\n" for n in range(40))
    write(vault, "a.md", f"# A\n\n## Frage? {{#frage}}\n\n{lines_of_text}<b>fett</b>\n")
    code, lines, _ = run(vault, "check")
    assert code == 0
    (line,) = lines
    assert line.startswith("a.md:5: warning: raw HTML is shown as text in 42 places of this file")
    assert line.endswith(
        ": <br/>, <b>, </b>; to have it rendered as HTML, set allow_html = true in deck.toml"
    )


def test_html_images_are_packaged_like_markdown_images(vault: Path, tmp_path: Path) -> None:
    allow_html(vault)
    write(
        vault,
        "bilder/karte.md",
        '# Bilder\n\n## Wie sieht es aus? {#bild}\n\n<img src="img/zirkel.png" alt="Zirkel">\n',
    )
    (vault / "bilder" / "img").mkdir()
    (vault / "bilder" / "img" / "zirkel.png").write_bytes(png(30))
    assert run(vault, "build")[:2] == (0, [])
    col = open_collection(tmp_path / "learner.anki2")
    try:
        import_apkg(col, tmp_path / "kam.apkg")
        (note_id,) = col.find_notes("Quelle:bilder/karte.md#bild")
        answer = col.get_note(note_id)["Antwort"]
        name = re.search(r'<img src="([^"]+)" alt="Zirkel">', answer)
        assert name is not None
        assert (Path(col.media.dir()) / name.group(1)).read_bytes() == png(30)
    finally:
        col.close()


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("fehlt.png", "image 'fehlt.png' not found (looked for content/fehlt.png)"),
        ("../aussen.png", "image '../aussen.png' points outside content/"),
        (  # remote: named as every HTML way to load from the network is (test_real_paths)
            "https://example.org/x.png",
            '<img src="https://example.org/x.png"> loads from outside the deck at every review '
            "(a tracking pixel; nothing offline): put the file into content/ and show it with "
            "![](file)",
        ),
    ],
)
def test_html_images_follow_the_rules_of_markdown_images(
    vault: Path, src: str, expected: str
) -> None:
    allow_html(vault)
    write(vault, "a.md", f"# A\n\n## Bild? {{#bild}}\n\nText\n<img src='{src}'>\n")
    code, lines, _ = run(vault, "build")
    assert code == 1
    assert lines == [f"a.md:5: error: {expected}"]
    assert not (vault.parent / "kam.apkg").exists()


def test_an_image_in_a_question_is_packaged(vault: Path) -> None:
    write(vault, "a.md", "# A\n\n## Was zeigt ![Bild](b.png)? {#bild}\n\nEinen Kreis.\n")
    (vault / "b.png").write_bytes(png(90))
    assert run(vault, "build")[:2] == (0, [])
    (note,) = api.check(api.load(vault)).notes
    assert 'src="kam-' in note.fields.question
    write(vault, "a.md", "# A\n\n## Was zeigt ![Bild](c.png)? {#bild}\n\nEinen Kreis.\n")
    assert run(vault, "build")[1] == [
        "a.md:3: error: image 'c.png' not found (looked for content/c.png)"
    ]


def test_a_vault_gives_a_readable_number_of_lines(vault: Path) -> None:
    for n in range(30):
        questions = "".join(f"### Was ist {n}.{m}?\n\nAntwort.\n\n" for m in range(5))
        write(
            vault,
            f"datei-{n:02}.md",
            f"# Datei {n}\n\nEinleitung.\n\nMehr Einleitung.\n\n"
            f"## Abschnitt {n} {{#abschnitt-{n}}}\n\nText.\n\n{questions}" + "Zeile<br/>\n" * 20,
        )
    code, lines, output = run(vault, "check")
    assert code == 0
    assert len(lines) == 30 * 3  # per file: its introduction, its questions, its raw HTML
    assert len(output.splitlines()) == len(lines) + 1


# --- every line on a card or named --------------------------------------------------------


def unaccounted(folder: Path, warnings: Iterable[str], fields: str) -> list[str]:
    """Lines of the Markdown files that carry a word (``m0001x``) found in no field and
    named by no "on no card" warning."""
    named: set[tuple[str, int]] = set()
    for warning in warnings:
        match = _NO_CARD.match(warning)
        if match:
            first = int(match.group("first"))
            last = int(match.group("last") or first)
            named.update((match.group("path"), line) for line in range(first, last + 1))
    missing = []
    for path in sorted(folder.rglob("*.md")):
        name = path.relative_to(folder).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            for word in re.findall(r"m\d{4}x", line):
                if word not in fields and (name, number) not in named:
                    missing.append(f"{name}:{number}: {line}")
    return missing


STYLES = {
    "einleitung.md": (
        "# Einleitung m0001x\n\nSchema m0002x:\n\n    tabelle m0003x\n\n"
        "## Frage m0004x? {#frage-eins}\n\nAntwort m0005x.\n\n"
        "### Details m0006x\n\nMehr m0007x.\n\n### Unterfrage m0008x?\n\nDazu m0009x.\n"
    ),
    "liste.md": (
        "# Liste m0010x\n\n1. ### Was ist m0011x?\n   Erklärung m0012x.\n"
        "2. ### Was ist m0013x?\n   Erklärung m0014x.\n\n"
        "## Sammlung m0015x {#sammlung}\n\n1. ### Was ist m0016x?\n   Erklärung m0017x.\n"
    ),
    "notizen.md": "# Notizen m0018x\n\nNur ein Gedanke m0019x.\n\n> Zitat m0020x\n",
    "html.md": (
        "# HTML m0021x\n\n## Pod m0022x? {#pod}\n\nkubectl get pod <podname> m0023x\n\n"
        '<img src="bild.png" alt="m0024x">\n\n# Zweites Kapitel m0025x\n\nText m0026x\n'
    ),
}


def test_no_text_is_missing_from_the_imported_package_without_a_warning(
    vault: Path, tmp_path: Path
) -> None:
    allow_html(vault)
    for name, text in STYLES.items():
        write(vault, name, text)
    (vault / "bild.png").write_bytes(png(120))
    code, warnings, _ = run(vault, "build")
    assert code == 0
    col = open_collection(tmp_path / "learner.anki2")
    try:
        import_apkg(col, tmp_path / "kam.apkg")
        fields = "\n".join(
            field for note_id in col.find_notes("") for field in col.get_note(note_id).fields
        )
    finally:
        col.close()
    assert unaccounted(vault, warnings, fields) == []
    # Named, not shipped: the schema, the list before the first card, the notes file, the
    # text of a chapter without cards.
    for word in ("m0002x", "m0011x", "m0019x", "m0026x"):
        assert word not in fields
    # And the test can fail: a line named by no warning is found.
    assert unaccounted(vault, [], fields) != []


# A file from blocks in the styles of other people's notes, each line with its own word.
_BLOCKS = st.sampled_from(
    [
        "Text {w}.",
        "Zwei {w}\nZeilen {w}",
        "- Punkt {w}\n- Noch {w}",
        "1. ### Frage {w}?\n   Antwort {w}",
        "### Unterfrage {w}?",
        "### Abschnitt {w}",
        "> Zitat {w}",
        "    code {w}",
        "kubectl get <pod{w}>",
        "<div>\nIm Block {w}\n</div>",
        "Zeile {w}<br/>\nSELECT * FROM <tabelle{w}>",
        "Frage {w}?\n---",
        "<!-- kommentar -->",
        "# Kapitel {w}",
        "## Karte {w} {{#k{w}}}\n\nAntwort {w}",
    ]
)


@settings(
    max_examples=examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    files=st.lists(st.lists(_BLOCKS, max_size=12), min_size=1, max_size=3),
    html=st.booleans(),
    gap=st.sampled_from(["\n\n", "\n"]),
)
def test_every_line_of_generated_notes_is_on_a_card_or_named(
    vault: Path, files: list[list[str]], html: bool, gap: str
) -> None:
    """Blocks apart or glued together (a list running into a heading, a paragraph into an
    HTML block); a build that fails says so, with errors, and is no silent loss."""
    shutil.copy(CONTENT / "deck.toml", vault / "deck.toml")  # examples share the folder
    if html:
        allow_html(vault)
    for old in vault.glob("*.md"):
        old.unlink()
    counter = iter(range(10_000))
    for number, blocks in enumerate(files):
        parts = ["# Titel {w}", *blocks]
        text = gap.join(
            re.sub(
                r"\{w\}",
                lambda _: f"m{next(counter):04d}x",
                part.replace("{{", "{").replace("}}", "}"),
            )
            for part in parts
        )
        write(vault, f"datei-{number}.md", text + "\n")
    write(vault, "karte.md", "# Karte\n\n## Immer da? {#immer-da}\n\nJa.\n")
    try:
        outcome = api.check(api.load(vault))
    except ContentError as error:
        assert error.diagnostics
        return
    fields = "\n".join(value for note in outcome.notes for value in note.fields.values())
    assert unaccounted(vault, map(str, outcome.result.warnings), fields) == []
