"""``registry-link init``, ``registry load``, ``runs``, ``runs show`` and ``households --run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from registry_link.cli._common import console, counts_table, out
from registry_link.db.engine import (
    DB_ENV,
    DEFAULT_URL,
    LOCK_WAIT_ENV,
    current_revision,
    make_engine,
    open_database,
    retry_locked,
    upgrade,
)

#: The help of every ``--db`` option: true for the commands that always use a database and for
#: ``match``, which uses one only when asked.
DB_HELP = (
    f"Database URL: sqlite:///FILE or postgresql+psycopg://user:password@host:5432/db (needs "
    f"registry-link[postgres]). When --db is not given: ${DB_ENV}, else {DEFAULT_URL} in the "
    f"working folder — except `match`, which records its run in a database only when --db or "
    f"${DB_ENV} is given."
)


def db_option(f: Any) -> Any:
    """The ``--db URL`` option."""
    return click.option("--db", "db_url", default=None, metavar="URL", help=DB_HELP)(f)


def lock_wait_option(f: Any) -> Any:
    """The ``--lock-wait SECONDS`` option (``None``: ``$REGISTRY_LINK_LOCK_WAIT``, else 30)."""
    return click.option(
        "--lock-wait",
        type=click.FloatRange(min=0),
        default=None,
        metavar="SECONDS",
        help=f"How long to keep retrying while another writer locks the database, showing the "
        f"wait (default: ${LOCK_WAIT_ENV}, else 30).",
    )(f)


def operator_option(f: Any) -> Any:
    """The ``--operator NAME`` option."""
    return click.option("--operator", default=None, help="Who runs this (default: the OS user).")(f)


@click.command("init")
@db_option
def init_command(db_url: str | None) -> None:
    """Create the database, or migrate it to this version's schema (safe to repeat).

    \b
    Example:
      registry-link init                                   # ./registry-link.db
      registry-link init --db postgresql+psycopg://rl:secret@127.0.0.1:5432/registry_link
    """
    engine = make_engine(db_url)
    retry_locked(lambda: upgrade(engine))
    out.print(
        f"database ready: {engine.url.render_as_string(hide_password=True)} "
        f"(schema revision {current_revision(engine)})",
        soft_wrap=True,
    )


@click.group("registry")
def registry_group() -> None:
    """The registry extract kept in the database.

    \b
    Example:
      registry-link registry load sample_data/registry.csv --config configs/registry.yaml
    """


@registry_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Source config (kind: registry) of the extract; required unless FILE is the shipped "
    "sample_data/registry.csv.",
)
@db_option
@operator_option
def registry_load(
    file: Path, config_path: Path | None, db_url: str | None, operator: str | None
) -> None:
    """Load or refresh the registry: standardise FILE, snapshot it, store person/household ids.

    \b
    Example:
      registry-link registry load sample_data/registry.csv --config configs/registry.yaml
    """
    from registry_link.jobs import load_registry_file

    with console.status(f"loading {file} …") as status:
        done = load_registry_file(
            file, config_path, db_url=db_url, operator=operator, on_event=status.update
        )
    state = "unchanged (same extract)" if done.unchanged else "loaded"
    out.print(
        f"registry {state}: {done.persons:,} persons, {done.households:,} households; "
        f"snapshot {done.snapshot_path}",
        soft_wrap=True,
    )


@click.group("runs", invoke_without_command=True)
@db_option
@click.option("--limit", default=50, show_default=True, help="How many runs to list.")
@click.pass_context
def runs_group(ctx: click.Context, db_url: str | None, limit: int) -> None:
    """List the recorded runs, newest first (`runs show ID` for one).

    \b
    Example:
      registry-link runs
      registry-link runs show 1
    """
    ctx.obj = {"db_url": db_url}
    if ctx.invoked_subcommand is not None:
        return
    from registry_link.db.engine import transaction
    from registry_link.db.repository import list_runs

    with transaction(open_database(db_url)) as s:
        runs = list_runs(s, limit)
        table = Table(title="Runs", title_justify="left")
        for col in ("id", "started (UTC)", "by", "status", "sources", "records", "decisions"):
            table.add_column(col)
        for r in runs:
            decisions = ", ".join(f"{k} {v:,}" for k, v in r.counts.get("decisions", {}).items())
            table.add_row(
                str(r.id),
                f"{r.started_at:%Y-%m-%d %H:%M}",
                r.operator,
                r.status,
                ", ".join(r.sources),
                f"{r.counts.get('records', 0):,}",
                decisions,
            )
    if not runs:
        out.print("no runs recorded yet; run `registry-link match ... --db URL`")
        return
    out.print(table)


@runs_group.command("show")
@click.argument("run_id", type=int)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON on stdout.")
@click.pass_context
def runs_show(ctx: click.Context, run_id: int, db_url: str | None, as_json: bool) -> None:
    """Show one run: inputs and their hashes, who/when, counts, review decisions so far.

    \b
    Example:
      registry-link runs show 1
    """
    from registry_link.db.engine import transaction
    from registry_link.db.repository import run_report

    url = db_url or (ctx.obj or {}).get("db_url")
    with transaction(open_database(url)) as s:
        report = run_report(s, run_id)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    rows: list[tuple[str, Any]] = [
        ("status", report["status"]),
        ("run by", report["operator"]),
        ("started (UTC)", report["started_at"]),
        ("finished (UTC)", report["finished_at"]),
        ("re-run of", report["parent_run_id"] or "-"),
        ("sources", ", ".join(report["sources"])),
        ("model sha256", report["model_hash"]),
    ]
    rows += [(f"input {p}", h[:16]) for p, h in report["input_hashes"].items()]
    rows += [(f"config {p}", h[:16]) for p, h in report["config_hashes"].items()]
    rows += [(f"links: {k}", v) for k, v in sorted(report["links_by_decision"].items())]
    rows += [(f"review items: {k}", v) for k, v in sorted(report["review_items_by_status"].items())]
    rows += [(f"reviewer actions: {k}", v) for k, v in sorted(report["review_actions"].items())]
    rows.append(("reviewers", ", ".join(report["reviewers"]) or "-"))
    out.print(counts_table(f"Run {run_id}", rows))


@click.command("households")
@click.option("--run", "run_id", type=int, required=True, help="The run to refresh.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder for the refreshed links, review, households and summary.",
)
@db_option
@operator_option
def households_command(
    run_id: int, out_dir: Path, db_url: str | None, operator: str | None
) -> None:
    """Re-run a recorded run with the reviewers' decisions applied; regenerate the households.

    Recorded as a new run (its parent is RUN); beneficiary keys of RUN are kept. The run's
    files are read from the absolute paths recorded with it (from any folder); if one is
    missing or changed since, the message names it.

    \b
    Example:
      registry-link households --run 1 --out out/coop-reviewed
    """
    from registry_link.jobs import rerun_after_review

    with console.status(f"re-linking run {run_id} with the review decisions …"):
        outcome = rerun_after_review(run_id, out_dir, db_url=db_url, operator=operator)
    recorded, summary = outcome.recorded, outcome.summary
    out.print(
        counts_table(
            f"Run {recorded.run_id} (re-run of {run_id})"
            if recorded.created
            else f"Run {recorded.run_id}: no decision since, nothing new recorded",
            [
                *[(f"decision: {k}", v) for k, v in summary.get("decisions", {}).items()],
                ("households", summary.get("households", 0)),
                ("review items left", recorded.review_items),
            ],
        )
    )
    out.print(f"wrote outputs to {out_dir}", soft_wrap=True)


#: The commands this module adds to ``registry-link`` (the lead registers them).
commands = [init_command, registry_group, runs_group, households_command]
#: The first command, for the CLI's ``module.command`` convention.
command = init_command
