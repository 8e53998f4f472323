"""``registry-link demo``: the full match on the shipped sample data, scored against its truth."""

from __future__ import annotations

import json
from pathlib import Path

import click

from registry_link.cli._common import counts_table, out, progress, stage_printer
from registry_link.cli.evaluate_cmd import slices_table
from registry_link.jobs import (
    evaluation_rows,
    outcome_rows,
    run_match,
    sample_job,
    summary_for_json,
)


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default=Path("out/demo"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON on stdout.")
def command(out_dir: Path, as_json: bool) -> None:
    """Standardise and link the shipped sample lists, then score the result against the truth.

    \b
    Example:
      registry-link demo --out out/demo
    """
    outcome = run_match(sample_job(out_dir), on_event=progress, on_stage=stage_printer)
    if as_json:
        click.echo(json.dumps(summary_for_json(outcome), indent=2, ensure_ascii=False))
        return
    if outcome.evaluation is not None:
        out.print(
            counts_table(
                "Accuracy against the sample's ground truth", evaluation_rows(outcome.evaluation)
            )
        )
        out.print(slices_table(outcome.evaluation["slices"]))
    out.print(counts_table("Result", outcome_rows(outcome.summary)))
    for name, path in outcome.written.items():
        out.print(f"wrote {name}: {path}", highlight=False)
