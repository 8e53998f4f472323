"""Build time and file size of the run report, on a run folder and on scaled copies of it.

The report reads only the run folder: ``links`` (one row per partner record), ``households``
(one row per member), ``review`` (pairs awaiting a person), ``summary.json`` and ``model.json``
(whose term-frequency tables are bounded). What grows with a national run is the number of
partner records, so the scaled copies repeat the run's links, households and review rows
(record ids made unique) up to ``--records`` partner records: 1,000,000 stands for the
partner side of a 1M x 10M run (the registry's size does not reach the report except through
the counts in summary.json).

Usage::

    .venv/bin/python benchmarks/bench_report.py out/demo
    .venv/bin/python benchmarks/bench_report.py out/demo --records 1000000 --truth GT.csv

Prints one line per build: records, wall seconds, CPU seconds (all threads), file size.
Wall time depends on the machine's load; CPU time less so.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from registry_link.report import write_report

#: The files copied as they are into a scaled run folder.
AS_IS = ("summary.json", "model.json", "evaluation.json")


def _repeat(frame: pl.DataFrame, times: int, key_columns: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` repeated ``times`` times, ``key_columns`` suffixed ``~k`` in copy ``k``."""
    copies = [
        frame
        if k == 0
        else frame.with_columns(pl.col(c) + f"~{k}" for c in key_columns if c in frame.columns)
        for k in range(times)
    ]
    return pl.concat(copies, how="vertical")


def scaled_run(run_dir: Path, records: int, target: Path) -> Path:
    """A copy of ``run_dir`` with about ``records`` partner records (links, households and
    review repeated; see the module docstring)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in AS_IS:
        if (run_dir / name).is_file():
            shutil.copy(run_dir / name, target / name)
    links = pl.read_parquet(run_dir / "links.parquet")
    times = max(1, -(-records // links.height))
    _repeat(links, times, ("record_id",)).head(records).write_parquet(target / "links.parquet")
    _repeat(
        pl.read_parquet(run_dir / "households.parquet"),
        times,
        ("record_id", "household_key", "beneficiary_key"),
    ).write_parquet(target / "households.parquet")
    _repeat(
        pl.read_parquet(run_dir / "review.parquet"), times, ("record_id", "review_item_id")
    ).write_parquet(target / "review.parquet")
    return target


def scaled_truth(truth: Path, records: int, n_links: int, target: Path) -> Path:
    """The ground truth repeated as :func:`scaled_run` repeats the links."""
    frame = pl.read_csv(truth, infer_schema=False)
    times = max(1, -(-records // n_links))
    _repeat(frame, times, ("record_id",)).write_csv(target)
    return target


def measure(run_dir: Path, truth: Path | None) -> tuple[float, float, int]:
    """(wall s, CPU s, bytes) of one build of ``run_dir``'s report."""
    wall, cpu = time.perf_counter(), time.process_time()
    page = write_report(run_dir, truth=truth, out=run_dir / "report.html")
    return time.perf_counter() - wall, time.process_time() - cpu, page.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="a match/demo output folder")
    parser.add_argument("--truth", type=Path, help="its ground truth CSV")
    parser.add_argument(
        "--records", type=int, nargs="*", default=[], help="scaled copies to build too"
    )
    args = parser.parse_args()
    links = pl.read_parquet(args.run_dir / "links.parquet", columns=["record_id"]).height
    measure(args.run_dir, None)  # warm-up: imports and the chart renderer's start
    print(f"{'records':>10} {'truth':>5} {'wall s':>7} {'cpu s':>7} {'size':>10}")

    def report(folder: Path, records: int, truth: Path | None) -> None:
        for given in (None, truth) if truth else (None,):
            wall, cpu, size = measure(folder, given)
            flag = "yes" if given else "no"
            print(f"{records:>10,} {flag:>5} {wall:7.2f} {cpu:7.2f} {size / 1e6:8.2f} MB")

    report(args.run_dir, links, args.truth)
    for records in args.records:
        with tempfile.TemporaryDirectory() as tmp:
            folder = scaled_run(args.run_dir, records, Path(tmp) / "run")
            truth = (
                scaled_truth(args.truth, records, links, Path(tmp) / "truth.csv")
                if args.truth
                else None
            )
            report(folder, records, truth)


if __name__ == "__main__":
    main()
