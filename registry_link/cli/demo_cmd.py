"""``registry-link demo``: the full match on the shipped sample data, scored against its truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import polars as pl

from registry_link.cli._common import console, counts_table, load_inputs, stage_printer
from registry_link.errors import UsageError
from registry_link.evaluation import evaluate
from registry_link.linker import Linker
from registry_link.outputs import write_outputs

#: The shipped sample lists and their configs.
SAMPLE_PARTNERS: tuple[tuple[str, str], ...] = (
    ("partner_coop_ar.csv", "partner_coop_ar.yaml"),
    ("partner_chambre_fr.csv", "partner_chambre_fr.yaml"),
    ("partner_ordre_fullname.xlsx", "partner_ordre_fullname.yaml"),
)


def find_project_dir() -> Path:
    """The folder holding ``sample_data/`` and ``configs/``: the current one or the checkout's."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (candidate / "sample_data").is_dir() and (candidate / "configs").is_dir():
            return candidate
    raise UsageError(
        "cannot find sample_data/ and configs/; run the demo from the registry-link checkout"
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
def command(out_dir: Path) -> None:
    """Standardise and link the shipped sample lists, then score the result against the truth.

    \b
    Example:
      registry-link demo --out out/demo
    """
    base = find_project_dir()
    data, configs = base / "sample_data", base / "configs"
    registry, lists = load_inputs(
        data / "registry.csv",
        configs / "registry.yaml",
        [data / f for f, _ in SAMPLE_PARTNERS],
        [configs / c for _, c in SAMPLE_PARTNERS],
    )
    console.print("linking:")
    linker = Linker.from_config(configs / "model.yaml", on_stage=stage_printer)
    result = linker.link(registry, lists)
    written = write_outputs(out_dir, result.links, result.review, result.households, result.summary)
    truth_path = data / "ground_truth.csv"
    if truth_path.exists():
        truth = pl.read_csv(truth_path, infer_schema=False)
        scores = evaluate(result.links, result.clusters, result.households, truth)
        console.print(counts_table("Accuracy against the sample's ground truth", _rows(scores)))
        path = out_dir / "evaluation.json"
        path.write_text(json.dumps(scores, indent=2, default=str), encoding="utf-8")
        written["evaluation.json"] = path
    console.print(
        counts_table(
            "Result",
            [
                ("partner records", result.summary["records"]["partner"]),
                ("candidate pairs", result.summary["candidate_pairs"]),
                *[(f"decision: {k}", v) for k, v in result.summary["decisions"].items()],
                ("beneficiaries (deduplicated)", result.summary["beneficiaries"]),
                ("households", result.summary["households"]),
            ],
        )
    )
    for name, path in written.items():
        console.print(f"wrote {name}: {path}")


def _rows(scores: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        (
            f"links: {r['source']}",
            f"precision {r['precision']:.4f}  recall {r['recall']:.4f}  "
            f"review {r['review_share']:.1%}",
        )
        for r in scores["links"]
    ]
    for what in ("same_person", "same_household"):
        pair = scores[what]["all"]
        rows.append(
            (
                f"pairs: {what.replace('_', ' ')}",
                f"precision {pair['precision']:.4f}  recall {pair['recall']:.4f}  "
                f"({pair['true_pairs']:,} true pairs)",
            )
        )
    return rows
