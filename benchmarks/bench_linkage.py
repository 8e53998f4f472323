"""Performance benchmark of registry-link against Splink on the same standardised data.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_linkage.py --partners 2000 --registry 20000
    .venv/bin/python benchmarks/bench_linkage.py --partners 100000 --registry 1000000 \\
        --systems ours,splink --out benchmarks/results/linkage.md

Steps: (1) synthetic registry of N persons + a partner list of M records drawn from it with the
generator's noise (plus persons not in the registry) and its ground truth, generated once into
``benchmarks/data/`` and cached by (N, M, seed); (2) standardisation of both sides (our
pipeline, in its own measured child process, cached too); (3) each system links the SAME
standardised Parquet files in its own child process, measured for wall time and peak RSS;
(4) precision/recall/F1 against the ground truth, a markdown table printed and written.

System ``ours-uncapped`` is ours with the model config's ``max_candidates`` limits removed from
its blocking rules: nearly the candidate pairs Splink scores (Splink has no per-block caps), to
compare the engines on the same work as well as the tools with their shipped configs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # helper modules live next to this script
    sys.path.insert(0, str(HERE))

from linkage_data import STANDARDISER_CODE, DataPaths, code_fingerprint, prepare_data  # noqa: E402
from linkage_eval import accuracy, accuracy_by_source, best_per_record  # noqa: E402
from linkage_measure import ChildRun, last_stage, run_measured, self_max_rss_bytes  # noqa: E402
from linkage_ours import LINK_STAGES  # noqa: E402
from linkage_report import SystemRow, merge_section, render  # noqa: E402

REPO = HERE.parent
SYSTEMS = ("ours", "ours-uncapped", "splink")
#: Row labels of each of our systems' two rows (match decisions; best pair at p >= 0.5).
OURS_LABELS = {
    "ours": ("ours (match decisions)", "ours (best pair, p ≥ 0.5)"),
    "ours-uncapped": (
        "ours without max_candidates (match decisions)",
        "ours without max_candidates (best pair, p ≥ 0.5)",
    ),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (``--child`` is internal: run one measured step and exit)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--partners", type=int, default=2_000, help="partner records M")
    p.add_argument("--registry", type=int, default=20_000, help="registry persons N")
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument(
        "--systems", default="ours,splink", help="comma-separated: ours,ours-uncapped,splink"
    )
    p.add_argument("--out", type=Path, default=HERE / "results" / "linkage.md")
    p.add_argument("--data-dir", type=Path, default=HERE / "data")
    p.add_argument("--model", type=Path, default=REPO / "configs" / "model.yaml")
    p.add_argument("--max-registry", type=int, default=100_000, help="safety cap on N")
    p.add_argument(
        "--ours-via",
        choices=("engine", "linker"),
        default="engine",
        help="ours: the linkage stages from the engine modules (default) or the full Linker.link",
    )
    p.add_argument(
        "--ours-compare-chunk",
        type=int,
        default=None,
        help="what-if: override compare()'s chunk_size (pairs per chunk) for ours",
    )
    p.add_argument(
        "--ours-keep-p",
        type=float,
        default=None,
        help="what-if: score in slices and keep pairs at p >= this before decide (ours)",
    )
    p.add_argument("--repeat", type=int, default=1, help="runs per system; the fastest is shown")
    p.add_argument(
        "--max-rss-gb",
        type=float,
        default=16.0,
        help="kill a measured child whose process tree exceeds this RSS (shared machine)",
    )
    p.add_argument("--force", action="store_true", help="regenerate/restandardise cached data")
    p.add_argument("--child", choices=("standardise", *SYSTEMS), help=argparse.SUPPRESS)
    p.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- children


def _child_standardise(paths: DataPaths) -> dict[str, Any]:
    # load_standardised minus its quality report: config + read + standardise
    from registry_link.config.loader import load_source_config
    from registry_link.io import read_source
    from registry_link.standardise import standardise

    def frame_of(path: Path, config: Path) -> pl.DataFrame:
        settings = load_source_config(config)
        return standardise(read_source(path, settings), settings)

    stages: dict[str, float] = {}
    t = time.perf_counter()
    registry = frame_of(paths.raw_registry, paths.registry_config)
    registry.write_parquet(paths.std_registry)
    stages["registry"] = time.perf_counter() - t
    t = time.perf_counter()
    parts = [frame_of(path, config) for _, path, config in paths.partner_sources()]
    partner = pl.concat(parts, how="vertical_relaxed")
    partner.write_parquet(paths.std_partner)
    stages["partner"] = time.perf_counter() - t
    rows = {"registry": registry.height, "partner": partner.height}
    return {"stages": stages, "end_to_end_s": sum(stages.values()), "rows": rows}


def _uncapped_model(model: Path, run_dir: Path) -> Path:
    """A copy of the model config without its blocking rules' ``max_candidates``."""
    import yaml

    data = yaml.safe_load(model.read_text(encoding="utf-8"))
    for rule in data.get("blocking_rules", []):
        rule.pop("max_candidates", None)
    out = run_dir / "model_uncapped.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def _child_ours(paths: DataPaths, args: argparse.Namespace, system: str) -> dict[str, Any]:
    from linkage_ours import run_ours

    model = args.model if system == "ours" else _uncapped_model(args.model, paths.runs)
    res = run_ours(
        paths.std_partner,
        paths.std_registry,
        model,
        via=args.ours_via,
        compare_chunk=args.ours_compare_chunk,
        keep_p=args.ours_keep_p,
    )
    run_dir = paths.runs
    prefix = system.replace("-", "_")
    res.pop("links_05").write_parquet(run_dir / f"{prefix}_links_05.parquet")
    res.pop("decisions").write_parquet(run_dir / f"{prefix}_decisions.parquet")
    return res


