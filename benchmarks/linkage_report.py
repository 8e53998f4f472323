"""The markdown report of the linkage benchmark (side-by-side table + context)."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil

GB = 1024**3


@dataclass(frozen=True)
class SystemRow:
    """One system's measured figures (one line of the table)."""

    system: str
    records: str
    candidate_pairs: int
    wall_s: float
    process_wall_s: float
    peak_rss_bytes: int
    precision: float
    recall: float
    f1: float
    threshold: float
    stages: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def pairs_per_s(self) -> float:
        """Candidate pairs divided by the end-to-end wall time."""
        return self.candidate_pairs / self.wall_s if self.wall_s > 0 else 0.0


def markdown_table(rows: Sequence[SystemRow]) -> str:
    """The side-by-side table: system, records, pairs, wall, pairs/s, peak RSS, P, R, F1."""
    head = (
        "| system | records (partner × registry) | candidate pairs | wall s | process wall s "
        "| pairs/s | peak RSS GB | p ≥ | precision | recall | F1 |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {r.system} | {r.records} | {r.candidate_pairs:,} | {r.wall_s:.1f} | "
        f"{r.process_wall_s:.1f} | {r.pairs_per_s:,.0f} | {r.peak_rss_bytes / GB:.2f} | "
        f"{r.threshold:g} | {r.precision:.4f} | {r.recall:.4f} | {r.f1:.4f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def stages_table(rows: Sequence[SystemRow]) -> str:
    """Seconds per stage for each system (the stages each system reports)."""
    out = []
    for r in rows:
        if r.stages:
            parts = ", ".join(f"{k} {v:.2f}" for k, v in r.stages.items())
            out.append(f"* **{r.system}**: {parts}")
    return "\n".join(out) + "\n"


def machine_line() -> str:
    """CPU count, memory and platform of this machine."""
    mem = psutil.virtual_memory().total / GB
    return (
        f"{psutil.cpu_count(logical=True)} logical cores, {mem:.0f} GB RAM, "
        f"{platform.platform()}, Python {platform.python_version()}"
    )


def goals_section(ours: Sequence[SystemRow], splink: Sequence[SystemRow]) -> str:
    """The brief's goals, each with the measured ratio (only when both systems ran)."""
    if not ours or not splink:
        return "Goals not evaluated: both systems must run.\n"
    o, s = ours[-1], splink[-1]
    speed = s.wall_s / o.wall_s if o.wall_s else float("nan")
    mem = o.peak_rss_bytes / s.peak_rss_bytes if s.peak_rss_bytes else float("nan")
    ours_05 = next((r for r in ours if r.threshold == 0.5), o)
    lines = [
        f"* speed: ours is {speed:.2f}× Splink's end-to-end speed (goal ≥ 3×): "
        f"{'met' if speed >= 3 else 'NOT met'}",
        f"* memory: ours peaks at {mem:.2f}× Splink's RSS (goal ≤ 0.5×): "
        f"{'met' if mem <= 0.5 else 'NOT met'}",
        f"* accuracy at p ≥ 0.5: ours F1 {ours_05.f1:.4f} vs Splink {s.f1:.4f} (goal ≥): "
        f"{'met' if ours_05.f1 >= s.f1 else 'NOT met'}",
    ]
    return "\n".join(lines) + "\n"


def render(
    *,
    command: str,
    date: str,
    versions: dict[str, Any],
    data_note: str,
    rows: Sequence[SystemRow],
    notes: Sequence[str],
) -> str:
    """The whole markdown report."""
    ours = [r for r in rows if r.system.startswith("ours")]
    splink = [r for r in rows if r.system.startswith("splink")]
    version_text = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
    parts = [
        "# Linkage benchmark: registry-link vs Splink\n",
        f"Command: `{command}`  \nDate: {date}  \nMachine: {machine_line()}  \n"
        f"Versions: {version_text}\n",
        f"## Data\n\n{data_note}\n",
        "## Results\n\n"
        "`wall s` = read standardised Parquet + train + predict (+ decide for ours), timed inside "
        "the child; `process wall s` = the whole child process incl. interpreter start and "
        "imports; `peak RSS` = max of the polled RSS of the child's process tree and the "
        "child's own ru_maxrss. Each system ran in its own child process.\n",
        markdown_table(rows),
        "\nSeconds per stage:\n\n" + stages_table(rows),
        "## Goals\n\n" + goals_section(ours, splink),
    ]
    if notes:
        parts.append("## Notes\n\n" + "\n".join(f"* {n}" for n in notes) + "\n")
    return "\n".join(parts)
