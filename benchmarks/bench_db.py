"""Registry load and read-back through the database, at scale (not a test).

Builds a synthetic standardised registry of N persons (vectorised, no linkage), then times
``load_registry`` (Parquet snapshot + bulk id tables) and ``registry_frame`` (read back for a
match) on SQLite and, when ``REGISTRY_LINK_TEST_PG`` is set, PostgreSQL.

    .venv/bin/python benchmarks/bench_db.py --persons 1000000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import polars as pl

from registry_link.db.engine import open_database
from registry_link.db.repository import load_registry, registry_frame
from registry_link.schema import STANDARDISED_SCHEMA


def synthetic_registry(n: int) -> pl.DataFrame:
    """A standardised frame of ``n`` persons in households of 5 (names from small vocabularies)."""
    given = ["Mohamed", "Fatima", "Youssef", "Khadija", "Ahmed", "Meryem", "Omar", "Salma"]
    family = ["Alaoui", "Bennani", "Tazi", "Idrissi", "Kettani", "Fassi", "Berrada", "Chraibi"]
    i = pl.int_range(0, n, dtype=pl.Int64, eager=True)
    base = pl.DataFrame({"i": i}).with_columns(
        source=pl.lit("registry"),
        record_id=pl.format("{}", pl.col("i") + 1_000_000_000),
        person_id=pl.format("{}", pl.col("i") + 1_000_000_000),
        household_id=pl.format("{}", pl.col("i") // 5 + 500_000_000),
        relation_to_head=pl.when(pl.col("i") % 5 == 0)
        .then(pl.lit("head"))
        .otherwise(pl.lit("child")),
        given_name=pl.lit(pl.Series(given)).gather(pl.col("i") % len(given)),
        family_name=pl.lit(pl.Series(family)).gather(pl.col("i") // 5 % len(family)),
        cin=pl.format("BK{}", pl.col("i")),
        birth_year=(1940 + pl.col("i") % 80).cast(pl.Int16),
        row_number=(pl.col("i") + 1).cast(pl.UInt32),
    )
    cols = []
    for name, dtype in STANDARDISED_SCHEMA.items():
        if name in base.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None).cast(dtype).alias(name))
    return base.select(cols)


def bench(url: str, frame: pl.DataFrame, folder: Path) -> None:
    """Time a load, a refresh with the same extract, and a read-back."""
    os.environ["REGISTRY_LINK_SNAPSHOTS"] = str(folder / "snapshots")
    factory = open_database(url, create=True)
    src = folder / "registry.csv"
    src.write_text("synthetic\n")
    cfg = Path(__file__).resolve().parents[1] / "configs" / "registry.yaml"
    t = time.perf_counter()
    load_registry(factory, frame, source_file=src, config_path=cfg, operator="bench")
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    again = load_registry(factory, frame, source_file=src, config_path=cfg, operator="bench")
    same_s = time.perf_counter() - t
    t = time.perf_counter()
    back = registry_frame(factory)
    read_s = time.perf_counter() - t
    assert back.height == frame.height and again.unchanged
    name = url.split(":")[0]
    print(
        f"{name:<22} persons={frame.height:>10,}  load {load_s:6.2f} s  "
        f"reload-unchanged {same_s:6.2f} s  read-back {read_s:6.2f} s"
    )


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    args = parser.parse_args()
    t = time.perf_counter()
    frame = synthetic_registry(args.persons)
    print(f"built {frame.height:,} synthetic persons in {time.perf_counter() - t:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench(f"sqlite:///{folder / 'bench.db'}", frame, folder)
        pg = os.environ.get("REGISTRY_LINK_TEST_PG")
        if pg:
            from sqlalchemy import create_engine, text

            engine = create_engine(pg)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
            bench(pg, frame, folder)


if __name__ == "__main__":
    main()
