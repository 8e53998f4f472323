"""CSV exchange for reviewers who work in a spreadsheet.

* :func:`export_items` writes one row per undecided item (open or claimed): the ids, the
  probability and weight, both records' key fields, each comparison's contribution in bits
  (``bits_<comparison>``), the explanation in words, why the record is in review, and empty
  ``decision`` and ``note`` columns. UTF-8 with a byte-order mark, so a spreadsheet shows the
  Arabic right.
* :func:`import_decisions` reads the file back (UTF-8, UTF-8 with BOM, or a Windows code page;
  ``,`` ``;`` or tab separated — whatever the spreadsheet saved), validates **every** row
  first and raises :class:`DecisionsFileError` listing every bad row, applying nothing; when
  the file is clean it applies all its rows in **one** transaction. Rows with an empty
  ``decision`` are left alone (a note alone is saved as a note).

Checks: the identifying columns (:data:`REQUIRED_COLUMNS`) are all there — without
``record_id``/``person_id`` a row shifted against its ``item_id`` could not be caught, so such a
file is refused whole; ``item_id`` is a whole number naming an item of the queue; ``decision`` is
``accept``/``reject`` (any case) or empty; an item appears once; the row's ``record_id`` /
``person_id`` (if the columns are kept) are the item's (a re-sorted sheet whose id columns were
not moved along is caught); the item is not decided already, replaced by a newer run, or being
reviewed by someone else; at most one ``accept`` per partner record.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import polars as pl
from sqlalchemy.orm import Session

from registry_link.db.engine import SessionFactory, retry_locked, transaction
from registry_link.db.models import utcnow
from registry_link.db.queue import ReviewItem, ReviewQueue
from registry_link.errors import InputError, UsageError
from registry_link.io.encoding import detect_encoding, sniff_separator
from registry_link.schema import DISPLAY_FIELDS

#: Record fields exported for each side (``partner_<field>``, ``registry_<field>``).
EXPORT_FIELDS: Final[tuple[str, ...]] = tuple(
    f for f in DISPLAY_FIELDS if f not in ("cnss_number", "registry_person_id")
)
#: The identifying columns, first in the file.
ID_COLUMNS: Final[tuple[str, ...]] = (
    "item_id",
    "run_id",
    "source",
    "record_id",
    "person_id",
    "rank",
    "probability",
)
DECISIONS: Final[tuple[str, ...]] = ("accept", "reject")
#: Columns an imported file must keep: the item, the pair it names, and the decision.
REQUIRED_COLUMNS: Final[tuple[str, ...]] = ("item_id", "record_id", "person_id", "decision")


@dataclass(frozen=True)
class RowProblem:
    """One bad row of a decisions file (``row``: 1-based data row, header excluded)."""

    row: int
    field: str
    message: str
    expected: str

    def describe(self) -> str:
        """The problem as one line."""
        return f"row {self.row}, field '{self.field}': {self.message} (expected {self.expected})"


class DecisionsFileError(InputError):
    """A decisions file has bad rows; nothing of it was applied. Lists every bad row."""

    def __init__(self, file: str, problems: Sequence[RowProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.row, p.field))
        rows = len({p.row for p in self.problems})
        lines = [f"{rows} bad row(s), nothing applied (rows count data rows, header excluded):"]
        lines += [f"  - {p.describe()}" for p in self.problems]
        lines.append("  fix these rows (or empty their 'decision' cell) and import again")
        super().__init__(file, "\n".join(lines))


@dataclass(frozen=True)
class ImportSummary:
    """What an import applied."""

    accepted: int
    rejected: int
    notes: int  # notes saved, with a decision or alone
    ignored: int  # rows with neither a decision nor a note


# ------------------------------------------------------------------ export


def _export_row(item: ReviewItem, comparisons: Sequence[str]) -> dict[str, Any]:
    partner = item.payload.get("partner") or {}
    registry = item.payload.get("registry") or {}
    bf = item.payload.get("bf") or {}
    row: dict[str, Any] = {
        "item_id": item.id,
        "run_id": item.run_id,
        "source": item.source,
        "record_id": item.record_id,
        "person_id": item.person_id,
        "rank": item.rank,
        "probability": None if item.probability is None else round(item.probability, 4),
        "weight": None if item.weight is None else round(item.weight, 2),
    }
    for f in EXPORT_FIELDS:
        row[f"partner_{f}"] = _str(partner.get(f))
        row[f"registry_{f}"] = _str(registry.get(f))
    for comp in comparisons:
        bits = bf.get(comp)
        row[f"bits_{comp}"] = None if bits is None else round(float(bits), 2)
    row["explanation"] = "; ".join(w for w in item.payload.get("words") or [] if w) or None
    row["why_in_review"] = _str(item.payload.get("link_reason")) or None
    row["decision"] = ""
    row["note"] = ""
    return row


def comparisons_of(items: Sequence[ReviewItem]) -> list[str]:
    """The comparisons whose contributions the items carry, in the review screen's order."""
    from registry_link.review.render import FIELD_LAYOUT

    seen = {c for i in items for c in (i.payload.get("bf") or {})}
    known = [comp for _, _, comp in FIELD_LAYOUT if comp is not None and comp in seen]
    return known + sorted(seen - set(known))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def export_columns(comparisons: Sequence[str] = ()) -> list[str]:
    """The columns of an export file, in order (``comparisons``: see :func:`comparisons_of`)."""
    sides = [f"{side}_{f}" for f in EXPORT_FIELDS for side in ("partner", "registry")]
    bits = [f"bits_{c}" for c in comparisons]
    return [
        *ID_COLUMNS,
        "weight",
        *sides,
        *bits,
        "explanation",
        "why_in_review",
        "decision",
        "note",
    ]