def _child_splink(paths: DataPaths, model: Path, run_dir: Path) -> dict[str, Any]:
    from linkage_splink import run_splink, spec_from_model_config

    res = run_splink(paths.std_partner, paths.std_registry, spec_from_model_config(model))
    res.pop("links").write_parquet(run_dir / "splink_links_05.parquet")
    return res


def child_main(args: argparse.Namespace) -> int:
    """Run one step in this (child) process and write its result JSON."""
    paths = DataPaths.of(args.workdir)
    run_dir = paths.runs
    if args.child == "standardise":
        res = _child_standardise(paths)
    elif args.child in OURS_LABELS:
        res = _child_ours(paths, args, args.child)
    else:
        res = _child_splink(paths, args.model, run_dir)
    res["max_rss_bytes"] = self_max_rss_bytes()
    args.result.write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    return 0


# ----------------------------------------------------------------------------- parent


def round_ratios(
    runs_of: dict[str, list[ChildRun]], failed: dict[str, ChildFailed]
) -> list[tuple[float, bool, str]]:
    """Per round (runs minutes apart): Splink's time over ours, whether both runs were quiet,
    and the machine's state during each, when both ran."""
    ours, splink = runs_of.get("ours", []), runs_of.get("splink", [])
    if "ours" in failed or "splink" in failed or not ours or not splink:
        return []
    return [
        (
            float(s.result["end_to_end_s"]) / float(o.result["end_to_end_s"]),
            o.quiet and s.quiet,
            f"ours {o.machine_state()}; splink {s.machine_state()}",
        )
        for o, s in zip(ours, splink, strict=False)
    ]


def _round_notes(rounds: list[tuple[float, bool, str]]) -> list[str]:
    if not rounds:
        return []
    return [
        "Splink's time over ours, round by round (each round runs every system once, minutes "
        "apart): "
        + "; ".join(f"{r:.2f}× ({state})" for r, _, state in rounds)
        + ". Only quiet rounds count for the goals."
    ]


class ChildFailed(Exception):
    """A measured child was killed or failed; ``str()`` says how far it got."""

    def __init__(self, message: str, log_tail: str) -> None:
        super().__init__(message)
        self.log_tail = log_tail


