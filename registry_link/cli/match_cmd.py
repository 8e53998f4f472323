"""``registry-link match``: link partner lists to the registry and write the outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from registry_link.cli._common import (
    console,
    counts_table,
    model_config_option,
    out,
    partner_options,
    progress,
    registry_options,
    stage_printer,
)
from registry_link.cli.db_cmd import db_option, operator_option
from registry_link.db.engine import DB_ENV
from registry_link.jobs import MatchJob, outcome_rows, run_match, summary_for_json


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
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON on stdout.")
def command(
    registry_path: Path,
    registry_config: Path | None,
    partners: tuple[Path, ...],
    configs: tuple[Path, ...],
    model_config: Path,
    model_path: Path | None,
    previous_dir: Path | None,
    db_url: str | None,
    operator: str | None,
    out_dir: Path,
    as_json: bool,
) -> None:
    """Link partner lists to the registry, deduplicate, build households.

    Writes links, review, households (Parquet and CSV), summary.json and model.json into OUT.
    The result goes to stdout (a table, or JSON with --json), progress to stderr.

    \b
    Example:
      registry-link match --registry sample_data/registry.csv \\
          --partner sample_data/partner_coop_ar.csv --config configs/partner_coop_ar.yaml \\
          --out out/coop
      registry-link match ... --previous out/coop --out out/coop-december
      registry-link match ... --db sqlite:///registry-link.db --out out/coop   # record the run

    With --db (or REGISTRY_LINK_DB set) the run is recorded with its links and review queue, and
    earlier reviewer decisions are applied: a rejected pair is never matched again. The database
    is checked before any input is read.
    """
    job = MatchJob(
        registry=registry_path,
        registry_config=registry_config,
        partners=partners,
        configs=configs,
        out_dir=out_dir,
        model_config=model_config,
        model=model_path,
        previous=previous_dir,
        db_url=db_url or os.environ.get(DB_ENV) or None,
        operator=operator,
    )
    outcome = run_match(job, on_event=progress, on_stage=stage_printer)
    if as_json:
        click.echo(json.dumps(summary_for_json(outcome), indent=2, ensure_ascii=False))
        return
    out.print(counts_table("Result", outcome_rows(outcome.summary)))
    for name, path in outcome.written.items():
        out.print(f"wrote {name}: {path}", highlight=False)
    rec = outcome.recorded
    if rec is None:
        return
    if rec.created:
        out.print(
            f"run {rec.run_id} recorded: {rec.links:,} links, {rec.review_items:,} review "
            f"items ({rec.reopened:,} reopened because the record changed)"
        )
    else:
        console.print(f"same inputs as run {rec.run_id}: nothing new recorded")