def export_items(queue: ReviewQueue, path: Path) -> int:
    """Write the queue's undecided items to a CSV (UTF-8 with BOM); returns the row count."""
    items = [i for i in queue.items() if i.status in ("open", "claimed")]
    comparisons = comparisons_of(items)
    schema: dict[str, Any] = {c: pl.Utf8 for c in export_columns(comparisons)}
    schema.update(
        item_id=pl.Int64, run_id=pl.Int64, rank=pl.Int64, probability=pl.Float64, weight=pl.Float64
    )
    schema.update({f"bits_{c}": pl.Float64 for c in comparisons})
    frame = pl.DataFrame([_export_row(i, comparisons) for i in items], schema=schema, orient="row")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path, include_bom=True)
    return frame.height


# ------------------------------------------------------------------ import


def read_decisions(path: Path) -> pl.DataFrame:
    """The decisions file as text columns plus ``row`` (1-based data row).

    Raises:
        InputError: unreadable, or without one of the :data:`REQUIRED_COLUMNS`.
    """
    if not path.is_file():
        raise InputError(str(path), "no such file", expected="the CSV written by `review export`")
    encoding = detect_encoding(path)
    text = path.read_bytes().decode(encoding, errors="replace").lstrip("\ufeff")
    header = text.split("\n", 1)[0]
    try:
        frame = pl.read_csv(
            io.StringIO(text), separator=sniff_separator(header), infer_schema=False
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            str(path), f"cannot read it as CSV: {exc}", expected="a CSV saved by a spreadsheet"
        ) from exc
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        why = (
            "; they tie each decision to the pair it was made on (a row shifted by a sort "
            "would otherwise be applied to the wrong pair), so nothing was applied"
            if set(missing) & {"record_id", "person_id"}
            else ""
        )
        raise InputError(
            str(path),
            f"column(s) {', '.join(repr(c) for c in missing)} missing{why}; columns found: "
            f"{', '.join(frame.columns)}",
            field=missing[0],
            expected="the header row written by `registry-link review export`, with "
            + ", ".join(REQUIRED_COLUMNS)
            + " kept",
        )
    if "note" not in frame.columns:
        frame = frame.with_columns(note=pl.lit(None, dtype=pl.Utf8))
    return frame.with_row_index("row", offset=1).with_columns(
        pl.col("row").cast(pl.Int64),
        item_id=pl.col("item_id").str.strip_chars(),
        decision=pl.col("decision").str.strip_chars().str.to_lowercase().replace("", None),
        note=pl.col("note").str.strip_chars().replace("", None),
    )


