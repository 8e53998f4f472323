"""Shared pieces of the CLI commands: loading inputs with progress, printing tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from registry_link.errors import UsageError
from registry_link.standardise.pipeline import StandardisedList, load_standardised

#: Where the defaults live when the command runs from the project folder.
DEFAULT_MODEL_CONFIG = Path("configs/model.yaml")
DEFAULT_REGISTRY_CONFIG = Path("configs/registry.yaml")

#: Progress, warnings and status lines: standard error, so that results can be piped.
console = Console(stderr=True)
#: Results and summaries (tables, counts, what was written): standard output.
out = Console()


def registry_options(f: Any) -> Any:
    """The ``--registry`` and ``--registry-config`` options."""
    f = click.option(
        "--registry-config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_REGISTRY_CONFIG,
        show_default=True,
        help="Source config of the registry extract.",
    )(f)
    return click.option(
        "--registry",
        "registry_path",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Registry extract (CSV, XLSX or Parquet).",
    )(f)


def partner_options(f: Any) -> Any:
    """The repeatable ``--partner FILE --config FILE`` pairs."""
    f = click.option(
        "--config",
        "configs",
        multiple=True,
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Source config of the partner list (one per --partner, in the same order).",
    )(f)
    return click.option(
        "--partner",
        "partners",
        multiple=True,
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Partner list (CSV, XLSX or Parquet); may be given several times.",
    )(f)


def model_config_option(f: Any) -> Any:
    """The ``--model-config`` option."""
    return click.option(
        "--model-config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_MODEL_CONFIG,
        show_default=True,
        help="Model config: blocking rules, comparisons, thresholds, training.",
    )(f)


def load_inputs(
    registry_path: Path,
    registry_config: Path,
    partners: Sequence[Path],
    configs: Sequence[Path],
) -> tuple[StandardisedList, list[StandardisedList]]:
    """Read and standardise the registry and every partner list, reporting progress."""
    if len(partners) != len(configs):
        raise UsageError(
            f"{len(partners)} --partner file(s) but {len(configs)} --config file(s); give one "
            f"--config per --partner, in the same order"
        )
    with console.status(f"reading and standardising the registry {registry_path} …"):
        registry = load_standardised(registry_path, registry_config)
    console.print(f"registry: {registry.frame.height:,} persons from {registry_path}")
    lists = []
    for path, config in zip(partners, configs, strict=True):
        with console.status(f"reading and standardising {path} …"):
            lst = load_standardised(path, config)
        flagged = lst.frame.filter(lst.frame["flags"].list.len() > 0).height
        console.print(
            f"partner list {lst.settings.source}: {lst.frame.height:,} records from {path} "
            f"({flagged:,} flagged, none dropped)"
        )
        lists.append(lst)
    return registry, lists


def stage_printer(name: str, seconds: float) -> None:
    """Print one finished pipeline stage (used as the Linker's on_stage callback)."""
    console.print(f"  [green]✓[/green] {name:<18} {seconds:7.2f} s")


def counts_table(title: str, rows: Sequence[tuple[str, Any]]) -> Table:
    """A two-column rich table."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    return table
