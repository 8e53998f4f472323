"""The review queue on SQLite and PostgreSQL: claims, decisions, undo, leases, progress."""

from __future__ import annotations

import time

import pytest
from dbtest_queue_data import make_queue

from registry_link.db.engine import ReviewConflictError
from registry_link.db.models import AuditEntry, ReviewDecision
from registry_link.db.queue import ReviewQueue
from registry_link.errors import UsageError


def test_claim_takes_a_whole_record_and_reviewers_never_share(db_url: str) -> None:
    q = ReviewQueue(make_queue(db_url, records=2, candidates=3))
    a = q.claim_next("alice")
    b = q.claim_next("bob")
    assert a is not None and b is not None
    assert a.rank == 1 and b.rank == 1
    assert a.record_id != b.record_id
    assert {i.claimed_by for i in q.group(a.id)} == {"alice"}
    assert q.claim_next("carol") is None
    # a reviewer's own claim comes back first (a restarted console resumes)
    again = q.claim_next("alice")
    assert again is not None and again.id == a.id


def test_accept_closes_the_other_candidates(db_url: str) -> None:
    q = ReviewQueue(make_queue(db_url, records=1, candidates=3))
    item = q.claim_next("alice")
    assert item is not None
    q.decide(item.id, "alice", "accept", note="same CIN on the card")
    group = q.group(item.id)
    assert [i.status for i in group] == ["decided"] * 3
    assert [i.decision for i in group] == ["accept", None, None]
    assert group[0].decided_by == "alice"
    assert q.claim_next("alice") is None
    p = q.progress("alice")
    assert (p.total, p.decided, p.open, p.claimed, p.mine) == (3, 3, 0, 0, 1)
    assert p.records_left == 0


def test_reject_leaves_the_rest_of_the_record_with_the_reviewer(db_url: str) -> None:
    q = ReviewQueue(make_queue(db_url, records=2, candidates=2))
    first = q.claim_next("alice")
    assert first is not None
    q.decide(first.id, "alice", "reject")
    second = q.claim_next("alice")
    assert second is not None
    assert (second.record_id, second.rank) == (first.record_id, 2)
    assert q.get(first.id).decision == "reject"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("decided", "already decided"),
        ("claimed_by_other", "being reviewed by 'bob'"),
    ],
)
def test_conflicting_decisions_are_refused(db_url: str, setup: str, message: str) -> None:
    q = ReviewQueue(make_queue(db_url, records=1, candidates=2))
    if setup == "decided":
        item = q.claim_next("alice")
        assert item is not None
        q.decide(item.id, "alice", "reject")
        with pytest.raises(ReviewConflictError, match=message):
            q.decide(item.id, "alice", "accept")
    else:
        item = q.claim_next("bob")
        assert item is not None
        with pytest.raises(ReviewConflictError, match=message):
            q.decide(item.id, "alice", "accept")


def test_bad_decision_and_unknown_item(db_url: str) -> None:
    q = ReviewQueue(make_queue(db_url, records=1, candidates=1))
    with pytest.raises(UsageError, match="'accept' or 'reject'"):
        q.decide(1, "alice", "maybe")  # type: ignore[arg-type]
    with pytest.raises(ReviewConflictError, match="no review item 99"):
        q.decide(99, "alice", "accept")


def test_decide_without_claim_works_for_offline_decisions(db_url: str) -> None:
    q = ReviewQueue(make_queue(db_url, records=1, candidates=1))
    q.decide(1, "alice", "accept")
    assert q.get(1).status == "decided"


def test_skip_releases_and_puts_the_record_last_for_that_reviewer(db_url: str) -> None:
    q = ReviewQueue(make_queue(db_url, records=2, candidates=1))
    first = q.claim_next("alice")
    assert first is not None
    q.skip(first.id, "alice")
    assert q.get(first.id).status == "open"
    nxt = q.claim_next("alice")
    assert nxt is not None and nxt.record_id != first.record_id
    # for another reviewer the skipped record is not penalised
    other = q.claim_next("bob")
    assert other is not None and other.record_id == first.record_id


def test_undo_supersedes_and_reopens_what_an_accept_closed(db_url: str) -> None:
    factory = make_queue(db_url, records=1, candidates=2)
    q = ReviewQueue(factory)
    item = q.claim_next("alice")
    assert item is not None
    q.decide(item.id, "alice", "accept")
    undone = q.undo_last("alice")
    assert undone is not None and undone.id == item.id
    group = q.group(item.id)
    assert [(i.status, i.claimed_by, i.decision) for i in group] == [
        ("claimed", "alice", None),
        ("claimed", "alice", None),
    ]
    q.decide(group[1].id, "alice", "accept")
    assert [i.decision for i in q.group(item.id)] == [None, "accept"]
    assert q.undo_last("bob") is None
    with factory() as s:
        kinds = [d.decision for d in s.query(ReviewDecision).order_by(ReviewDecision.id)]
        undo = s.query(ReviewDecision).filter_by(decision="undo").one()
        assert undo.supersedes_id == 1
        assert s.query(AuditEntry).filter_by(action="review.undo").count() == 1
    assert kinds == ["accept", "undo", "accept"]  # append-only: the first accept is kept


def test_notes_are_logged(db_url: str) -> None:
    factory = make_queue(db_url, records=1, candidates=1)
    ReviewQueue(factory).add_note(1, "alice", "ask the cooperative for the CIN")
    with factory() as s:
        row = s.query(ReviewDecision).one()
    assert (row.decision, row.note) == ("note", "ask the cooperative for the CIN")


def test_expired_lease_is_taken_over_and_released(db_url: str) -> None:
    factory = make_queue(db_url, records=1, candidates=2)
    short = ReviewQueue(factory, lease_seconds=0)
    item = short.claim_next("alice")
    assert item is not None
    time.sleep(0.01)
    stolen = ReviewQueue(factory).claim_next("bob")
    assert stolen is not None and stolen.record_id == item.record_id
    assert {i.claimed_by for i in short.group(item.id)} == {"bob"}
    ReviewQueue(factory).decide(stolen.id, "bob", "reject")
    lapsed = ReviewQueue(factory, lease_seconds=0)
    lapsed.claim_next("bob")
    time.sleep(0.01)
    assert lapsed.release_expired() == 1
    assert [i.status for i in lapsed.items()] == ["decided", "open"]


def test_run_scope_and_items_filter(db_url: str) -> None:
    factory = make_queue(db_url, records=3, candidates=1)
    q = ReviewQueue(factory, run_id=1)
    assert len(q.items()) == 3
    assert ReviewQueue(factory, run_id=2).items() == []
    item = q.claim_next("alice")
    assert item is not None
    assert [i.id for i in q.items(status="claimed")] == [item.id]
    assert q.items()[0].payload["partner"]["given_name"] == "محمد"
