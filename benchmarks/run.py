"""Benchmarks of kam-anki against its performance goals, side by side in one run.

    python benchmarks/run.py [--quick] [--json out.json] [--peers-venv PATH]

Every command runs as its own process (``python -m kam_anki``, with this script's Python),
under ``peak.py``, which times it from start to exit and reads its peak memory, the
child's own ``ru_maxrss``, from ``os.wait4``. Each case alternates kam-anki and its
comparison run by run and reports medians. The report (Markdown) goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from pathlib import Path

import synth

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FLOOR = HERE / "floor.py"
PEAK = HERE / "peak.py"
SIZES = (1_000, 10_000, 50_000)
QUICK_SIZES = (1_000, 10_000)
PEER_SIZE = 1_000
EDIT_SIZE = 10_000
LIST_SIZE = 1_000
TERMINAL_SIZE = 10_000
LIST_RULE = "list_cards = 3\n"  # the synthetic answers that are one list have 3 to 8 items
RICH_SIZE = 1_000
RICH_EVERY = 5  # every 5th card of the "rich" case gets a table, math and highlighted code
RICH_ANSWER = """
Kennzahl $DB = U - K_v$ und
$$
\\sum_{i=1}^{n} \\frac{DB_i}{U_i} \\cdot 100\\,\\%
$$

| Kunde | Umsatz | DB |
| --- | ---: | ---: |
| A | 120 | 30 |
| B | 80 | 12 |

