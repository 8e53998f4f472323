"""``registry-link review``: the clerical review at a terminal, and its non-interactive commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from registry_link.cli._common import console
from registry_link.db.engine import DB_ENV, open_database
from registry_link.db.queue import ReviewQueue
from registry_link.errors import UsageError

_DB_HELP = f"Database URL (default: ${DB_ENV}, else sqlite:///registry-link.db here)."


def _common(f: Any) -> Any:
    f = click.option("--run", "run_id", type=int, default=None, help="Only this run's items.")(f)
    return click.option("--db", "db_url", default=None, metavar="URL", help=_DB_HELP)(f)


def _queue(ctx: click.Context, db_url: str | None, run_id: int | None) -> ReviewQueue:
    parent = ctx.obj or {}
    url = db_url or parent.get("db_url")
    run = run_id if run_id is not None else parent.get("run_id")
    return ReviewQueue(open_database(url), run_id=run, lease_seconds=parent.get("lease", 600))


def _reviewer(name: str | None) -> str:
    if not name or not name.strip():
        raise UsageError("give the reviewer's name: --reviewer NAME (recorded on every decision)")
    return name.strip()


@click.group("review", invoke_without_command=True)
@click.option("--reviewer", default=None, help="Your name, recorded on every decision.")
@_common
@click.option(
    "--lease",
    default=600,
    show_default=True,
    help="Seconds a claimed record stays yours without activity.",
)
@click.option(
    "--rtl-visual",
    is_flag=True,
    help="Reorder Arabic for a terminal without bidi support (needs python-bidi).",
)
@click.pass_context
def review_group(
    ctx: click.Context,
    reviewer: str | None,
    db_url: str | None,
    run_id: int | None,
    lease: int,
    rtl_visual: bool,
) -> None:
    """Review the ambiguous pairs, one at a time, with single keys.

    Keys: a accept, r reject, s skip, u undo last, n note, q quit, ? help. Every decision
    is saved at once; several reviewers can work on one queue at the same time.

    \b
    Example:
      registry-link review --reviewer amina
      registry-link review --reviewer amina --run 3 --db postgresql+psycopg://rl@127.0.0.1/rl
      registry-link review list --status open
    """
    ctx.obj = {"db_url": db_url, "run_id": run_id, "lease": lease}
    if ctx.invoked_subcommand is not None:
        return
    from registry_link.review.console import ReviewConsole

    name = _reviewer(reviewer)
    if not sys.stdin.isatty():
        raise UsageError(
            "the interactive review needs a terminal; from a script use `registry-link review "
            "decide` or `review export` / `review import`"
        )
    queue = _queue(ctx, None, None)
    stats = ReviewConsole(queue, name, Console(), visual_rtl=rtl_visual).run()
    console.print(
        f"{name}: {stats.accepted} accepted, {stats.rejected} rejected, {stats.skipped} skipped, "
        f"{stats.undone} undone, {stats.notes} note(s)"
    )


@review_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["open", "decided", "all"]),
    default="open",
    show_default=True,
    help="open: not decided yet (open or claimed); decided; all.",
)
@click.option("--limit", default=500, show_default=True, help="At most this many rows.")
@_common
@click.pass_context
def review_list(
    ctx: click.Context, status: str, limit: int, db_url: str | None, run_id: int | None
) -> None:
    """List review items as a table.

    \b
    Example:
      registry-link review list
      registry-link review list --status decided --run 3
    """
    items = _queue(ctx, db_url, run_id).items()
    if status == "open":
        items = [i for i in items if i.status in ("open", "claimed")]
    elif status == "decided":
        items = [i for i in items if i.status == "decided"]
    table = Table(title=f"Review items ({status})", title_justify="left")
    cols = (
        "item",
        "run",
        "source",
        "record",
        "person",
        "rank",
        "prob.",
        "status",
        "decision",
        "by",
    )
    for col in cols:
        table.add_column(col)
    for i in items[:limit]:
        who = i.claimed_by if i.status == "claimed" else i.decided_by
        prob = "" if i.probability is None else f"{i.probability:.3f}"
        table.add_row(
            str(i.id), str(i.run_id), i.source, i.record_id, i.person_id, str(i.rank), prob,
            i.status, i.decision or "", who or "",
        )  # fmt: skip
    Console().print(table)
    if len(items) > limit:
        console.print(f"… {len(items) - limit} more (use --limit)")


@review_group.command("decide")
@click.argument("item_id", metavar="ITEM", type=int)
@click.option("--accept", "decision", flag_value="accept", help="The registry person IS them.")
@click.option("--reject", "decision", flag_value="reject", help="The registry person is NOT them.")
@click.option("--reviewer", required=True, help="Your name, recorded on the decision.")
@click.option("--note", default=None, help="A note kept with the decision.")
@_common
@click.pass_context
def review_decide(
    ctx: click.Context,
    item_id: int,
    decision: str | None,
    reviewer: str,
    note: str | None,
    db_url: str | None,
    run_id: int | None,
) -> None:
    """Decide one item (ITEM: its id, from `review list`).

    \b
    Example:
      registry-link review decide 42 --accept --reviewer amina
      registry-link review decide 43 --reject --reviewer amina --note "different father"
    """
    if decision is None:
        raise UsageError("say --accept or --reject")
    name = _reviewer(reviewer)
    queue = _queue(ctx, db_url, run_id)
    queue.decide(item_id, name, "accept" if decision == "accept" else "reject", note)
    console.print(f"item {item_id}: {decision}ed by {name}")


@review_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_common
@click.pass_context
def review_export(ctx: click.Context, file: Path, db_url: str | None, run_id: int | None) -> None:
    """Write the undecided items to a CSV to fill in a spreadsheet (decision, note columns).

    Fill 'decision' with accept or reject (or leave it empty), then `review import FILE`.

    \b
    Example:
      registry-link review export review-2024-06.csv --run 3
    """
    from registry_link.review.exchange import export_items

    n = export_items(_queue(ctx, db_url, run_id), file)
    console.print(f"wrote {n} item(s) to {file}")


@review_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reviewer", required=True, help="Whose decisions these are.")
@_common
@click.pass_context
def review_import(
    ctx: click.Context, file: Path, reviewer: str, db_url: str | None, run_id: int | None
) -> None:
    """Apply a filled-in export: every row is checked first; any bad row → nothing applied.

    \b
    Example:
      registry-link review import review-2024-06.csv --reviewer amina
    """
    from registry_link.review.exchange import import_decisions

    done = import_decisions(_queue(ctx, db_url, run_id), file, _reviewer(reviewer))
    console.print(
        f"applied {file}: {done.accepted} accepted, {done.rejected} rejected, {done.notes} "
        f"note(s); {done.ignored} row(s) left undecided"
    )


#: The command the lead registers in ``registry-link``.
command = review_group
