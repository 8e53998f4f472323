"""``registry-link blocking``: candidate pairs per rule and the largest blocks, before scoring."""

from __future__ import annotations

from pathlib import Path

import click

from registry_link.cli._common import (
    load_inputs,
    model_config_option,
    out,
    partner_options,
    registry_options,
)
from registry_link.linker import Linker


@click.command("blocking")
@registry_options
@partner_options
@model_config_option
@click.option("--top", default=10, show_default=True, help="Largest blocks to list per rule.")
@click.option(
    "--show-values",
    is_flag=True,
    help="Show the largest blocks' key values (CINs, name keys, birth dates) instead of their "
    "shapes (AA999999, 9999-99-99): personal data, for the screen of someone allowed to see it.",
)
def command(
    registry_path: Path,
    registry_config: Path,
    partners: tuple[Path, ...],
    configs: tuple[Path, ...],
    model_config: Path,
    top: int,
    show_values: bool,
) -> None:
    """Count candidate pairs of each blocking rule without scoring anything.

    Warns when a rule exceeds its configured pair limit. The largest blocks are listed by the
    shape of their key (a CIN as AA999999, a birth date as 9999-99-99), not its value, unless
    --show-values is given.

    \b
    Example:
      registry-link blocking --registry sample_data/registry.csv \\
          --partner sample_data/partner_coop_ar.csv --config configs/partner_coop_ar.yaml
    """
    linker = Linker.from_config(model_config)
    registry, lists = load_inputs(registry_path, registry_config, partners, configs)
    report = linker.blocking_report(registry, lists, top=top)
    out.print(
        (report if show_values else report.with_key_shapes()).to_text(),
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
