"""``reading``: a read-only session that neither takes nor waits for SQLite's write lock."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from registry_link.db.access import add_key, list_keys
from registry_link.db.engine import DatabaseLockedError, prepare_database, reading, transaction
from registry_link.db.models import ApiKey


def test_reads_go_on_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    factory = prepare_database(f"sqlite:///{path}")
    with transaction(factory) as session:
        add_key(session, "CNSS", ["search:id"], "tests")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with reading(factory) as session:
            assert [k.partner for k in list_keys(session)] == ["CNSS"]
        assert time.monotonic() - started < 0.5  # no wait for the lock
        with pytest.raises(DatabaseLockedError), transaction(factory) as session:
            list_keys(session)  # a transaction takes the write lock from its start
    finally:
        other.rollback()
        other.close()


def test_what_a_reading_session_changes_is_not_saved(tmp_path: Path) -> None:
    factory = prepare_database(f"sqlite:///{tmp_path / 'r.db'}")
    with reading(factory) as session:
        add_key(session, "CNSS", ["search:id"], "tests")
    with transaction(factory) as session:
        assert session.scalars(select(ApiKey)).all() == []
