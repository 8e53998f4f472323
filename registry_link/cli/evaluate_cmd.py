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
import polars as pl
from rich import box
from rich.table import Table

from registry_link.cli._common import out, progress
from registry_link.errors import InputError, UsageError

_RUN_FILES = ("links.parquet", "households.parquet", "summary.json")

#: A table cell of a slice the inputs cannot tell (see the tables' captions).
NOT_MEASURABLE = "n/m"
_CAPTION = (
    "n/m: not measurable — the truth, partner lists or registry given cannot tell; "
    "–: no record (or none in the registry)"
)


def _read_run(run_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """The links, households and summary of a run folder."""
    for name in _RUN_FILES:
        if not (run_dir / name).is_file():
            raise InputError(
                str(run_dir / name),
                "no such file in the run folder",
                expected="the --out folder of a `registry-link match` or `demo` run",
            )
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return (
        pl.read_parquet(run_dir / "links.parquet"),
        pl.read_parquet(run_dir / "households.parquet"),
        summary,
    )


def _read_truth(path: Path) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(
            str(path), f"cannot read the ground truth: {exc}", expected="a CSV file"
        ) from None


def _recorded(summary: dict[str, Any], key: str, run_dir: Path) -> Any:
    inputs = summary.get("inputs")
    if not isinstance(inputs, dict) or key not in inputs:
        raise UsageError(
            f"{run_dir / 'summary.json'} records no inputs[{key!r}] (a run written before "
            "inputs were recorded); give the lists with --partner FILE --config FILE and the "
            "registry with --registry FILE --registry-config FILE"
        )
    return inputs[key]


def _unchanged(item: dict[str, str], what: str, run_dir: Path) -> Path:
    """The path of a recorded input, checked against its recorded SHA-256."""
    from registry_link.db.repository import sha256_file

    path = Path(item["path"])
    fix = (
        f"give the files the run read with --partner/--config and --registry/--registry-config, "
        f"or run `registry-link match` again (run folder {run_dir})"
    )
    if not path.is_file():
        raise UsageError(f"the run's {what} {path} no longer exists; {fix}")
    if sha256_file(path) != item["sha256"]:
        raise UsageError(
            f"the run's {what} {path} changed since the run (SHA-256 "
            f"{item['sha256'][:12]}… recorded); {fix}"
        )
    return path


def _inputs(
    summary: dict[str, Any],
    run_dir: Path,
    partners: tuple[Path, ...],
    configs: tuple[Path, ...],
    registry: Path | None,
    registry_config: Path | None,
) -> tuple[tuple[Path, ...], tuple[Path, ...], Path, Path]:
    """The partner lists, their configs, the registry and its config: those given, else
    those recorded in the run's summary (unchanged since)."""
    if not partners:
        recorded = _recorded(summary, "partners", run_dir)
        partners = tuple(_unchanged(i, "partner list", run_dir) for i in recorded)
        recorded = _recorded(summary, "configs", run_dir)
        configs = tuple(_unchanged(i, "partner config", run_dir) for i in recorded)
    if registry is None:
        registry = _unchanged(_recorded(summary, "registry", run_dir), "registry", run_dir)
        if registry_config is None:
            item = _recorded(summary, "registry_config", run_dir)
            registry_config = _unchanged(item, "registry config", run_dir)
    if registry_config is None:
        from registry_link.jobs import resolve_registry_config

        registry_config = resolve_registry_config(registry, None)
    return partners, configs, registry, registry_config


def _ratio(value: float | None, style: str = ".4f") -> str:
    return "–" if value is None else format(value, style)


def links_table(rows: list[dict[str, Any]]) -> Table:
    """The per-list scores (:func:`registry_link.evaluation.evaluate_links` rows)."""
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


def slices_table(rows: list[dict[str, Any]]) -> Table:
    """The per-slice scores over all lists (:func:`registry_link.evaluation.evaluate_slices`
    rows): records, precision, recall, review share, absent people matched."""
    from registry_link.evaluation import SLICES

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
    from registry_link.evaluation import SLICES

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
    "(and, for three slices, birth_date_error, cin_of_relative and name_variant).",
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
    absent from the registry who were matched. Writes evaluation.json into the run folder.

    \b
    Example:
      registry-link evaluate out/demo --truth sample_data/ground_truth.csv
    """
    from registry_link.evaluation import evaluate, write_evaluation
    from registry_link.jobs import MatchJob, load_job_inputs

    links, households, summary = _read_run(run_dir)
    truth_frame = _read_truth(truth)
    partner_paths, config_paths, registry, reg_config = _inputs(
        summary, run_dir, partners, configs, registry_path, registry_config
    )
    job = MatchJob(registry=registry, partners=partner_paths, configs=config_paths, out_dir=run_dir)
    reg, lists = load_job_inputs(job, reg_config, progress)
    records = pl.concat([lst.frame for lst in lists], how="diagonal_relaxed")
    scores = evaluate(links, households, households, truth_frame, records, reg.frame)
    path = write_evaluation(scores, run_dir)
    if as_json:
        click.echo(json.dumps(scores, indent=2, ensure_ascii=False, default=str))
        return
    out.print(links_table(scores["links"]))
    out.print(slices_table(scores["slices"]))
    out.print(slice_recall_table(scores["slices"]))
    out.print(f"wrote {path}", highlight=False)
