"""Database URL, engine and session factory, migrations, and what a database failure means.

The URL comes from ``--db URL``, else the environment variable ``REGISTRY_LINK_DB``, else
``sqlite:///registry-link.db`` in the working folder. Two databases are supported: SQLite (WAL
journaling, foreign keys; several reviewers on one file) and PostgreSQL through psycopg 3
(``postgresql+psycopg://user:password@host:port/db``; a bare ``postgresql://`` means psycopg
too; install it with ``pip install 'registry-link[postgres]'``).

Failures: every SQLAlchemy/driver error that leaves :func:`transaction` is turned into one
:class:`DatabaseError` subclass saying what happened and what to do (:func:`database_failure`):
a read-only file, a lock another writer holds, a server gone, a schema newer than this version.
Nothing is half-written: each transaction is committed whole or rolled back.

Locks: a writer waits for another's lock in short slices (1 s: SQLite's busy timeout,
PostgreSQL's ``lock_timeout``); :func:`retry_locked` repeats an action for a bounded time
(``$REGISTRY_LINK_LOCK_WAIT`` seconds, default 30), reporting each wait, then gives up with
:class:`DatabaseLockedError`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from registry_link.errors import RegistryLinkError

#: Environment variable holding the database URL.
DB_ENV: Final[str] = "REGISTRY_LINK_DB"
#: The embedded default: a SQLite file in the working folder.
DEFAULT_URL: Final[str] = "sqlite:///registry-link.db"
#: Environment variable: seconds to keep retrying while another writer holds the lock.
LOCK_WAIT_ENV: Final[str] = "REGISTRY_LINK_LOCK_WAIT"
#: Default of :data:`LOCK_WAIT_ENV`.
DEFAULT_LOCK_WAIT: Final[float] = 30.0
#: Milliseconds one attempt waits for a lock (SQLite busy timeout, PostgreSQL lock_timeout).
LOCK_SLICE_MS: Final[int] = 1_000
#: Kept for callers of earlier versions: the per-attempt SQLite busy timeout.
SQLITE_BUSY_MS: Final[int] = LOCK_SLICE_MS
#: The databases registry-link runs on, as a user reads them.
SUPPORTED: Final[str] = (
    "SQLite (sqlite:///registry-link.db) and PostgreSQL "
    "(postgresql+psycopg://user:password@host:5432/db)"
)
#: The pip command that installs the PostgreSQL driver.
POSTGRES_EXTRA: Final[str] = "pip install 'registry-link[postgres]'"

SessionFactory = Callable[[], Session]
#: Called while waiting for a lock: (seconds waited so far, seconds it will wait at most).
WaitReporter = Callable[[float, float], None]
T = TypeVar("T")


class DatabaseError(RegistryLinkError):
    """The database cannot be used as asked (bad URL, not initialised, conflicting action)."""


class ReviewConflictError(DatabaseError):
    """A review action conflicts with the item's state (claimed by another, already decided)."""


class UnsupportedDatabaseError(DatabaseError):
    """The URL names a database registry-link does not support, or a driver not installed."""


class SchemaTooNewError(DatabaseError):
    """The database was migrated by a newer registry-link than this one."""


class ReadOnlyDatabaseError(DatabaseError):
    """The database (file, folder or account) cannot be written."""


class DatabaseLockedError(DatabaseError):
    """Another writer held the lock for longer than the configured wait."""


class DatabaseUnavailableError(DatabaseError):
    """The database server cannot be reached (stopped, restarted, network gone)."""


def resolve_url(url: str | None = None) -> str:
    """The database URL: the given one, else ``$REGISTRY_LINK_DB``, else the SQLite default."""
    return url or os.environ.get(DB_ENV) or DEFAULT_URL


