"""Benchmark of the registry index (issue 17): one record at a time against a large registry.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_search.py --registry 20000 --queries 200
    .venv/bin/python benchmarks/bench_search.py            # 1,000,000 persons, 2,000 searches

Steps: (1) the synthetic registry and partner lists of ``bench_linkage.py`` (generated once
into ``benchmarks/data/``, cached); (2) both standardised by our pipeline, and a model
trained on them (``Linker.train``); (3) the index built (``Linker.index``: time, RSS before
and after); (4) ``--queries`` single searches of raw partner records (``index.search``, with
the list's own source config: our standardisation included; then once more, every part of
each record seen), then the same records
standardised (``index.search_frame``, one at a time: what Splink is given; then once more,
every value pair seen: the index's memo warm), then in batches of
``--batch`` (``search_many``) — latency p50 / p99 and searches per second; (5) Splink 5's
``find_matches_to_new_records`` (in Splink 5 it is ``linker.inference.predict_between(new,
registry)``) on the same standardised registry and model columns
(trained with our model config's comparisons and blocking rules, as ``bench_linkage.py``
does; its m by EM on the CIN rule only, to bound the time), ``--splink-queries`` records
one at a time. A markdown file is written to ``benchmarks/results/search.md``.
Everything runs in this process, bounded in count; the machine's load is reported.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # helper modules live next to this script
    sys.path.insert(0, str(HERE))

from linkage_data import prepare_data  # noqa: E402
from linkage_measure import self_max_rss_bytes  # noqa: E402
from linkage_report import add_run  # noqa: E402

REPO = HERE.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--registry", type=int, default=1_000_000, help="registry persons N")
    p.add_argument("--partners", type=int, default=20_000, help="partner records (training)")
    p.add_argument("--queries", type=int, default=2_000, help="single searches (bounded)")
    p.add_argument("--batch", type=int, default=100, help="records per search_many call")
    p.add_argument("--splink-queries", type=int, default=100, help="Splink searches (0: none)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--data-dir", type=Path, default=HERE / "data")
    p.add_argument(
        "--gc-freeze",
        action="store_true",
        help="after the warm-up, keep the garbage collector off the heap as `registry-link "
        "serve` does (registry_link.service.heap.FrozenHeap: freeze, and again after each "
        "full collection)",
    )
    p.add_argument(
        "--model-cache",
        type=Path,
        default=None,
        help="load the trained model from this file if it exists, else train and save it "
        "there (paired runs of one data set: the same model, no training each time)",
    )
    p.add_argument(
        "--answers",
        type=Path,
        default=None,
        help="write every single search's answer (raw records first, then again) here, one "
        "JSON line each: two runs' files are equal when the answers are",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="add the run to this file (appended as its latest section if it exists; e.g. "
        "benchmarks/results/search.md); default: printed only",
    )
    return p.parse_args(argv)


def _rss_gb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e9


#: CPU seconds of this process per call of the last :func:`_latencies` (all its threads:
#: polars' pool included), by the function's id.
_CPU: dict[int, list[float]] = {}


class _FullCollections:
    """Python's full (generation-2) garbage collections counted, with their CPU time."""

    def __init__(self) -> None:
        self.count, self.cpu, self._started = 0, 0.0, 0.0
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.process_time()
        else:
            self.count += 1
            self.cpu += time.process_time() - self._started


_GC = _FullCollections()


def _latencies(fn: Any, items: list[Any]) -> list[float]:
    """Seconds (wall clock) per call of ``fn(item)``; the CPU seconds go to ``_CPU``, the
    full garbage collections during the calls (count, CPU ms) to ``_GCS``."""
    out, cpu = [], []
    count, gc_cpu = _GC.count, _GC.cpu
    for item in items:
        c = time.process_time()
        t = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    _CPU[id(fn)] = cpu
    _GCS[id(fn)] = (_GC.count - count, 1000 * (_GC.cpu - gc_cpu))
    return out


#: Full garbage collections during the calls of the last :func:`_latencies` (count, CPU ms).
_GCS: dict[int, tuple[int, float]] = {}


def _summary(
    seconds: list[float], per_call: int = 1, cpu: list[float] | None = None
) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    out = {
        "n": len(ms) * per_call,
        "p50_ms": q[49],
        "p99_ms": q[98],
        "per_s": len(ms) * per_call / sum(seconds),
    }
    if cpu:
        cms = sorted(s * 1000 for s in cpu)
        cq = statistics.quantiles(cms, n=100) if len(cms) > 1 else [cms[0]] * 99
        out |= {"cpu_p50_ms": cq[49], "cpu_p99_ms": cq[98], "cpu_per_s": len(cms) / sum(cpu)}
    return out


