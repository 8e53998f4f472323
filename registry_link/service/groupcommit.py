"""Writes of concurrent requests committed together, in one transaction (group commit).

Every answered search appends its audit rows and commits them before its answer leaves; a
transaction costs far more than the rows in it (a connection from the pool, ``BEGIN``, ``COMMIT``),
and on SQLite the writers take turns anyway. :class:`GroupCommit` lets the request threads
share that cost without a thread of its own: a request hands its write over, then waits for
its turn to write; the thread whose turn comes writes *every write handed over by then* (its
own and those of the requests waiting behind it) in one transaction, and each of those
requests returns once that transaction is committed. A lone request writes alone, at once, as
before.

The writes must be independent of each other (each appends its own rows). When a group's
transaction fails, each write of it is tried again alone, so a failure reaches only the
request whose write fails (and a database that is down fails each of them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import Connection

#: A write: what one request adds to the open transaction (its connection).
Write = Callable[[Connection], None]


@dataclass
class _Handed:
    write: Write
    done: Future[None] = field(default_factory=Future)


class GroupCommit:
    """Writes handed over by concurrent threads, committed together.

    Args:
        transact: runs a callable in one write transaction, committed before it returns
            (e.g. :meth:`registry_link.service.app.ServiceState.append`); raises when it fails.
    """

    def __init__(self, transact: Callable[[Write], None]) -> None:
        self._transact = transact
        self._handed: list[_Handed] = []
        self._handed_lock = threading.Lock()
        self._turn = threading.Lock()  # one group written at a time
        self.transactions = 0  # transactions committed (for tests and figures)
        self.writes = 0  # writes committed in them

    @property
    def handed_over(self) -> int:
        """Writes handed over and not yet taken by a transaction."""
        with self._handed_lock:
            return len(self._handed)

    def write(self, write: Write) -> None:
        """Run ``write`` in a committed transaction, with the writes handed over beside it.

        Raises:
            Exception: the error of ``write``'s own transaction (a
                :class:`~registry_link.db.engine.DatabaseError` when the database fails).
        """
        mine = _Handed(write)
        with self._handed_lock:
            self._handed.append(mine)
        with self._turn:
            if not mine.done.done():  # not written by the group of an earlier turn
                with self._handed_lock:
                    group, self._handed = self._handed, []
                self._commit(group)
        mine.done.result()

    def _commit(self, group: list[_Handed]) -> None:
        """``group`` in one transaction; if it fails, each write alone."""
        try:
            self._transact(lambda connection: _write_all(connection, group))
        except Exception as exc:
            if len(group) == 1:
                group[0].done.set_exception(exc)
                return
            for handed in group:
                self._commit([handed])
            return
        except BaseException as exc:  # (interrupted: no request may be left waiting)
            for handed in group:
                handed.done.set_exception(exc)
            raise
        self.transactions += 1
        self.writes += len(group)
        for handed in group:
            handed.done.set_result(None)


def _write_all(connection: Connection, group: list[_Handed]) -> None:
    for handed in group:
        handed.write(connection)
