"""Run one benchmarked system in its own child process and measure it.

The parent starts ``python bench_linkage.py --child <system> ...``, polls the child's process
tree with psutil (RSS of the child plus all its descendants, every ``interval`` seconds) and
times it end to end. The child also reports its own ``ru_maxrss`` in its result JSON; the peak
memory reported is the larger of the two, so short spikes between two polls are not missed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


@dataclass(frozen=True)
class ChildRun:
    """What one measured child process did: its wall time, peak memory and reported result."""

    returncode: int
    wall_s: float
    peak_rss_bytes: int
    result: dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""
    killed_over_rss: bool = False
    #: Share of the machine's CPU time taken by the hypervisor for other guests while the child
    #: ran (``steal`` in /proc/stat; None where not reported): the machine is shared.
    stolen_share: float | None = None
    #: Share of the machine's CPU time used by processes other than the child's tree while it
    #: ran (all busy CPU time minus the tree's own user + system time).
    others_share: float | None = None
    #: The 1-minute load average when the child started.
    load_before: float | None = None

    @property
    def quiet(self) -> bool:
        """Whether the machine was quiet enough during the run for its time to be stated as a
        result (:data:`QUIET_OTHERS`, :data:`QUIET_STEAL`); unknown counts as not quiet."""
        return (
            self.others_share is not None
            and self.others_share <= QUIET_OTHERS
            and (self.stolen_share or 0.0) <= QUIET_STEAL
        )

    def machine_state(self) -> str:
        """The machine during the run, in words: quiet or busy, others' CPU, steal, load."""

        def pct(x: float | None) -> str:
            return "?" if x is None else f"{100 * x:.0f} %"

        load = "?" if self.load_before is None else f"{self.load_before:.2f}"
        return (
            f"{'quiet' if self.quiet else 'BUSY'}: other processes {pct(self.others_share)}, "
            f"steal {pct(self.stolen_share)}, load at start {load}"
        )


#: At most this share of the machine's CPU time used by other processes during a quiet run.
QUIET_OTHERS = 0.10
#: At most this share of the machine's CPU time taken by the hypervisor during a quiet run.
QUIET_STEAL = 0.05


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory (bytes) of ``proc`` and all its live descendants; 0 if it is gone."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def self_max_rss_bytes() -> int:
    """This process's peak resident memory in bytes (Linux reports ``ru_maxrss`` in KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _kill_tree(proc: psutil.Process) -> None:
    """Kill ``proc`` and its descendants (only this child's own tree)."""
    try:
        procs = [*proc.children(recursive=True), proc]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            continue


def progress(stage: str, seconds: float) -> None:
    """Log a finished stage to stdout (the child's log): ``[stage] name s rss``."""
    print(
        f"[stage] {stage} {seconds:.2f} s, peak RSS {self_max_rss_bytes() / 1024**3:.2f} GB",
        flush=True,
    )


def last_stage(log_tail: str) -> str:
    """The last ``[stage]`` line of a child's log (what it had finished), or ``"none"``."""
    lines = [ln for ln in log_tail.splitlines() if ln.startswith("[stage] ")]
    return lines[-1][len("[stage] ") :] if lines else "none"


def run_measured(
    cmd: list[str],
    result_path: Path,
    *,
    interval: float = 0.05,
    rss_limit_bytes: int | None = None,
) -> ChildRun:
    """Run ``cmd`` as a child process, poll its tree's RSS, and read the JSON it writes.

    The child must write a JSON object to ``result_path``; if it reports ``max_rss_bytes``
    (its own ``ru_maxrss``) the peak is the maximum of that and the polled tree RSS. With
    ``rss_limit_bytes``, a child whose tree grows beyond it is killed (the machine is shared)
    and the run is marked ``killed_over_rss``.
    """
    result_path.unlink(missing_ok=True)
    log_path = result_path.with_suffix(".log")
    cpu_before = psutil.cpu_times()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with (
        log_path.open("w", encoding="utf-8") as log,
        subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT) as popen,
    ):
        proc = psutil.Process(popen.pid)
        peak = 0
        killed = False
        while True:
            peak = max(peak, tree_rss(proc))
            if rss_limit_bytes is not None and peak > rss_limit_bytes and not killed:
                _kill_tree(proc)
                killed = True
            try:
                popen.wait(timeout=interval)
                break
            except subprocess.TimeoutExpired:
                continue
        wall = time.perf_counter() - start
        returncode = popen.returncode
    cpu_after = psutil.cpu_times()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    stolen = _stolen_share(cpu_before, cpu_after)
    others = others_share(cpu_before, cpu_after, own)
    result: dict[str, Any] = {}
    if result_path.exists():
        result = json.loads(result_path.read_text(encoding="utf-8"))
    peak = max(peak, int(result.get("max_rss_bytes", 0)))
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
    return ChildRun(returncode, wall, peak, result, tail, killed, stolen, others, load_before)


def others_share(before: Any, after: Any, own_cpu_s: float) -> float | None:
    """The share of all CPU time between two ``psutil.cpu_times()`` that was busy (not idle,
    not waiting for I/O, not stolen) and not the measured tree's own ``own_cpu_s``."""
    total = sum(after) - sum(before)
    if total <= 0:
        return None
    idle = (after.idle - before.idle) + (
        (after.iowait - before.iowait) if hasattr(after, "iowait") else 0.0
    )
    steal = (after.steal - before.steal) if hasattr(after, "steal") else 0.0
    busy = total - idle - steal
    return max(0.0, busy - own_cpu_s) / total


def _stolen_share(before: Any, after: Any) -> float | None:
    """The ``steal`` share of all CPU time between two ``psutil.cpu_times()``, if reported."""
    if not hasattr(before, "steal"):
        return None
    total = sum(after) - sum(before)
    return (after.steal - before.steal) / total if total > 0 else None