def lock_wait_seconds(value: float | None = None) -> float:
    """Seconds to keep retrying on a locked database: ``value``, else ``$REGISTRY_LINK_LOCK_WAIT``,
    else :data:`DEFAULT_LOCK_WAIT`.

    Raises:
        DatabaseError: the environment variable is not a number of seconds ≥ 0.
    """
    if value is not None:
        return max(0.0, float(value))
    raw = os.environ.get(LOCK_WAIT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_LOCK_WAIT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise DatabaseError(
            f"${LOCK_WAIT_ENV} is {raw!r}; give the seconds to wait for a locked database "
            f"(a number ≥ 0, e.g. 30)"
        )
    return seconds


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # no implicit BEGIN from pysqlite
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout={LOCK_SLICE_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


#: Execution option of a session that only reads (:func:`reading`): on SQLite its transaction
#: begins deferred, so it neither takes nor waits for the write lock (WAL readers never wait).
READ_ONLY: Final[str] = "registry_link_read_only"


def _sqlite_begin(conn: Any) -> None:
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _pg_session_settings(dbapi_connection: Any, _record: Any) -> None:
    # a lock another transaction holds fails this attempt after one slice (retried, visibly)
    # instead of hanging the reviewer's key press for as long as the other holds it
    cur = dbapi_connection.cursor()
    cur.execute(f"SET lock_timeout = {LOCK_SLICE_MS}")
    cur.close()
    dbapi_connection.commit()


def _parse(resolved: str) -> URL:
    try:
        parsed = make_url(resolved)
    except (ArgumentError, ValueError) as exc:
        raise UnsupportedDatabaseError(
            f"cannot use database URL {_masked(resolved)!r}: {exc}; registry-link supports "
            f"{SUPPORTED} (--db or ${DB_ENV})"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UnsupportedDatabaseError(
            f"cannot use database URL {_masked(resolved)!r}: {backend!r} databases are not "
            f"supported; registry-link supports {SUPPORTED} (--db or ${DB_ENV})"
        )
    if parsed.drivername == "postgresql":  # SQLAlchemy would pick psycopg2; we ship psycopg 3
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise UnsupportedDatabaseError(
            f"cannot use database URL {_masked(resolved)!r}: the driver "
            f"{parsed.get_driver_name()!r} is not supported; write postgresql+psycopg://… "
            f"(install the driver with {POSTGRES_EXTRA})"
        )
    return parsed


def make_engine(url: str | None = None) -> Engine:
    """An engine for the URL (see :func:`resolve_url`), with the SQLite pragmas set.

    Raises:
        UnsupportedDatabaseError: the URL is malformed, names a database other than SQLite or
            PostgreSQL, or PostgreSQL's driver (psycopg, the ``postgres`` extra) is missing.
    """
    resolved = resolve_url(url)
    parsed = _parse(resolved)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": LOCK_SLICE_MS / 1000})
            event.listen(engine, "connect", _sqlite_pragmas)
            # SQLAlchemy, not pysqlite, issues BEGIN, and an IMMEDIATE one: a transaction holds
            # the write lock from its start, so a claim's read-then-update cannot go stale
            # (a read-only session, :func:`reading`, begins deferred: it takes no write lock)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        engine = create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        event.listen(engine, "connect", _pg_session_settings)
        return engine
    except ModuleNotFoundError as exc:
        raise UnsupportedDatabaseError(
            f"the database URL {_masked(resolved)!r} needs the PostgreSQL driver psycopg, which "
            f"is not installed; install it with {POSTGRES_EXTRA}"
        ) from exc
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise UnsupportedDatabaseError(
            f"cannot use database URL {_masked(resolved)!r}: {exc}; registry-link supports "
            f"{SUPPORTED} (--db or ${DB_ENV})"
        ) from exc


def _masked(url: str | URL) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return str(url)


# ------------------------------------------------------------------ failures

_READ_ONLY = ("readonly database", "read-only", "read only", "permission denied")
_LOCKED = ("database is locked", "database table is locked", "lock timeout", "deadlock")
_GONE = (
    "server closed the connection",
    "connection refused",
    "terminating connection",
    "could not connect",
    "connection is closed",
    "connection is lost",
    "consuming input failed",
    "server conn crashed",
    "no connection to the server",
    "connection timeout expired",
    "ssl syscall error",
)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__


def failure_kind(exc: BaseException) -> str:
    """What a database error means: ``read_only``, ``locked``, ``gone`` or ``other``."""
    orig = getattr(exc, "orig", None)
    state = str(getattr(orig, "sqlstate", "") or "")
    message = str(orig or exc).lower()
    if state in ("25006", "42501") or any(t in message for t in _READ_ONLY):
        return "read_only"
    if state in ("55P03", "40P01") or any(t in message for t in _LOCKED):
        return "locked"
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if invalidated or state.startswith("08") or state in ("57P01", "57P02", "57P03"):
        return "gone"
    if any(t in message for t in _GONE):
        return "gone"
    return "other"


def database_failure(exc: BaseException, url: str | URL | None = None) -> DatabaseError:
    """The user-facing error for a SQLAlchemy/driver error: what happened and what to do."""
    where = _masked(url) if url is not None else "the database"
    detail = _first_line(exc)
    kind = failure_kind(exc)
    if kind == "read_only":
        return ReadOnlyDatabaseError(
            f"cannot write to the database {where}: it is read-only ({detail}); nothing was "
            f"saved. Give your account write access to the database (for SQLite: the file "
            f"and its folder), or use a writable copy with --db"
        )
    if kind == "locked":
        return DatabaseLockedError(
            f"the database {where} stayed locked by another writer ({detail}); nothing was "
            f"saved. Try again when the other command has finished, or wait longer with "
            f"${LOCK_WAIT_ENV}=SECONDS"
        )
    if kind == "gone":
        return DatabaseUnavailableError(
            f"lost the connection to the database {where} ({detail}); the action in progress "
            f"was not saved (everything saved before it is kept). Check that the server runs "
            f"and is reachable, then run the command again"
        )
    return DatabaseError(
        f"the database {where} refused the operation ({exc.__class__.__name__}: {detail}); "
        f"nothing was saved"
    )


def retry_locked(
    action: Callable[[], T],
    *,
    wait: float | None = None,
    on_wait: WaitReporter | None = None,
) -> T:
    """Run ``action``; while it fails because another writer holds the lock, run it again, for
    at most ``wait`` seconds (default: :func:`lock_wait_seconds`), calling ``on_wait`` before
    each new attempt.

    ``action`` must be one transaction (rolled back when it fails), so repeating it is safe.

    Raises:
        DatabaseLockedError: still locked after ``wait`` seconds.
    """
    limit = lock_wait_seconds(wait)
    report = on_wait if on_wait is not None else report_wait_on_stderr
    start = time.monotonic()
    while True:
        try:
            return action()
        except DatabaseLockedError as exc:
            waited = time.monotonic() - start
            if waited >= limit:
                raise DatabaseLockedError(f"{exc} (waited {waited:.0f} s)") from exc
            report(waited, limit)
            time.sleep(min(0.2, max(limit - waited, 0.0)))


def report_wait_on_stderr(waited: float, limit: float) -> None:
    """The default lock-wait report: one line on standard error."""
    print(
        f"the database is locked by another writer: waiting ({waited:.0f} s of at most "
        f"{limit:.0f} s) …",
        file=sys.stderr,
        flush=True,
    )


# ------------------------------------------------------------------ sessions


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to the engine (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def _url_of(session: Session) -> URL | None:
    try:
        bind = session.get_bind()
    except SQLAlchemyError:  # pragma: no cover - an unbound session
        return None
    return bind.url if isinstance(bind, Engine) else None


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error.

    Raises:
        DatabaseError: (a subclass of) for any database failure, see :func:`database_failure`.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        _quiet_rollback(session)
        raise database_failure(exc, _url_of(session)) from exc
    except BaseException:
        _quiet_rollback(session)
        raise
    finally:
        _quiet_close(session)


@contextmanager
def appending(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """A connection of ``factory``'s engine in one write transaction, without an ORM session
    (a third of the CPU of :func:`transaction` for a one-row append, e.g. the search audit's):
    committed on success, rolled back on any error.

    Raises:
        DatabaseError: (a subclass of) for any database failure, see :func:`database_failure`.
    """
    engine: Engine = factory.kw["bind"]
    try:
        with engine.begin() as connection:
            yield connection
    except SQLAlchemyError as exc:
        raise database_failure(exc, engine.url) from exc


@contextmanager
def reading(factory: SessionFactory) -> Iterator[Session]:
    """A session for reads only, rolled back at the end: on SQLite it does not take the write
    lock (every :func:`transaction` does, from its start), so many readers (the service's
    key checks) never queue behind each other nor behind a writer.

    Raises:
        DatabaseError: (a subclass of) for any database failure, see :func:`database_failure`.
    """
    session = factory()
    try:
        session.connection(execution_options={READ_ONLY: True})  # (before its BEGIN)
        yield session
    except SQLAlchemyError as exc:
        raise database_failure(exc, _url_of(session)) from exc
    finally:
        _quiet_rollback(session)
        _quiet_close(session)


def _quiet_rollback(session: Session) -> None:
    # the connection may be gone: the server then rolls back by itself
    with contextlib.suppress(SQLAlchemyError):
        session.rollback()


def _quiet_close(session: Session) -> None:
    with contextlib.suppress(SQLAlchemyError):
        session.close()


# ------------------------------------------------------------------ schema


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


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every schema revision this version ships."""
    from alembic.script import ScriptDirectory

    cfg = alembic_config(create_engine("sqlite://"))
    return frozenset(s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions())


def _refuse_newer(engine: Engine, rev: str | None) -> None:
    if rev is not None and rev not in known_revisions():
        from registry_link import __version__

        raise SchemaTooNewError(
            f"the database {_masked(engine.url)} is at schema revision {rev!r}, which this "
            f"registry-link ({__version__}, schema {head_revision()}) does not know: a newer "
            f"registry-link wrote it. Upgrade registry-link (pip install -U registry-link) to "
            f"use it; `registry-link init` cannot downgrade a database"
        )


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the latest revision (idempotent).

    Raises:
        SchemaTooNewError: the database is at a revision newer than this version.
        DatabaseError: the database cannot be reached or migrated.
    """
    from alembic import command

    _refuse_newer(engine, current_revision(engine))
    try:
        command.upgrade(alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        failure = database_failure(exc, engine.url)
        if type(failure) is DatabaseError:
            raise DatabaseError(
                f"cannot create or migrate the database {_masked(engine.url)}: "
                f"{exc.__class__.__name__}: {_first_line(exc)}; check the URL, that the "
                f"server runs and that the user may create tables"
            ) from exc
        raise failure from exc


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None``: not initialised).

    Raises:
        DatabaseError: the database cannot be reached.
    """
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise database_failure(exc, engine.url) from exc


def head_revision() -> str:
    """The latest schema revision shipped with this version."""
    from alembic.script import ScriptDirectory

    cfg = alembic_config(create_engine("sqlite://"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _sqlite_file(engine: Engine) -> str | None:
    """The SQLite database's file path (``None``: not SQLite, or in memory)."""
    if engine.url.get_backend_name() != "sqlite":
        return None
    db_file = engine.url.database
    if not db_file or db_file == ":memory:" or "mode=memory" in db_file:
        return None
    if db_file.startswith("file:"):  # a SQLite URI filename (uri=true), e.g. ?mode=ro
        return db_file[len("file:") :].split("?", 1)[0] or None
    return db_file


def _schema_state(engine: Engine) -> tuple[str | None, bool]:
    rev = current_revision(engine)
    try:
        return rev, inspect(engine).has_table("runs")
    except SQLAlchemyError as exc:
        raise database_failure(exc, engine.url) from exc


def open_database(url: str | None = None, *, create: bool = False) -> sessionmaker[Session]:
    """A session factory for an initialised database (or create/migrate it with ``create``).

    Raises:
        DatabaseError: the database is not initialised (run ``registry-link init``) or is at an
            older schema revision.
        SchemaTooNewError: it is at a newer revision than this version knows.
    """
    engine = make_engine(url)
    db_file = _sqlite_file(engine)
    if not create and db_file and not Path(db_file).exists():
        raise DatabaseError(
            f"the database file {db_file} does not exist; create it with "
            f"`registry-link init --db {_masked(engine.url)}`"
        )
    if create:
        retry_locked(lambda: upgrade(engine))
        return session_factory(engine)
    rev, has_tables = retry_locked(lambda: _schema_state(engine))
    _refuse_newer(engine, rev)
    if rev is None or not has_tables:
        raise DatabaseError(
            f"the database {_masked(engine.url)} is not initialised; run "
            f"`registry-link init --db {_masked(engine.url)}` first"
        )
    if rev != head_revision():
        raise DatabaseError(
            f"the database {_masked(engine.url)} is at schema revision {rev}, this version "
            f"needs {head_revision()}; run `registry-link init --db {_masked(engine.url)}` to "
            f"migrate it (its data is kept)"
        )
    return session_factory(engine)


def check_writable(factory: SessionFactory, *, wait: float | None = None) -> None:
    """Prove the database accepts writes: one row written to the audit log, then rolled back.

    Raises:
        ReadOnlyDatabaseError: the file, its folder or the account is read-only.
        DatabaseLockedError: another writer held the lock longer than ``wait``.
        DatabaseUnavailableError: the server cannot be reached.
    """

    def attempt() -> None:
        session = factory()
        try:
            session.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, object, details) "
                    "VALUES (CURRENT_TIMESTAMP, 'system', 'db.check', 'database', '{}')"
                )
            )
        except SQLAlchemyError as exc:
            _quiet_rollback(session)
            raise database_failure(exc, _url_of(session)) from exc
        finally:
            _quiet_rollback(session)
            _quiet_close(session)

    retry_locked(attempt, wait=wait)


def prepare_database(
    url: str | None = None, *, lock_wait: float | None = None
) -> sessionmaker[Session]:
    """Everything ``registry-link match --db URL`` must know before it reads any input.

    Connects, creates an empty database or migrates an older one to this version's schema
    (its data is kept), refuses one at a newer schema, and proves the database is writable.

    Args:
        url: the database URL (default: ``$REGISTRY_LINK_DB``, else the SQLite default).
        lock_wait: seconds to wait for another writer's lock (default: ``$REGISTRY_LINK_LOCK_WAIT``
            or 30).

    Returns:
        A session factory for :func:`registry_link.db.recording.record_run` and friends.

    Raises:
        UnsupportedDatabaseError: a bad URL, an unsupported database, a missing driver.
        SchemaTooNewError: the database was written by a newer registry-link.
        ReadOnlyDatabaseError, DatabaseLockedError, DatabaseUnavailableError: it cannot be
            written now.
    """
    engine = make_engine(url)
    db_file = _sqlite_file(engine)
    if db_file:
        folder = Path(db_file).resolve().parent
        if not folder.is_dir():
            raise DatabaseError(
                f"the folder {folder} of the database file {db_file} does not exist; create it "
                f"or give another --db"
            )
    retry_locked(lambda: upgrade(engine), wait=lock_wait)
    factory = session_factory(engine)
    check_writable(factory, wait=lock_wait)
    return factory


def database_dir(engine: Engine) -> Path:
    """The folder the snapshots go in: the SQLite file's folder, else the working folder."""
    db_file = _sqlite_file(engine)
    return Path(db_file).resolve().parent if db_file else Path.cwd()
