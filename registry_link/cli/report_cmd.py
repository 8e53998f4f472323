"""``registry-link report``: (re)build the run report (``report.html``) of a run folder."""

from __future__ import annotations

import time
from pathlib import Path

import click

from registry_link.cli._common import console, out
from registry_link.cli.db_cmd import db_option
from registry_link.errors import UsageError
from registry_link.report import REPORT_NAME, write_report


def recorded_output_folder(db_url: str | None, run_id: int) -> Path:
    """The output folder a recorded run wrote (kept in its inputs since this release).

    Raises:
        UsageError: the run was recorded before output folders were kept.
        DatabaseError: no such run, or the database cannot be used.
    """
    from registry_link.db.engine import open_database, transaction
    from registry_link.db.repository import get_run

    with transaction(open_database(db_url)) as session:
        folder = dict(get_run(session, run_id).inputs or {}).get("out_dir")
    if not folder:
        raise UsageError(
            f"run {run_id} was recorded before runs kept their output folder; give its "
            "folder as RUN_DIR (`registry-link report OUT_DIR`)"
        )
    return Path(folder)


@click.command("report")
@click.argument("run_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--run",
    "run_id",
    type=int,
    help="A recorded run (see `registry-link runs`): its output folder, instead of RUN_DIR.",
)
@db_option
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ground truth CSV (source, record_id, true_person_uid, person_id, household_id): "
    "adds precision, recall and review per list and per slice, and the precision-recall "
    "curve over the threshold.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Where to write the page (default: RUN_DIR/{REPORT_NAME}).",
)
def command(
    run_dir: Path | None,
    run_id: int | None,
    db_url: str | None,
    truth: Path | None,
    out_path: Path | None,
) -> None:
    """Build the run report of RUN_DIR: one HTML file that opens offline, in any browser.

    RUN_DIR is the --out folder of `registry-link match` or `demo`; only its files are read
    (summary.json, links/review/households Parquet, model.json and evaluation.json when
    present). The page shows the run, data quality per list, blocking, the model's match
    weights, the weight distribution, decisions, review pairs with their waterfalls and
    households.

    \b
    Example:
      registry-link report out/demo
      registry-link report out/demo --truth sample_data/ground_truth.csv --out /tmp/demo.html
      registry-link report --run 1
    """
    if (run_dir is None) == (run_id is None):
        raise UsageError("give either RUN_DIR or --run N (a recorded run), not both or neither")
    if run_id is not None:
        run_dir = recorded_output_folder(db_url, run_id)
    assert run_dir is not None
    start = time.perf_counter()
    with console.status(f"building the report of {run_dir} …"):
        path = write_report(run_dir, truth=truth, out=out_path)
    console.print(f"report built in {time.perf_counter() - start:.1f} s")
    out.print(f"wrote {path}", soft_wrap=True)
