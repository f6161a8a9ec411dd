"""The README's Python example runs as written, and the API has no traps: a list, not a
generator, from ``add_ids``; notes after every build; an ``OSError`` as a ``KamError``."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from helpers import REPO
from kam_anki import api
from kam_anki.errors import KamError, PathError


def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### From a Python script") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_the_readme_example_runs_as_written_in_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), "README.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("new: ")
    assert re.fullmatch(r"[0-9a-f]{64} build/kam\.apkg", lines[1])
    assert (tmp_path / "build" / "kam.apkg").is_file()


def test_the_public_names_are_listed_and_none_is_a_generator() -> None:
    import inspect

    for name in api.__all__:
        value = getattr(api, name)
        assert not inspect.isgeneratorfunction(inspect.unwrap(value)), name


def test_add_ids_writes_without_being_iterated(tmp_path: Path) -> None:
    api.init(tmp_path, "Deck")
    card = tmp_path / "content" / "neu.md"
    card.write_text("# Kapitel\n\n## Neue Frage?\n\n- Antwort\n", encoding="utf-8")
    done = api.add_ids(tmp_path / "content")
    assert isinstance(done, list)
    assert [(d.path.name, d.added) for d in done] == [("neu.md", ("neue-frage",))]
    assert "{#neue-frage}" in card.read_text(encoding="utf-8")


def test_check_and_write_both_give_every_note(tmp_path: Path) -> None:
    api.init(tmp_path, "Deck")
    project = api.load(tmp_path / "content", tmp_path / "build" / "kam.apkg", clock=lambda: 2e9)
    checked = api.check(project)
    built = api.write(project)
    assert checked.notes and [n.card_id for n in built.notes] == [n.card_id for n in checked.notes]
    assert {n.mod for n in built.notes} == {2_000_000_000}
    assert not isinstance(checked, api.Built) and built.package == project.output


def test_a_preview_from_a_plain_check_has_every_card(tmp_path: Path) -> None:
    api.init(tmp_path, "Deck")
    project = api.load(tmp_path / "content", tmp_path / "build" / "kam.apkg")
    page = tmp_path / "build" / "preview.html"
    api.write_preview(project, api.check(project), page)
    assert len(api.check(project).notes) == 1
    assert "Deck" in page.read_text(encoding="utf-8")


def test_a_file_gone_after_loading_is_a_path_error_not_an_oserror(tmp_path: Path) -> None:
    api.init(tmp_path, "Deck")
    project = api.load(tmp_path / "content")
    card = next((tmp_path / "content").glob("*.md"))
    card.unlink()  # as an editor saving by rename, between reading the folder and the build
    with pytest.raises(PathError) as raised:
        api.check(project)
    assert isinstance(raised.value, KamError)
    assert isinstance(raised.value.__cause__, FileNotFoundError)
    assert raised.value.path == str(card)
