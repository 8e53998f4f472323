"""The review queue: claim, decide, skip, undo, note — one committed transaction per action.

Semantics (one item per (partner record, registry candidate); a record's items form a group):

* :meth:`ReviewQueue.claim_next` claims a whole **group** for one reviewer with an expiring
  lease and returns its best open candidate; the reviewer's still-leased group comes first
  (a restarted console resumes where it was). Groups the reviewer skipped come last. The
  claim is ``UPDATE … WHERE status='open' OR (status='claimed' AND claim_expires_at < now)``
  with a row-count check, so two reviewers never hold the same group (SQLite: every
  transaction is ``BEGIN IMMEDIATE``; PostgreSQL: the UPDATE re-checks rows a concurrent
  claimer changed, and a short count rolls the attempt back).
* **accept** = this candidate is the person: the item is decided and the group's other open
  items are closed (status ``decided`` with no decision of their own). **reject** = this
  candidate is not the person; the rest of the group stays with the reviewer. A record whose
  candidates are all rejected is a non-match against them.
* **skip** releases the group's claim (items stay ``open``) and is logged; **undo** appends an
  ``undo`` row superseding the reviewer's last effective decision and re-claims its item (and
  the items an undone accept had closed) for the reviewer. Nothing in ``review_decisions`` is
  ever updated or deleted.
* A decision is refused (:class:`ReviewConflictError`) on an item decided already (undo it
  first), superseded by a newer run, or leased by another reviewer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from registry_link.db.engine import (
    ReviewConflictError,
    SessionFactory,
    WaitReporter,
    database_failure,
    retry_locked,
    transaction,
)
from registry_link.db.models import ReviewDecision, utcnow
from registry_link.db.models import ReviewItem as ItemRow
from registry_link.db.repository import audit

Decision = Literal["accept", "reject"]
_LIVE = ("open", "claimed")
#: The note on each reject of a "none of these" decision (one key rejects every candidate).
NONE_OF_THESE: Final[str] = "none of these candidates"

P = ParamSpec("P")
R = TypeVar("R")


def _retried(method: Callable[P, R]) -> Callable[P, R]:
    """Run a queue action again while the database is locked (bounded, reported; see
    :func:`registry_link.db.engine.retry_locked`). Each action is one transaction."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        queue = args[0]
        assert isinstance(queue, ReviewQueue)
        return retry_locked(
            lambda: method(*args, **kwargs), wait=queue.lock_wait, on_wait=queue.on_wait
        )

    return wrapper


@dataclass(frozen=True)
class ReviewItem:
    """A review item as plain data (detached from the database).

    ``decision``/``decided_by``/``decided_at``: its effective reviewer decision, if any
    (``None`` also for an item closed because another candidate of its record was accepted).
    ``payload``: both records' fields (``partner``, ``registry``), the per-comparison
    contributions ``bf`` and the explanation ``words`` (see :mod:`registry_link.db.recording`).
    """

    id: int
    run_id: int
    source: str
    record_id: str
    person_id: str
    rank: int
    probability: float | None
    weight: float | None
    fingerprint: str
    payload: dict[str, Any]
    status: str
    claimed_by: str | None
    claim_expires_at: datetime | None
    note: str | None
    decision: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Note:
    """A note on a partner record, from the review log (any run, any reviewer)."""

    reviewer: str
    at: datetime
    kind: str  # note, accept, reject, reopen …: the log row the note was saved with
    person_id: str
    text: str


@dataclass(frozen=True)
class Progress:
    """Counts of items (and records) in the queue's scope."""

    total: int
    decided: int
    open: int
    claimed: int
    mine: int
    records_total: int
    records_left: int


def effective_decisions(session: Session, *where: ColumnElement[bool]) -> list[ReviewDecision]:
    """Accept/reject rows not superseded by an undo, oldest first (filters in ``where``)."""
    undo = aliased(ReviewDecision)
    stmt = (
        select(ReviewDecision)
        .where(
            ReviewDecision.decision.in_(("accept", "reject")),
            ~exists().where(undo.supersedes_id == ReviewDecision.id),
            *where,
        )
        .order_by(ReviewDecision.id)
    )
    return list(session.scalars(stmt))


def _to_item(row: ItemRow, decision: ReviewDecision | None = None) -> ReviewItem:
    return ReviewItem(
        id=row.id,
        run_id=row.run_id,
        source=row.source,
        record_id=row.record_id,
        person_id=row.person_id,
        rank=row.rank,
        probability=row.probability,
        weight=row.weight,
        fingerprint=row.fingerprint,
        payload=dict(row.payload or {}),
        status=row.status,
        claimed_by=row.claimed_by,
        claim_expires_at=row.claim_expires_at,
        note=row.note,
        decision=decision.decision if decision else None,
        decided_by=decision.reviewer if decision else None,
        decided_at=decision.decided_at if decision else None,
    )


