"""The edges around the core: closed pipes, file names, permissions, caches, real bugs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import KAM_ANKI, REPO, kam
from kam_anki.cache import CACHE_DIR

LATIN1_NAME = b"m\xe4rz.md"  # "märz.md" from an old archive: not UTF-8
CARD = b"# K\n\n## Frage im M\xc3\xa4rz {#maerz}\n\n- Antwort\n"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = kam(list(args), env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["build", "check", "preview", "ids"])
def test_a_file_name_that_is_not_utf8_is_named_escaped_and_exit_1(
    command: str, content: Path, tmp_path: Path
) -> None:
    with open(os.path.join(os.fsencode(content), LATIN1_NAME), "wb") as out:
        out.write(CARD)
    args = [command, "--content", str(content)]
    if command in ("build", "preview"):
        args += ["-o", str(tmp_path / "out" / "file")]
    code, output = invoke(*args)
    assert code == 1
    assert (
        f"{content.as_posix()}/m\\xe4rz.md: error: the file name is not UTF-8 "
        "(Anki needs Unicode): rename the file"
    ) in output.splitlines()
    assert "internal error" not in output and "Traceback" not in output
    assert not (tmp_path / "out").exists()


def _command(name: str, content: Path, out: Path, *extra: str) -> list[str]:
    return [
        *KAM_ANKI,
        name,
        "--content",
        str(content),
        "-o",
        str(out),
        *extra,
    ]


def _with_closed_stdout(
    command: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The command with its output going to a pipe whose reader has gone (``| head -1``)."""
    reader, writer = os.pipe()
    os.close(reader)
    with open(writer, "wb") as closed:
        done = subprocess.run(
            command, stdout=closed, stderr=subprocess.PIPE, text=True, env=env, timeout=60
        )
    for noise in ("Traceback", "Exception ignored", "Broken pipe", "error", "failed"):
        assert noise not in done.stderr
    assert done.returncode == 0  # the command's own status: the reader's leaving is no error
    return done


def test_a_closed_pipe_never_cancels_a_build_that_succeeded(content: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    (content / "kam-anki.lock").unlink()
    _with_closed_stdout(_command("build", content, tmp_path / "piped.apkg"), env)
    piped_lock = (content / "kam-anki.lock").read_bytes()
    # The same build with its output read: the same package and lock.
    (content / "kam-anki.lock").unlink()
    command = _command("build", content, tmp_path / "read.apkg")
    subprocess.run(command, env=env, check=True, capture_output=True)
    assert (tmp_path / "piped.apkg").read_bytes() == (tmp_path / "read.apkg").read_bytes()
    assert piped_lock == (content / "kam-anki.lock").read_bytes()


def test_a_watch_whose_output_is_closed_ends_after_writing_the_deck(
    content: Path, tmp_path: Path
) -> None:
    page = str(tmp_path / "preview.html")
    command = _command("watch", content, tmp_path / "kam.apkg", "--preview", page)
    _with_closed_stdout(command, dict(os.environ))
    assert (tmp_path / "kam.apkg").is_file()


def test_check_and_preview_read_the_cache_beside_the_output_and_write_nowhere_else(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert invoke("build", "--content", str(content), "-o", str(out / "kam.apkg"))[0] == 0
    # A warning only the cache knows of shows that a command took the file from the cache.
    (entry,) = (out / CACHE_DIR).glob("*.json")
    data = json.loads(entry.read_text(encoding="utf-8"))
    found = {"path": "key-account-management.md", "line": 3, "severity": "warning"}
    data["diagnostics"].append({**found, "message": "from the cache"})
    entry.write_text(json.dumps(data), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    code, output = invoke("check", "--content", str(content), "-o", str(out / "kam.apkg"))
    assert code == 0 and "from the cache" in output
    code, output = invoke("preview", "--content", str(content), "-o", str(out / "preview.html"))
    assert code == 0 and "from the cache" in output
    code, output = invoke("check", "--content", str(content))
    assert code == 0 and "from the cache" not in output
    assert list(elsewhere.iterdir()) == []


def test_an_internal_error_shows_its_traceback_only_when_asked(
    content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("kam_anki.pipeline.assemble", bug)
    code, output = invoke("check", "--content", str(content), env={"KAM_ANKI_DEBUG": ""})
    assert code == 1 and "Traceback" not in output
    assert "internal error (RuntimeError: a bug)" in output and "KAM_ANKI_DEBUG=1" in output
    code, output = invoke("check", "--content", str(content), env={"KAM_ANKI_DEBUG": "1"})
    assert code == 1
    assert "Traceback (most recent call last)" in output and "RuntimeError: a bug" in output


# Root may read and write anything, and CI runs as root: there the command runs without the
# capabilities that override file permissions, as the same user (so it can still read its
# own installation, wherever the clone lies) but held to the files' modes like anyone else.
_DROP = "-dac_override,-dac_read_search"


def invoke_unprivileged(workdir: Path, *args: str) -> tuple[int, str]:
    """The command as an ordinary user would meet permissions, run from ``workdir``."""
    command = [*KAM_ANKI, *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root without setpriv (util-linux) cannot give up its file permissions")
        command = [setpriv, f"--inh-caps={_DROP}", f"--bounding-set={_DROP}", *command]
    done = subprocess.run(
        command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return done.returncode, done.stdout


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unreadable Markdown", "content/key-account-management.md: error: cannot read: "),
        ("unreadable folder", "content/sub: error: cannot read: "),
        ("read-only output folder", "build/kam.apkg: error: cannot write: "),
        ("read-only content folder", "content/kam-anki.lock: error: cannot write: "),
    ],
)
def test_permission_errors_name_the_users_path(case: str, expected: str, tmp_path: Path) -> None:
    content = shutil.copytree(REPO / "content", tmp_path / "content")
    build_dir = tmp_path / "build"
    assert invoke("build", "--content", str(content), "-o", str(build_dir / "kam.apkg"))[0] == 0
    good = (build_dir / "kam.apkg").read_bytes()
    (content / "key-account-management.md").write_text(
        (content / "key-account-management.md").read_text(encoding="utf-8")
        + "\n## Neu {#neu}\n\n- a\n",
        encoding="utf-8",
    )
    if case == "unreadable Markdown":
        (content / "key-account-management.md").chmod(0)
    elif case == "unreadable folder":
        (content / "sub").mkdir()
        (content / "sub" / "mehr.md").write_text("# K\n\n## F {#f}\n\n- a\n", encoding="utf-8")
        (content / "sub").chmod(0)
    elif case == "read-only output folder":
        build_dir.chmod(0o555)
    else:
        content.chmod(0o555)
    code, output = invoke_unprivileged(tmp_path, "build", "-o", "build/kam.apkg")
    assert code == 1
    assert output.startswith(expected) and output.endswith("Permission denied\n"), output
    assert output.count("\n") == 1 and ".tmp" not in output and ".anki2" not in output
    assert (build_dir / "kam.apkg").read_bytes() == good


SIGNAL_IN_A_FINALISER = """
import signal, sys
from kam_anki import interrupts

interrupts.install()  # the handlers the program runs with


class Finaliser:
    def __del__(self):
        signal.raise_signal(signal.SIGTERM)  # handled while Python runs this finaliser


try:
    Finaliser()
    for _ in range(10**8):
        pass
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted")
"""


def test_a_signal_that_arrives_in_a_finaliser_still_interrupts() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_IN_A_FINALISER], capture_output=True, text=True, timeout=60
    )
    assert done.stdout == "interrupted\n"
    assert "Exception ignored" not in done.stderr
