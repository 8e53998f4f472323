"""Where one ``Linker.link`` run spends its CPU: seconds of wall and CPU time per stage, and
optionally the top functions (cProfile).

Reads the standardised files that ``bench_linkage.py`` caches (run it once at the size wanted),
the registry as a lazy scan, as the benchmark's ``--ours-via linker`` does::

    .venv/bin/python benchmarks/bench_linkage.py --partners 100000 --registry 1000000 \\
        --max-registry 1000000 --systems ours --ours-via linker --repeat 1
    .venv/bin/python benchmarks/profile_linkage.py            # per-stage wall and CPU
    .venv/bin/python benchmarks/profile_linkage.py --single-thread --cprofile /tmp/link.prof

CPU time (user + sys of the process, every thread) is the figure to compare on a shared
machine: wall time grows with the other jobs' load, CPU time much less. A stage's CPU is the
process's CPU between the end of the previous stage and its own end (the training's random
pairs, compared in the background while blocking and comparing, count in those stages).
``--single-thread`` (one compare worker, ``POLARS_MAX_THREADS=1``): CPU time then equals the
work done, and cProfile times with the process's CPU clock (its wall clock would count the
other jobs' share of the cores as this run's time); the random pairs are then compared before
blocking starts (their CPU counts in ``block``, their wall time in no stage but the whole run).
After each stage: the process's peak RSS so far and its resident memory then (GB).
``--digest`` prints a digest of the outputs (links, review, clusters, households, scored pairs,
model), to check that a change alters none. ``--calls`` prints the CPU seconds of each
``CompareEngine.compare`` and ``score`` call (the process's CPU clock around the call: with
``--single-thread``, the call's own work), the figures the rounds of ``results/profile.md``
compare side by side. ``--timeline`` samples the process's CPU every 50 ms and prints, per
stage, how many cores it kept busy on average and the core-seconds it left idle (of
``os.cpu_count()``): on a quiet machine, where a better two-core schedule could gain (the idle
core-seconds over the core count bound what it could save in wall time).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "benchmarks/data/linkage_r1000000_p100000_s20261122/std"

#: The stages comparable with Splink's read + train + predict (as in ``linkage_ours.py``).
LINK_STAGES = ("read", "block", "compare", "train", "score", "decide", "household_context")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_gb() -> float:
    """The process's peak RSS so far, GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def _rss_gb() -> float:
    """The process's resident memory now, GB (Linux; 0.0 where /proc is absent)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e9


def _digest(result: Any) -> dict[str, str]:
    import polars as pl

    def rows(frame: pl.DataFrame) -> str:
        hashes = frame.hash_rows(seed=1).to_numpy().tobytes()
        return f"{hashlib.sha256(hashes).hexdigest()[:16]}/{frame.height}"

    model = result.model
    return {
        "links": rows(result.links),
        "review": rows(result.review),
        "clusters": rows(result.clusters),
        "households": rows(result.households),
        "pairs": rows(result.pairs.frame),
        "model": hashlib.sha256(
            repr((model.prior, model.params.m, model.params.u)).encode()
        ).hexdigest()[:16],
    }


def _timed_calls() -> list[tuple[str, int, float]]:
    """Time every ``CompareEngine.compare`` and ``score`` call of the link (wrapped where the
    stages call them); returns the list the calls are noted in, ``(what, pairs, CPU s)``."""
    import registry_link.households.second_pass as second_pass
    import registry_link.linker as linker
    from registry_link.compare.engine import CompareEngine

    noted: list[tuple[str, int, float]] = []
    compare, score = CompareEngine.compare, linker.score

    def timed_compare(engine: CompareEngine, pairs: Any) -> Any:
        start = time.process_time()
        out = compare(engine, pairs)
        noted.append(("engine.compare", pairs.height, time.process_time() - start))
        return out

    def timed_score(gammas: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        out = score(gammas, *args, **kwargs)
        noted.append(("score", gammas.height, time.process_time() - start))
        return out

    setattr(CompareEngine, "compare", timed_compare)  # noqa: B010 (a profiler's wrapping)
    setattr(linker, "score", timed_score)  # noqa: B010
    setattr(second_pass, "score", timed_score)  # noqa: B010
    return noted


class _Timeline:
    """The process's CPU time sampled every ``interval`` seconds in a daemon thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), _cpu()))
            self._stop.wait(self._interval)

    def __enter__(self) -> _Timeline:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter(), _cpu()))

    def busy(self, start: float, end: float, cores: int) -> tuple[float, float, float]:
        """Between ``start`` and ``end``: average cores busy, core-seconds idle, and the share
        of the time with fewer than ``cores - 0.5`` cores busy."""
        idle = short = 0.0
        used = 0.0
        for (t0, c0), (t1, c1) in zip(self.samples, self.samples[1:], strict=False):
            lo, hi = max(t0, start), min(t1, end)
            if hi <= lo or t1 <= t0:
                continue
            rate = (c1 - c0) / (t1 - t0)  # cores busy in this interval
            share = hi - lo
            used += rate * share
            idle += max(cores - rate, 0.0) * share
            short += share if rate < cores - 0.5 else 0.0
        span = max(end - start, 1e-9)
        return used / span, idle, short / span


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="standardised files")
    parser.add_argument("--model", type=Path, default=ROOT / "configs/model.yaml")
    parser.add_argument("--single-thread", action="store_true")
    parser.add_argument("--cprofile", type=Path, help="write cProfile stats here")
    parser.add_argument("--top", type=int, default=40, help="functions listed (with --cprofile)")
    parser.add_argument("--digest", action="store_true", help="print a digest of the outputs")
    parser.add_argument(
        "--calls", action="store_true", help="CPU seconds of each engine.compare and score call"
    )
    parser.add_argument(
        "--timeline", action="store_true", help="cores busy and core-seconds idle per stage"
    )
    args = parser.parse_args(argv)
    if args.single_thread:  # (before polars is imported)
        os.environ["POLARS_MAX_THREADS"] = "1"
    import polars as pl

    from registry_link.linker import Linker

    calls = _timed_calls() if args.calls else []
    warnings.simplefilter("ignore")  # (oversized-block warnings: the figures are the point)
    left = pl.read_parquet(args.data / "partner.parquet")
    registry = pl.scan_parquet(args.data / "registry.parquet")
    stages: list[tuple[str, float, float, float, float]] = []
    ends: list[float] = []
    last_cpu = [0.0]

    def on_stage(name: str, seconds: float) -> None:
        now = _cpu()
        ends.append(time.perf_counter())
        stages.append((name, seconds, now - last_cpu[0], _peak_gb(), _rss_gb()))
        last_cpu[0] = now

    linker = Linker.from_config(
        args.model, on_stage=on_stage, workers=1 if args.single_thread else None
    )
    profile = None
    if args.cprofile:
        import cProfile

        # one thread: the process's CPU clock times its functions, whatever the load
        profile = cProfile.Profile(time.process_time) if args.single_thread else cProfile.Profile()
        profile.enable()
    timeline = _Timeline() if args.timeline else None
    start, last_cpu[0] = time.perf_counter(), _cpu()
    start_cpu = last_cpu[0]
    if timeline is not None:
        with timeline:
            result = linker.link(registry, [left])
    else:
        result = linker.link(registry, [left])
    wall, cpu = time.perf_counter() - start, _cpu() - start_cpu
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.cprofile)
    print(f"{'stage':<20}{'wall s':>8}{'CPU s':>8}{'peak GB':>9}{'RSS GB':>8}")
    for name, seconds, stage_cpu, peak_gb, rss_gb in stages:
        print(f"{name:<20}{seconds:>8.2f}{stage_cpu:>8.2f}{peak_gb:>9.2f}{rss_gb:>8.2f}")
    linked = [s for s in stages if s[0] in LINK_STAGES]
    print(
        f"{'link (read..hh)':<20}{sum(s[1] for s in linked):>8.2f}{sum(s[2] for s in linked):>8.2f}"
    )
    print(f"{'whole run':<20}{wall:>8.2f}{cpu:>8.2f}")
    print(f"candidate pairs {result.summary['candidate_pairs']:,}; peak RSS {_peak_gb():.2f} GB")
    if timeline is not None:
        cores = os.cpu_count() or 1
        print(f"\n{'stage':<20}{'cores busy':>11}{'idle core-s':>12}{'time short':>11}")
        total_idle = 0.0
        for (name, seconds, *_), end in zip(stages, ends, strict=True):
            busy, idle, short = timeline.busy(end - seconds, end, cores)
            total_idle += idle
            print(f"{name:<20}{busy:>11.2f}{idle:>12.2f}{short:>10.0%}")
        busy, idle, short = timeline.busy(start, start + wall, cores)
        print(f"{'whole run':<20}{busy:>11.2f}{idle:>12.2f}{short:>10.0%}")
        print(
            f"(of {cores} cores; 'time short': share of the stage with fewer than "
            f"{cores - 0.5:g} busy; idle core-seconds / {cores} bound what a perfect schedule "
            "would save in wall time)"
        )
    for what, n_pairs, seconds in calls:
        print(f"{what:<20}{n_pairs:>12,} pairs{seconds:>8.2f} CPU s")
    if args.digest:
        print(json.dumps(_digest(result), indent=1))
    if profile is not None:
        import pstats

        pstats.Stats(str(args.cprofile), stream=sys.stdout).sort_stats("cumulative").print_stats(
            args.top
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
