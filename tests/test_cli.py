"""The command line as a user meets it: messages, exit codes, files left behind."""

from __future__ import annotations

import signal
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from helpers import KAM_ANKI, kam
from kam_anki import __version__
from kam_anki.cache import CACHE_DIR
from kam_anki.cli import main
from kam_anki.history import RECORD_NAME

STOPPING = (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM)


def run(*args: str) -> tuple[int, str]:
    result = kam(list(args))
    return result.exit_code, result.output


def test_version_and_help_with_examples() -> None:
    assert run("--version") == (0, f"kam-anki, version {__version__}\n")
    code, out = run("--help")
    assert code == 0 and "kam-anki build --dry-run" in out


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([*KAM_ANKI, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"kam-anki, version {__version__}"


def test_check_passes_on_shipped_content(content: Path) -> None:
    code, out = run("check", "--content", str(content))
    assert code == 0 and out.endswith("8 cards ok, 2 warning(s)\n")


def test_usage_error_exits_2() -> None:
    code, out = run("build", "--no-such-option")
    assert code == 2 and "No such option" in out


def test_heading_without_id_names_file_and_line_and_keeps_last_good_deck(
    content: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "kam.apkg"
    assert run("build", "--content", str(content), "-o", str(out_file))[0] == 0
    good = out_file.read_bytes()
    source = content / "key-account-management.md"
    source.write_text(
        source.read_text(encoding="utf-8") + "\n## Neue Frage ohne Id\n\n- Antwort\n",
        encoding="utf-8",
    )
    line = source.read_text(encoding="utf-8").splitlines().index("## Neue Frage ohne Id") + 1
    code, out = run("build", "--content", str(content), "-o", str(out_file))
    assert code == 1
    assert out == (
        f"{source.as_posix()}:{line}: error: card has no id: "
        "run 'kam-anki ids' to add one to every heading\n"
    )
    assert "Traceback" not in out
    assert out_file.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        CACHE_DIR,
        RECORD_NAME,
        "content",
        "kam.apkg",
    ]


def test_ids_command_then_build_succeeds(content: Path, tmp_path: Path) -> None:
    source = content / "key-account-management.md"
    source.write_text(
        source.read_text(encoding="utf-8") + "\n## Was heißt KAM?\n\n- Key Account Management\n",
        encoding="utf-8",
    )
    code, out = run("ids", "--content", str(content))
    assert code == 0 and "added 1 id(s): was-heisst-kam" in out
    assert "## Was heißt KAM? {#was-heisst-kam}\n" in source.read_text(encoding="utf-8")
    code, out = run("build", "--content", str(content), "-o", str(tmp_path / "k.apkg"))
    assert code == 0 and "1 added" in out


def test_missing_content_folder_is_a_clear_error(tmp_path: Path) -> None:
    code, out = run("check", "--content", str(tmp_path / "nope"))
    assert code == 1 and "not a folder" in out and "Traceback" not in out


def test_ids_never_reuse_the_id_of_a_removed_card(content: Path, tmp_path: Path) -> None:
    source = content / "key-account-management.md"
    out = str(tmp_path / "k.apkg")
    text = source.read_text(encoding="utf-8")
    start, end = text.index("## Ziele des KAM? (5)"), text.index("## Kurze Beschreibung des St.")
    source.write_text(text[:start] + text[end:], encoding="utf-8")
    assert run("build", "--content", str(content), "-o", out)[0] == 0
    # Another question, whose slug is the removed card's id.
    source.write_text(
        text.replace("## Ziele des KAM? (5) {#ziele-des-kam-5}", "## Ziele des KAM (5)"),
        encoding="utf-8",
    )
    code, output = run("ids", "--content", str(content))
    assert code == 0 and "ziele-des-kam-5-2" in output


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = kam([command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"kam-anki {command}" in result.output


def test_main_help_names_the_debug_switch() -> None:
    assert "KAM_ANKI_DEBUG=1" in kam(["--help"]).output


def test_the_command_line_leaves_its_host_process_alone(content: Path) -> None:
    """A script or test runner that calls the click group keeps its own handlers; only the
    program's entry (``kam-anki``, ``python -m kam_anki``) sets kam-anki's."""
    handlers = {number: signal.getsignal(number) for number in STOPPING}
    hook = sys.unraisablehook
    assert kam(["check", "--content", content]).exit_code == 0
    assert {number: signal.getsignal(number) for number in STOPPING} == handlers
    assert sys.unraisablehook is hook


def test_the_installed_program_starts_with_the_signal_handlers() -> None:
    (script,) = entry_points(group="console_scripts", name="kam-anki")
    assert script.value == "kam_anki.cli:run"
