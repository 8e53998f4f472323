"""The run report: one self-contained HTML page an operator opens after every run.

:func:`write_report` reads only what a run folder holds (``summary.json``, the links, review
and households Parquet files, ``model.json`` and ``evaluation.json`` when present, and a
ground truth when given) and writes ``report.html``: the run, data quality per list,
blocking, the model's match weights, the weight distribution, decisions, a sample of review
pairs with their waterfalls, households and, with a ground truth, accuracy per list and slice.

Stages: :mod:`~registry_link.report.gather` (aggregated, bounded frames),
:mod:`~registry_link.report.model_facts` (the model as frames),
:mod:`~registry_link.report.charts` (Altair → inline SVG) and
:mod:`~registry_link.report.render` (the page).
"""

from __future__ import annotations

import os
from pathlib import Path

from registry_link.errors import UsageError

#: The report's file name in a run folder.
REPORT_NAME = "report.html"


def write_report(run_dir: Path, *, truth: Path | None = None, out: Path | None = None) -> Path:
    """Build the report of the run in ``run_dir`` and write it (``run_dir/report.html`` unless
    ``out`` is given).

    Args:
        run_dir: the output folder of ``registry-link match`` or ``demo``.
        truth: a ground-truth CSV (``source, record_id, true_person_uid, person_id,
            household_id``) to score the links against, per list and per slice.
        out: where to write the page.

    Returns:
        The path written.

    Raises:
        InputError: ``run_dir`` is not a run's output folder, or one of its files is unreadable.
        UsageError: the ground truth lacks a column, or the page cannot be written.
        ModelError: the folder's ``model.json`` cannot be read.
    """
    from registry_link.report.gather import gather
    from registry_link.report.model_facts import read_model
    from registry_link.report.render import render_report

    run_dir = Path(run_dir)
    data = gather(run_dir, Path(truth) if truth is not None else None)
    html = render_report(data, read_model(run_dir))
    target = Path(out) if out is not None else run_dir / REPORT_NAME
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(f"cannot write the report {target}: {exc}; give another --out") from exc
    return target


__all__ = ["REPORT_NAME", "write_report"]
