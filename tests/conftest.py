"""Fixtures shared by every test directory.

``db_url``: every test that takes it runs on SQLite and on PostgreSQL. PostgreSQL needs
``REGISTRY_LINK_TEST_PG`` (printed by ``.ci/postgres.sh``); without it the PostgreSQL cases
skip with the reason. Each PostgreSQL test starts from an empty schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

#: The environment variable holding the PostgreSQL test database's URL.
PG_ENV = "REGISTRY_LINK_TEST_PG"


def empty_pg(url: str) -> None:
    """Drop and recreate the PostgreSQL test database's public schema."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database URL (a new SQLite file, or the emptied PostgreSQL test database);
    registry snapshots go to the test's own folder."""
    monkeypatch.setenv("REGISTRY_LINK_SNAPSHOTS", str(tmp_path / "snapshots"))
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need ${PG_ENV} (run .ci/postgres.sh); not set here")
    empty_pg(url)
    yield url