```python
def marge(umsatz: float, kosten: float) -> float:
    return (umsatz - kosten) / umsatz
```
"""
SOURCE_DATE_EPOCH = "1700000000"  # a fixed clock: the same lock and package on every run
BARE_IMPORTS = "import genanki, markdown_it, click"

Command = list[str]


class RunFailed(Exception):
    pass


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_mib: float
    cpu_seconds: float  # user and system, the command's worker processes included


def measure(command: Command, folder: Path, *, terminal: bool = False) -> Sample:
    """Run ``command`` in ``folder`` (its own cache dir there too); wall time and peak RSS;
    with ``terminal``, its stdout and stderr are a (pseudo-)terminal."""
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
        "XDG_CACHE_HOME": str(folder / ".cache"),
    }
    wrapped = [sys.executable, str(PEAK), *(["--terminal"] if terminal else []), *command]
    done = subprocess.run(wrapped, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:]
        raise RunFailed(f"{Path(command[0]).name} exited {done.returncode}: {tail}")
    seconds, peak, cpu = done.stdout.split()
    return Sample(float(seconds), int(peak) / 2**20, float(cpu))


@dataclass
class Result:
    case: str
    n: int | None
    other: str
    kam: list[Sample] = field(default_factory=list)
    others: list[Sample] = field(default_factory=list)
    items: int = 0  # item cards of list cards, in the "lists" case
    rich: int = 0  # cards with a table, math and code, in the "rich" case

    def _medians(self, value: Callable[[Sample], float]) -> tuple[float, float]:
        return statistics.median(map(value, self.kam)), statistics.median(map(value, self.others))

    @property
    def seconds(self) -> tuple[float, float]:
        return self._medians(lambda s: s.seconds)

    @property
    def peak(self) -> tuple[float, float]:
        return self._medians(lambda s: s.peak_mib)

    @property
    def cpu(self) -> tuple[float, float]:
        return self._medians(lambda s: s.cpu_seconds)

    @property
    def ratio(self) -> float:
        ours, theirs = self.seconds
        return ours / theirs

    @property
    def mem_ratio(self) -> float:
        ours, theirs = self.peak
        return ours / theirs


@dataclass(frozen=True)
class Case:
    """``prepare(run)`` lays out a scratch folder with ``content/``; ``other`` is the rival."""

    name: str
    n: int | None
    runs: int
    other_name: str
    prepare: Callable[[int], Path]
    other: Callable[[Path], Command]
    terminal: bool = False  # kam-anki's stdout and stderr are a terminal (the rival's: pipes)


def kam_build(folder: Path) -> Command:
    content, output = str(folder / "content"), str(folder / "kam.apkg")
    return [sys.executable, "-m", "kam_anki", "build", "--content", content, "-o", output]


def floor_build(folder: Path) -> Command:
    return [sys.executable, str(FLOOR), str(folder / "content"), str(folder / "floor.apkg")]


def run_case(case: Case) -> Result:
    result = Result(case.name, case.n, case.other_name)
    for run in range(case.runs):
        folder = case.prepare(run)
        result.kam.append(measure(kam_build(folder), folder, terminal=case.terminal))
        result.others.append(measure(case.other(folder), folder))
        if case.name == "lists":
            result.items = item_cards(folder)
        if case.name == "rich":
            result.rich = rich_cards(folder)
        ours, theirs = result.kam[-1], result.others[-1]
        print(
            f"  {case.name} vs {case.other_name} N={case.n} run {run + 1}/{case.runs}: "
            f"{ours.seconds:.2f} s {ours.peak_mib:.0f} MiB vs "
            f"{theirs.seconds:.2f} s {theirs.peak_mib:.0f} MiB",
            file=sys.stderr,
        )
    return result


def fresh_copies(scratch: Path, label: str, sources: dict[str, Path]) -> Callable[[int], Path]:
    """A new folder per run with a pristine copy of each source: no lock, no cache."""

    def prepare(run: int) -> Path:
        folder = scratch / f"{label}-{run}"
        shutil.rmtree(scratch / f"{label}-{run - 1}", ignore_errors=True)
        for name, source in sources.items():
            shutil.copytree(source, folder / name)
        return folder

    return prepare


def with_list_cards(scratch: Path, source: Path) -> Callable[[int], Path]:
    """A fresh copy with every one-list answer opted in to list cards (``content/``) and the
    same cards without (``plain/``), to build side by side."""
    copies = fresh_copies(scratch, "lists", {"content": source, "plain": source})

    def prepare(run: int) -> Path:
        folder = copies(run)
        with (folder / "content" / "deck.toml").open("a", encoding="utf-8") as config:
            config.write(LIST_RULE)
        return folder

    return prepare


def kam_other(name: str) -> Callable[[Path], Command]:
    """kam-anki on the copy ``folder/name``, into its own output folder: the cache and the
    record of what was shipped stay apart from the measured build's."""

    def command(folder: Path) -> Command:
        content, output = str(folder / name), str(folder / f"{name}-build" / "kam.apkg")
        return [sys.executable, "-m", "kam_anki", "build", "--content", content, "-o", output]

    return command


def with_rich_cards(scratch: Path, source: Path) -> Callable[[int], Path]:
    """A fresh copy where every RICH_EVERY-th card's answer also holds a formula, a table and
    a highlighted code block (``content/``), and the same cards without (``plain/``)."""
    copies = fresh_copies(scratch, "rich", {"content": source, "plain": source})

    def prepare(run: int) -> Path:
        folder = copies(run)
        for path in sorted((folder / "content").glob("*.md")):
            cards = path.read_text(encoding="utf-8").split("\n## ")
            for index in range(1, len(cards), RICH_EVERY):
                cards[index] = cards[index].rstrip("\n") + "\n" + RICH_ANSWER
            path.write_text("\n## ".join(cards), encoding="utf-8")
        return folder

    return prepare


def rich_cards(folder: Path) -> int:
    return sum(
        path.read_text(encoding="utf-8").count(RICH_ANSWER)
        for path in (folder / "content").glob("*.md")
    )


def item_cards(folder: Path) -> int:
    """Item cards in the lock a build wrote to ``folder/content``: its list items in use."""
    lock = json.loads((folder / "content" / "kam-anki.lock").read_text(encoding="utf-8"))
    return sum(not item.get("gone") for item in lock.get("items", {}).values())


LIST_LENGTHS = (25, 50, 100)


