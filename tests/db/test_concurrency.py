"""Several reviewer processes on one queue (SQLite file and PostgreSQL), and a killed reviewer.

No item is decided twice, none is lost, and every decision committed before a kill is kept.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from typing import Any

from dbtest_queue_data import make_queue
from sqlalchemy import func, select

from registry_link.db.engine import open_database
from registry_link.db.models import ReviewDecision, ReviewItem
from registry_link.db.queue import ReviewQueue

RECORDS, CANDIDATES, REVIEWERS = 24, 2, 4


def _reviewer(url: str, name: str, out: mp.Queue, start: Any) -> None:  # type: ignore[type-arg]
    q = ReviewQueue(open_database(url))
    decided = []
    start.wait(60)  # every reviewer begins at once, so their claims really race
    while (item := q.claim_next(name)) is not None:
        # odd records: reject the first candidate then accept the second; even: accept
        kind = "reject" if int(item.record_id[1:]) % 2 and item.rank == 1 else "accept"
        q.decide(item.id, name, kind)  # type: ignore[arg-type]
        decided.append(item.id)
    out.put((name, decided))


def test_reviewers_in_parallel_never_share_nor_lose_an_item(db_url: str) -> None:
    factory = make_queue(db_url, records=RECORDS, candidates=CANDIDATES)
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start = ctx.Barrier(REVIEWERS)
    procs = [
        ctx.Process(target=_reviewer, args=(db_url, f"rev{i}", out, start))
        for i in range(REVIEWERS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    ids = [i for _, decided in results for i in decided]
    assert len(ids) == len(set(ids))  # no item decided twice
    with factory() as s:
        statuses = dict(
            s.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status)).all()
        )
        rows = s.scalars(select(ReviewDecision)).all()
    assert statuses == {"decided": RECORDS * CANDIDATES}  # none lost
    assert len(rows) == len(ids) == RECORDS // 2 * 2 + RECORDS // 2
    assert len({r.item_id for r in rows}) == len(rows)
    # one reviewer per record
    by_record: dict[str, set[str]] = {}
    for r in rows:
        by_record.setdefault(r.record_id, set()).add(r.reviewer)
    assert all(len(v) == 1 for v in by_record.values())
    # (how the work was shared between the reviewers depends on the scheduler: not asserted)


def _killable(url: str, ready: mp.Event) -> None:  # type: ignore[type-arg]
    q = ReviewQueue(open_database(url))
    for _ in range(3):
        item = q.claim_next("kim")
        assert item is not None
        q.decide(item.id, "kim", "accept")
    q.claim_next("kim")  # holds a claim when killed
    ready.set()
    signal.pause()


def test_a_killed_reviewer_loses_nothing_and_its_claim_expires(db_url: str) -> None:
    factory = make_queue(db_url, records=5, candidates=1)
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_killable, args=(db_url, ready))
    proc.start()
    assert ready.wait(60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    q = ReviewQueue(factory)
    assert [i.decision for i in q.items(status="decided")] == ["accept"] * 3
    assert len(q.items(status="claimed")) == 1
    with factory() as s:  # make the dead reviewer's lease lapse
        s.execute(
            ReviewItem.__table__.update()
            .where(ReviewItem.status == "claimed")
            .values(claim_expires_at=ReviewItem.created_at)
        )
        s.commit()
    assert q.release_expired() == 1
    assert q.progress().open == 2
