"""``registry-link evaluate``: score a run folder against a ground truth, per list and per slice.

The run folder is the ``--out`` of ``registry-link match`` (or ``demo``): its ``links.parquet``
and ``households.parquet`` are scored; the partner lists and the registry it read (recorded in
``summary.json`` with their SHA-256) are read again for the slices only the records tell (no
CIN, birth year only, script, unsplit name, dependants, women, cross-script).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.table import Table

from registry_link.cli._common import out, progress

#: A table cell of a slice the inputs cannot tell (see the tables' captions).
NOT_MEASURABLE = "n/m"
_CAPTION = (
    "n/m: not measurable — the truth, partner lists or registry given cannot tell; "
    "–: no record (or none in the registry)"
)


def _ratio(value: float | None, style: str = ".4f") -> str:
    return "–" if value is None else format(value, style)


def links_table(rows: list[dict[str, Any]]) -> Table:
    """The per-list scores (:func:`registry_link.report.evaluation.evaluate_links` rows)."""
    table = Table(
        title="Links per list (match decisions)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name in ("list", "records", "in registry", "precision", "recall", "review"):
        table.add_column(name, justify="left" if name == "list" else "right", overflow="fold")
    for r in rows:
        table.add_row(
            r["source"],
            f"{r['records']:,}",
            f"{r['in_registry']:,}",
            _ratio(r["precision"]),
            _ratio(r["recall"]),
            _ratio(r["review_share"], ".1%"),
        )
    return table


def households_table(scores: dict[str, Any]) -> Table:
    """Households against the truth: the true households (≥ 2 records) reproduced exactly
    (:func:`registry_link.report.evaluation.households_reproduced`), and the pairwise
    precision and recall of "same household"."""
    exact = scores["households_reproduced"]
    registry = scores.get("registry_households_reproduced")
    pairs = scores["same_household"]["all"]
    beneficiary = exact.get("true_household", "household_id") != "household_id"
    title = (
        "Households (true household: the beneficiary household — the registry's, a declared "
        "spouse the registry places elsewhere in the worker's — of the records whose person is "
        "in the registry)"
        if beneficiary
        else "Households (true household: the registry's, of the records whose person is in it)"
    )
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("measure", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column("of", justify="right", overflow="fold")
    n = exact["true_households"]
    table.add_row(
        f"reproduced exactly (≥ {exact['min_records']} records)",
        _ratio(exact["share"]),
        f"{exact['reproduced']:,} of {n:,}",
    )
    if beneficiary and registry is not None:
        table.add_row(
            f"— against the registry's households (≥ {registry['min_records']} records)",
            _ratio(registry["share"]),
            f"{registry['reproduced']:,} of {registry['true_households']:,}",
        )
    table.add_row("split over output households", f"{exact['split']:,}", f"of {n:,}")
    table.add_row("merged with another", f"{exact['merged']:,}", f"of {n:,}")
    table.add_row(
        "pairs: precision",
        _ratio(pairs["precision"]),
        f"{pairs['true_positives']:,} of {pairs['predicted_pairs']:,}",
    )
    table.add_row(
        "pairs: recall",
        _ratio(pairs["recall"]),
        f"{pairs['true_positives']:,} of {pairs['true_pairs']:,}",
    )
    return table


def slices_table(rows: list[dict[str, Any]]) -> Table:
    """The per-slice scores over all lists (:func:`registry_link.report.evaluation.evaluate_slices`
    rows): records, precision, recall, review share, absent people matched."""
    from registry_link.jobs import SLICES

    table = Table(
        title="Per slice, all lists (absent matched: of the people not in the registry)",
        title_justify="left",
        caption=_CAPTION,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("slice", no_wrap=True)
    for name in ("records", "in reg.", "prec.", "recall", "review", "absent matched"):
        table.add_column(name, justify="right", overflow="fold")
    by_key = {(r["slice"], r["source"]): r for r in rows}
    for name in SLICES:
        r = by_key[(name, "all")]
        if not r["measurable"]:
            table.add_row(name, *[NOT_MEASURABLE] * 6)
            continue
        absent = "–" if not r["not_in_registry"] else f"{r['absent_matched_share']:.2%}"
        table.add_row(
            name,
            f"{r['records']:,}",
            f"{r['in_registry']:,}",
            _ratio(r["precision"]),
            _ratio(r["recall"]),
            _ratio(r["review_share"], ".1%"),
            absent,
        )
    return table


def slice_recall_table(rows: list[dict[str, Any]]) -> Table:
    """Recall of each slice in each list (–: no record of the list in the slice)."""
    from registry_link.jobs import SLICES

    sources = [r["source"] for r in rows if r["slice"] == "all"]
    table = Table(
        title="Recall per slice and list",
        title_justify="left",
        caption=_CAPTION,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("slice", no_wrap=True)
    for source in sources:
        table.add_column(source, justify="right", overflow="fold")
    by_key = {(r["slice"], r["source"]): r for r in rows}
    for name in SLICES:
        if not by_key[(name, "all")]["measurable"]:
            table.add_row(name, *[NOT_MEASURABLE] * len(sources))
            continue
        table.add_row(name, *(_ratio(by_key[(name, s)]["recall"]) for s in sources))
    return table


@click.command("evaluate")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--truth",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ground truth CSV: source, record_id, true_person_uid, person_id, household_id "
    "(and, for five slices, birth_date_error, cin_of_relative, cin_of_lookalike, "
    "name_variant and place_spelling).",
)
@click.option(
    "--partner",
    "--partners",
    "partners",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Partner list the run read (default: those in the run's summary.json, checked "
    "unchanged); may be given several times.",
)
@click.option(
    "--config",
    "--configs",
    "configs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Source config of each --partner, in the same order.",
)
@click.option(
    "--registry",
    "registry_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Registry extract the run read (default: the one in summary.json, checked unchanged).",
)
@click.option(
    "--registry-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Source config of --registry (default: the run's, or the sample's for the sample).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON on stdout.")
def command(
    run_dir: Path,
    truth: Path,
    partners: tuple[Path, ...],
    configs: tuple[Path, ...],
    registry_path: Path | None,
    registry_config: Path | None,
    as_json: bool,
) -> None:
    """Score a run folder against a ground truth: per list and per slice of records.

    Slices: no CIN, birth year only, mistyped birth date, Arabic script, cross-script,
    unsplit name, dependants, women, a relative's CIN, not in the registry, all. For each:
    precision, recall and review share of the match decisions, and the share of people
    absent from the registry who were matched. Households: the share of true households
    (two records or more) the run gives exactly, and the pairwise precision and recall of
    "same household". Writes evaluation.json into the run folder.

    \b
    Example:
      registry-link evaluate out/demo --truth sample_data/ground_truth.csv
    """
    from registry_link.jobs import evaluate_run

    scores, path = evaluate_run(
        run_dir,
        truth,
        partners=partners,
        configs=configs,
        registry=registry_path,
        registry_config=registry_config,
        on_event=progress,
    )
    if as_json:
        click.echo(json.dumps(scores, indent=2, ensure_ascii=False, default=str))
        return
    out.print(links_table(scores["links"]))
    out.print(households_table(scores))
    out.print(slices_table(scores["slices"]))
    out.print(slice_recall_table(scores["slices"]))
    out.print(f"wrote {path}", highlight=False)
