"""Searches from concurrent requests answered together, in one ``search_many`` call.

A search's cost is mostly fixed per call (a frame for the record's standardisation, a few
polars queries for blocking, comparing, scoring and deciding), so N records searched in one
:meth:`~registry_link.search.index.RegistryIndex.search_many` cost far less than N calls of
one record. :class:`SearchCoalescer` lets concurrent request threads share that: each hands
its record over and waits; one worker thread takes *whatever is waiting when it is free* (no
timer: a lone search is answered at once, as before) and searches it together, up to
``max_batch`` records a call.

The answers are the ones each record gets alone: ``search_many`` searches each record as if
alone, except that a dependant whose ``principal_record_id`` names another record of the call
gets the household pass with it — so a record carrying ``record_id`` or
``principal_record_id`` is never put with others (DCI queries carry neither). When a call
fails on a record (a :class:`~registry_link.errors.RegistryLinkError`), each record of it is
searched again alone, so the error reaches only the request that sent that record.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final

from registry_link.errors import RegistryLinkError

#: Records one ``search_many`` call takes at most.
DEFAULT_MAX_BATCH: Final[int] = 64

#: Fields that tie a record to another of the same call (the household pass): never coalesced.
_LINKING_FIELDS: Final[tuple[str, ...]] = ("record_id", "principal_record_id")


@dataclass
class _Pending:
    index: Any
    record: Mapping[str, object]
    k: int
    answer: Future[Any] = field(default_factory=Future)


class SearchCoalescer:
    """One worker thread answering the searches handed to :meth:`search`, several per call.

    Args:
        max_batch: records one ``search_many`` call takes at most; 1 searches each alone.
    """

    def __init__(self, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False
        self.calls = 0  # search_many calls made (for tests and the service's figures)
        self.records = 0  # records searched in them

    def search(self, index: Any, record: Mapping[str, object], k: int) -> Any:
        """``index.search(record, k=k)``, answered with whatever else is waiting.

        Raises:
            RegistryLinkError: the record's own search error (e.g. a malformed value).
        """
        return self.submit(index, record, k).result()

    def submit(self, index: Any, record: Mapping[str, object], k: int) -> Future[Any]:
        """Hand ``record`` over; its :class:`~registry_link.search.index.SearchResult` (or its
        own search error) arrives in the future returned. Several records of one request
        submitted before waiting can share a call."""
        pending = _Pending(index, record, k)
        if self.max_batch == 1 or any(record.get(f) is not None for f in _LINKING_FIELDS):
            _settle(pending, lambda: index.search(record, k=k))
            return pending.answer
        with self._lock:
            if self._closed:
                raise RuntimeError("the search coalescer is closed")
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="rl-search", daemon=True)
                self._worker.start()
            self._queue.put(pending)
        return pending.answer

    def close(self) -> None:
        """Answer what is waiting, then stop the worker (searches after this raise)."""
        with self._lock:
            self._closed = True
            worker = self._worker
            if worker is not None:
                self._queue.put(None)
        if worker is not None:
            worker.join()

    # ------------------------------------------------------------------ the worker

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = [first], False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            for group in _groups(batch):
                self._answer(group)
            if stop:
                return

    def _answer(self, group: list[_Pending]) -> None:
        """:meth:`_search_group`, the worker kept alive whatever happens: an unexpected error
        goes to every request of the group still waiting."""
        try:
            self._search_group(group)
        except Exception as exc:  # the worker must outlive it, or later searches would hang
            for p in group:
                if not p.answer.done():
                    p.answer.set_exception(exc)

    def _search_group(self, group: list[_Pending]) -> None:
        """One ``search_many`` call for ``group`` (same index, same k); on a record's error,
        each record alone."""
        index, k = group[0].index, group[0].k
        try:
            results = index.search_many([p.record for p in group], k)
            self.calls += 1
            self.records += len(group)
        except RegistryLinkError as exc:
            if len(group) == 1:
                group[0].answer.set_exception(exc)
                return
            for p in group:
                _settle(p, lambda p=p: index.search_many([p.record], k)[0])
            return
        except Exception as exc:  # handed to every waiting request
            for p in group:
                p.answer.set_exception(exc)
            return
        for p, result in zip(group, results, strict=True):
            p.answer.set_result(result)


def _groups(batch: list[_Pending]) -> list[list[_Pending]]:
    """The batch by (index, k), in order of first arrival."""
    groups: dict[tuple[int, int], list[_Pending]] = {}
    for p in batch:
        groups.setdefault((id(p.index), p.k), []).append(p)
    return list(groups.values())


def _settle(pending: _Pending, search: Any) -> None:
    try:
        pending.answer.set_result(search())
    except Exception as exc:  # the request's own error
        pending.answer.set_exception(exc)