def list_sizes(scratch: Path) -> list[tuple[int, int]]:
    """(items, package bytes) of a one-card deck whose list card has that many items: one
    note holds the list once, so the deck grows linearly with a list's length."""
    sizes = []
    for count in LIST_LENGTHS:
        content = scratch / f"list-{count}" / "content"
        content.mkdir(parents=True)
        (content / "deck.toml").write_text('name = "L"\ndeck_id = 1\nnotetype_id = 2\n', "utf-8")
        items = "".join(
            f"- Punkt {n}: Kundenbeziehung pflegen und ausbauen\n" for n in range(count)
        )
        (content / "l.md").write_text(f"# L\n\n## Liste? {{#l .liste}}\n\n{items}", "utf-8")
        output = content.parent / "l.apkg"
        command = [sys.executable, "-m", "kam_anki", "build", "--content", str(content)]
        subprocess.run([*command, "-o", str(output)], check=True, capture_output=True)
        sizes.append((count, output.stat().st_size))
    return sizes


def edited(folder: Path) -> Callable[[int], Path]:
    """Build once (lock written), then before each run change one line of one answer."""

    def prepare(run: int) -> Path:
        if run == 0:
            measure(kam_build(folder), folder)
        first = min((folder / "content").glob("*.md"))
        lines = first.read_text(encoding="utf-8").split("\n")
        index = next(i for i, line in enumerate(lines) if line.startswith("- "))
        lines[index] = f"- Geändert in Lauf {run + 1}: {lines[index][2:]}"
        first.write_text("\n".join(lines), encoding="utf-8")
        return folder

    return prepare


def peer_command(name: str, executable: Path) -> Callable[[Path], Command]:
    def command(folder: Path) -> Command:
        peer, output = folder / name, str(folder / f"{name}.apkg")
        if name == "ankdown":
            return [str(executable), "-r", str(peer), "-p", output]
        return [str(executable), *map(str, sorted(peer.glob("*.md"))), "-o-anki", output]

    return command


def find_peer(name: str, venv: Path | None) -> Path | None:
    if venv is not None:
        candidate = venv / "bin" / name
        return candidate if candidate.is_file() else None
    found = shutil.which(name)
    return Path(found) if found else None


@dataclass(frozen=True)
class Goal:
    text: str
    target: float
    measured: float | None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "n/a"
        return "PASS" if self.measured <= self.target else "MISS"


def goals(results: list[Result]) -> list[Goal]:
    found = {(r.case, r.n): r for r in results if r.other in ("floor", "bare imports", "piped")}
    ratio = attrgetter("ratio")

    def pick(case: str, n: int | None, value: Callable[[Result], float]) -> float | None:
        result = found.get((case, n))
        return None if result is None else value(result)

    def growth(result: Result) -> float:
        return result.seconds[0] / found[("cold", 10_000)].seconds[0]

    floor_growth = pick("cold", 50_000, lambda r: r.seconds[1] / found[("cold", 10_000)].seconds[1])
    return [
        Goal("(a) shipped deck vs bare imports: time", 1.5, pick("shipped", None, ratio)),
        Goal("(b) cold build at 10,000 vs floor: time", 1.0, pick("cold", 10_000, ratio)),
        Goal(
            "(b) linear growth: t(50,000) / t(10,000)",
            6.0,
            pick("cold", 50_000, growth),
            "5x the cards, 20% slack"
            + (f"; the floor's: {floor_growth:.2f}" if floor_growth is not None else ""),
        ),
        Goal(
            "(c) rebuild after one edit at 10,000 vs floor: time",
            0.3,
            pick("rebuild", 10_000, ratio),
        ),
        Goal("peak memory at 50,000 vs floor", 1.5, pick("cold", 50_000, attrgetter("mem_ratio"))),
        Goal(
            "progress line: cold build at 10,000 on a terminal vs piped: CPU time",
            1.05,
            pick("terminal", TERMINAL_SIZE, lambda r: r.cpu[0] / r.cpu[1]),
            "CPU time: a shared machine's load moves it less than wall time",
        ),
    ]


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "revision": revision(),
    }


