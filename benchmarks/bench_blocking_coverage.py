"""Blocking coverage: how many true pairs the blocking rules make candidates, and at what cost.

Reads a linkage-benchmark data folder (``benchmarks/linkage_data.py``: ``std/partner.parquet``,
``std/registry.parquet``, ``truth.parquet``) and, for each model config given, blocks the
standardised records with its rules and prints the candidate pairs (per first rule), the
blocking time and the share of true pairs that are candidates: all, per list, and for the
records with no CIN, a year-only birth date, an unsplit name, and no CIN with an unsplit name.

    .venv/bin/python benchmarks/bench_blocking_coverage.py \\
        benchmarks/data/linkage_r1000000_p100000_s20261122 before.yaml configs/model.yaml
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from pathlib import Path

import polars as pl

from registry_link.block.candidates import block
from registry_link.model import load_model_config


def true_pairs(data: Path, partner: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """``{l_idx, r_idx, source, no_cin, year_only, unsplit}`` of every true pair."""
    truth = pl.read_parquet(data / "truth.parquet").filter(pl.col("person_id").is_not_null())
    left = partner.select(
        (pl.col("source") + ":" + pl.col("record_id")).alias("record_id"),
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("l_idx"),
        "source",
        pl.col("cin").is_null().alias("no_cin"),
        (pl.col("birth_date_precision") == "year").fill_null(False).alias("year_only"),
        pl.col("given_lat").is_null().alias("unsplit"),
    )
    right = registry.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("r_idx"), "person_id")
    return left.join(truth, on="record_id").join(right, on="person_id")


def coverage(pairs: pl.DataFrame, truth: pl.DataFrame) -> list[tuple[str, float]]:
    """Share of the true pairs among the candidates: all, per list and per slice."""
    found = truth.join(
        pairs.select("l_idx", "r_idx", pl.lit(True).alias("found")),
        on=["l_idx", "r_idx"],
        how="left",
    ).with_columns(pl.col("found").fill_null(False))
    rows = [("all", found["found"].mean())]
    rows += [
        (source, found.filter(pl.col("source") == source)["found"].mean())
        for source in sorted(found["source"].unique())
    ]
    slices = {
        "no CIN": pl.col("no_cin"),
        "birth year only": pl.col("year_only"),
        "unsplit name": pl.col("unsplit"),
        "no CIN, unsplit name": pl.col("no_cin") & pl.col("unsplit"),
    }
    rows += [(name, found.filter(cond)["found"].mean()) for name, cond in slices.items()]
    return [(name, float(share or 0.0)) for name, share in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a linkage-benchmark data folder")
    parser.add_argument("configs", type=Path, nargs="+", help="model configs to compare")
    args = parser.parse_args()
    partner = pl.read_parquet(args.data / "std/partner.parquet")
    registry = pl.read_parquet(args.data / "std/registry.parquet")
    truth = true_pairs(args.data, partner, registry)
    print(f"{partner.height:,} partner records x {registry.height:,} registry persons; ", end="")
    print(f"{truth.height:,} true pairs")
    for config in args.configs:
        rules = load_model_config(config).blocking_rules
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the limits' skips: shown by `registry-link blocking`
            pairs = block(partner, registry, rules)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(f"\n{config}: {pairs.height:,} candidate pairs, blocking {seconds:.1f} s, ", end="")
        print(f"peak RSS so far {peak:.2f} GB")
        for rule, n in pairs["rule"].value_counts(sort=True).iter_rows():
            print(f"  {rule:<30}{n:>12,}")
        for name, share in coverage(pairs, truth):
            print(f"  true pairs that are candidates, {name:<26}{share:.4f}")


if __name__ == "__main__":
    main()