def _same_group(row: ItemRow) -> ColumnElement[bool]:
    return and_(
        ItemRow.run_id == row.run_id,
        ItemRow.source == row.source,
        ItemRow.record_id == row.record_id,
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        ItemRow.status == "open",
        and_(ItemRow.status == "claimed", ItemRow.claim_expires_at < now),
    )


class ReviewQueue:
    """The review queue of one run (``run_id``) or of every run (``None``).

    Args:
        session_factory: from :func:`registry_link.db.engine.open_database`.
        run_id: restrict to one run's items.
        lease_seconds: how long a claim lasts without activity.
        lock_wait: seconds an action keeps retrying while another writer holds the lock
            (default ``$REGISTRY_LINK_LOCK_WAIT``, else 30); then
            :class:`~registry_link.db.engine.DatabaseLockedError`.
        on_wait: called before each retry with (seconds waited, limit) — the visible wait.
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        run_id: int | None = None,
        lease_seconds: int = 600,
        *,
        lock_wait: float | None = None,
        on_wait: WaitReporter | None = None,
    ) -> None:
        self.factory = session_factory
        self.run_id = run_id
        self.lease = timedelta(seconds=lease_seconds)
        self.lock_wait = lock_wait
        self.on_wait = on_wait

    def _scope(self) -> list[ColumnElement[bool]]:
        return [ItemRow.run_id == self.run_id] if self.run_id is not None else []

    def _item(self, session: Session, item_id: int) -> ItemRow:
        row = session.get(ItemRow, item_id)
        if row is None or (self.run_id is not None and row.run_id != self.run_id):
            scope = f" of run {self.run_id}" if self.run_id is not None else ""
            raise ReviewConflictError(
                f"no review item {item_id}{scope}; list the items with `registry-link review list`"
            )
        return row

    def _log(
        self,
        session: Session,
        row: ItemRow,
        reviewer: str,
        kind: str,
        note: str | None = None,
        *,
        at: datetime | None = None,
    ) -> ReviewDecision:
        entry = ReviewDecision(
            item_id=row.id,
            run_id=row.run_id,
            source=row.source,
            record_id=row.record_id,
            person_id=row.person_id,
            fingerprint=row.fingerprint,
            reviewer=reviewer,
            decision=kind,
            note=note,
            decided_at=at or utcnow(),
        )
        session.add(entry)
        audit(session, reviewer, f"review.{kind}", f"review_item:{row.id}", {"note": note})
        return entry

    # -------------------------------------------------------------- reading

    @_retried
    def get(self, item_id: int) -> ReviewItem:
        """One item, with its effective decision."""
        with transaction(self.factory) as s:
            row = self._item(s, item_id)
            dec = effective_decisions(s, ReviewDecision.item_id == item_id)
            return _to_item(row, dec[-1] if dec else None)

    @_retried
    def group(self, item_id: int) -> list[ReviewItem]:
        """Every candidate of the item's partner record in its run, best first."""
        with transaction(self.factory) as s:
            row = self._item(s, item_id)
            rows = list(s.scalars(select(ItemRow).where(_same_group(row)).order_by(ItemRow.rank)))
            return self._with_decisions(s, rows)

    @_retried
    def notes(self, item_id: int) -> list[Note]:
        """Every note on the item's partner record (all runs, all reviewers), oldest first."""
        with transaction(self.factory) as s:
            row = self._item(s, item_id)
            rows = s.scalars(
                select(ReviewDecision)
                .where(
                    ReviewDecision.source == row.source,
                    ReviewDecision.record_id == row.record_id,
                    ReviewDecision.note.is_not(None),
                    ReviewDecision.decision != "undo",
                )
                .order_by(ReviewDecision.id)
            )
            return [
                Note(d.reviewer, d.decided_at, d.decision, d.person_id, d.note or "")
                for d in rows
                if (d.note or "").strip() and d.note != NONE_OF_THESE
            ]

    @_retried
    def items(self, status: str | None = None) -> list[ReviewItem]:
        """The items in scope (optionally of one status), by run, source, record, rank."""
        with transaction(self.factory) as s:
            stmt = select(ItemRow).where(*self._scope())
            if status is not None:
                stmt = stmt.where(ItemRow.status == status)
            stmt = stmt.order_by(ItemRow.run_id, ItemRow.source, ItemRow.record_id, ItemRow.rank)
            return self._with_decisions(s, list(s.scalars(stmt)))

    def _with_decisions(self, session: Session, rows: list[ItemRow]) -> list[ReviewItem]:
        ids = [r.id for r in rows]
        by_item: dict[int, ReviewDecision] = {}
        for i in range(0, len(ids), 500):
            for d in effective_decisions(session, ReviewDecision.item_id.in_(ids[i : i + 500])):
                by_item[d.item_id] = d
        return [_to_item(r, by_item.get(r.id)) for r in rows]

    @_retried
    def progress(self, reviewer: str | None = None) -> Progress:
        """Items decided/open/claimed in scope; ``mine``: effective decisions by ``reviewer``."""
        with transaction(self.factory) as s:
            counts = dict(
                s.execute(
                    select(ItemRow.status, func.count())
                    .where(*self._scope(), ItemRow.status != "superseded")
                    .group_by(ItemRow.status)
                ).all()
            )
            records = s.execute(
                select(ItemRow.run_id, ItemRow.source, ItemRow.record_id, ItemRow.status).where(
                    *self._scope(), ItemRow.status != "superseded"
                )
            ).all()
            mine = 0
            if reviewer is not None:
                scope = [ReviewDecision.run_id == self.run_id] if self.run_id is not None else []
                mine = len(effective_decisions(s, ReviewDecision.reviewer == reviewer, *scope))
        keys = {(r, so, rid) for r, so, rid, _ in records}
        left = {(r, so, rid) for r, so, rid, st in records if st in _LIVE}
        return Progress(
            total=sum(counts.values()),
            decided=counts.get("decided", 0),
            open=counts.get("open", 0),
            claimed=counts.get("claimed", 0),
            mine=mine,
            records_total=len(keys),
            records_left=len(left),
        )

    # -------------------------------------------------------------- claiming

    @_retried
    def claim_next(self, reviewer: str) -> ReviewItem | None:
        """Claim the next group for ``reviewer`` and return its best open candidate.

        Returns ``None`` when nothing is left to claim.
        """
        now = utcnow()
        with transaction(self.factory) as s:
            mine = s.scalars(
                select(ItemRow)
                .where(
                    *self._scope(),
                    ItemRow.status == "claimed",
                    ItemRow.claimed_by == reviewer,
                    ItemRow.claim_expires_at >= now,
                )
                .order_by(ItemRow.id)
            ).first()
            if mine is not None:
                s.execute(
                    update(ItemRow)
                    .where(_same_group(mine), ItemRow.status == "claimed")
                    .where(ItemRow.claimed_by == reviewer)
                    .values(claim_expires_at=now + self.lease)
                )
                return self._best_live(s, mine)
        for _ in range(5):  # a few rounds: groups taken meanwhile by others are retried
            candidates = self._candidate_groups(reviewer, now)
            if not candidates:
                return None
            for run_id, source, record_id, n in candidates:
                got = self._try_claim(reviewer, run_id, source, record_id, n)
                if got is not None:
                    return got
            now = utcnow()
        return None

    def _candidate_groups(self, reviewer: str, now: datetime) -> list[tuple[int, str, str, int]]:
        with transaction(self.factory) as s:
            rows = s.execute(
                select(
                    ItemRow.run_id,
                    ItemRow.source,
                    ItemRow.record_id,
                    func.count(),
                    func.min(ItemRow.id),
                )
                .where(*self._scope(), _claimable(now))
                .group_by(ItemRow.run_id, ItemRow.source, ItemRow.record_id)
                .order_by(func.min(ItemRow.id))
                .limit(200)
            ).all()
            skipped = set(
                s.execute(
                    select(ReviewDecision.source, ReviewDecision.record_id).where(
                        ReviewDecision.reviewer == reviewer, ReviewDecision.decision == "skip"
                    )
                ).all()
            )
        groups = [(int(r), str(so), str(rid), int(n)) for r, so, rid, n, _ in rows]
        return sorted(groups, key=lambda g: (g[1], g[2]) in skipped)

    def _try_claim(
        self, reviewer: str, run_id: int, source: str, record_id: str, n: int
    ) -> ReviewItem | None:
        now = utcnow()
        session = self.factory()
        try:
            result = session.execute(
                update(ItemRow)
                .where(
                    ItemRow.run_id == run_id,
                    ItemRow.source == source,
                    ItemRow.record_id == record_id,
                    _claimable(now),
                )
                .values(
                    status="claimed",
                    claimed_by=reviewer,
                    claim_expires_at=now + self.lease,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != n:  # type: ignore[attr-defined]
                session.rollback()
                return None
            row = session.scalars(
                select(ItemRow).where(
                    ItemRow.run_id == run_id,
                    ItemRow.source == source,
                    ItemRow.record_id == record_id,
                )
            ).first()
            assert row is not None
            audit(session, reviewer, "review.claim", f"review_item:{row.id}", {"items": n})
            item = self._best_live(session, row)
            session.commit()
            return item
        except SQLAlchemyError as exc:  # locked: claim_next is retried whole (bounded)
            session.rollback()
            raise database_failure(exc, self._url(session)) from exc
        finally:
            session.close()

    @staticmethod
    def _url(session: Session) -> Any:
        bind = session.get_bind()
        return getattr(bind, "url", None)

    def _best_live(self, session: Session, row: ItemRow) -> ReviewItem:
        best = session.scalars(
            select(ItemRow)
            .where(_same_group(row), ItemRow.status == "claimed")
            .order_by(ItemRow.rank)
        ).first()
        return _to_item(best or row)

    @_retried
    def release_expired(self) -> int:
        """Re-open every claim whose lease has expired; returns the number of items."""
        now = utcnow()
        with transaction(self.factory) as s:
            result = s.execute(
                update(ItemRow)
                .where(*self._scope(), ItemRow.status == "claimed", ItemRow.claim_expires_at < now)
                .values(status="open", claimed_by=None, claim_expires_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            n = int(result.rowcount)  # type: ignore[attr-defined]
            if n:
                audit(s, "system", "review.release_expired", "review_items", {"items": n})
            return n

    @_retried
    def release(self, reviewer: str | None, actor: str) -> int:
        """Re-open the live claims of ``reviewer`` (``None``: of every reviewer) in scope,
        logged in the audit log as ``review.release`` by ``actor``; returns the item count."""
        now = utcnow()
        with transaction(self.factory) as s:
            who = [ItemRow.claimed_by == reviewer] if reviewer is not None else []
            result = s.execute(
                update(ItemRow)
                .where(*self._scope(), ItemRow.status == "claimed", *who)
                .values(status="open", claimed_by=None, claim_expires_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            n = int(result.rowcount)  # type: ignore[attr-defined]
            if n:
                audit(
                    s,
                    actor,
                    "review.release",
                    "review_items",
                    {"items": n, "reviewer": reviewer, "run_id": self.run_id},
                )
            return n

    # -------------------------------------------------------------- actions

    def _check_live(self, row: ItemRow, reviewer: str, now: datetime) -> None:
        if row.status == "decided":
            raise ReviewConflictError(
                f"review item {row.id} (record {row.record_id!r} of {row.source!r}) is already "
                f"decided; undo that decision first to change it"
            )
        if row.status == "superseded":
            raise ReviewConflictError(
                f"review item {row.id} belongs to run {row.run_id} and was replaced by a newer "
                f"run's item for record {row.record_id!r}; decide the newer item"
            )
        if (
            row.status == "claimed"
            and row.claimed_by != reviewer
            and row.claim_expires_at is not None
            and row.claim_expires_at >= now
        ):
            raise ReviewConflictError(
                f"review item {row.id} is being reviewed by {row.claimed_by!r} until "
                f"{row.claim_expires_at:%Y-%m-%d %H:%M} UTC; pick another item or wait"
            )

    @_retried
    def decide(
        self, item_id: int, reviewer: str, decision: Decision, note: str | None = None
    ) -> None:
        """Record ``accept`` or ``reject`` for the item, committed at once.

        Raises:
            ReviewConflictError: the item is decided, superseded or leased by another reviewer.
            UsageError: a decision other than accept/reject.
        """
        if decision not in ("accept", "reject"):
            from registry_link.errors import UsageError

            raise UsageError(f"a review decision is 'accept' or 'reject', got {decision!r}")
        now = utcnow()
        with transaction(self.factory) as s:
            row = self._item(s, item_id)
            self._check_live(row, reviewer, now)
            done = s.execute(
                update(ItemRow)
                .where(ItemRow.id == item_id, ItemRow.status.in_(_LIVE))
                .values(status="decided", claimed_by=None, claim_expires_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise ReviewConflictError(f"review item {item_id} was decided meanwhile")
            self._log(s, row, reviewer, decision, note)
            if decision == "accept":
                s.execute(
                    update(ItemRow)
                    .where(_same_group(row), ItemRow.id != item_id, ItemRow.status.in_(_LIVE))
                    .values(
                        status="decided", claimed_by=None, claim_expires_at=None, updated_at=now
                    )
                    .execution_options(synchronize_session=False)
                )

    @_retried
    def reject_all(self, item_id: int, reviewer: str, note: str | None = None) -> list[int]:
        """ "None of these": reject every live candidate of the item's partner record in one
        transaction; returns the item ids rejected. :meth:`undo_last` undoes them together.

        Raises:
            ReviewConflictError: a candidate is leased by another reviewer, or none is live.
        """
        now = utcnow()
        with transaction(self.factory) as s:
            row = self._item(s, item_id)
            live = list(
                s.scalars(
                    select(ItemRow)
                    .where(_same_group(row), ItemRow.status.in_(_LIVE))
                    .order_by(ItemRow.rank)
                )
            )
            if not live:
                raise ReviewConflictError(
                    f"record {row.record_id!r} of {row.source!r} has no undecided candidate left"
                )
            for cand in live:
                self._check_live(cand, reviewer, now)
            ids = [c.id for c in live]
            s.execute(
                update(ItemRow)
                .where(ItemRow.id.in_(ids))
                .values(status="decided", claimed_by=None, claim_expires_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            text = NONE_OF_THESE if not note else f"{NONE_OF_THESE}: {note}"
            for cand in live:
                self._log(s, cand, reviewer, "reject", text, at=now)
            return ids

    @_retried
    def skip(self, item_id: int, reviewer: str) -> None:
        """Release the reviewer's claim on the item's group; the items stay open."""
        now = utcnow()
        with transaction(self.factory) as s:
            row = self._item(s, item_id)
            self._check_live(row, reviewer, now)
            self._log(s, row, reviewer, "skip")
            s.execute(
                update(ItemRow)
                .where(_same_group(row), ItemRow.status == "claimed")
                .where(or_(ItemRow.claimed_by == reviewer, ItemRow.claim_expires_at < now))
                .values(status="open", claimed_by=None, claim_expires_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )

    @_retried
    def add_note(self, item_id: int, reviewer: str, note: str) -> None:
        """Append a note to the item's log (decides nothing)."""
        with transaction(self.factory) as s:
            self._log(s, self._item(s, item_id), reviewer, "note", note)

    @_retried
    def undo_last(self, reviewer: str) -> ReviewItem | None:
        """Supersede the reviewer's last effective decision and re-claim its item for them.

        Returns the re-opened item, or ``None`` when the reviewer has nothing to undo.
        """
        now = utcnow()
        with transaction(self.factory) as s:
            scope = [ReviewDecision.run_id == self.run_id] if self.run_id is not None else []
            mine = effective_decisions(s, ReviewDecision.reviewer == reviewer, *scope)
            if not mine:
                return None
            last = mine[-1]
            batch = [last]
            if last.note and last.note.startswith(NONE_OF_THESE):  # one key, one undo
                batch = [
                    d
                    for d in mine
                    if d.decided_at == last.decided_at
                    and d.run_id == last.run_id
                    and (d.source, d.record_id) == (last.source, last.record_id)
                    and d.note == last.note
                ]
            batch_ids = {d.id for d in batch}
            rows = [self._item(s, d.item_id) for d in batch]
            row = rows[-1] if last.decision != "reject" else min(rows, key=lambda r: r.rank)
            for d, r in zip(batch, rows, strict=True):
                undo = self._log(s, r, reviewer, "undo", f"undoes decision {d.id}")
                undo.supersedes_id = d.id
            if row.status == "superseded":
                return _to_item(row)
            lease = {
                "status": "claimed",
                "claimed_by": reviewer,
                "claim_expires_at": now + self.lease,
                "updated_at": now,
            }
            group = list(s.scalars(select(ItemRow).where(_same_group(row))))
            live = effective_decisions(
                s,
                ReviewDecision.item_id.in_([g.id for g in group]),
                ReviewDecision.id.not_in(batch_ids),
            )
            accepted = any(d.decision == "accept" for d in live)
            decided_ids = {d.item_id for d in live}
            reopen = [r.id for r in rows] if not accepted else []
            if last.decision == "accept":  # re-open what the accept had closed
                reopen += [g.id for g in group if g.status == "decided" and g.id not in decided_ids]
            if reopen:
                s.execute(
                    update(ItemRow)
                    .where(ItemRow.id.in_(reopen))
                    .values(**lease)
                    .execution_options(synchronize_session=False)
                )
            s.flush()
            s.refresh(row)
            return _to_item(row)