def revision() -> str:
    """Which kam-anki is measured: its folder, and ``git describe`` there if it is a checkout."""
    spec = importlib.util.find_spec("kam_anki")
    if spec is None or spec.origin is None:
        return "kam-anki not importable"
    folder = Path(spec.origin).parent
    git = ["git", "-C", str(folder), "describe", "--always", "--dirty"]
    done = subprocess.run(git, capture_output=True, text=True, check=False)
    return f"{folder} ({done.stdout.strip() or 'not a git checkout'})"


def per_card(result: Result, count: int, what: str) -> str:
    """``what`` (with {n} and {count}), and what each of those cards costs against the other."""
    (ours, theirs), (ours_mib, theirs_mib) = result.seconds, result.peak
    return (
        f"{what.format(n=f'{result.n:,}', count=f'{count:,}')}; each costs "
        f"{(ours - theirs) / count * 1e6:.0f} µs and "
        f"{(ours_mib - theirs_mib) / count * 1024:.1f} KiB of peak memory."
    )


def report(
    results: list[Result],
    peers: dict[str, str],
    info: dict[str, str],
    lengths: list[tuple[int, int]] | None = None,
) -> str:
    lines = [
        f"Machine: {info['platform']}; {info['cpu']}; {info['cores']} cores; {info['python']}"
        f" (load average at the end: {info['load']}); kam-anki from {info['revision']}",
        "",
        "| case | N | kam-anki median s | floor/baseline median s | ratio "
        "| kam-anki peak MiB | floor peak MiB | mem ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        (ours, theirs), (ours_mib, theirs_mib) = r.seconds, r.peak
        n = "shipped" if r.n is None else f"{r.n:,}"
        lines.append(
            f"| {r.case} vs {r.other} | {n} | {ours:.3f} | {theirs:.3f} | {r.ratio:.2f}x "
            f"| {ours_mib:.1f} | {theirs_mib:.1f} | {r.mem_ratio:.2f}x |"
        )
    for r in results:
        if r.case == "terminal":
            (ours, theirs), (ours_cpu, theirs_cpu) = r.seconds, r.cpu
            lines += [
                "",
                f"Progress line: the cold {r.n:,}-card build on a terminal (progress line, "
                f"report cut short) took {ours:.3f} s ({ours_cpu:.3f} s CPU), piped "
                f"{theirs:.3f} s ({theirs_cpu:.3f} s CPU).",
            ]
        if r.items:
            lines += [
                "",
                per_card(
                    r,
                    r.items,
                    "List cards: the {n} cards with every one-list "
                    f"answer opted in ({LIST_RULE.strip()}) make {{count}} item cards",
                ),
            ]
        if r.rich:
            lines += [
                "",
                per_card(
                    r,
                    r.rich,
                    "Tables, math and code: {count} of the {n} cards "
                    "hold a table, two formulas and a highlighted code block",
                ),
            ]
    if lengths:
        shown = ", ".join(f"{count} items: {size:,} bytes" for count, size in lengths)
        lines += ["", f"Package size of one list card by its list's length: {shown}."]
    lines += ["", "| goal | target | measured | result |", "|---|---:|---:|---|"]
    for g in goals(results):
        measured = "-" if g.measured is None else f"{g.measured:.2f}"
        note = f" ({g.note})" if g.note else ""
        lines.append(f"| {g.text}{note} | ≤ {g.target:g} | {measured} | {g.verdict} |")
    lines += ["", "Peers (N = 1,000, same cards in their formats):"]
    lines += [f"- {name}: {status}" for name, status in peers.items()]
    return "\n".join(lines)


def plan(
    scratch: Path,
    sizes: tuple[int, ...],
    runs: Callable[[int | None], int],
    peers_venv: Path | None,
    peers: dict[str, str],
) -> list[Case]:
    """Every case, its content generated into ``scratch``; ``peers`` gets each peer's status."""
    bare = [sys.executable, "-c", BARE_IMPORTS]
    shipped = fresh_copies(scratch, "shipped", {"content": REPO / "content"})
    cases = [Case("shipped", None, runs(None), "bare imports", shipped, lambda _: bare)]
    for n in sizes:
        print(f"generating {n:,} cards", file=sys.stderr)
        synth.write(synth.generate(n), scratch / f"src-{n}")
        cold = fresh_copies(scratch, f"cold-{n}", {"content": scratch / f"src-{n}"})
        cases.append(Case("cold", n, runs(n), "floor", cold, floor_build))
    lists = with_list_cards(scratch, scratch / f"src-{LIST_SIZE}")
    cases.append(
        Case("lists", LIST_SIZE, runs(LIST_SIZE), "no list cards", lists, kam_other("plain"))
    )
    # The same cold build twice: on a terminal (progress line, report cut short) and piped.
    sources = {
        "content": scratch / f"src-{TERMINAL_SIZE}",
        "piped": scratch / f"src-{TERMINAL_SIZE}",
    }
    terminal = fresh_copies(scratch, "terminal", sources)
    cases.append(
        Case(
            "terminal",
            TERMINAL_SIZE,
            runs(TERMINAL_SIZE),
            "piped",
            terminal,
            kam_other("piped"),
            terminal=True,
        )
    )
    rich = with_rich_cards(scratch, scratch / f"src-{RICH_SIZE}")
    cases.append(Case("rich", RICH_SIZE, runs(RICH_SIZE), "plain cards", rich, kam_other("plain")))
    shutil.copytree(scratch / f"src-{EDIT_SIZE}", scratch / "rebuild" / "content")
    rebuild = edited(scratch / "rebuild")
    cases.append(Case("rebuild", EDIT_SIZE, runs(EDIT_SIZE), "floor", rebuild, floor_build))
    for peer in ("ankdown", "md2anki"):
        executable = find_peer(peer, peers_venv)
        if executable is None:
            peers[peer] = "not installed"
            continue
        synth.write(synth.generate(PEER_SIZE), scratch / f"src-{peer}", peer)
        sources = {"content": scratch / f"src-{PEER_SIZE}", peer: scratch / f"src-{peer}"}
        prepare = fresh_copies(scratch, peer, sources)
        command = peer_command(peer, executable)
        cases.append(Case("cold", PEER_SIZE, runs(PEER_SIZE), peer, prepare, command))
        peers[peer] = f"measured ({executable})"
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"sizes {', '.join(map(str, QUICK_SIZES))} only, one run each",
    )
    parser.add_argument("--runs-small", type=int, default=5, help="runs of the shipped and 1,000")
    parser.add_argument("--runs-large", type=int, default=3, help="runs of 10,000 and more")
    parser.add_argument("--json", type=Path, help="also save the raw numbers here")
    parser.add_argument(
        "--peers-venv", type=Path, help="venv with ankdown/md2anki in bin/ (default: look on PATH)"
    )
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else SIZES
    small, large = (1, 1) if args.quick else (args.runs_small, args.runs_large)

    def runs(n: int | None) -> int:
        return small if n is None or n <= PEER_SIZE else large

    results: list[Result] = []
    peers: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="kam-bench-") as name:
        cases = plan(Path(name), sizes, runs, args.peers_venv, peers)
        for case in cases:
            try:
                results.append(run_case(case))
            except RunFailed as exc:
                if case.other_name not in peers:
                    raise
                peers[case.other_name] = f"installed but failed: {exc}"
        lengths = list_sizes(Path(name))
    info = machine()
    print(report(results, peers, info, lengths))
    if args.json:
        raw = {
            "machine": info,
            "argv": sys.argv,
            "peers": peers,
            "results": [asdict(r) for r in results],
            "goals": [{**asdict(g), "verdict": g.verdict} for g in goals(results)],
        }
        args.json.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