def _items_frame(items: Sequence[ReviewItem]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [i.id for i in items],
            "db_source": [i.source for i in items],
            "db_record_id": [i.record_id for i in items],
            "db_person_id": [i.person_id for i in items],
            "status": [i.status for i in items],
            "claimed_by": [i.claimed_by for i in items],
            "claim_live": [
                i.claim_expires_at is not None and i.claim_expires_at >= utcnow() for i in items
            ],
            "decided": [_decided_text(i, items) for i in items],
        },
        schema={
            "id": pl.Int64,
            "db_source": pl.Utf8,
            "db_record_id": pl.Utf8,
            "db_person_id": pl.Utf8,
            "status": pl.Utf8,
            "claimed_by": pl.Utf8,
            "claim_live": pl.Boolean,
            "decided": pl.Utf8,
        },
    )


def _decided_text(item: ReviewItem, items: Sequence[ReviewItem]) -> str:
    """How an item was decided, in words: by whom, or which accept of its record closed it."""
    if item.decision is not None:
        return f"{item.decision} by {item.decided_by}"
    accepted = next(
        (
            i
            for i in items
            if (i.run_id, i.source, i.record_id) == (item.run_id, item.source, item.record_id)
            and i.decision == "accept"
        ),
        None,
    )
    if accepted is not None:
        return (
            f"closed: candidate {accepted.person_id} (item {accepted.id}) of the same record "
            f"was accepted by {accepted.decided_by}"
        )
    return "closed with its record"


def _problems(frame: pl.DataFrame, field: str, message: pl.Expr, expected: str) -> list[RowProblem]:
    texts = frame.select("row", m=message)
    return [RowProblem(int(r), field, str(m), expected) for r, m in texts.iter_rows()]


def validate(frame: pl.DataFrame, items: Sequence[ReviewItem], reviewer: str) -> list[RowProblem]:
    """Every problem of a decisions frame (from :func:`read_decisions`) against the queue."""
    active = frame.filter(pl.col("decision").is_not_null() | pl.col("note").is_not_null())
    out: list[RowProblem] = []
    bad_dec = active.filter(pl.col("decision").is_not_null() & ~pl.col("decision").is_in(DECISIONS))
    out += _problems(
        bad_dec, "decision", pl.format("got '{}'", "decision"), "accept, reject or empty"
    )
    active = active.with_columns(iid=pl.col("item_id").cast(pl.Int64, strict=False))
    bad_id = active.filter(pl.col("iid").is_null())
    out += _problems(
        bad_id,
        "item_id",
        pl.format("got '{}'", pl.col("item_id").fill_null("")),
        "the item id as exported (a whole number)",
    )
    ok = active.filter(pl.col("iid").is_not_null()).with_columns(
        _first=pl.col("row").min().over("iid")
    )
    dup = ok.filter(pl.col("row") != pl.col("_first"))
    out += _problems(
        dup,
        "item_id",
        pl.format("item {} appears again (first at row {})", "iid", "_first"),
        "each item once",
    )
    joined = ok.join(_items_frame(items), left_on="iid", right_on="id", how="left")
    unknown = joined.filter(pl.col("status").is_null())
    out += _problems(
        unknown,
        "item_id",
        pl.format("no review item {} in this queue", "iid"),
        "an exported item id",
    )
    known = joined.filter(pl.col("status").is_not_null())
    for col in ("record_id", "person_id", "source"):
        if col in frame.columns:
            moved = known.filter(pl.col(col).str.strip_chars() != pl.col(f"db_{col}"))
            out += _problems(
                moved,
                col,
                pl.format("got '{}' but item {} is for '{}'", col, "iid", f"db_{col}"),
                "the row as exported (sort whole rows, never one column)",
            )
    decided = known.filter(pl.col("decision").is_not_null())
    out += _problems(
        decided.filter(pl.col("status") == "decided"),
        "decision",
        pl.format("item {} is already decided ({})", "iid", "decided"),
        "an undecided item (undo the earlier decision first)",
    )
    out += _problems(
        decided.filter(pl.col("status") == "superseded"),
        "decision",
        pl.format("item {} was replaced by a newer run's item", "iid"),
        "an item of the latest run (export again)",
    )
    taken = decided.filter(
        (pl.col("status") == "claimed") & pl.col("claim_live") & (pl.col("claimed_by") != reviewer)
    )
    out += _problems(
        taken,
        "decision",
        pl.format("item {} is being reviewed by '{}' right now", "iid", "claimed_by"),
        "an item nobody else holds (try again later)",
    )
    accepts = known.filter(pl.col("decision") == "accept").with_columns(
        n=pl.len().over("db_source", "db_record_id"),
        rows=pl.col("row").cast(pl.Utf8).str.join(", ").over("db_source", "db_record_id"),
    )
    out += _problems(
        accepts.filter(pl.col("n") > 1),
        "decision",
        pl.format(
            "{} accepts for record {} of {} (rows {})", "n", "db_record_id", "db_source", "rows"
        ),
        "at most one accept per partner record",
    )
    return out