def _spawn(
    step: str, paths: DataPaths, args: argparse.Namespace, max_rss_gb: float = 16.0
) -> ChildRun:
    result = paths.runs / f"{step}.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        step,
        "--workdir",
        str(paths.root),
        "--result",
        str(result),
        "--model",
        str(args.model),
        "--ours-via",
        args.ours_via,
        *(
            ["--ours-compare-chunk", str(args.ours_compare_chunk)]
            if args.ours_compare_chunk
            else []
        ),
        *(["--ours-keep-p", str(args.ours_keep_p)] if args.ours_keep_p is not None else []),
    ]
    print(f"[bench] running {step} ...", file=sys.stderr, flush=True)
    run = run_measured(cmd, result, rss_limit_bytes=int(max_rss_gb * 1024**3))
    if run.killed_over_rss or run.returncode != 0:
        why = (
            f"killed when its RSS passed --max-rss-gb {max_rss_gb}"
            if run.killed_over_rss
            else f"failed (exit {run.returncode})"
        )
        raise ChildFailed(
            f"{step} {why} after {run.wall_s:.0f} s, peak RSS seen "
            f"{run.peak_rss_bytes / 1024**3:.1f} GB; last finished stage: "
            f"{last_stage(run.stderr_tail)}",
            run.stderr_tail,
        )
    print(
        f"[bench] {step}: {run.wall_s:.1f} s, peak RSS {run.peak_rss_bytes / 1024**3:.2f} GB",
        file=sys.stderr,
        flush=True,
    )
    return run


def _standardised(paths: DataPaths, args: argparse.Namespace) -> dict[str, Any]:
    """Standardise both sides once (cached with its measured figures)."""
    record = paths.std / "standardise_run.json"
    fingerprint = code_fingerprint(*STANDARDISER_CODE)
    if (
        not args.force
        and record.exists()
        and paths.std_partner.exists()
        and paths.std_registry.exists()
    ):
        cached: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
        if cached.get("fingerprint") == fingerprint:
            return cached
    try:
        run = _spawn("standardise", paths, args, max_rss_gb=args.max_rss_gb)
    except ChildFailed as exc:
        raise SystemExit(f"{exc}\n{exc.log_tail[-3000:]}") from None
    info = {
        **run.result,
        "process_wall_s": run.wall_s,
        "peak_rss_bytes": run.peak_rss_bytes,
        "fingerprint": fingerprint,
    }
    record.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def _row(
    system: str,
    run: ChildRun,
    records: str,
    links: pl.DataFrame,
    truth: pl.DataFrame,
    threshold: float,
    last_stage: str,
) -> SystemRow:
    acc = accuracy(links, truth)
    per_source = {
        k: (a.precision, a.recall, a.f1) for k, a in accuracy_by_source(links, truth).items()
    }
    rss_after = {k: int(v) for k, v in run.result.get("peak_rss_after_stage", {}).items()}
    return SystemRow(
        system=system,
        records=records,
        candidate_pairs=int(run.result["candidate_pairs"]),
        wall_s=float(run.result["end_to_end_s"]),
        process_wall_s=run.wall_s,
        peak_rss_bytes=rss_after.get(last_stage, run.peak_rss_bytes),
        process_peak_rss_bytes=run.peak_rss_bytes,
        precision=acc.precision,
        recall=acc.recall,
        f1=acc.f1,
        threshold=threshold,
        stages=dict(run.result.get("stages", {})),
        rss_after=rss_after,
        f1_by_source=per_source,
    )


def _what_if(args: argparse.Namespace) -> str:
    """Title suffix naming the what-if knobs used for ours, if any."""
    knobs = []
    if args.ours_compare_chunk:
        knobs.append(f"compare chunk_size {args.ours_compare_chunk:,}")
    if args.ours_keep_p is not None:
        knobs.append(f"score in slices keeping p ≥ {args.ours_keep_p:g}")
    return f" (what-if for ours: {', '.join(knobs)})" if knobs else ""


