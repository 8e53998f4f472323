"""``registry-link standardise``: read one list with its config, standardise, summarise, save."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import polars as pl
from rich.console import Console

from registry_link import load_standardised
from registry_link.errors import OutputError, os_error_cause


def default_output(path: Path) -> Path:
    """``<stem>.standardised.parquet`` next to the input file."""
    return path.with_name(f"{path.stem}.standardised.parquet")


@click.command(name="standardise")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--config",
    "config",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Source config (YAML) describing FILE's layout; see docs/source-config.md.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Parquet file to write (default: <stem>.standardised.parquet next to FILE).",
)
def command(file: Path, config: Path, out: Path | None) -> None:
    """Standardise one partner list or registry extract and print a quality summary.

    Reads FILE (CSV, XLSX or Parquet) as described by --config, standardises identifiers,
    dates, sex, relationships, places and names, prints fill rates, flagged rows per reason,
    the script mix of names and the birth-date precision, and writes the standardised list
    to Parquet. Rows are never dropped: problems are flagged.

    \b
    Example:
      registry-link standardise sample_data/partner_coop_ar.csv \\
          --config configs/partner_coop_ar.yaml --out /tmp/coop.parquet
    """
    result = load_standardised(file, config)
    target = out or default_output(file)
    write_parquet(result.frame, target, default=out is None)
    console = Console() if sys.stdout.isatty() else Console(width=120)
    result.report.print(console)
    console.print(f"wrote {result.frame.height} rows to {target}", soft_wrap=True)


def write_parquet(frame: pl.DataFrame, target: Path, *, default: bool) -> None:
    """Write ``frame`` to ``target`` (its folder created), or raise one clean OutputError."""
    fix = (
        "give --out a path in a folder you can write to"
        if not default
        else "the default output goes beside the input file; give --out a path in a folder "
        "you can write to"
    )
    if target.is_dir():
        raise OutputError(
            str(target), "it is a folder", "give --out a file path ending in .parquet"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(target)
    except OSError as exc:
        raise OutputError(str(target), os_error_cause(exc), fix) from None