def _timed(fn: Any, items: list[Any], per_call: int = 1) -> dict[str, float]:
    """:func:`_summary` of ``fn`` over ``items``: wall clock and CPU time."""
    seconds = _latencies(fn, items)
    full, full_ms = _GCS.pop(id(fn))
    return {
        **_summary(seconds, per_call, _CPU.pop(id(fn))),
        "full_gcs": full,
        "full_gc_ms": full_ms,
    }


def _queries(paths: Any, n: int) -> list[tuple[dict[str, object], Any]]:
    """``n`` raw partner records (canonical fields), cycling over the lists, with settings."""
    from registry_link.config.loader import load_source_config
    from registry_link.io.readers import read_source
    from registry_link.search import QUERY_FIELDS

    per_list = []
    for _source, data, config in paths.partner_sources():
        settings = load_source_config(config)
        raw = read_source(data, settings)
        rows = raw.select([c for c in QUERY_FIELDS if c in raw.columns])
        rows = rows.drop("principal_record_id", strict=False).to_dicts()
        per_list.append([(r, settings) for r in rows])
    out: list[tuple[dict[str, object], Any]] = []
    i = 0
    while len(out) < n and any(i < len(rows) for rows in per_list):
        out += [rows[i] for rows in per_list if i < len(rows)]
        i += 1
    return out[:n]


