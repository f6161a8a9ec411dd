"""What a long git history of the lock costs: ``build --dry-run`` of 1,000 cards whose lock
has 1,000 commits, each restamping every card (the worst case: a million card versions),
against the same content in a checkout with one commit.

    python benchmarks/history.py [--commits 1000] [--cards 1000] [--runs 5]

Cases (each run its own process under ``peak.py``; medians):

- **one commit**: the content committed once (the baseline: git is asked, nothing to read);
- **outside git**: the same content in a plain folder;
- **history, daily**: the 1,000-commit checkout whose last four commits each followed a
  build that kept its cache of what it read (a repository that builds daily): the measured
  build reads one commit;
- **history, first read**: a clone of it without that cache (a fresh clone's first build).

Every case has its file cache of rendered cards (a build ran before): only the history
differs.

Goal: the daily case within 1.5x of one commit, in time and in peak memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import synth

from kam_anki.cache import CACHE_DIR
from kam_anki.files import HISTORY_CACHE
from kam_anki.state import LOCK_NAME, Stamp, dump_state, load_state

HERE = Path(__file__).resolve().parent
PEAK = HERE / "peak.py"
EPOCH = 1_700_000_000
DAILY = 4  # the last commits, each made after a build
GIT_ENV = {
    "GIT_AUTHOR_NAME": "B",
    "GIT_AUTHOR_EMAIL": "b@example.org",
    "GIT_COMMITTER_NAME": "B",
    "GIT_COMMITTER_EMAIL": "b@example.org",
}


def git(folder: Path, *args: str, stdin: bytes | None = None) -> None:
    subprocess.run(
        ["git", "-C", str(folder), *args],
        input=stdin,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
    )


def build(folder: Path, *args: str) -> list[str]:
    content, output = str(folder / "content"), str(folder / "build" / "kam.apkg")
    return [sys.executable, "-m", "kam_anki", "build", "--content", content, "-o", output, *args]


def restamped(lock: bytes, version: int) -> bytes:
    """The lock with every card's time moved on by ``version`` seconds (the same texts)."""
    state = load_state(lock, LOCK_NAME)
    cards = {k: Stamp(v.digest, v.mod + version, v.text) for k, v in state.cards.items()}
    out = io.StringIO()
    dump_state(dataclasses.replace(state, cards=cards), out)
    return out.getvalue().encode("utf-8")


def history(folder: Path, lock: bytes, commits: int) -> None:
    """``commits`` commits of the lock in ``folder`` (already a repo with the content), made
    with git fast-import: version i restamps every card by i seconds."""
    stream = io.BytesIO()
    for version in range(1, commits + 1):
        data = restamped(lock, version)
        message = f"build {version}".encode()
        stream.write(b"commit refs/heads/main\n")
        stream.write(f"committer B <b@example.org> {EPOCH + version} +0000\n".encode())
        stream.write(b"data %d\n%s\n" % (len(message), message))
        if version == 1:
            stream.write(b"from refs/heads/main^0\n")
        stream.write(b"M 100644 inline content/%s\ndata %d\n" % (LOCK_NAME.encode(), len(data)))
        stream.write(data + b"\n")
    git(folder, "fast-import", "--quiet", "--force", stdin=stream.getvalue())
    git(folder, "reset", "-q", "--hard", "main")


def measure(command: list[str], folder: Path) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    done = subprocess.run(
        [sys.executable, str(PEAK), *command], cwd=folder, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"{command} failed: {done.stderr.strip()[-500:]}")
    seconds, peak = done.stdout.split()
    return float(seconds), int(peak) / 2**20


def report(samples: dict[str, list[tuple[float, float]]], cards: int, commits: int) -> None:
    base_s = statistics.median(s for s, _ in samples["one commit"])
    base_m = statistics.median(m for _, m in samples["one commit"])
    print(f"{cards:,} cards, {commits:,} commits of the lock, each restamping every card")
    print()
    print("| case | median s | vs one commit | peak MiB | vs one commit |")
    print("|---|---:|---:|---:|---:|")
    for case, values in samples.items():
        seconds = statistics.median(s for s, _ in values)
        mib = statistics.median(m for _, m in values)
        ratios = f"{seconds / base_s:.2f}x | {mib:.1f} | {mib / base_m:.2f}x"
        print(f"| {case} | {seconds:.3f} | {ratios} |")
    daily = samples["history, daily"]
    ratio = statistics.median(s for s, _ in daily) / base_s
    memory = statistics.median(m for _, m in daily) / base_m
    verdict = "PASS" if ratio <= 1.5 and memory <= 1.5 else "MISS"
    print(f"\nGoal: daily within 1.5x of one commit: time {ratio:.2f}x, memory {memory:.2f}x:")
    print(verdict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kam-history-") as name:
        scratch = Path(name)
        plain = scratch / "plain"
        synth.write(synth.generate(args.cards), plain / "content")
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
        subprocess.run(build(plain), env=env, check=True, capture_output=True)
        shutil.rmtree(plain / "build")
        lock = (plain / "content" / LOCK_NAME).read_bytes()

        one = scratch / "one"
        shutil.copytree(plain, one)
        (one / "content" / LOCK_NAME).write_bytes(restamped(lock, args.commits))
        git(one, "init", "-q", "-b", "main")
        git(one, "add", "-A")
        git(one, "commit", "-q", "-m", "one commit")

        print(f"making {args.commits} commits of the lock", file=sys.stderr)
        long = scratch / "long"
        shutil.copytree(plain, long)
        git(long, "init", "-q", "-b", "main")
        git(long, "add", "-A")
        git(long, "commit", "-q", "-m", "content")
        history(long, lock, args.commits - DAILY)
        # Daily builds: each keeps its cache, then the next build's commit is made (the
        # cache then holds as many lines of history as it ever does).
        for version in range(args.commits - DAILY + 1, args.commits + 1):
            subprocess.run(build(long), check=True, capture_output=True)
            (long / "content" / LOCK_NAME).write_bytes(restamped(lock, version))
            git(long, "commit", "-q", "-am", f"build {version}")
        cold = scratch / "cold"
        git(scratch, "clone", "-q", str(long), str(cold))
        # Every case with its file cache (a build before): only the history differs.
        for folder in (one, plain, cold):
            subprocess.run(build(folder), check=True, capture_output=True)
        (cold / "build" / CACHE_DIR / HISTORY_CACHE).unlink()

        cases = {
            "one commit": one,
            "outside git": plain,
            "history, daily": long,
            "history, first read": cold,
        }
        samples: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
        for run in range(args.runs):
            for case, folder in cases.items():
                samples[case].append(measure(build(folder, "--dry-run"), folder))
            print(f"  run {run + 1}/{args.runs}", file=sys.stderr)
    report(samples, args.cards, args.commits)


if __name__ == "__main__":
    main()
