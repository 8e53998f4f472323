"""``registry-link train``: train a model once per source and save it for later matches."""

from __future__ import annotations

from pathlib import Path

import click

from registry_link.cli._common import (
    load_inputs,
    model_config_option,
    out,
    partner_options,
    registry_options,
    stage_printer,
)
from registry_link.linker import Linker
from registry_link.model import save_model


@click.command("train")
@registry_options
@partner_options
@model_config_option
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the trained model (JSON).",
)
def command(
    registry_path: Path,
    registry_config: Path,
    partners: tuple[Path, ...],
    configs: tuple[Path, ...],
    model_config: Path,
    out_path: Path,
) -> None:
    """Train a model (u by random sampling, m by EM) and save it as JSON.

    \b
    Example:
      registry-link train --registry sample_data/registry.csv \\
          --partner sample_data/partner_coop_ar.csv --config configs/partner_coop_ar.yaml \\
          --out models/coop.json
      registry-link match ... --model models/coop.json --out out/coop
    """
    linker = Linker.from_config(model_config, on_stage=stage_printer)
    registry, lists = load_inputs(registry_path, registry_config, partners, configs)
    model = linker.train(registry, lists)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, out_path)
    pairs = model.training.get("candidate_pairs")
    out.print(
        f"trained on {pairs if pairs is not None else '?'} candidate pairs; "
        f"prior {model.prior:.3g}; wrote {out_path}",
        highlight=False,
    )