def main(argv: list[str] | None = None) -> int:
    """Entry point: prepare data, run each system in a measured child, write the report."""
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    if args.registry > args.max_registry:
        raise SystemExit(
            f"--registry {args.registry} is above --max-registry {args.max_registry}; "
            "raise --max-registry explicitly for a big run"
        )
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise SystemExit(f"unknown system(s) {sorted(unknown)}; choose from {SYSTEMS}")

    paths, data_note = prepare_data(
        args.registry, args.partners, args.seed, args.data_dir, force=args.force
    )
    std = _standardised(paths, args)
    truth = pl.read_parquet(paths.truth)
    records = f"{std['rows']['partner']:,} × {std['rows']['registry']:,}"
    versions: dict[str, Any] = {"polars": pl.__version__, "python": sys.version.split()[0]}
    rows: list[SystemRow] = []
    std_stages = ", ".join(f"{k} {v:.1f} s" for k, v in std["stages"].items())
    notes = [
        "Standardisation (ours, both sides, not part of either system's wall time): "
        f"{std['end_to_end_s']:.1f} s ({std_stages}), "
        f"peak RSS {std['peak_rss_bytes'] / 1024**3:.2f} GB.",
    ]
    # In rounds: each system once per round, so that a shared machine whose load drifts over
    # the minutes weighs on every system alike (not on all the runs of one system).
    runs_of: dict[str, list[ChildRun]] = {system: [] for system in systems}
    failed: dict[str, ChildFailed] = {}
    for _ in range(args.repeat):
        for system in systems:
            if system in failed:
                continue
            try:
                runs_of[system].append(_spawn(system, paths, args, args.max_rss_gb))
            except ChildFailed as exc:
                print(f"[bench] {exc}\n{exc.log_tail[-1500:]}", file=sys.stderr, flush=True)
                failed[system] = exc
    rounds = round_ratios(runs_of, failed)
    notes += _round_notes(rounds)
    for system in systems:
        if system in failed:
            notes.append(f"{system}: NO RESULT — {failed[system]}.")
            continue
        runs = runs_of[system]
        # Shared machine: keep the fastest run (its links are the ones on disk only when it is
        # the last one, so accuracy is read from the last run: both systems are seeded).
        run = min(runs, key=lambda r: float(r.result["end_to_end_s"]))
        walls = ", ".join(f"{float(r.result['end_to_end_s']):.1f}" for r in runs)
        states = "; ".join(r.machine_state() for r in runs)
        notes.append(
            f"{system}: {args.repeat} run(s), wall s {walls}"
            + ("; the fastest is shown" if args.repeat > 1 else "")
            + f"; the machine during each: {states}."
        )
        versions.update(run.result.get("versions", {}))
        if system in OURS_LABELS:
            prefix = system.replace("-", "_")
            links_05 = best_per_record(
                pl.read_parquet(paths.runs / f"{prefix}_links_05.parquet"), 0.5
            )
            decisions = pl.read_parquet(paths.runs / f"{prefix}_decisions.parquet")
            matched = decisions.filter(pl.col("decision") == "match").select(
                "record_id", "person_id"
            )
            thr = float(run.result["match_threshold"])
            # peak RSS at the end of the last comparable stage (see LINK_STAGES)
            end = [st for st in LINK_STAGES if st in run.result.get("stages", {})][-1]
            label_match, label_05 = OURS_LABELS[system]
            rows.append(_row(label_match, run, records, matched, truth, thr, end))
            rows.append(_row(label_05, run, records, links_05, truth, 0.5, end))
            review = decisions.filter(pl.col("decision") == "review").height
            notes.append(
                f"{system}: {review:,} partner records sent to review; decisions by "
                f"{run.result.get('decided_by')}; trained prior {run.result.get('prior', 0):.3g}; "
                f"all stages incl. dedupe/clusters/households/review: "
                f"{run.result.get('total_s', 0):.1f} s."
            )
        else:
            links = best_per_record(pl.read_parquet(paths.runs / "splink_links_05.parquet"), 0.5)
            rows.append(
                _row("splink (best pair, p ≥ 0.5)", run, records, links, truth, 0.5, "predict")
            )
            notes.append(
                "splink prior (probability two random records match, from deterministic rules "
                f"cin+birth_year, family_key+given_key+birth_date at recall 0.8): "
                f"{run.result.get('prior', float('nan')):.3g}. EM rules skipped: "
                f"{'; '.join(run.result.get('skipped_em', [])) or 'none'}."
            )
    command = "python benchmarks/bench_linkage.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    text = render(
        command=command,
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        versions=versions,
        data_note=data_note,
        rows=rows,
        notes=notes,
        quiet_ratios=[r for r, quiet, _ in rounds if quiet] if rounds else None,
        title=f"{args.partners:,} partner records × {args.registry:,} registry persons"
        + _what_if(args),
    )
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    existing = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    key = f"r{args.registry:010d}_p{args.partners:010d}_s{args.seed}"
    if args.ours_compare_chunk:
        key += f"_chunk{args.ours_compare_chunk}"
    if args.ours_keep_p is not None:
        key += f"_keep{args.ours_keep_p:g}"
    args.out.write_text(merge_section(existing, key, text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
