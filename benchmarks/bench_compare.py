"""Time ``compare`` per comparison on the cached standardised linkage benchmark data.

Loads ``benchmarks/data/linkage_r1000000_p100000_s20261122/std/{registry,partner}.parquet``,
blocks them with the rules of ``configs/model.yaml`` (pairs cached as parquet, see
``--pairs-cache``), then times :func:`registry_link.compare.compare` once per comparison
and once for all comparisons together. ``--save`` writes the gamma frame (sorted by
``l_idx, r_idx``); ``--check`` asserts the gamma frame equals a saved one.

    python benchmarks/bench_compare.py [--data DIR] [--save F | --check F]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from registry_link.block.candidates import BlockingRule, block
from registry_link.compare import compare
from registry_link.model import load_model_config

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "benchmarks/data/linkage_r1000000_p100000_s20261122/std"


def _pairs(
    left: pl.DataFrame, right: pl.DataFrame, rules: Sequence[BlockingRule], cache: Path | None
) -> pl.DataFrame:
    """Candidate pairs of the blocking rules, read from ``cache`` when it exists."""
    if cache is not None and cache.exists():
        return pl.read_parquet(cache)
    t0 = time.perf_counter()
    pairs = block(left, right, rules)
    print(f"block: {time.perf_counter() - t0:.2f} s, {pairs.height:,} pairs")
    if cache is not None:
        pairs.write_parquet(cache)
    return pairs


def main() -> None:
    """Run the benchmark and print seconds per comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--config", type=Path, default=ROOT / "configs/model.yaml")
    ap.add_argument("--pairs-cache", type=Path, default=Path("/tmp/h11/pairs.parquet"))
    ap.add_argument("--only", nargs="*", help="comparisons to time (default all)")
    ap.add_argument("--no-each", action="store_true", help="skip the per-comparison timings")
    ap.add_argument("--save", type=Path, help="write the sorted gamma frame here")
    ap.add_argument("--check", type=Path, help="assert the gammas equal this saved frame")
    args = ap.parse_args()
    settings = load_model_config(args.config)
    left = pl.read_parquet(args.data / "partner.parquet")
    right = pl.read_parquet(args.data / "registry.parquet")
    pairs = _pairs(left, right, list(settings.blocking_rules), args.pairs_cache)
    comps = [c for c in settings.comparisons if not args.only or c.name in args.only]
    print(f"{pairs.height:,} pairs, {len(comps)} comparisons")
    if not args.no_each:
        for comp in comps:
            t0 = time.perf_counter()
            compare(left, right, pairs, [comp])
            print(f"  {comp.name:<12} {time.perf_counter() - t0:6.2f} s")
    t0 = time.perf_counter()
    gammas = compare(left, right, pairs, comps)
    dt = time.perf_counter() - t0
    print(f"  {'all':<12} {dt:6.2f} s ({pairs.height / dt / 1e3:,.0f} k pairs/s)")
    gammas = gammas.sort("l_idx", "r_idx")
    if args.save:
        gammas.write_parquet(args.save)
    if args.check:
        expected = pl.read_parquet(args.check)
        assert gammas.equals(expected), "gamma frame differs from the saved one"
        print("gammas identical to", args.check)


if __name__ == "__main__":
    main()
