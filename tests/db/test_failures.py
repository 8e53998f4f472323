"""Database failures, injected for real: a read-only file, a lock another writer holds, a schema
newer than the code, a URL naming a database or driver that is not there, a PostgreSQL server
stopped in the middle of a review session. Each is one clean error (exit 2 through the CLI),
and nothing is half-written."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dbtest_queue_data import make_queue
from rich.console import Console
from sqlalchemy import func, select, text

from registry_link.cli import cli, main
from registry_link.cli import review_cmd as review_cmd_module
from registry_link.cli.db_cmd import commands
from registry_link.db.engine import (
    DatabaseError,
    DatabaseLockedError,
    DatabaseUnavailableError,
    ReadOnlyDatabaseError,
    SchemaTooNewError,
    UnsupportedDatabaseError,
    appending,
    current_revision,
    head_revision,
    make_engine,
    open_database,
    prepare_database,
    transaction,
)
from registry_link.db.models import AuditEntry, ReviewDecision
from registry_link.db.queue import ReviewQueue
from registry_link.review.console import ReviewConsole

ROOT = Path(__file__).resolve().parents[2]

for _c in [*commands, review_cmd_module.command]:
    if _c.name not in cli.commands:
        cli.add_command(_c)


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, " ".join(capsys.readouterr().err.split())


def _decisions(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ReviewDecision)).scalar_one())


# ------------------------------------------------------------------ read-only


@pytest.fixture
def readonly_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite queue that cannot be written: the file made read-only (as root, which ignores
    file modes, SQLite's own read-only open mode)."""
    path = tmp_path / "queue.db"
    make_queue(f"sqlite:///{path}")
    if os.geteuid() == 0:
        yield f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        path.chmod(0o444)
        tmp_path.chmod(0o555)
        yield f"sqlite:///{path}"
        tmp_path.chmod(0o755)


