"""The lines of a pull's report: each finding as ``path:line: kind: id: message`` (a conflict
with its diff), the counts, and what importing the package into the learner's collection
would do."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kam_anki.api import PullOutcome


def pull_diff(root: Path, path: str, old: str, new: str) -> list[str]:
    from kam_anki.pulltext import diff

    return diff((root / path).as_posix(), old, new)


def pull_report(root: Path, output: Path, done: PullOutcome, *, dry_run: bool) -> list[str]:
    """The lines of a pull's report: each finding as ``path:line: kind: id: message``."""
    lines: list[str] = []
    counts = {"pulled": 0, "conflict": 0, "not pulled": 0}
    for found in done.pulled.findings:
        counts[found.kind] += 1
        kind: str = "would pull" if dry_run and found.kind == "pulled" else found.kind
        lines.append(
            f"{(root / found.path).as_posix()}:{found.line}: {kind}: {found.card_id}: "
            f"{found.message}"
        )
        if found.kind == "conflict":
            lines += [
                "    " + line
                for line in difflib.unified_diff(
                    found.author.split("\n"),
                    found.learner.split("\n"),
                    "Markdown (author, kept)",
                    "Anki (learner)",
                    lineterm="",
                )
            ]
    summary = (
        f"{counts['pulled']} {'to pull' if dry_run else 'pulled'}, {counts['conflict']} "
        f"conflict(s), {counts['not pulled']} not pulled, {done.pulled.unchanged} as shipped"
    )
    lines.append(summary + (" (dry run: nothing written)" if dry_run else ""))
    forecast = done.forecast
    if forecast is None:
        lines.append(f"no {output.as_posix()} yet: run kam-anki build to see what an import does")
        return lines
    named = {
        "new": forecast.new,
        "updated": forecast.updated,
        "skipped": forecast.skipped,
        "conflicting": forecast.conflicting,
    }
    counted = ", ".join(f"{len(v)} {k}" for k, v in named.items())
    lines.append(f"importing {output.as_posix()} into it now: {counted}")
    for kind in ("new", "updated", "conflicting"):
        if named[kind]:
            ids = ", ".join(sorted(done.card_ids.get(g, g) for g in named[kind]))
            lines.append(f"  {kind}: {ids}")
    # An edit that stays in Anki only (a conflict, not pulled) is gone once an import updates it.
    kept = {f.card_id for f in done.pulled.findings if f.kind != "pulled"}
    lost = sorted(kept & {done.card_ids.get(g, g) for g in forecast.updated})
    if lost:
        lines.append(f"  the update replaces the learner's own edit of: {', '.join(lost)}")
    if forecast.conflicting:
        lines.append(
            "  (conflicting: the learner changed the note type; import with Merge note types)"
        )
    if done.package_stale:
        lines.append(f"  ({output.as_posix()} is older than the content: run kam-anki build)")
    return lines
