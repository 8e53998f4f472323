"""``registry-link blocking``: candidate pairs per rule and the largest blocks, before scoring."""

from __future__ import annotations

from pathlib import Path

import click

from registry_link.cli._common import (
    load_inputs,
    model_config_option,
    partner_options,
    registry_options,
)
from registry_link.linker import Linker


@click.command("blocking")
@registry_options
@partner_options
@model_config_option
@click.option("--top", default=10, show_default=True, help="Largest blocks to list per rule.")
def command(
    registry_path: Path,
    registry_config: Path,
    partners: tuple[Path, ...],
    configs: tuple[Path, ...],
    model_config: Path,
    top: int,
) -> None:
    """Count candidate pairs of each blocking rule without scoring anything.

    Warns when a rule exceeds its configured pair limit.

    \b
    Example:
      registry-link blocking --registry sample_data/registry.csv \\
          --partner sample_data/partner_coop_ar.csv --config configs/partner_coop_ar.yaml
    """
    linker = Linker.from_config(model_config)
    registry, lists = load_inputs(registry_path, registry_config, partners, configs)
    report = linker.blocking_report(registry, lists, top=top)
    click.echo(report.to_text())
