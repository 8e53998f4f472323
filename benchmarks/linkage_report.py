"""The markdown report of the linkage benchmark (side-by-side table + context)."""

from __future__ import annotations

import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
    process_peak_rss_bytes: int
    precision: float
    recall: float
    f1: float
    threshold: float
    stages: dict[str, float] = field(default_factory=dict)
    rss_after: dict[str, int] = field(default_factory=dict)
    f1_by_source: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    note: str = ""

    @property
    def pairs_per_s(self) -> float:
        """Candidate pairs divided by the end-to-end wall time."""
        return self.candidate_pairs / self.wall_s if self.wall_s > 0 else 0.0


def markdown_table(rows: Sequence[SystemRow]) -> str:
    """The side-by-side table: system, records, pairs, wall, pairs/s, peak RSS, P, R, F1."""
    head = (
        "| system | records (partner × registry) | candidate pairs | wall s | process wall s "
        "| pairs/s | peak RSS GB | process peak GB | p ≥ | precision | recall | F1 |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {r.system} | {r.records} | {r.candidate_pairs:,} | {r.wall_s:.1f} | "
        f"{r.process_wall_s:.1f} | {r.pairs_per_s:,.0f} | {r.peak_rss_bytes / GB:.2f} | "
        f"{r.process_peak_rss_bytes / GB:.2f} | "
        f"{r.threshold:g} | {r.precision:.4f} | {r.recall:.4f} | {r.f1:.4f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def stages_table(rows: Sequence[SystemRow]) -> str:
    """Seconds per stage for each system (the stages each system reports)."""
    out = []
    seen: set[str] = set()
    for r in rows:
        name = r.system.split(" (")[0]
        if r.stages and name not in seen:
            seen.add(name)
            parts = ", ".join(
                f"{k} {v:.2f} s"
                + (f" (peak {r.rss_after[k] / GB:.2f} GB)" if k in r.rss_after else "")
                for k, v in r.stages.items()
            )
            out.append(f"* **{name}**: {parts}")
    return "\n".join(out) + "\n"


def by_source_table(rows: Sequence[SystemRow]) -> str:
    """Precision / recall / F1 per partner source, one line per system row."""
    sources = sorted({s for r in rows for s in r.f1_by_source})
    if not sources:
        return ""
    head = "| system | " + " | ".join(f"{s} P / R / F1" for s in sources) + " |\n"
    head += "|---|" + "---:|" * len(sources) + "\n"
    lines = []
    for r in rows:
        cells = [
            "{:.3f} / {:.3f} / {:.3f}".format(*r.f1_by_source[s]) if s in r.f1_by_source else ""
            for s in sources
        ]
        lines.append(f"| {r.system} | " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def machine_line() -> str:
    """CPU count, memory and platform of this machine."""
    mem = psutil.virtual_memory().total / GB
    load = ", ".join(f"{x:.1f}" for x in psutil.getloadavg())
    return (
        f"{psutil.cpu_count(logical=True)} logical cores, {mem:.0f} GB RAM, "
        f"{platform.platform()}, Python {platform.python_version()}; shared with other "
        f"engineers' jobs (load average {load} when the report was written)"
    )


def goals_section(
    ours: Sequence[SystemRow],
    splink: Sequence[SystemRow],
    quiet_ratios: Sequence[float] | None = None,
) -> str:
    """The brief's goals, each with the measured ratio (only when both systems ran), for each
    of our variants (the shipped config; without ``max_candidates``) that ran.

    ``quiet_ratios``: Splink's time over ours in each round where the machine was quiet for
    both (None: rounds not measured). The speed goal is stated met or not only from those:
    with rounds measured but none quiet, it is "not evaluated".
    """
    if not ours or not splink:
        return "Goals not evaluated: both systems must run.\n"
    s = splink[-1]
    variants: dict[str, list[SystemRow]] = {}
    for row in ours:
        variants.setdefault(row.system.split(" (")[0], []).append(row)
    lines = []
    for name, rows in variants.items():
        o = rows[-1]
        speed = s.wall_s / o.wall_s if o.wall_s else float("nan")
        mem = o.peak_rss_bytes / s.peak_rss_bytes if s.peak_rss_bytes else float("nan")
        ours_05 = next((r for r in rows if r.threshold == 0.5), o)
        who = "ours" if name == "ours" else name
        if quiet_ratios is None:
            verdict = "met" if speed >= 3 else "NOT met"
        elif not quiet_ratios:
            verdict = "not evaluated: no round was quiet (see the notes)"
        else:
            worst = min(quiet_ratios)
            verdict = (
                f"{'met' if worst >= 3 else 'NOT met'} in the quiet rounds (lowest {worst:.2f}×; "
                f"goal next: ≥ 5×, {'met' if worst >= 5 else 'not met'})"
            )
        lines += [
            f"* speed: {who} is {speed:.2f}× Splink's end-to-end speed (goal ≥ 3× in every "
            f"quiet round): {verdict}",
            f"* memory: {who} peaks at {mem:.2f}× Splink's RSS (goal ≤ 0.5×): "
            f"{'met' if mem <= 0.5 else 'NOT met'}",
            f"* accuracy at p ≥ 0.5: {who} F1 {ours_05.f1:.4f} vs Splink {s.f1:.4f} (goal ≥): "
            f"{'met' if ours_05.f1 >= s.f1 else 'NOT met'}",
        ]
    return "\n".join(lines) + "\n"


HEADER = """# Linkage benchmark: registry-link vs Splink

Written by `benchmarks/bench_linkage.py` (see `benchmarks/README.md` for the method). One
section per data size; a new run of the same size replaces its section.
"""


def render(
    *,
    command: str,
    date: str,
    versions: dict[str, Any],
    data_note: str,
    rows: Sequence[SystemRow],
    notes: Sequence[str],
    title: str = "Run",
    quiet_ratios: Sequence[float] | None = None,
) -> str:
    """One run's markdown section (level-2 heading ``title``)."""
    ours = [r for r in rows if r.system.startswith("ours")]
    splink = [r for r in rows if r.system.startswith("splink")]
    version_text = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
    parts = [
        f"## {title}\n",
        f"Command: `{command}`  \nDate: {date}  \nMachine: {machine_line()}  \n"
        f"Versions: {version_text}\n",
        f"### Data\n\n{data_note}\n",
        "### Results\n\n"
        "Each system ran in its own child process. `wall s` = read the standardised Parquet "
        "files + block + compare + train + score + decide + household-context pass (ours: "
        "its decisions come after that pass) / read + train + predict "
        "(Splink), timed inside the child; `peak RSS` = the child's ru_maxrss at the end of "
        "that part. `process wall s` and `process peak` cover the whole child process (imports; "
        "ours: also within-list dedupe, clusters, households and review pairs when run through "
        "the Linker; Splink: also the exact candidate-pair count), the peak being the max of "
        "psutil polling of the child's process tree (every 50 ms) and its final ru_maxrss.\n",
        markdown_table(rows),
        "\nAccuracy per partner source (the layouts differ: Latin split names; Arabic-only "
        "names; one unsplit full-name column with mostly year-only dates):\n\n"
        + by_source_table(rows),
        "\nSeconds per stage (and the process's peak RSS so far, after each stage):\n\n"
        + stages_table(rows),
        "### Goals\n\n" + goals_section(ours, splink, quiet_ratios),
    ]
    if notes:
        parts.append("### Notes\n\n" + "\n".join(f"* {n}" for n in notes) + "\n")
    return "\n".join(parts)


def add_run(out: Path | None, lines: list[str]) -> None:
    """Print a run's report and, with ``out``, add it to that file: written if new, else
    appended as its latest section (its ``# `` title demoted to ``## ``), so that a results
    file kept as a journal of dated runs is never overwritten."""
    text = "\n".join(lines).rstrip() + "\n"
    print(text)
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text(text, encoding="utf-8")
        return
    section = re.sub(r"^(#+) ", r"\1# ", text, flags=re.MULTILINE)
    with out.open("a", encoding="utf-8") as handle:
        handle.write("\n" + section)


def merge_section(existing: str, key: str, section: str) -> str:
    """The report with ``section`` stored under ``key`` (replacing that key's old section).

    Sections are delimited by ``<!-- run: key -->`` markers and kept in key order.
    """
    marker = "<!-- run: "
    sections: dict[str, str] = {}
    for chunk in existing.split(marker)[1:]:
        k, _, body = chunk.partition(" -->\n")
        sections[k] = body.rstrip() + "\n"
    sections[key] = section.rstrip() + "\n"
    body = "\n".join(f"{marker}{k} -->\n{v}" for k, v in sorted(sections.items()))
    return HEADER + "\n" + body