class _SharedSession:
    """A session whose commit/close are deferred to an enclosing transaction.

    Lets several :class:`ReviewQueue` actions (each normally its own transaction) run in one
    transaction, with the queue's own checks. Expires cached rows after each action so the next
    one reads fresh state.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def commit(self) -> None:
        self._session.flush()
        self._session.expire_all()

    def rollback(self) -> None:  # the enclosing transaction rolls back
        return None

    def close(self) -> None:
        return None


@contextmanager
def _one_transaction(queue: ReviewQueue) -> Iterator[ReviewQueue]:
    with transaction(queue.factory) as session:
        shared = cast(Session, _SharedSession(session))
        factory: SessionFactory = lambda: shared  # noqa: E731
        # no retry inside: a lock fails the whole import, which is retried as one transaction
        yield ReviewQueue(
            factory,
            run_id=queue.run_id,
            lease_seconds=int(queue.lease.total_seconds()),
            lock_wait=0,
        )


def import_decisions(queue: ReviewQueue, path: Path, reviewer: str) -> ImportSummary:
    """Validate a filled-in export and apply it in one transaction (all rows or none).

    Raises:
        DecisionsFileError: one or more bad rows (all listed); nothing was applied.
        InputError: the file is unreadable or lacks the ``item_id``/``decision`` columns.
        UsageError: no reviewer name.
    """
    if not reviewer.strip():
        raise UsageError("give the reviewer's name: --reviewer NAME (recorded on every decision)")
    frame = read_decisions(path)
    problems = validate(frame, queue.items(), reviewer)
    if problems:
        raise DecisionsFileError(str(path), problems)
    rows = frame.with_columns(iid=pl.col("item_id").cast(pl.Int64, strict=False))
    rejects = rows.filter(pl.col("decision") == "reject")
    accepts = rows.filter(pl.col("decision") == "accept")
    notes = rows.filter(pl.col("decision").is_null() & pl.col("note").is_not_null())
    noted = rows.filter(pl.col("note").is_not_null()).height  # with a decision or alone

    def apply() -> None:
        with _one_transaction(queue) as q:
            for kind, part in (("reject", rejects), ("accept", accepts)):
                for iid, note in part.select("iid", "note").iter_rows():
                    q.decide(int(iid), reviewer, cast(Any, kind), note)
            for iid, note in notes.select("iid", "note").iter_rows():
                q.add_note(int(iid), reviewer, str(note))

    retry_locked(apply, wait=queue.lock_wait, on_wait=queue.on_wait)
    ignored = rows.height - rejects.height - accepts.height - notes.height
    return ImportSummary(accepts.height, rejects.height, noted, ignored)
