"""``registry-link blocking``: candidate pairs per rule and the largest blocks, before scoring."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import click
import polars as pl

from registry_link.block.candidates import BlockingReport, value_shape
from registry_link.cli._common import (
    load_inputs,
    model_config_option,
    out,
    partner_options,
    registry_options,
)
from registry_link.linker import Linker


def key_shapes(report: BlockingReport) -> BlockingReport:
    """The report with each largest block's key values replaced by their shapes."""
    columns = sorted(
        {c.strip() for cols in report.rules["columns"].to_list() for c in cols.split(",")},
        key=len,
        reverse=True,
    )
    if not columns or report.largest_blocks.is_empty():
        return report
    part = re.compile(r"(^|, )(" + "|".join(re.escape(c) for c in columns) + r")=")

    def shape(key: str) -> str:
        cuts = list(part.finditer(key))
        pieces = []
        for i, m in enumerate(cuts):
            end = cuts[i + 1].start() if i + 1 < len(cuts) else len(key)
            pieces.append(f"{m.group(2)}={value_shape(key[m.end() : end])}")
        return ", ".join(pieces)

    shaped = report.largest_blocks.with_columns(
        pl.col("key").map_elements(shape, return_dtype=pl.Utf8)
    )
    return replace(report, largest_blocks=shaped)


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
        (report if show_values else key_shapes(report)).to_text(),
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
