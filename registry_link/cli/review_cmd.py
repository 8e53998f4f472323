"""``registry-link review``: the clerical review at a terminal, and its non-interactive commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from registry_link.cli._common import console, out
from registry_link.cli.db_cmd import DB_HELP, lock_wait_option
from registry_link.db.engine import open_database
from registry_link.db.queue import ReviewItem, ReviewQueue
from registry_link.errors import UsageError
from registry_link.review.exchange import ID_COLUMNS


def _common(f: Any) -> Any:
    f = click.option("--run", "run_id", type=int, default=None, help="Only this run's items.")(f)
    return click.option("--db", "db_url", default=None, metavar="URL", help=DB_HELP)(f)


def _queue(ctx: click.Context, db_url: str | None, run_id: int | None) -> ReviewQueue:
    parent = ctx.obj or {}
    url = db_url or parent.get("db_url")
    run = run_id if run_id is not None else parent.get("run_id")
    return ReviewQueue(
        open_database(url),
        run_id=run,
        lease_seconds=parent.get("lease", 600),
        lock_wait=parent.get("lock_wait"),
    )


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
    help="Seconds a claimed record stays yours without activity (a clean quit releases it).",
)
@lock_wait_option
@click.option(
    "--rtl-visual",
    is_flag=True,
    help="Reorder Arabic for a terminal without bidi support (needs registry-link[rtl]).",
)
@click.pass_context
def review_group(
    ctx: click.Context,
    reviewer: str | None,
    db_url: str | None,
    run_id: int | None,
    lease: int,
    lock_wait: float | None,
    rtl_visual: bool,
) -> None:
    """Review the ambiguous records, one at a time, with single keys.

    Keys: a accept, r reject, x none of these, c next candidate, s skip, u undo last, n note
    (Esc cancels it), q quit, ? help. Every decision is saved at once; several reviewers can work
    on one queue at the same time. Quitting (q or Ctrl-C) releases your records.

    \b
    Example:
      registry-link review --reviewer amina
      registry-link review --reviewer amina --run 3 --db postgresql+psycopg://rl@127.0.0.1/rl
      registry-link review list --status open
      registry-link review release --reviewer amina
    """
    ctx.obj = {"db_url": db_url, "run_id": run_id, "lease": lease, "lock_wait": lock_wait}
    if ctx.invoked_subcommand is not None:
        return
    from registry_link.review.console import ReviewConsole
    from registry_link.review.render import require_bidi

    name = _reviewer(reviewer)
    if rtl_visual:
        require_bidi()  # before anything is claimed
    if not sys.stdin.isatty():
        raise UsageError(
            "the interactive review needs a terminal; from a script use `registry-link review "
            "decide` or `review export` / `review import`"
        )
    queue = _queue(ctx, None, None)
    stats = ReviewConsole(queue, name, Console(), visual_rtl=rtl_visual).run()
    out.print(
        f"{name}: {stats.accepted} accepted, {stats.rejected} rejected "
        f"({stats.none_of_these} record(s) with none of the candidates), {stats.skipped} "
        f"skipped, {stats.undone} undone, {stats.notes} note(s)",
        soft_wrap=True,
    )


_LIST_COLUMNS = (
    *ID_COLUMNS,
    "weight",
    "status",
    "decision",
    "by",
    "claimed_until",
    "note",
)


def _list_rows(items: list[ReviewItem]) -> list[dict[str, Any]]:
    rows = []
    for i in items:
        who = i.claimed_by if i.status == "claimed" else i.decided_by
        if i.status == "decided" and i.decision is None:
            who = None
        rows.append(
            {
                "item_id": i.id,
                "run_id": i.run_id,
                "source": i.source,
                "record_id": i.record_id,
                "person_id": i.person_id,
                "rank": i.rank,
                "probability": None if i.probability is None else round(i.probability, 4),
                "weight": None if i.weight is None else round(i.weight, 2),
                "status": i.status,
                "decision": i.decision or ("closed" if i.status == "decided" else None),
                "by": who,
                "claimed_until": (
                    f"{i.claim_expires_at:%Y-%m-%d %H:%M:%S}"
                    if i.status == "claimed" and i.claim_expires_at
                    else None
                ),
                "note": i.note,
            }
        )
    return rows


@review_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["open", "decided", "all"]),
    default="open",
    show_default=True,
    help="open: not decided yet (open or claimed); decided; all.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "wide", "csv"]),
    default="table",
    show_default=True,
    help="table: fits the terminal (long ids wrap, never cut); wide: one line per item, every "
    "column, whatever the width; csv: for a spreadsheet or a script.",
)
@click.option("--limit", default=500, show_default=True, help="At most this many rows (0: all).")
@_common
@click.pass_context
def review_list(
    ctx: click.Context, status: str, fmt: str, limit: int, db_url: str | None, run_id: int | None
) -> None:
    """List review items (on standard output).

    \b
    Example:
      registry-link review list
      registry-link review list --status decided --run 1 --format wide
      registry-link review list --status all --format csv
    """
    items = _queue(ctx, db_url, run_id).items()
    if status == "open":
        items = [i for i in items if i.status in ("open", "claimed")]
    elif status == "decided":
        items = [i for i in items if i.status == "decided"]
    shown = items[:limit] if limit else items
    rows = _list_rows(shown)
    if fmt == "csv":
        import polars as pl

        frame = pl.DataFrame(rows, schema=dict.fromkeys(_LIST_COLUMNS, pl.Utf8), orient="row")
        click.echo(frame.cast(pl.Utf8).write_csv(), nl=False)
    else:
        table = Table(title=f"Review items ({status})", title_justify="left")
        wide = fmt == "wide"
        columns = _LIST_COLUMNS if wide else (*_LIST_COLUMNS[:7], "status", "decision", "by")
        for col in columns:
            table.add_column(col, overflow="fold", no_wrap=wide)
        for row in rows:
            table.add_row(*["" if row[c] is None else str(row[c]) for c in columns])
        if wide:
            Console(width=100_000, soft_wrap=True).print(table, crop=False)
        else:
            out.print(table)
    if len(items) > len(shown):
        console.print(f"… {len(items) - len(shown)} more (use --limit 0 for all)")


@review_group.command("decide")
@click.argument("item_id", metavar="ITEM", type=int)
@click.option("--accept", is_flag=True, help="The registry person IS them.")
@click.option("--reject", is_flag=True, help="The registry person is NOT them.")
@click.option("--reviewer", required=True, help="Your name, recorded on the decision.")
@click.option("--note", default=None, help="A note kept with the decision.")
@_common
@click.pass_context
def review_decide(
    ctx: click.Context,
    item_id: int,
    accept: bool,
    reject: bool,
    reviewer: str,
    note: str | None,
    db_url: str | None,
    run_id: int | None,
) -> None:
    """Decide one item (ITEM: its id, from `review list`).

    \b
    Example:
      registry-link review decide 1 --reject --reviewer amina --note "different father"
      registry-link review decide 2 --accept --reviewer amina
    """
    if accept and reject:
        raise UsageError("give either --accept or --reject, not both")
    if not accept and not reject:
        raise UsageError("say --accept or --reject")
    decision = "accept" if accept else "reject"
    name = _reviewer(reviewer)
    queue = _queue(ctx, db_url, run_id)
    queue.decide(item_id, name, "accept" if accept else "reject", note)
    out.print(f"item {item_id}: {decision}ed by {name}", soft_wrap=True)


@review_group.command("release")
@click.option(
    "--reviewer",
    default=None,
    help="Release only this reviewer's records (default: every reviewer's).",
)
@click.option("--operator", default=None, help="Who releases (default: the OS user).")
@_common
@click.pass_context
def review_release(
    ctx: click.Context,
    reviewer: str | None,
    operator: str | None,
    db_url: str | None,
    run_id: int | None,
) -> None:
    """Release claimed records now (e.g. a reviewer's session that was killed), so that
    anyone can review them; recorded in the audit log.

    \b
    Example:
      registry-link review release --reviewer amina
      registry-link review release --run 1
    """
    from registry_link.db.repository import operator_name

    who = reviewer.strip() if reviewer and reviewer.strip() else None
    n = _queue(ctx, db_url, run_id).release(who, operator_name(operator))
    whose = f"{who}'s" if who else "every reviewer's"
    out.print(f"released {n} claimed item(s) ({whose})", soft_wrap=True)


@review_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_common
@click.pass_context
def review_export(ctx: click.Context, file: Path, db_url: str | None, run_id: int | None) -> None:
    """Write the undecided items to a CSV to fill in a spreadsheet (decision, note columns).

    Each row carries the pair's probability and weight, each field's contribution in bits
    (bits_<field>), the explanation in words and why the record is in review. Fill 'decision'
    with accept or reject (or leave it empty), then `review import FILE`; keep the item_id,
    source, record_id and person_id columns (they catch rows shifted by a sort).

    \b
    Example:
      registry-link review export review-2024-06.csv --run 1
    """
    from registry_link.review.exchange import export_items

    n = export_items(_queue(ctx, db_url, run_id), file)
    out.print(f"wrote {n} item(s) to {file}", soft_wrap=True)


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
    out.print(
        f"applied {file}: {done.accepted} accepted, {done.rejected} rejected, {done.notes} "
        f"note(s); {done.ignored} row(s) left undecided",
        soft_wrap=True,
    )


#: The command the lead registers in ``registry-link``.
command = review_group
