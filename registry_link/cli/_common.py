"""Shared pieces of the CLI commands: loading inputs with progress, printing tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from registry_link.jobs import (
    SHIPPED_MODEL_CONFIG,
    MatchJob,
    load_job_inputs,
    resolve_registry_config,
)

if TYPE_CHECKING:  # pragma: no cover
    from registry_link import StandardisedList

#: The shipped model config (inside the package, so it is found from any folder).
DEFAULT_MODEL_CONFIG = SHIPPED_MODEL_CONFIG

#: Progress, warnings and status lines: standard error, so that results can be piped.
console = Console(stderr=True)
#: Results and summaries (tables, counts, what was written): standard output.
out = Console()


def registry_options(f: Any) -> Any:
    """The ``--registry`` and ``--registry-config`` options."""
    f = click.option(
        "--registry-config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Source config (kind: registry) of the registry extract; required unless the "
        "extract is the shipped sample_data/registry.csv.",
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
        help="Model config: blocking rules, comparisons, thresholds, training "
        "(default: the shipped one).",
    )(f)


def load_inputs(
    registry_path: Path,
    registry_config: Path | None,
    partners: Sequence[Path],
    configs: Sequence[Path],
) -> tuple[StandardisedList, list[StandardisedList]]:
    """Read and standardise the registry and every partner list, progress on stderr."""
    job = MatchJob(
        registry=registry_path,
        registry_config=registry_config,
        partners=tuple(partners),
        configs=tuple(configs),
        out_dir=Path(),
    )
    return load_job_inputs(job, resolve_registry_config(registry_path, registry_config), progress)


def progress(message: str) -> None:
    """Print a line of progress on stderr."""
    console.print(message, highlight=False)


def stage_printer(name: str, seconds: float) -> None:
    """Print one finished pipeline stage on stderr (the Linker's on_stage callback)."""
    console.print(f"  [green]✓[/green] {name:<18} {seconds:7.2f} s")


def counts_table(title: str, rows: Sequence[tuple[str, Any]]) -> Table:
    """A two-column rich table."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    return table
