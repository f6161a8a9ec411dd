"""The paths real projects take, tried as a careless or hostile user would: tags in
deck.toml, twin file names, links, git setups that hide history, long histories, absurd
times in the records, remote HTML, closed pipes and what killed builds leave.

Through the CLI, and the official Anki engine where a learner's collection is at stake.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from anki_helpers import import_apkg, open_collection, scheduling
from helpers import CHAPTER, CHAPTER_FILE, Repo, edit, git
from kam_anki.cache import CACHE_DIR
from kam_anki.cli import main
from kam_anki.files import HISTORY_CACHE, read_shipped
from kam_anki.history import RECORD_NAME
from kam_anki.state import LOCK_NAME, MAX_TIME

REMOVED = "kurze-beschreibung-des-st-galler-kam"
CARD = "kam-zirkel-schritte-im-rahmen-der-realisierung-5"
ORIGINAL = "- Erfolgsmessung\n"
EDITED = "- Erfolgsmessung und Review\n"


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def build(content: Path, out: Path, *args: str) -> tuple[int, str]:
    return cli("build", "--content", str(content), "-o", str(out), *args)


def set_deck(content: Path, *, tags: str | None = None, name: str | None = None) -> None:
    path = content / "deck.toml"
    text = path.read_text(encoding="utf-8")
    if tags is not None:
        text = re.sub(r"(?m)^tags = .*$", lambda _: f"tags = {tags}", text)
    if name is not None:
        text = re.sub(r'(?m)^name = ".*"$', lambda _: f"name = {name}", text)
    path.write_text(text, encoding="utf-8")


def remove_card(content: Path) -> None:
    source = content / CHAPTER_FILE
    text = source.read_text(encoding="utf-8")
    start = text.index("## Kurze Beschreibung des St. Galler KAM")
    end = text.index("## KAM Zirkel: Schritte im Rahmen der Analyse")
    source.write_text(text[:start] + text[end:], encoding="utf-8")


# 1. The removed-card search -------------------------------------------------------------


@pytest.mark.parametrize(
    "tags",
    [
        '["kam", "kam::Entfernt::alt"]',
        '["KAM::ENTFERNT"]',
        '["kam::entfernt"]',
        '["\u212aam::entfernt"]',  # KELVIN SIGN: a k to Anki's case-blind search
        '["kam::entfernt::"]',  # Anki stores the empty part as "blank": a child tag
    ],
)
def test_a_deck_tag_that_the_removed_card_search_would_find_is_refused(
    tags: str, content: Path
) -> None:
    set_deck(content, tags=tags)
    code, output = cli("check", "--strict", "--content", str(content))
    assert code == 1
    assert f"{content.as_posix()}/deck.toml:" in output and "kam::entfernt" in output
    assert "select every note" in output


@pytest.mark.parametrize(
    ("name", "lure"),
    [('"K_M*"', "KxMyz"), ('"Kurs \\"A\\" (neu)"', "Kurs"), ('"C:\\\\Kurs"', "C:")],
)
def test_the_printed_search_selects_the_removed_cards_only_in_anki(
    name: str, lure: str, content: Path, tmp_path: Path
) -> None:
    """Tags next to the removed cards' tag (a parent, look-alikes) and a deck name with
    Anki's wildcards, quotes or a backslash: deleting what the printed search finds deletes
    the tombstone alone, not even a learner's own note with that tag in a deck the name
    would match unescaped."""
    set_deck(content, tags='["kam", "KAM", "kam::entfernt_x", "kam::entfernt-alt"]', name=name)
    out = tmp_path / "kam.apkg"
    assert build(content, out)[0] == 0
    col = open_collection(tmp_path / "desktop.anki2")
    import_apkg(col, out)
    # The learner's own notes: one in a deck the wildcards would match, tagged alike.
    basic = col.models.by_name("Basic")
    own = col.new_note(basic)
    own["Front"] = "mine"
    own.tags = ["kam::entfernt"]
    col.add_note(own, col.decks.id(lure))
    before = set(col.find_notes(""))
    remove_card(content)
    code, output = build(content, out)
    assert code == 0 and f"- {REMOVED}" in output
    import_apkg(col, out)
    found = re.search(r"Browse, search  (.+?)  select all", output)
    assert found is not None
    search = found.group(1)
    (tombstone,) = col.find_notes(f'tag:kam::entfernt "Quelle:#{REMOVED}"')
    assert col.find_notes(search) == [tombstone]
    reviews = scheduling(col)
    col.remove_notes(col.find_notes(search))  # as the build says: select all, delete
    assert set(col.find_notes("")) == before - {tombstone}
    assert {k: v for k, v in scheduling(col).items() if k in col.find_cards("")} == {
        k: v for k, v in reviews.items() if k in col.find_cards("")
    }


# 2. Twin names --------------------------------------------------------------------------


def test_composed_and_decomposed_twin_names_are_an_error_naming_both(
    content: Path, tmp_path: Path
) -> None:
    out = tmp_path / "kam.apkg"
    assert build(content, out)[0] == 0
    good = out.read_bytes()
    composed, decomposed = (unicodedata.normalize(f, "bär.md") for f in ("NFC", "NFD"))
    (content / composed).write_text("# Bär\n\n## Frage eins {#eins}\n\n- a\n", encoding="utf-8")
    (content / decomposed).write_text("# Bär\n\n## Frage zwei {#zwei}\n\n- b\n", encoding="utf-8")
    for command in (["check", "--strict", "--content", str(content)], None):
        code, output = cli(*command) if command else build(content, out)
        assert code == 1
        assert "'b\\xe4r.md'" in output and "'ba\\u0308r.md'" in output
        assert "one name in Unicode" in output
    assert out.read_bytes() == good


@pytest.mark.parametrize("kind", ["folder", "image"])
def test_twin_folders_and_images_are_an_error_too(kind: str, content: Path) -> None:
    for folder, card in (
        (content / unicodedata.normalize("NFC", "Übung"), "eins"),
        (content / unicodedata.normalize("NFD", "Übung"), "zwei"),
    ):
        folder.mkdir()
        if kind == "folder":
            text = f"# Ü\n\n## Frage {card} {{#{card}}}\n\n- a\n"
            (folder / "karten.md").write_text(text, encoding="utf-8")
        else:
            (folder / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n" + card.encode())
    code, output = cli("check", "--content", str(content))
    assert code == 1 and "one name in Unicode" in output
    assert "\\xdcbung" in output and "U\\u0308bung" in output


# 3. Links -------------------------------------------------------------------------------


def _outside(content: Path) -> Path:
    secret = content.parent / "privat"
    secret.mkdir(exist_ok=True)
    (secret / "geheim.md").write_text("# P\n\n## Geheim {#geheim}\n\n- x\n", encoding="utf-8")
    (secret / "geheim.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return secret


LINKS_OUT: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "markdown file": ("geheim.md", lambda c: _outside(c) / "geheim.md"),
    "image": ("geheim.png", lambda c: _outside(c) / "geheim.png"),
    "folder": ("privat", _outside),
    "relative, via ..": ("kapitel.md", lambda c: Path("..", "privat", "geheim.md")),
}


@pytest.mark.parametrize("case", sorted(LINKS_OUT))
def test_a_link_leading_out_of_content_is_an_error_naming_link_and_target(
    case: str, content: Path, tmp_path: Path
) -> None:
    name, target = LINKS_OUT[case]
    _outside(content)
    (content / name).symlink_to(target(content))
    out = tmp_path / "kam.apkg"
    code, output = build(content, out)
    assert code == 1 and not out.exists()
    assert f"{content.as_posix()}/{name}: error: a link to " in output
    assert "privat" in output and "outside content/" in output
    assert "Geheim" not in output


def test_links_that_stay_inside_content_are_followed_and_broken_or_looping_ones_named(
    content: Path, tmp_path: Path
) -> None:
    drafts = content / ".entwuerfe"  # hidden: read only through the links below
    drafts.mkdir()
    (drafts / "neu.md").write_text("# Neu\n\n## Neue Frage {#neu}\n\n- a\n", encoding="utf-8")
    (drafts / "mehr").mkdir()
    (drafts / "mehr" / "m.md").write_text("# Neu\n\n## Mehr {#mehr}\n\n- b\n", encoding="utf-8")
    (content / "neu.md").symlink_to(Path(".entwuerfe", "neu.md"))
    (content / "mehr").symlink_to(drafts / "mehr")
    code, output = build(content, tmp_path / "kam.apkg")
    assert code == 0, output
    assert "+ neu: Neue Frage" in output and "+ mehr: Mehr" in output

    # `kam-anki ids` writes into the file a link names: the link stays a link.
    (drafts / "ohne.md").write_text("# Neu\n\n## Ohne Id\n\n- c\n", encoding="utf-8")
    (content / "ohne.md").symlink_to(Path(".entwuerfe", "ohne.md"))
    assert cli("ids", "--content", str(content))[0] == 0
    assert (content / "ohne.md").is_symlink()
    assert "{#ohne-id}" in (drafts / "ohne.md").read_text(encoding="utf-8")

    (content / "weg.md").symlink_to("gibt-es-nicht.md")
    (content / "mehr" / "zurueck").symlink_to(content)
    code, output = build(content, tmp_path / "kam.apkg")
    assert code == 1
    assert f"{content.as_posix()}/weg.md: error: a link to 'gibt-es-nicht.md'" in output
    assert "does not exist" in output
    assert "/mehr/zurueck: error: a link to " in output and "a loop" in output

    (content / "a.md").symlink_to("b.md")
    (content / "b.md").symlink_to("a.md")
    code, output = build(content, tmp_path / "kam.apkg")
    assert code == 1 and "internal error" not in output
    assert f"{content.as_posix()}/a.md: error: a link to 'b.md'" in output


def test_a_pipe_with_a_markdown_name_is_an_error_not_a_hang(content: Path) -> None:
    os.mkfifo(content / "rohr.md")
    code, output = cli("check", "--content", str(content))
    assert code == 1 and f"{content.as_posix()}/rohr.md: error: not a regular file" in output


# 4. History that cannot be read, and history read whatever .gitattributes says ---------


@pytest.mark.parametrize("attributes", ["*.lock -diff", "*.lock binary", "* -text -diff"])
def test_a_revert_reaches_learners_whatever_gitattributes_say_of_diffs(
    attributes: str, repo: Repo
) -> None:
    (repo.root / ".gitattributes").write_text(attributes + "\n")
    repo.commit("attributes")
    repo.edit(ORIGINAL, EDITED)
    assert "1 changed" in repo.build().output
    repo.commit("edit")
    git(repo.root, "revert", "--no-edit", "HEAD")
    clone = repo.root.parent / "clone"  # no record beside the output: git alone knows
    git(repo.root.parent, "clone", "-q", str(repo.root), str(clone))
    repo.root, repo.apkg = clone, clone / "build" / "kam.apkg"
    result = repo.build()
    assert "1 changed" in result.output and f"~ {CARD}" in result.output
    assert "kam-anki.lock: warning" not in result.output


def _history_repo(repo: Repo) -> None:
    repo.edit(ORIGINAL, EDITED)
    repo.build()
    repo.commit("edit")
    git(repo.root, "revert", "--no-edit", "HEAD")


def _run(repo_root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kam_anki", "build", "--content", "content", *args]
    return subprocess.run(
        command, cwd=repo_root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_shallow_clone_says_that_it_hides_history_and_how_to_fetch_it(
    repo: Repo, tmp_path: Path
) -> None:
    _history_repo(repo)
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", repo.root.as_uri(), str(clone))
    done = _run(clone, dict(os.environ), "--dry-run")
    assert done.returncode == 0
    assert "content/kam-anki.lock: warning: this is a shallow clone" in done.stderr
    assert "git fetch --unshallow" in done.stderr
    git(clone, "fetch", "-q", "--unshallow")
    done = _run(clone, dict(os.environ), "--dry-run")
    assert "shallow" not in done.stderr and f"~ {CARD}" in done.stdout


def test_without_git_on_path_a_checkout_says_that_history_is_not_read(repo: Repo) -> None:
    _history_repo(repo)
    shutil.rmtree(repo.root / "build")
    env = {**os.environ, "PATH": str(repo.root / "no-git-here")}
    done = _run(repo.root, env, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "git is not installed (not on PATH)" in done.stderr
    assert "install git" in done.stderr


def test_a_checkout_git_refuses_says_so_with_the_safe_directory_command(repo: Repo) -> None:
    _history_repo(repo)
    shutil.rmtree(repo.root / "build")
    env = {**os.environ, "GIT_TEST_ASSUME_DIFFERENT_OWNER": "1"}
    done = _run(repo.root, env, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "dubious ownership" in done.stderr
    assert "git config --global --add safe.directory" in done.stderr


def test_a_lock_that_git_ignores_is_named(repo: Repo) -> None:
    git(repo.root, "rm", "-q", "--cached", "content/kam-anki.lock")
    (repo.root / ".gitignore").write_text("/build/*\n!/build/kam.apkg\n*.lock\n")
    repo.commit("ignore the lock")
    shutil.rmtree(repo.root / "build")
    fresh = repo.root.parent / "fresh"
    git(repo.root.parent, "clone", "-q", str(repo.root), str(fresh))
    shutil.copy(repo.root / "content" / LOCK_NAME, fresh / "content" / LOCK_NAME)
    repo.root, repo.apkg = fresh, fresh / "build" / "kam.apkg"
    output = repo.build().output
    assert "kam-anki.lock: warning: git ignores this file (.gitignore)" in output
    assert "git add -f content/kam-anki.lock" in output


def test_a_broken_checkout_is_named_not_taken_for_no_git(content: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /nowhere/worktree\n")  # a moved worktree
    code, output = build(content, tmp_path / "kam.apkg", "--dry-run")
    assert code == 0
    assert "kam-anki.lock: warning: git cannot read the lock's history" in output
    assert "/nowhere/worktree" in output


def test_outside_git_nothing_is_said_about_history(content: Path, tmp_path: Path) -> None:
    code, output = build(content, tmp_path / "kam.apkg")
    assert code == 0 and "kam-anki.lock: warning" not in output


# 5. The history cache: a build reads only what is new, and gets what a full read gets ---


def _same_warm_and_cold(repo: Repo) -> None:
    """The read that goes on from the cache equals a read from nothing."""
    cache = repo.root / "build" / CACHE_DIR / HISTORY_CACHE
    content, output = repo.root / "content", repo.root / "build"
    record = (output / RECORD_NAME).read_bytes()
    assert cache.is_file()
    warm = read_shipped(content, record, output)
    saved = cache.read_bytes()
    cache.unlink()
    cold = read_shipped(content, record, output)
    cache.write_bytes(saved)
    assert warm.stamps == cold.stamps
    assert warm.history is not None and cold.history is not None
    assert (warm.history.cards, warm.history.commits) == (
        cold.history.cards,
        cold.history.commits,
    )
    ((tip, lineage),) = cold.history.lineages.items()
    assert next(iter(warm.history.lineages.items())) == (tip, lineage)


def _built(repo: Repo, *git_args: str, edit: tuple[str, str] | None = None) -> str:
    """Run ``git git_args``, edit, build and commit (if nothing changed, too); compare.
    Returns what the build said."""
    if git_args:
        git(repo.root, *git_args)
    if edit is not None:
        repo.edit(*edit)
    output = repo.build().output
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "--allow-empty", "-m", "built")
    _same_warm_and_cold(repo)
    return output


def test_the_history_cache_gives_what_reading_all_history_gives(repo: Repo) -> None:
    """Through edits, a revert, a branch, a reset back, a merge and switching branches back
    and forth: after every step the cache gives what reading all history gives."""
    _built(repo, edit=(ORIGINAL, "- Review 0\n"))
    _built(repo, edit=("- Review 0\n", "- Review 1\n"))
    _built(repo, edit=("- Review 1\n", "- Review 2\n"))
    _built(repo, "revert", "--no-edit", "HEAD")
    _built(repo, "checkout", "-q", "-b", "side", "HEAD~3", edit=("- Review 1\n", "- Seite\n"))
    _built(repo, "checkout", "-q", "main")
    _built(repo, "reset", "-q", "--hard", "HEAD~2")
    merge = subprocess.run(
        ["git", "-C", str(repo.root), "merge", "-q", "side"], capture_output=True, check=False
    )
    if merge.returncode:
        for path in (CHAPTER, "content/kam-anki.lock"):
            git(repo.root, "checkout", "--theirs", "--", path)
    _built(repo)
    # A card only a branch has: on main it is no card of this line of history to remove.
    new_card = "- Seite\n\n## Neue Karte {#neue-karte}\n\n- neu\n"
    _built(repo, "checkout", "-q", "-b", "later", "side", edit=("- Seite\n", new_card))
    _built(repo)  # a build where HEAD has the card
    assert "removed card" not in _built(repo, "checkout", "-q", "main")
    _built(repo, "checkout", "-q", "later", edit=("- neu\n", "- neu und mehr\n"))


def test_a_cache_of_another_checkout_or_a_broken_one_is_not_used(repo: Repo) -> None:
    cache = repo.root / "build" / CACHE_DIR / HISTORY_CACHE
    _history_repo(repo)
    repo.build()
    good = cache.read_bytes()
    for bad in (b"{not json", good.replace(b'"where":"', b'"where":"elsewhere')):
        cache.write_bytes(bad)
        result = repo.build("--dry-run")
        assert "0 changed" in result.output
    cache.write_bytes(good.replace(b"Erfolgsmessung", b"Erfolgsmessung und Review", 1))
    assert "0 changed" in repo.build("--dry-run").output
    cache.unlink()  # a dry run and a check write nothing, the cache neither
    assert "0 changed" in repo.build("--dry-run").output
    assert cli("check", "--content", str(repo.root / "content"), "-o", str(repo.apkg))[0] == 0
    assert not cache.exists()


# 6. Absurd times from the record or git never make a lock the next build refuses --------


def test_an_absurd_time_in_the_record_is_passed_over_with_a_warning(
    content: Path, tmp_path: Path
) -> None:
    out = tmp_path / "kam.apkg"
    assert build(content, out)[0] == 0
    record = tmp_path / RECORD_NAME
    with record.open("a", encoding="utf-8") as extra:
        extra.write(f'["{REMOVED}", "abc", 999999999999, "Frage"]\n')
        extra.write(f'["{CARD}", "abc", {10**30}, "Frage"]\n')
    edit(content / CHAPTER_FILE, ORIGINAL, EDITED)
    for _ in range(2):  # the second build reads the lock the first wrote
        code, output = build(content, out)
        assert code == 0, output
        assert f"{record.resolve().as_posix()}: warning: line(s) " in output
        assert "after 2100" in output
    assert cli("check", "--content", str(content), "-o", str(out))[0] == 0
    lock = (content / LOCK_NAME).read_text(encoding="utf-8")
    assert "999999999999" not in lock and "1000000000000" not in lock


def test_a_time_at_the_limit_is_never_written_past_it(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "kam.apkg"
    assert build(content, out)[0] == 0
    lock = (content / LOCK_NAME).read_bytes()
    with (tmp_path / RECORD_NAME).open("a", encoding="utf-8") as extra:
        extra.write(f'["{CARD}", "abc", {MAX_TIME}, "Frage"]\n')
    edit(content / CHAPTER_FILE, ORIGINAL, EDITED)
    code, output = build(content, out)
    assert code == 1 and f"{CARD}: the newest time shipped" in output
    assert (content / LOCK_NAME).read_bytes() == lock  # the last good lock stays


def test_an_absurd_time_in_the_locks_git_history_is_passed_over(repo: Repo) -> None:
    lock = repo.root / "content" / LOCK_NAME
    good = lock.read_text(encoding="utf-8")
    bad = re.sub(r'"mod": \d+', '"mod": 999999999999', good, count=3)
    lock.write_text(bad, encoding="utf-8")
    repo.commit("a hand-edited lock")
    lock.write_text(good, encoding="utf-8")
    repo.commit("restored")
    result = repo.build()  # reads the history: says so once
    assert "3 line(s) in the lock's git history" in result.output
    assert "after 2100" in result.output and "0 changed" in result.output
    result = repo.build()  # the lock it wrote is read back, the history from the cache
    assert result.exit_code == 0 and "git history" not in result.output
    assert "999999999999" not in lock.read_text(encoding="utf-8")
    clone = repo.root.parent / "clone"  # no cache: the history is read, and said, again
    git(repo.root.parent, "clone", "-q", str(repo.root), str(clone))
    repo.root, repo.apkg = clone, clone / "build" / "kam.apkg"
    assert "3 line(s) in the lock's git history" in repo.build("--dry-run").output


# 7. Remote resources in HTML ------------------------------------------------------------

REMOTE_HTML = {
    "img src": ('<img src="https://t.example/p.gif">', '<img src="https://t.example/p.gif">'),
    "entity-spelled": ('<img src="&#104;ttps://t.example/p.gif">', "https://t.example/p.gif"),
    "protocol-relative": ("<img src=//t.example/p.gif>", '<img src="//t.example/p.gif">'),
    "backslashes": ('<img src="\\\\t.example\\p.gif">', "t.example"),
    "srcset": ('<img srcset="a.png 1x, https://t.example/b.png 2x">', "srcset"),
    "picture source": (
        '<picture><source srcset="https://t.example/b.webp"></picture>',
        '<source srcset="https://t.example/b.webp">',
    ),
    "style url": ('<span style="background: url(https://t.example/x)">x</span>', "style"),
    "style url quoted": (
        "<span style='background: URL( \"//t.example/x\" )'>x</span>",
        "//t.example",
    ),
    "style escaped": ('<span style="background: u\\72l(//t.example/x)">x</span>', "//t.example"),
    "style image-set": (
        "<span style=\"background-image: image-set('https://t.example/x' 1x)\">x</span>",
        "https://t.example/x",
    ),
    "video poster": ('<video poster="https://t.example/v.jpg"></video>', "poster"),
    "audio": ('<audio src="https://t.example/a.mp3"></audio>', "<audio src="),
    "source in video": ('<video><source src="https://t.example/v.mp4"></video>', "<source src"),
    "track": ('<video><track src="https://t.example/t.vtt"></video>', "<track src"),
    "input image": ('<input type="image" src="https://t.example/i.png">', "<input src"),
    "table background": ('<table background="http://t.example/b.png"></table>', "background"),
    "file url": ('<img src="file:///etc/hostname">', "file:///etc/hostname"),
    "inline in text": ('Siehe <img src="https://t.example/i.gif"> hier', "<img src="),
    # Shown as text anyway (frames, objects, style sheets, links, SVG), but named all the same.
    "iframe": ('<iframe src="https://t.example/f"></iframe>', '<iframe src="https://t.example/f">'),
    "object": ('<object data="https://t.example/o"></object>', "<object data="),
    "embed": ('<embed src="https://t.example/e">', "<embed src="),
    "link": ('<link rel="stylesheet" href="https://t.example/s.css">', "<link href="),
    "style sheet": ('<style>@import "https://t.example/s.css";</style>', "<style>…https"),
    "svg image": ('<svg><image href="https://t.example/s.png"/></svg>', "<image href="),
    # An HTML block's tag left open: the card's template closes it, and it loads.
    "unclosed tag": ('<div>\n<img src="https://t.example/p.gif', "https://t.example/p.gif"),
}


@pytest.mark.parametrize("case", sorted(REMOTE_HTML))
def test_html_that_loads_from_the_network_is_refused_naming_it(case: str, content: Path) -> None:
    html, named = REMOTE_HTML[case]
    set_deck(content, tags='["kam"]')
    text = (content / "deck.toml").read_text(encoding="utf-8")
    (content / "deck.toml").write_text(text.replace("allow_html = false", "allow_html = true"))
    card = f"# Netz\n\n## Frage {{#netz}}\n\n- Punkt\n\n{html}\n"
    (content / "netz.md").write_text(card, encoding="utf-8")
    code, output = cli("check", "--content", str(content))
    assert code == 1
    assert f"{content.as_posix()}/netz.md:" in output and named in output
    assert "loads from outside the deck at every review" in output


def test_html_in_a_question_that_loads_from_the_network_is_refused(content: Path) -> None:
    text = (content / "deck.toml").read_text(encoding="utf-8")
    (content / "deck.toml").write_text(text.replace("allow_html = false", "allow_html = true"))
    card = '# Netz\n\n## Frage <img src="https://t.example/q.gif"> {#netz}\n\n- a\n'
    (content / "netz.md").write_text(card, encoding="utf-8")
    code, output = cli("check", "--content", str(content))
    assert code == 1 and f"{content.as_posix()}/netz.md:3: error: <img src=" in output


def test_html_that_loads_nothing_from_the_network_still_builds(
    content: Path, tmp_path: Path
) -> None:
    text = (content / "deck.toml").read_text(encoding="utf-8")
    (content / "deck.toml").write_text(text.replace("allow_html = false", "allow_html = true"))
    card = (
        "# Netz\n\n## Frage {#netz}\n\n"
        '- <a href="https://example.org/">a link is followed only when clicked</a>\n'
        '- <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">\n'
        '- <span style="color: red">https://example.org in text</span>\n'
        "- <span style=\"font-family: 'https://example.org'\">a string is text in CSS</span>\n"
        '- <span title="https://example.org">a title loads nothing</span>\n'
    )
    (content / "netz.md").write_text(card, encoding="utf-8")
    code, output = build(content, tmp_path / "kam.apkg")
    assert code == 0, output


# 8. A closed pipe, and what a killed build's sweep may delete ---------------------------


@pytest.mark.parametrize("cards", [1, 3000])
def test_build_piped_into_head_exits_0_whatever_the_size_of_the_report(
    cards: int, content: Path, tmp_path: Path
) -> None:
    """The report of 3,000 new cards is far over a pipe's 64 KiB: the build still finishes,
    and the exit status is the build's, as for a short report."""
    many = "".join(f"## Frage Nummer {n} {{#frage-{n}}}\n\n- Antwort {n}\n\n" for n in range(cards))
    (content / "viele.md").write_text("# Viele\n\n" + many, encoding="utf-8")
    command = [sys.executable, "-m", "kam_anki", "build", "--content", str(content)]
    command += ["-o", str(tmp_path / "kam.apkg")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()  # what `head -1` reads, then it goes
        process.stdout.close()
        errors = process.stderr.read().decode()
        status = process.wait(timeout=120)
    assert first.startswith(f"{8 + cards} cards: {cards} added".encode())
    assert status == 0, errors
    assert "Traceback" not in errors and "Broken pipe" not in errors
    assert f"frage-{cards - 1}" in (content / LOCK_NAME).read_text(encoding="utf-8")


def test_the_sweep_of_killed_builds_deletes_only_files_kam_anki_wrote(
    content: Path, tmp_path: Path
) -> None:
    out = tmp_path / "build"
    out.mkdir()
    users = [
        content / ".notizen.json.1.tmp",
        content / ".entwurf.apkg.2.tmp",
        content / ".kam-anki-tmp-meine-notiz",
        out / ".export.json.3.tmp",
        out / ".alt.apkg.4.tmp",
    ]
    for path in users:
        path.write_text("mine")
    ours = [out / ".kam-anki-tmp-a1b2c3d4-kam.apkg", out / ".kam-anki-tmp-zz_09xyw.anki2"]
    for path in ours:
        path.write_text("left by a killed build")
    assert build(content, out / "kam.apkg")[0] == 0
    assert all(path.read_text() == "mine" for path in users)
    assert not any(path.exists() for path in ours)
