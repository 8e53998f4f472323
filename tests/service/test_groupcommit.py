"""Group commit: the writes of concurrent requests share a transaction, and every one is
committed before its request goes on (or gets its own error)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from registry_link.db.access import SearchRecord, record_searches, search_audit
from registry_link.db.engine import appending, prepare_database, reading
from registry_link.db.models import SearchAuditEntry
from registry_link.service.groupcommit import GroupCommit, Write


def _committed(factory: sessionmaker[Session]) -> Callable[[Write], None]:
    def transact(action: Write) -> None:
        with appending(factory) as connection:
            action(connection)

    return transact


def _row(n: int) -> SearchRecord:
    return SearchRecord(
        key_id="k1",
        partner="CNSS",
        endpoint="sync/search",
        query_type="idtype-value",
        criteria={"type": "CIN", "value": f"AB{n:06d}"},
        status="succ",
        person_ids=[f"p{n}"],
        reference_id=f"ref-{n}",
    )


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the other writers never handed their writes over"
        time.sleep(0.005)


def _run_while_first_holds_its_turn(
    commit: GroupCommit, writes: list[Write]
) -> list[BaseException | None]:
    """Write ``writes[0]`` in one thread and, while its transaction is open, hand the others
    over from their own threads: they are then committed together, in one transaction."""
    first_writing, others_handed = threading.Event(), threading.Event()

    def first(connection: Connection) -> None:
        first_writing.set()  # (its thread holds the turn: the others wait behind it)
        others_handed.wait(10)
        writes[0](connection)

    errors: list[BaseException | None] = [None] * len(writes)

    def run(i: int, write: Write) -> None:
        try:
            commit.write(write)
        except Exception as exc:
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(0, first))]
    threads[0].start()
    assert first_writing.wait(10)
    for i, write in enumerate(writes[1:], start=1):
        threads.append(threading.Thread(target=run, args=(i, write)))
        threads[-1].start()
    _wait_until(lambda: commit.handed_over == len(writes) - 1)
    others_handed.set()
    for thread in threads:
        thread.join(10)
    return errors


def test_a_lone_write_is_committed_at_once(tmp_path: Path) -> None:
    factory = prepare_database(f"sqlite:///{tmp_path / 'audit.db'}")
    commit = GroupCommit(_committed(factory))
    commit.write(lambda connection: record_searches(connection, [_row(1)]))
    with reading(factory) as session:
        assert [r.reference_id for r in search_audit(session)] == ["ref-1"]
    assert (commit.transactions, commit.writes) == (1, 1)


def test_concurrent_writes_share_a_transaction_and_every_row_is_written(tmp_path: Path) -> None:
    factory = prepare_database(f"sqlite:///{tmp_path / 'audit.db'}")
    commit = GroupCommit(_committed(factory))
    writes: list[Write] = [
        lambda connection, n=n: record_searches(connection, [_row(n)]) for n in range(16)
    ]
    errors = _run_while_first_holds_its_turn(commit, writes)
    assert errors == [None] * 16
    with reading(factory) as session:
        refs = sorted(r.reference_id or "" for r in search_audit(session))
    assert refs == sorted(f"ref-{n}" for n in range(16))
    # the first alone, the fifteen that waited behind it together
    assert (commit.transactions, commit.writes) == (2, 16)


def test_a_failing_write_fails_only_its_own_request(tmp_path: Path) -> None:
    factory = prepare_database(f"sqlite:///{tmp_path / 'audit.db'}")
    commit = GroupCommit(_committed(factory))

    def broken(connection: Connection) -> None:
        record_searches(connection, [_row(99)])
        connection.execute(text("SELECT * FROM no_such_table"))

    writes: list[Write] = [
        lambda connection, n=n: record_searches(connection, [_row(n)]) for n in range(4)
    ]
    writes.insert(2, broken)
    errors = _run_while_first_holds_its_turn(commit, writes)
    assert [e is None for e in errors] == [True, True, False, True, True]
    with reading(factory) as session:
        refs = sorted(r.reference_id or "" for r in search_audit(session))
        assert refs == [f"ref-{n}" for n in range(4)]  # not the broken write's row
        count = session.scalar(select(func.count()).select_from(SearchAuditEntry))
    assert count == 4


def test_an_interrupted_group_leaves_no_request_waiting() -> None:
    def interrupted(_action: Write) -> None:
        raise KeyboardInterrupt

    commit = GroupCommit(interrupted)
    with pytest.raises(KeyboardInterrupt):
        commit.write(lambda connection: None)
    assert commit.handed_over == 0
