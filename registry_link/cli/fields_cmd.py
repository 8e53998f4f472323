"""``registry-link fields``: every canonical field, its format, and what reads it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from rich.table import Table

from registry_link.cli._common import model_config_option, out
from registry_link.config.fields import FORMATS, FieldReference, field_reference, render
from registry_link.model import load_model_config


@click.command("fields")
@model_config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table (for reading), csv, json or markdown (for tools and docs).",
)
def command(model_config: Path, fmt: str) -> None:
    """List the canonical fields a source config maps its columns onto.

    For each field: whether it is required, its format, an example, the standardised columns
    it feeds, and the blocking rules and comparisons of the model config that read it (a field
    nothing reads is still kept and shown to reviewers).

    \b
    Example:
      registry-link fields
      registry-link fields --format csv
      registry-link fields --model-config configs/model.yaml --format markdown
    """
    refs = field_reference(load_model_config(model_config))
    if fmt != "table":
        out.file.write(render(refs, fmt))
        return
    out.print(fields_table(refs))


def fields_table(refs: Sequence[FieldReference]) -> Table:
    """The reference as a three-column rich table for a terminal (the other formats carry the
    standardised columns too)."""
    table = Table(title="Canonical fields", title_justify="left", show_lines=True)
    table.add_column("field", no_wrap=True)
    table.add_column("format", overflow="fold", ratio=3)
    table.add_column("read by", overflow="fold", ratio=2)
    for ref in refs:
        status = "required" if ref.required == "yes" else ref.required
        if ref.applies_to == "registry only":
            status = "registry only"
        read_by = [
            f"{what}: {', '.join(names)}"
            for what, names in (
                ("blocking", ref.blocking_rules),
                ("comparisons", ref.comparisons),
                ("frequency adjusted", (ref.frequency_adjusted,) if ref.comparisons else ()),
                ("also", ref.other_readers),
            )
            if names
        ]
        table.add_row(
            f"[bold]{ref.field}[/bold]" + (f"\n{status}" if status != "no" else ""),
            f"{ref.description}\ne.g. {ref.example}",
            "\n".join(read_by) or "kept and shown to reviewers",
        )
    return table
