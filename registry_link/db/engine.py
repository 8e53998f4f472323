"""Database URL, engine and session factory, and migrations to head.

The URL comes from ``--db URL``, else the environment variable ``REGISTRY_LINK_DB``, else
``sqlite:///registry-link.db`` in the working folder. SQLite connections get WAL journaling,
foreign keys and a busy timeout (several reviewers on one file); PostgreSQL is used as is
(``postgresql+psycopg://user:password@host:port/db``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from registry_link.errors import RegistryLinkError

#: Environment variable holding the database URL.
DB_ENV: Final[str] = "REGISTRY_LINK_DB"
#: The embedded default: a SQLite file in the working folder.
DEFAULT_URL: Final[str] = "sqlite:///registry-link.db"
#: Milliseconds a SQLite writer waits for the lock before failing.
SQLITE_BUSY_MS: Final[int] = 30_000

SessionFactory = Callable[[], Session]


class DatabaseError(RegistryLinkError):
    """The database cannot be used as asked (bad URL, not initialised, conflicting action)."""


class ReviewConflictError(DatabaseError):
    """A review action conflicts with the item's state (claimed by another, already decided)."""


def resolve_url(url: str | None = None) -> str:
    """The database URL: the given one, else ``$REGISTRY_LINK_DB``, else the SQLite default."""
    return url or os.environ.get(DB_ENV) or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # no implicit BEGIN from pysqlite
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for the URL (see :func:`resolve_url`), with the SQLite pragmas set.

    Raises:
        DatabaseError: the URL is malformed or names a driver that is not installed.
    """
    resolved = resolve_url(url)
    try:
        parsed = make_url(resolved)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
            event.listen(engine, "connect", _sqlite_pragmas)
            # SQLAlchemy, not pysqlite, issues BEGIN, and an IMMEDIATE one: a transaction holds
            # the write lock from its start, so a claim's read-then-update cannot go stale
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DatabaseError(
            f"cannot use database URL {_masked(resolved)!r}: {exc}; give e.g. "
            f"sqlite:///registry-link.db or postgresql+psycopg://user:password@host:5432/db "
            f"(--db or ${DB_ENV})"
        ) from exc


def _masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to the engine (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@lru_cache(maxsize=1)
def _migrations_dir() -> Path:
    return Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Any:
    """An Alembic config whose script location is inside the installed package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the latest revision (idempotent).

    Raises:
        DatabaseError: the database cannot be reached or migrated.
    """
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"cannot create or migrate the database {_masked(str(engine.url))}: "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}; check the URL, that the "
            f"server runs and that the user may create tables"
        ) from exc


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None``: not initialised)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The latest schema revision shipped with this version."""
    from alembic.script import ScriptDirectory

    cfg = alembic_config(create_engine("sqlite://"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def open_database(url: str | None = None, *, create: bool = False) -> sessionmaker[Session]:
    """A session factory for an initialised database (or create/migrate it with ``create``).

    Raises:
        DatabaseError: the database is not initialised (run ``registry-link init``) or is at an
            older schema revision.
    """
    engine = make_engine(url)
    db_file = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not create and db_file and db_file != ":memory:" and not Path(db_file).exists():
        raise DatabaseError(
            f"the database file {db_file} does not exist; create it with "
            f"`registry-link init --db {_masked(str(engine.url))}`"
        )
    if create:
        upgrade(engine)
        return session_factory(engine)
    try:
        rev = current_revision(engine)
        has_tables = inspect(engine).has_table("runs")
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"cannot open the database {_masked(str(engine.url))}: {str(exc).splitlines()[0]}; "
            f"check the URL and that the server runs"
        ) from exc
    if rev is None or not has_tables:
        raise DatabaseError(
            f"the database {_masked(str(engine.url))} is not initialised; run "
            f"`registry-link init --db {_masked(str(engine.url))}` first"
        )
    if rev != head_revision():
        raise DatabaseError(
            f"the database {_masked(str(engine.url))} is at schema revision {rev}, this version "
            f"needs {head_revision()}; run `registry-link init` to migrate it"
        )
    return session_factory(engine)


def database_dir(engine: Engine) -> Path:
    """The folder the snapshots go in: the SQLite file's folder, else the working folder."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return Path.cwd()
