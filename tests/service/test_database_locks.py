"""The service's writes (search audit, registry updates) under SQLite's single writer lock.

Under load the threads answering a coalesced batch of searches all wrote their audit rows at
once; with SQLite's short busy timeout some failed with ``DatabaseLockedError`` (a 500: 4-6 of
1,000 requests in ``bench_service.py``). The service's threads now take turns, and a lock held
by another process is waited for (bounded) instead of failing the request.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from registry_link.db.engine import open_database, transaction
from registry_link.db.models import SearchAuditEntry
from tests.service.conftest import Service, by_id, envelope

SEARCH = "/registry/sync/search"


def _audit_rows(service: Service) -> int:
    with transaction(open_database(service.settings.db_url)) as session:
        return int(session.scalar(select(func.count()).select_from(SearchAuditEntry)) or 0)


def test_a_search_waits_for_a_lock_another_process_holds(
    make_service: Any, tmp_path: Path, registry_rows: list[dict[str, str]]
) -> None:
    path = tmp_path / "locked.db"
    service: Service = make_service(db_url=f"sqlite:///{path}")
    cin = next(r["cin"] for r in registry_rows if r["cin"])
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(1.6, other.commit)  # held past one busy-timeout slice (1 s)
    release.start()
    started = time.monotonic()
    try:
        answered = service.client.post(
            SEARCH, json=envelope(by_id("CIN", cin)), headers=service.auth()
        )
    finally:
        release.join()
        other.close()
    assert answered.status_code == 200, answered.text
    assert time.monotonic() - started >= 1.5  # it waited for the lock, then wrote its audit
    assert _audit_rows(service) == 1


def test_concurrent_searches_all_write_their_audit(
    make_service: Any,
    tmp_path: Path,
    registry_rows: list[dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import registry_link.db.engine as engine

    # a busy timeout of 1 ms: two threads committing at once would fail without turns
    monkeypatch.setattr(engine, "LOCK_SLICE_MS", 1)
    service: Service = make_service(db_url=f"sqlite:///{tmp_path / 'busy.db'}")
    cins = [r["cin"] for r in registry_rows if r["cin"]][:48]

    def search(cin: str) -> int:
        body = envelope(by_id("CIN", cin))
        return int(service.client.post(SEARCH, json=body, headers=service.auth()).status_code)

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(search, cins))
    assert statuses == [200] * len(cins)
    assert _audit_rows(service) == len(cins)
