"""Migrations from an empty database to head, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from registry_link.db.engine import (
    DatabaseError,
    current_revision,
    head_revision,
    make_engine,
    open_database,
    resolve_url,
    upgrade,
)
from registry_link.db.models import Base

TABLES = {
    "registry_snapshots",
    "registry_persons",
    "registry_households",
    "sources",
    "runs",
    "links",
    "review_items",
    "review_decisions",
    "output_households",
    "audit_log",
    "api_keys",
    "search_audit",
    "service_jobs",
    "registry_updates",
    "seen_signatures",
}


def test_empty_to_head_creates_every_table(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert set(Base.metadata.tables) == TABLES


def test_migration_matches_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_uninitialised_database_is_refused(db_url: str) -> None:
    with pytest.raises(DatabaseError, match="registry-link init"):
        open_database(db_url)


def test_missing_sqlite_file_is_not_created(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "absent.db"
    with pytest.raises(DatabaseError, match="does not exist"):
        open_database(f"sqlite:///{path}")
    assert not path.exists()


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        ("sqlite:///a.db", "sqlite:///b.db", "sqlite:///a.db"),
        (None, "sqlite:///b.db", "sqlite:///b.db"),
        (None, None, "sqlite:///registry-link.db"),
    ],
)
def test_url_resolution(
    given: str | None, env: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env is None:
        monkeypatch.delenv("REGISTRY_LINK_DB", raising=False)
    else:
        monkeypatch.setenv("REGISTRY_LINK_DB", env)
    assert resolve_url(given) == expected


def test_bad_url_is_a_clean_error() -> None:
    with pytest.raises(DatabaseError, match="cannot use database URL"):
        make_engine("nosuchdialect://x")