def run_splink_search(
    registry: pl.DataFrame,
    partners: pl.DataFrame,
    queries: pl.DataFrame,
    model_config: Path,
    n: int,
) -> dict[str, Any]:
    """Splink 5's ``find_matches_to_new_records``, one standardised record per call."""
    import duckdb
    import splink
    from linkage_splink import _block, spec_from_model_config, splink_settings
    from splink import DuckDBAPI, Linker, block_on

    del _block

    spec = spec_from_model_config(model_config)
    cols = [c for c in spec.columns if c != "uid"]
    con = duckdb.connect(":memory:")
    for name, frame, uid in (("registry", registry, "person_id"), ("partner", partners, None)):
        uid_col = pl.col(uid) if uid else pl.col("source") + ":" + pl.col("record_id")
        con.register(f"{name}_arrow", frame.select(uid_col.alias("uid"), *cols).to_arrow())
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    db_api = DuckDBAPI(connection=con)
    t = time.perf_counter()
    # trained as bench_linkage.py trains it (partner list x registry), m by EM on the CIN rule
    trainer = Linker(
        [db_api.register("partner"), db_api.register("registry")],
        splink_settings(spec),
        log_level="WARNING",
    )
    trainer.training.estimate_probability_two_random_records_match(
        [block_on("cin", "birth_year")], 0.8
    )
    trainer.training.estimate_u_using_random_sampling(max_pairs=spec.u_sample_size, seed=spec.seed)
    trainer.training.estimate_parameters_using_expectation_maximisation(block_on("cin"))
    model = trainer.misc.save_model_to_json()
    model["link_type"] = "dedupe_only"  # then searched against the registry alone
    registry_sdf = db_api.register("registry", dataset_display_name="registry_search")
    linker = Linker(registry_sdf, model, log_level="WARNING")
    for column in linker._settings_obj._term_frequency_columns:  # (Splink needs them)
        linker.table_management.compute_tf_table(column.unquote().name)
    train_s = time.perf_counter() - t
    records = queries.select(pl.lit("q").alias("uid"), *cols)
    seconds = []
    found = 0
    for i in range(min(n, records.height)):
        # Splink 5's find_matches_to_new_records: predict_between(new records, registry)
        t = time.perf_counter()
        new = db_api.register(records.slice(i, 1).to_arrow(), table_name=f"new_{i}")
        out = linker.inference.predict_between(
            new, registry_sdf, threshold_match_weight=-4, warning_mode="never"
        )
        rows = out.as_record_list()
        seconds.append(time.perf_counter() - t)
        found += int(len(rows) > 0)
    return {
        "train_s": train_s,
        "search": _summary(seconds),
        "found": found,
        "version": splink.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write its markdown."""
    args = parse_args(argv)
    from registry_link import Linker, load_standardised
    from registry_link.model import load_model, load_model_config, save_model

    model_config = REPO / "configs" / "model.yaml"
    load0 = os.getloadavg()
    t = time.perf_counter()
    paths, note = prepare_data(args.registry, args.partners, args.seed, args.data_dir)
    print(f"data {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    registry = load_standardised(paths.raw_registry, paths.registry_config)
    partners = [load_standardised(data, config) for _, data, config in paths.partner_sources()]
    std_s = time.perf_counter() - t
    print(f"standardised {std_s:.1f} s", file=sys.stderr)
    linker = Linker(load_model_config(model_config))
    t = time.perf_counter()
    if args.model_cache is not None and args.model_cache.exists():
        model = load_model(args.model_cache)
    else:
        model = linker.train(registry, partners)
        if args.model_cache is not None:
            save_model(model, args.model_cache)
    train_s = time.perf_counter() - t
    print(f"trained {train_s:.1f} s", file=sys.stderr)
    rss_before = _rss_gb()
    t = time.perf_counter()
    index = linker.index(registry, model)
    build_s = time.perf_counter() - t
    rss_after = _rss_gb()
    print(
        f"index built {build_s:.1f} s, RSS {rss_before:.2f} -> {rss_after:.2f} GB", file=sys.stderr
    )

    queries = _queries(paths, args.queries)
    warm = queries[: min(20, len(queries))]
    for record, settings in warm:  # first calls build polars' caches
        index.search(record, settings=settings)
    if args.gc_freeze:
        from registry_link.service.heap import FrozenHeap

        heap = FrozenHeap()
        heap.freeze()
        heap.watch()
    answers: list[Any] = []

    def search(q: tuple[dict[str, object], Any]) -> None:
        answers.append(index.search(q[0], settings=q[1]))

    single = _timed(search, queries)
    print(f"search {single}", file=sys.stderr)
    # the same raw records again: every part of each record seen (standardised from the memo)
    single_again = _timed(search, queries)
    print(f"search again {single_again}", file=sys.stderr)
    if args.answers is not None:
        with args.answers.open("w", encoding="utf-8") as out:
            for answer in answers:
                out.write(json.dumps(dataclasses.asdict(answer), default=str) + "\n")
    std_queries = pl.concat([p.frame for p in partners]).head(len(queries))
    frames = [std_queries.slice(i, 1) for i in range(std_queries.height)]
    standardised = _timed(lambda f: index.search_frame(f), frames)
    print(f"search_frame {standardised}", file=sys.stderr)
    # the same records again: every value pair seen (the index's memo warm)
    again = _timed(lambda f: index.search_frame(f), frames)
    print(f"search_frame again {again}", file=sys.stderr)
    by_settings: dict[int, list[Any]] = {}
    for record, settings in queries:
        by_settings.setdefault(id(settings), []).append((record, settings))
    batches = [
        group[i : i + args.batch]
        for group in by_settings.values()
        for i in range(0, len(group), args.batch)
    ]

    def search_many(batch: list[Any]) -> None:
        index.search_many([r for r, _ in batch], settings=batch[0][1])

    batch_seconds = _latencies(search_many, batches)
    batch_cpu = _CPU.pop(id(search_many))
    many = {**_summary(batch_seconds, cpu=batch_cpu), "n": len(queries)}
    many["per_s"] = len(queries) / sum(batch_seconds)  # records per second, not calls
    many["cpu_per_s"] = len(queries) / sum(batch_cpu)  # records per CPU second
    print(f"search_many {many}", file=sys.stderr)
    splink_result = None
    if args.splink_queries:
        splink_result = run_splink_search(
            registry.frame,
            pl.concat([p.frame for p in partners]),
            std_queries,
            model_config,
            args.splink_queries,
        )
        print(f"splink {splink_result}", file=sys.stderr)
    load1 = os.getloadavg()
    write_report(
        args,
        note=note,
        std_s=std_s,
        train_s=train_s,
        build_s=build_s,
        rss=(rss_before, rss_after, self_max_rss_bytes() / 1e9),
        single=single,
        single_again=single_again,
        standardised=standardised,
        again=again,
        many=many,
        splink=splink_result,
        load=(load0, load1),
        size=index.size,
        nbytes=index.nbytes,
        memo=len(index._derived_memo),
    )


def write_report(args: argparse.Namespace, **r: Any) -> None:
    """The markdown result file."""
    s, f, m, sp = r["single"], r["standardised"], r["many"], r["splink"]
    a, sa = r["again"], r["single_again"]
    rss_before, rss_after, peak = r["rss"]
    policy = "heap frozen after the warm-up (`--gc-freeze`)" if args.gc_freeze else "gc as is"
    load0, load1 = r["load"]
    lines = [
        f"# Registry index: single-record search ({dt.date.today().isoformat()})",
        "",
        f"`.venv/bin/python benchmarks/bench_search.py --registry {args.registry} "
        f"--queries {args.queries} --batch {args.batch} --splink-queries {args.splink_queries}`",
        "",
        r["note"],
        "",
        f"Machine: {os.cpu_count()} cores, shared; load average {load0[0]:.1f} at the start, "
        f"{load1[0]:.1f} at the end (figures slow down with the load).",
        "",
        f"Standardising the registry and partner lists: {r['std_s']:.1f} s; training: "
        f"{r['train_s']:.1f} s. Index of {r['size']:,} registry records built in "
        f"{r['build_s']:.2f} s; RSS {rss_before:.2f} GB before, {rss_after:.2f} GB after "
        f"(+{rss_after - rss_before:.2f} GB: the index keeps the registry frame in one chunk, "
        f"a copy when the caller's frame has several; training's temporaries were freed "
        f"meanwhile); the index holds "
        f"{r['nbytes'] / 1e9:.2f} GB (registry frame and key tables, `index.nbytes`); peak "
        f"RSS of the run {peak:.2f} GB.",
        "",
        "| search | records | p50 ms | p99 ms | records/s |",
        "|---|---:|---:|---:|---:|",
        f"| `index.search(raw record)` (standardisation included) | {s['n']:,} | "
        f"{s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {s['per_s']:.1f} |",
        f"| the same raw records again (every part of each seen: standardised from the memo) | "
        f"{sa['n']:,} | {sa['p50_ms']:.1f} | {sa['p99_ms']:.1f} | {sa['per_s']:.1f} |",
        f"| `index.search_frame(standardised record)` | {f['n']:,} | {f['p50_ms']:.1f} | "
        f"{f['p99_ms']:.1f} | {f['per_s']:.1f} |",
        f"| the same `search_frame` records again (every value pair seen: memo warm) | "
        f"{a['n']:,} | {a['p50_ms']:.1f} | {a['p99_ms']:.1f} | {a['per_s']:.1f} |",
        f"| `index.search_many` ({args.batch} raw records a call; ms per call) | {m['n']:,} | "
        f"{m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {m['per_s']:.1f} |",
    ]
    if sp is not None:
        q = sp["search"]
        lines.append(
            f"| Splink {sp['version']} `predict_between(new record, registry)` "
            f"(standardised record) | "
            f"{q['n']:,} | {q['p50_ms']:.1f} | {q['p99_ms']:.1f} | {q['per_s']:.1f} |"
        )
    lines += [
        "",
        "CPU time of this process per search (`time.process_time`: every thread of it, "
        "polars' pool included; the wall-clock figures above also wait for the cores the "
        "other processes hold):",
        "",
        "| search | CPU p50 ms | CPU p99 ms | searches per CPU second |",
        "|---|---:|---:|---:|",
        f"| `index.search(raw record)` | {s['cpu_p50_ms']:.1f} | {s['cpu_p99_ms']:.1f} | "
        f"{s['cpu_per_s']:.1f} |",
        f"| the same raw records again | {sa['cpu_p50_ms']:.1f} | {sa['cpu_p99_ms']:.1f} | "
        f"{sa['cpu_per_s']:.1f} |",
        f"| `index.search_frame(standardised record)` | {f['cpu_p50_ms']:.1f} | "
        f"{f['cpu_p99_ms']:.1f} | {f['cpu_per_s']:.1f} |",
        f"| the same `search_frame` records again | {a['cpu_p50_ms']:.1f} | "
        f"{a['cpu_p99_ms']:.1f} | {a['cpu_per_s']:.1f} |",
        f"| `index.search_many` ({args.batch} raw records a call; ms per call, records per "
        f"CPU second) | {m['cpu_p50_ms']:.1f} | {m['cpu_p99_ms']:.1f} | {m['cpu_per_s']:.1f} |",
        "",
        f"Helper values kept across searches (the index's memo) at the end: {r['memo']:,}.",
        "",
        f"Full garbage collections (count, CPU ms in all): first searches {s['full_gcs']} / "
        f"{s['full_gc_ms']:.0f}, again {sa['full_gcs']} / {sa['full_gc_ms']:.0f}; "
        f"{policy}.",
    ]
    if sp is not None:
        q = sp["search"]
        lines += [
            "",
            f"Splink trained in {sp['train_s']:.1f} s (prior, u by random sampling, m by EM on "
            f"the CIN rule); it found candidates for {sp['found']} of {q['n']} records. Ours per "
            f"standardised record is {q['p50_ms'] / max(f['p50_ms'], 1e-9):.1f}x faster at p50.",
        ]
    add_run(args.out, lines)


if __name__ == "__main__":
    main()
