"""The ``evaluate`` workflow: score a run folder against a ground truth, per list and slice.

The run folder is the ``--out`` of a match (or the demo): its ``links.parquet`` and
``households.parquet`` are scored; the partner lists and the registry it read (recorded in
``summary.json`` with their SHA-256, checked unchanged) are read again for the slices only the
records tell (no CIN, birth year only, script, unsplit name, dependants, women, cross-script).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from registry_link.errors import InputError, UsageError
from registry_link.jobs.match import (
    EventCallback,
    MatchJob,
    load_job_inputs,
    quiet,
    resolve_registry_config,
)

_RUN_FILES = ("links.parquet", "households.parquet", "summary.json")


def _read_run(run_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """The links, households and summary of a run folder."""
    for name in _RUN_FILES:
        if not (run_dir / name).is_file():
            raise InputError(
                str(run_dir / name),
                "no such file in the run folder",
                expected="the --out folder of a `registry-link match` or `demo` run",
            )
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return (
        pl.read_parquet(run_dir / "links.parquet"),
        pl.read_parquet(run_dir / "households.parquet"),
        summary,
    )


def _read_truth(path: Path) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(
            str(path), f"cannot read the ground truth: {exc}", expected="a CSV file"
        ) from None


def _recorded(summary: dict[str, Any], key: str, run_dir: Path) -> Any:
    inputs = summary.get("inputs")
    if not isinstance(inputs, dict) or key not in inputs:
        raise UsageError(
            f"{run_dir / 'summary.json'} records no inputs[{key!r}] (a run written before "
            "inputs were recorded); give the lists with --partner FILE --config FILE and the "
            "registry with --registry FILE --registry-config FILE"
        )
    return inputs[key]


def _unchanged(item: dict[str, str], what: str, run_dir: Path) -> Path:
    """The path of a recorded input, checked against its recorded SHA-256."""
    from registry_link.db.repository import sha256_file

    path = Path(item["path"])
    fix = (
        f"give the files the run read with --partner/--config and --registry/--registry-config, "
        f"or run `registry-link match` again (run folder {run_dir})"
    )
    if not path.is_file():
        raise UsageError(f"the run's {what} {path} no longer exists; {fix}")
    if sha256_file(path) != item["sha256"]:
        raise UsageError(
            f"the run's {what} {path} changed since the run (SHA-256 "
            f"{item['sha256'][:12]}… recorded); {fix}"
        )
    return path


def _inputs(
    summary: dict[str, Any],
    run_dir: Path,
    partners: tuple[Path, ...],
    configs: tuple[Path, ...],
    registry: Path | None,
    registry_config: Path | None,
) -> tuple[tuple[Path, ...], tuple[Path, ...], Path, Path]:
    """The partner lists, their configs, the registry and its config: those given, else
    those recorded in the run's summary (unchanged since)."""
    if not partners:
        recorded = _recorded(summary, "partners", run_dir)
        partners = tuple(_unchanged(i, "partner list", run_dir) for i in recorded)
        recorded = _recorded(summary, "configs", run_dir)
        configs = tuple(_unchanged(i, "partner config", run_dir) for i in recorded)
    if registry is None:
        registry = _unchanged(_recorded(summary, "registry", run_dir), "registry", run_dir)
        if registry_config is None:
            item = _recorded(summary, "registry_config", run_dir)
            registry_config = _unchanged(item, "registry config", run_dir)
    if registry_config is None:
        registry_config = resolve_registry_config(registry, None)
    return partners, configs, registry, registry_config


def evaluate_run(
    run_dir: Path,
    truth: Path,
    *,
    partners: tuple[Path, ...] = (),
    configs: tuple[Path, ...] = (),
    registry: Path | None = None,
    registry_config: Path | None = None,
    on_event: EventCallback = quiet,
) -> tuple[dict[str, Any], Path]:
    """Score the run in ``run_dir`` against the ground truth ``truth``; write
    ``evaluation.json`` there.

    The partner lists and registry are those given, else those the run's ``summary.json``
    recorded (checked unchanged since).

    Returns:
        The scores (links per source, pairs, households, slices) and the path written.

    Raises:
        InputError: the run folder lacks a file, or the truth is unreadable.
        UsageError: a recorded input is missing or changed since, or none was recorded.
    """
    from registry_link.report.evaluation import evaluate, write_evaluation

    links, households, summary = _read_run(run_dir)
    truth_frame = _read_truth(truth)
    partner_paths, config_paths, registry_path, reg_config = _inputs(
        summary, run_dir, partners, configs, registry, registry_config
    )
    job = MatchJob(
        registry=registry_path, partners=partner_paths, configs=config_paths, out_dir=run_dir
    )
    reg, lists = load_job_inputs(job, reg_config, on_event)
    records = pl.concat([lst.frame for lst in lists], how="diagonal_relaxed")
    scores = evaluate(links, households, households, truth_frame, records, reg.frame)
    return scores, write_evaluation(scores, run_dir)
