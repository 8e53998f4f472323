"""The interactive review through a real pseudo-terminal (pexpect): keys in, screen and
database state out; a killed reviewer loses nothing; two reviewers never share an item."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from registry_link.db.engine import open_database, transaction
from registry_link.db.models import ReviewDecision, ReviewItem
from registry_link.db.queue import ReviewQueue

from .conftest import build_queue_db

pexpect = pytest.importorskip("pexpect")

BIN = Path(sys.executable).parent
ITEM = re.compile(r"Review item (\d+)")
TIMEOUT = 15


def _spawn(db_url: str, reviewer: str, *extra: str) -> Any:
    env = dict(os.environ, TERM="dumb", COLUMNS="150", LINES="60", PYTHONUNBUFFERED="1")
    env.pop("REGISTRY_LINK_DB", None)
    return pexpect.spawn(
        str(BIN / "registry-link"),
        ["review", "--reviewer", reviewer, "--db", db_url, *extra],
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(60, 150),
    )


def _next_item(child: Any) -> int:
    child.expect(ITEM)
    item = int(child.match.group(1))
    child.expect(r"\[\?\] help")  # the whole item is drawn: ready for a key
    return item


def test_keys_in_screen_and_database_out(empty_url: str) -> None:
    url = build_queue_db(empty_url)
    child = _spawn(url, "amina")
    child.expect("Review item 1")
    child.expect("العلوي ‹elouy›")  # Arabic as stored with its Latin matching form
    child.expect(r"\+6\.2")  # the family name's contribution
    child.expect("record 1 of 3")
    child.expect(r"\[\?\] help")
    child.send("?")
    child.expect("undo your last accept/reject")
    child.send("a")
    child.expect("accepted item 1")
    assert _next_item(child) == 3
    child.send("n")
    child.expect("note")
    child.sendline("asked the coop for the CIN")
    child.expect("note saved on item 3")
    child.send("r")
    child.expect("rejected item 3")
    assert _next_item(child) == 4
    child.send("u")
    child.expect("undid your last decision on item 3")
    assert _next_item(child) == 3
    child.send("q")
    child.expect("every decision is saved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    queue = ReviewQueue(open_database(url))
    assert queue.get(1).decision == "accept" and queue.get(1).decided_by == "amina"
    assert queue.get(2).status == "decided"  # closed by the accept
    assert queue.get(3).decision is None and queue.get(3).status == "open"  # undone, released
    with transaction(open_database(url)) as s:
        kinds = list(s.scalars(select(ReviewDecision.decision).order_by(ReviewDecision.id)))
    assert kinds == ["accept", "note", "reject", "undo"]


def test_killed_reviewer_loses_nothing_and_the_claim_expires(empty_url: str) -> None:
    url = build_queue_db(empty_url)
    child = _spawn(url, "amina", "--lease", "60")
    assert _next_item(child) == 1
    child.send("r")
    assert _next_item(child) == 2
    child.send("a")
    assert _next_item(child) == 3
    child.send("r")
    assert _next_item(child) == 4  # now holding record C3
    child.kill(signal.SIGKILL)
    child.close(force=True)
    assert child.signalstatus == signal.SIGKILL
    queue = ReviewQueue(open_database(url))
    assert [queue.get(i).decision for i in (1, 2, 3)] == ["reject", "accept", "reject"]
    assert queue.get(4).claimed_by == "amina"
    assert queue.claim_next("said") is None  # still leased to the killed session
    with transaction(open_database(url)) as s:  # the abandoned lease runs out (no sleeping)
        s.execute(
            update(ReviewItem)
            .where(ReviewItem.status == "claimed")
            .values(claim_expires_at=ReviewItem.created_at)
        )
    got = queue.claim_next("said")
    assert got is not None and got.id == 4


def test_two_reviewers_at_once_never_get_the_same_item(empty_url: str) -> None:
    url = build_queue_db(empty_url, extra_records=12)  # 15 records, 16 items
    a, b = _spawn(url, "amina"), _spawn(url, "said")
    shown: dict[str, list[int]] = {"amina": [], "said": []}
    live = {"amina": a, "said": b}
    current = {name: _next_item(child) for name, child in live.items()}
    while live:
        for name, child in list(live.items()):  # both press a key, then both read the screen
            shown[name].append(current[name])
            child.send("a")
        for name, child in list(live.items()):
            i = child.expect([ITEM, "nothing left to review"])
            if i == 1:
                child.expect(pexpect.EOF)
                del live[name]
            else:
                current[name] = int(child.match.group(1))
                child.expect(r"\[\?\] help")
    a.close()
    b.close()
    assert a.exitstatus == 0 and b.exitstatus == 0
    assert shown["amina"] and shown["said"]
    assert not set(shown["amina"]) & set(shown["said"])  # never the same item
    queue = ReviewQueue(open_database(url))
    items = queue.items()
    by_record: dict[str, set[str]] = {}
    for it in items:
        assert it.status == "decided"  # none lost
        if it.decided_by:
            by_record.setdefault(it.record_id, set()).add(it.decided_by)
    assert len(by_record) == 15 and all(len(v) == 1 for v in by_record.values())
    with transaction(open_database(url)) as s:
        per_item = s.execute(
            select(ReviewDecision.item_id, func.count()).group_by(ReviewDecision.item_id)
        ).all()
    assert all(n == 1 for _, n in per_item)  # no item decided twice


# ------------------------------------------------------------------ issue 15: keys and screen


def _spawn_small(db_url: str, reviewer: str = "amina") -> Any:
    """The review in an 80×24 terminal."""
    env = dict(os.environ, TERM="dumb", PYTHONUNBUFFERED="1")
    for var in ("REGISTRY_LINK_DB", "COLUMNS", "LINES"):
        env.pop(var, None)
    return pexpect.spawn(
        str(BIN / "registry-link"),
        ["review", "--reviewer", reviewer, "--db", db_url],
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(24, 80),
    )


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\r")


def test_screen_fits_80x24_and_keeps_the_deciding_lines(empty_url: str) -> None:
    url = build_queue_db(empty_url)
    child = _spawn_small(url)
    child.expect(r"Review item 1\b")
    child.expect(r"\[\?\] help")
    screen = "Review item 1" + _ANSI.sub("", child.before)
    lines = screen.rstrip("\n").split("\n")
    assert len(lines) <= 22 and max(len(line) for line in lines) <= 80
    for shown in ("EL ALAOUI", "العلوي", "BK123456", "BK123465", "1985", "12/03/1985", "+6.2"):
        assert shown in screen
    assert "match probability 0.810" in screen and "candidate 1 of 2" in screen
    assert "candidates: ▶1 1000000001 p=0.810" in screen
    child.send("q")
    child.expect(pexpect.EOF)


def test_keys_typed_together_are_each_applied_and_not_echoed(empty_url: str) -> None:
    url = build_queue_db(empty_url)
    child = _spawn_small(url)
    assert _next_item(child) == 1
    assert child.getecho() is False  # the session turned the terminal's echo off
    child.send("sr")  # two keys in one read: was "unknown key 'sr'", both dropped
    child.expect("skipped record C1")
    child.expect("rejected item 3")
    assert _next_item(child) == 4
    child.send("a")
    child.send("u")  # typed while the screen is redrawn: queued, not lost
    child.expect("accepted item 4")
    child.expect("undid your last decision on item 4")
    assert _next_item(child) == 4
    child.send("q")
    child.expect(pexpect.EOF)
    queue = ReviewQueue(open_database(url))
    assert queue.get(3).decision == "reject" and queue.get(4).decision is None
    assert "unknown key" not in (child.before or "")


def test_esc_cancels_a_note_and_none_of_these_rejects_every_candidate(empty_url: str) -> None:
    url = build_queue_db(empty_url)
    child = _spawn_small(url)
    assert _next_item(child) == 1
    child.send("n")
    child.expect("Enter saves, Esc cancels")
    child.send("not this")
    child.send("\x1b")
    child.expect("note cancelled, nothing saved")
    child.send("c")  # the next candidate, with its own probability
    child.expect(r"Review item 2\b")
    child.expect("match probability 0.640")
    child.expect(r"\[\?\] help")
    child.send("x")  # none of these: both candidates of C1 in one key
    child.expect("none of these: rejected 2 candidate")
    assert _next_item(child) == 3
    child.send("u")  # one undo brings the whole record back
    child.expect("undid your last decision")
    child.expect(r"Review item [12]\b")
    child.send("\x03")  # Ctrl-C quits cleanly and releases the claim
    child.expect("every decision is saved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    with transaction(open_database(url)) as s:
        kinds = [d.decision for d in s.scalars(select(ReviewDecision).order_by(ReviewDecision.id))]
    assert kinds == ["reject", "reject", "undo", "undo"]  # no note was saved
    queue = ReviewQueue(open_database(url))
    assert {i.status for i in queue.items()} == {"open"}  # released on Ctrl-C


def test_a_note_is_shown_with_the_record(empty_url: str) -> None:
    url = build_queue_db(empty_url)
    ReviewQueue(open_database(url)).add_note(1, "said", "called the coop: CIN checked")
    child = _spawn_small(url)
    child.expect(r"Review item 1\b")
    child.expect("said: called the coop: CIN checked")
    child.expect(r"\[\?\] help")
    child.send("q")
    child.expect(pexpect.EOF)
