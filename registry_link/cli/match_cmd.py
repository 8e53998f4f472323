"""``registry-link match``: link partner lists to the registry and write the outputs."""

from __future__ import annotations

import os
from pathlib import Path

import click
import polars as pl

from registry_link.cli._common import (
    console,
    counts_table,
    load_inputs,
    model_config_option,
    partner_options,
    registry_options,
    stage_printer,
)
from registry_link.cli.db_cmd import db_option, operator_option
from registry_link.db.engine import open_database, transaction
from registry_link.db.models import utcnow
from registry_link.errors import InputError
from registry_link.linker import Linker
from registry_link.model import load_model, save_model
from registry_link.outputs import write_outputs
from registry_link.recording import RunInputs, prior_decisions, record_run


@click.command("match")
@registry_options
@partner_options
@model_config_option
@click.option(
    "--model",
    "model_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A trained model file (from `registry-link train`) to reuse instead of training.",
)
@click.option(
    "--previous",
    "previous_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Output folder of an earlier run: its beneficiary keys are kept for clusters whose "
    "members stay (a new list does not renumber everyone).",
)
@db_option
@operator_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (created if absent).",
)
def command(
    registry_path: Path,
    registry_config: Path,
    partners: tuple[Path, ...],
    configs: tuple[Path, ...],
    model_config: Path,
    model_path: Path | None,
    previous_dir: Path | None,
    db_url: str | None,
    operator: str | None,
    out_dir: Path,
) -> None:
    """Link partner lists to the registry, deduplicate, build households.

    Writes links, review, households (Parquet and CSV) and summary.json into OUT.

    \b
    Example:
      registry-link match --registry sample_data/registry.csv \\
          --partner sample_data/partner_coop_ar.csv --config configs/partner_coop_ar.yaml \\
          --out out/coop
      registry-link match ... --previous out/coop --out out/coop-december
      registry-link match ... --db sqlite:///registry-link.db --out out/coop   # record the run

    With --db (or REGISTRY_LINK_DB set) the run is recorded with its links and review queue, and
    earlier reviewer decisions are applied: a rejected pair is never matched again.
    """
    linker = Linker.from_config(model_config, on_stage=stage_printer)
    model = load_model(model_path) if model_path else None
    registry, lists = load_inputs(registry_path, registry_config, partners, configs)
    console.print("linking:")
    previous = read_previous_keys(previous_dir) if previous_dir else None
    factory = prior = None
    started = utcnow()
    if db_url or os.environ.get("REGISTRY_LINK_DB"):
        factory = open_database(db_url)
        with transaction(factory) as session:
            prior = prior_decisions(session, lists)
        if prior.height:
            console.print(f"applying {prior.height:,} earlier reviewer decision(s)")
    result = linker.link(
        registry, lists, model=model, previous_keys=previous, prior_decisions=prior
    )
    summary = dict(result.summary)
    summary["inputs"] = {
        "registry": str(registry_path),
        "partners": [str(p) for p in partners],
        "configs": [str(c) for c in configs],
        "model_config": str(model_config),
        "model": str(model_path) if model_path else None,
    }
    written = write_outputs(out_dir, result.links, result.review, result.households, summary)
    if model_path is None:
        save_model(result.model, out_dir / "model.json")
        written["model"] = out_dir / "model.json"
    decisions = summary["decisions"]
    console.print(
        counts_table(
            "Result",
            [
                ("partner records", summary["records"]["partner"]),
                ("candidate pairs", summary["candidate_pairs"]),
                *[(f"decision: {k}", v) for k, v in decisions.items()],
                *(
                    [("no candidate: keys too common", cut)]
                    if (cut := summary["records_cut_off_by_blocking_limits"])
                    else []
                ),
                ("beneficiaries (deduplicated)", summary["beneficiaries"]),
                ("households", summary["households"]),
                *[(f"flag: {k}", v) for k, v in summary["household_flags"].items()],
            ],
        )
    )
    for name, path in written.items():
        console.print(f"wrote {name}: {path}")
    if factory is not None:
        inputs = RunInputs(
            partners=tuple(partners),
            configs=tuple(configs),
            registry=registry_path,
            registry_config=registry_config,
            model_config=model_config,
            model=model_path,
        )
        rec = record_run(
            factory,
            result,
            partners=lists,
            registry=registry,
            inputs=inputs,
            prior=prior,
            operator=operator,
            started_at=started,
        )
        if rec.created:
            console.print(
                f"run {rec.run_id} recorded: {rec.links:,} links, {rec.review_items:,} review "
                f"items ({rec.reopened:,} reopened because the record changed)"
            )
        else:
            console.print(f"same inputs as run {rec.run_id}: nothing new recorded")


def read_previous_keys(folder: Path) -> pl.DataFrame:
    """The ``source, record_id, beneficiary_key`` of an earlier run's ``households.parquet``."""
    path = folder / "households.parquet"
    if not path.exists():
        raise InputError(
            str(path),
            "no households.parquet in the --previous folder",
            expected="the --out folder of an earlier `registry-link match` run",
        )
    frame = pl.read_parquet(path)
    missing = {"source", "record_id", "beneficiary_key"} - set(frame.columns)
    if missing:
        raise InputError(
            str(path),
            f"lacks the columns {sorted(missing)}",
            expected="households.parquet written by `registry-link match`",
        )
    return frame.select("source", "record_id", "beneficiary_key").unique(["source", "record_id"])