def test_read_only_decide_is_one_clean_message(
    readonly_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _decisions(readonly_url)
    code, err = _cli(
        ["review", "decide", "1", "--accept", "--reviewer", "amina", "--db", readonly_url], capsys
    )
    assert code == 2 and err.startswith("error: cannot write to the database")
    assert "read-only" in err and "write access" in err and "Traceback" not in err
    assert _decisions(readonly_url) == before


def test_read_only_console_does_not_say_nothing_is_left(readonly_url: str) -> None:
    # was: "nothing left to review … thank you", exit 0, with every item open
    out = Console(record=True, width=100, color_system=None, file=io.StringIO())
    console = ReviewConsole(ReviewQueue(open_database(readonly_url)), "amina", out, lambda: "q")
    with pytest.raises(ReadOnlyDatabaseError):
        console.run()
    screen = out.export_text()
    assert "nothing left" not in screen and "NOT saved: starting" in screen


def test_read_only_database_is_refused_before_match_reads_anything(readonly_url: str) -> None:
    with pytest.raises(ReadOnlyDatabaseError, match="read-only"):
        prepare_database(readonly_url)


# ------------------------------------------------------------------ a held lock


class HeldLock:
    """Another writer holding the SQLite write lock until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(
            "INSERT INTO audit_log (at, actor, action, object, details) "
            "VALUES (CURRENT_TIMESTAMP, 'other', 'x', 'y', '{}')"
        )

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_held_lock_is_waited_for_visibly_then_refused_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    factory = make_queue(f"sqlite:///{path}")
    waits: list[tuple[float, float]] = []
    queue = ReviewQueue(factory, lock_wait=2.5, on_wait=lambda w, m: waits.append((w, m)))
    lock = HeldLock(path)
    try:
        with pytest.raises(DatabaseLockedError, match="stayed locked by another writer") as err:
            queue.decide(1, "amina", "accept")
    finally:
        lock.release()
    assert "REGISTRY_LINK_LOCK_WAIT" in str(err.value)
    assert waits and all(limit == 2.5 for _, limit in waits)  # the wait was reported
    assert max(w for w, _ in waits) < 2.5
    assert queue.get(1).status == "open"  # nothing half-written


def test_a_lock_released_during_the_wait_lets_the_action_through(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    factory = make_queue(f"sqlite:///{path}")
    lock = HeldLock(path)
    waits: list[float] = []

    def on_wait(waited: float, _limit: float) -> None:
        waits.append(waited)
        if len(waits) == 1:
            threading.Timer(0.3, lock.release).start()

    ReviewQueue(factory, lock_wait=20, on_wait=on_wait).decide(1, "amina", "accept")
    assert waits and ReviewQueue(factory).get(1).decision == "accept"


def test_console_key_during_a_lock_is_kept_then_said_not_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "queue.db"
    factory = make_queue(f"sqlite:///{path}")
    out = Console(record=True, width=120, height=40, color_system=None, file=io.StringIO())
    keys = iter("a")
    holder: list[HeldLock] = []

    def key() -> str:
        holder.append(HeldLock(path))  # another writer takes the lock as amina presses a
        return next(keys)

    queue = ReviewQueue(factory, lock_wait=1.5)
    try:
        with pytest.raises(DatabaseLockedError):
            ReviewConsole(queue, "amina", out, key).run()
    finally:
        holder[0].release()
    screen = out.export_text()
    assert "locked by another writer: waiting" in screen and "your key 'a' is kept" in screen
    assert "NOT saved: accept on item 1 (record R000)" in screen
    assert "review release --reviewer amina" in screen  # the claim could not be released
    item = ReviewQueue(factory).get(1)
    assert (item.status, item.decision) == ("claimed", None)  # nothing half-written


def test_lock_wait_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "queue.db"
    url = f"sqlite:///{path}"
    make_queue(url)
    monkeypatch.setenv("REGISTRY_LINK_LOCK_WAIT", "2.5")
    lock = HeldLock(path)
    try:
        code, err = _cli(
            ["review", "decide", "1", "--reject", "--reviewer", "amina", "--db", url], capsys
        )
    finally:
        lock.release()
    assert code == 2 and "stayed locked by another writer" in err and "Traceback" not in err
    assert "the database is locked by another writer: waiting" in err  # the visible wait
    monkeypatch.setenv("REGISTRY_LINK_LOCK_WAIT", "soon")
    code, err = _cli(["review", "decide", "1", "--reject", "--reviewer", "a", "--db", url], capsys)
    assert code == 2 and "REGISTRY_LINK_LOCK_WAIT is 'soon'" in err


# ------------------------------------------------------------------ schema newer than the code


def _stamp_future(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))


def test_newer_schema_is_refused_with_upgrade_advice(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    open_database(db_url, create=True)
    _stamp_future(db_url)
    for action in (lambda: open_database(db_url), lambda: prepare_database(db_url)):
        with pytest.raises(SchemaTooNewError, match="a newer registry-link wrote it"):
            action()
    code, err = _cli(["init", "--db", db_url], capsys)  # was: alembic CommandError traceback
    assert code == 2 and "9999_future" in err and "Upgrade registry-link" in err
    assert "cannot downgrade" in err and "Traceback" not in err
    assert current_revision(make_engine(db_url)) == "9999_future"  # left as it was


# ------------------------------------------------------------------ URLs and drivers


def test_unsupported_database_names_the_supported_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(UnsupportedDatabaseError, match="'mysql' databases are not supported"):
        make_engine("mysql://u:secret@localhost/db")
    code, err = _cli(["init", "--db", "mysql://u:secret@localhost/db"], capsys)
    assert code == 2 and "SQLite" in err and "PostgreSQL" in err and "secret" not in err


def test_missing_postgres_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # psycopg not installed
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/db"
    with pytest.raises(UnsupportedDatabaseError, match="needs the PostgreSQL driver psycopg"):
        make_engine(url)
    code, err = _cli(["review", "list", "--db", url], capsys)
    assert code == 2 and "pip install 'registry-link[postgres]'" in err
    assert "ModuleNotFoundError" not in err and "secret" not in err


def test_bare_postgresql_url_means_psycopg() -> None:
    assert make_engine("postgresql://u@127.0.0.1/db").url.drivername == "postgresql+psycopg"
    with pytest.raises(UnsupportedDatabaseError, match="postgresql\\+psycopg"):
        make_engine("postgresql+pg8000://u@127.0.0.1/db")


# ------------------------------------------------------------------ prepare_database


def test_prepare_database_creates_migrates_and_proves_writable(db_url: str) -> None:
    factory = prepare_database(db_url)
    engine = make_engine(db_url)
    assert current_revision(engine) == head_revision()
    with transaction(factory) as s:  # the write probe was rolled back: no trace
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    prepare_database(db_url)  # an up-to-date database: harmless


def test_prepare_database_in_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="does not exist"):
        prepare_database(f"sqlite:///{tmp_path / 'nope' / 'x.db'}")


def test_unreachable_server_is_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg")
    url = "postgresql+psycopg://u:secret@127.0.0.1:9/db"  # nothing listens on port 9
    with pytest.raises(DatabaseUnavailableError, match="server runs"):
        prepare_database(url)
    code, err = _cli(["runs", "--db", url], capsys)
    assert code == 2 and "lost the connection to the database" in err
    assert "Traceback" not in err and "secret" not in err


# ------------------------------------------------------------------ a PostgreSQL server stopped


@pytest.fixture
def throwaway_pg() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL server of this test's own (started with .ci/postgres.sh on a free port),
    and a function that stops it (``pg_ctl stop -m immediate``, as a crash or an admin would).

    Runs where CI runs the PostgreSQL tests (``$REGISTRY_LINK_TEST_PG`` set)."""
    if not os.environ.get("REGISTRY_LINK_TEST_PG"):
        pytest.skip("PostgreSQL tests need $REGISTRY_LINK_TEST_PG (run .ci/postgres.sh)")
    pytest.importorskip("psycopg")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = tempfile.mkdtemp(prefix="registry-link-pg-stop.")
    env = dict(os.environ, PG_PORT=str(port), PG_DATA=data)
    done = subprocess.run(
        ["bash", str(ROOT / ".ci/postgres.sh")], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.fail(f".ci/postgres.sh failed: {done.stderr[-2000:]}")
    url = done.stdout.strip().splitlines()[-1].split("=", 1)[1]
    bindir = next(line for line in done.stderr.splitlines() if "server binaries in" in line)
    pg_ctl = bindir.rsplit(" ", 1)[1] + "/pg_ctl"

    def stop() -> None:
        command = f"'{pg_ctl}' -D '{data}' stop -m immediate"
        if os.geteuid() == 0:
            subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", command], check=True)
        else:
            subprocess.run(["sh", "-c", command], check=True)

    try:
        yield url, stop
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            stop()
        shutil.rmtree(data, ignore_errors=True)


def test_postgres_server_stopped_mid_session(
    throwaway_pg: tuple[str, Callable[[], None]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, stop = throwaway_pg
    make_queue(url, records=3)
    out = Console(record=True, width=120, height=40, color_system=None, file=io.StringIO())
    keys = iter("ar")

    def key() -> str:
        k = next(keys)
        if k == "r":  # the server goes away while the reviewer looks at the second record
            stop()
        return k

    with pytest.raises(DatabaseUnavailableError, match="server runs"):
        ReviewConsole(ReviewQueue(open_database(url)), "amina", out, key).run()
    screen = out.export_text()
    assert "accepted item 1" in screen  # the first key was saved
    assert "NOT saved: reject on item 3 (record R001)" in screen  # the second is said lost
    assert "Traceback" not in screen
    code, err = _cli(["review", "decide", "3", "--reject", "--reviewer", "a", "--db", url], capsys)
    assert code == 2 and err.startswith("error: lost the connection to the database")
    assert "registry_link:***@" in err or "secret" not in err


def test_import_under_a_held_lock_waits_then_applies_all_or_nothing(tmp_path: Path) -> None:
    from registry_link.review.exchange import import_decisions

    path = tmp_path / "queue.db"
    factory = make_queue(f"sqlite:///{path}")
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "item_id,record_id,person_id,decision\n1,R000,P0000,accept\n3,R001,P0010,reject\n",
        encoding="utf-8",
    )
    lock = HeldLock(path)
    try:
        with pytest.raises(DatabaseLockedError):
            import_decisions(ReviewQueue(factory, lock_wait=1.5), sheet, "amina")
    finally:
        lock.release()
    assert _decisions(f"sqlite:///{path}") == 0  # nothing of the file was applied
    lock = HeldLock(path)
    waits: list[float] = []

    def on_wait(waited: float, _limit: float) -> None:
        waits.append(waited)
        if len(waits) == 1:
            threading.Timer(0.3, lock.release).start()

    done = import_decisions(ReviewQueue(factory, lock_wait=20, on_wait=on_wait), sheet, "amina")
    assert waits and (done.accepted, done.rejected) == (1, 1)


def test_an_append_commits_all_its_rows_or_none(db_url: str) -> None:
    from registry_link.db.access import SearchRecord, record_searches, search_audit

    factory = prepare_database(db_url)
    row = SearchRecord("k1", "CNSS", "sync/search", "predicate", [], "succ", ["p1"])
    with appending(factory) as connection:
        record_searches(connection, [row, row])
    with (
        pytest.raises(DatabaseError, match="nothing was saved"),
        appending(factory) as connection,
    ):
        record_searches(connection, [row])
        connection.execute(text("SELECT * FROM no_such_table"))
    with transaction(factory) as session:
        assert [r.person_ids for r in search_audit(session)] == [["p1"], ["p1"]]


def test_an_append_under_a_held_lock_is_refused_as_locked(tmp_path: Path) -> None:
    from registry_link.db.access import SearchRecord, record_searches

    path = tmp_path / "audit.db"
    factory = prepare_database(f"sqlite:///{path}")
    lock = HeldLock(path)
    try:
        row = SearchRecord("k1", "CNSS", "sync/search", "predicate", [], "succ", [])
        with pytest.raises(DatabaseLockedError), appending(factory) as connection:
            record_searches(connection, [row])
    finally:
        lock.release()
