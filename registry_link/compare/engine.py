"""The compare engine: one object that owns the performance machinery of one link.

Stages compare pairs through :meth:`CompareEngine.compare` and nothing else; what makes that
fast lives here, behind that one method, and changes no result (the shared tests compare
``workers=1, caches=False`` against the defaults):

* **prepared records** — each side's per-record work (:func:`~.compute.prepare_records`:
  derived columns, dictionaries) done once for the link's several calls (the random pairs
  for u, the candidate pairs, the household pass's extra pairs), for a side those calls reach
  mostly (``random_pairs``); the others prepare the rows each call reaches;
* **value tuples and level tables** (:mod:`.value_tuples`) of the prepared sides, kept;
* **a pair cache**: within one call, a pair of distinct values is scored once over all the
  chunks (:func:`active_pair_cache`, read by
  :func:`~registry_link.compare.similarity.on_unique_codes`);
* **a chunk memo** (:func:`active_chunk_memo`): within one chunk, work one derived column
  leaves for another (the name variant check's values, from the name similarity's pass);
* **a name-form memo**: the per-form work of the name matcher (keys, vowels, other readings
  of a spelling) is done once per distinct form over all the engine's calls
  (:func:`~registry_link.names.matcher.remembered_forms`);
* **a link memo** (:func:`active_link_memo`): while the engine is entered (``with engine:``),
  the later stages keep there the per-record work they would otherwise redo at each call over
  the same records (scoring's term frequency of each registry record, looked up once per
  column and model instead of once per ``score`` call:
  :func:`~registry_link.score.scoring.score`);
* **threads** (``workers``, default the core count): :meth:`CompareEngine.map` runs a
  stage's independent pieces in parallel (blocking's columns and rules); the pairs are cut in
  chunks that the calling thread and ``workers - 1`` helpers take from one queue;
  :meth:`CompareEngine.submit` runs a stage's work in a helper meanwhile (training's random
  pairs while the candidate pairs are blocked and compared). A call made there (and, once
  work was submitted, the engine's other calls) uses smaller chunks, so that two calls'
  working sets together stay near one's peak.

Only this module uses threads, locks and context variables. Every step it runs is a pure
function of :mod:`.compute`, so ``compare(left, right, pairs, comparisons)`` gives the same
vectors.
"""

from __future__ import annotations

import contextvars
import math
import os
import queue
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

import numpy as np
import polars as pl

from registry_link.compare.compute import (
    DEFAULT_CHUNK_SIZE,
    PreparedRecords,
    check_comparisons,
    chunk_starts,
    compare_chunk,
    empty_gammas,
    level_table_of,
    level_tables,
    prepare_records,
    prepare_referenced,
    shared_enums_of,
    value_tuples_of,
)
from registry_link.compare.dictionaries import Dictionary, SharedEnums
from registry_link.compare.levels import Comparison
from registry_link.compare.value_tuples import ValueTuples
from registry_link.names.matcher import remembered_forms

__all__ = [
    "MIN_HELPED_CHUNK",
    "CompareEngine",
    "active_chunk_memo",
    "active_link_memo",
    "active_pair_cache",
    "record_dictionary",
]

#: With helpers, a call cuts its pairs into at least one chunk per worker, each of at least
#: this many pairs (fewer are not worth a thread).
MIN_HELPED_CHUNK = 50_000

T = TypeVar("T")
R = TypeVar("R")
Side = Literal["left", "right"]

#: Within one :meth:`CompareEngine.compare` call (and its helpers): per cache key, the value
#: pairs scored so far (see :func:`~registry_link.compare.similarity.on_unique_codes`).
_PAIR_CACHE: contextvars.ContextVar[dict[Hashable, pl.DataFrame] | None] = contextvars.ContextVar(
    "_PAIR_CACHE", default=None
)

#: While an engine is entered (``with engine:``): its link memo (see :func:`active_link_memo`).
_LINK_MEMO: contextvars.ContextVar[dict[Hashable, Any] | None] = contextvars.ContextVar(
    "_LINK_MEMO", default=None
)

#: While one chunk of an engine call is compared in this thread: its chunk memo.
_CHUNK_MEMO: contextvars.ContextVar[dict[Hashable, Any] | None] = contextvars.ContextVar(
    "_CHUNK_MEMO", default=None
)

#: True in work run by :meth:`CompareEngine.submit`.
_IN_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "_IN_BACKGROUND", default=False
)


def active_pair_cache() -> dict[Hashable, pl.DataFrame] | None:
    """The pair cache of the engine call running in this thread, ``None`` outside one.

    The dictionaries, hence the codes, of one call hold for all its chunks, so a value pair
    scored in one chunk need not be scored again in the next (a third of the u sample's name
    pairs recur from chunk to chunk).
    """
    return _PAIR_CACHE.get()


def active_chunk_memo() -> dict[Hashable, Any] | None:
    """A dict for the chunk of pairs being compared in this thread (fresh for each chunk of an
    engine call), ``None`` outside one or with ``caches=False``.

    Work that one derived column does and another of the same chunk needs (the name
    similarity's pass over the distinct value pairs gives the variant check's values too:
    :mod:`.library`) is left there; the reader checks that it is for its rows.
    """
    return _CHUNK_MEMO.get()


def active_link_memo() -> dict[Hashable, Any] | None:
    """The link memo of the engine entered in this context (``with engine:``; work submitted
    to it sees it too; an engine made by :meth:`CompareEngine.within_left` shares it),
    ``None`` outside one or with ``caches=False``.

    A stage that does the same per-record work at several calls of one link (scoring looks
    the registry's term frequencies up at each ``score`` call) keeps it here, under a key
    naming what it depends on, the records included (by identity: an entry holds them, or a
    weak reference to them, so that the id cannot be taken by other records). It lives until
    the engine is left; threads may share it (an entry made twice at once is made twice, the
    same).
    """
    return _LINK_MEMO.get()


def record_dictionary(records: pl.DataFrame, column: str) -> Dictionary | None:
    """A string column's dictionary (its distinct values, each record's position among them:
    :mod:`.dictionaries`) from the engine entered in this context, when it has prepared
    ``records`` (the very frame) whole; ``None`` otherwise (not entered, ``caches=False``,
    prepared per call, or the column not encoded).

    A later stage that does per-value work on every record of a side (scoring's term
    frequencies) then does it once per distinct value and gathers it.
    """
    memo = _LINK_MEMO.get()
    found = memo.get((_PREPARED, id(records))) if memo is not None else None
    if found is None or found[0]() is not records:
        return None
    if records.schema.get(column) != pl.Utf8:  # (a list column would be encoded by the look-up)
        return None
    dicts: Mapping[str, Dictionary] = found[1]
    return dicts.get(column)


#: The link memo's key of a side's dictionaries (see :func:`record_dictionary`).
_PREPARED = "prepared_dictionaries"


class _Serialised(Mapping[str, Dictionary]):
    """A side's dictionaries, looked up under a lock: a look-up may encode a list column
    (:mod:`.dictionaries`), and the side's chunks are compared in several threads."""

    def __init__(self, inner: Mapping[str, Dictionary], lock: threading.Lock) -> None:
        self._inner = inner
        self._lock = lock

    def __getitem__(self, key: str) -> Dictionary:
        with self._lock:
            return self._inner[key]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._inner

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._inner))

    def __len__(self) -> int:
        with self._lock:
            return len(self._inner)


class CompareEngine:
    """Compares pairs of ``left`` × ``right`` records over ``comparisons``, for one link.

    Args:
        left: left records (partner lists; dedupe mode: the one frame).
        right: right records (the registry; dedupe mode: ``left`` itself).
        comparisons: the comparisons (distinct names).
        workers: threads comparing the chunks of a call, the calling one included (default:
            the core count); also how many run :meth:`submit`'s work beside it.
        caches: keep the per-record work, value tuples, level tables and scored value pairs
            between chunks and calls (off: each call does its own, as
            :func:`~.compute.compare` does).
        random_pairs: how many random pairs the link will compare (training's u sample): a
            side they reach more than half of is prepared whole once, since its calls would
            prepare most of it anyway; not a side they reach less of (a registry of many
            millions, where preparing all of it would cost more than it saves).
        chunk_size: pairs per chunk of a call alone (memory bound of the gathered columns).

    Raises:
        LinkageError: a column a comparison reads is absent, or two comparisons share a name.

    Use it as a context manager (or call :meth:`close`): it holds threads and the prepared
    records until then.
    """

    def __init__(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        comparisons: Sequence[Comparison],
        *,
        workers: int | None = None,
        caches: bool = True,
        random_pairs: int = 0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        check_comparisons(comparisons, ("left", left), ("right", right))
        self.left = left
        self.right = right
        self.comparisons = tuple(comparisons)
        self.workers = max(1, workers if workers is not None else os.cpu_count() or 1)
        self.caches = caches
        self.chunk_size = chunk_size
        self._pool = ThreadPoolExecutor(self.workers - 1) if self.workers > 1 else None

        def reached(frame: pl.DataFrame) -> bool:
            # n random pairs reach about h(1 - e^(-n/h)) of h records: over half when n > h ln 2
            return caches and random_pairs > frame.height * math.log(2)

        self._whole: dict[Side, bool] = {"left": reached(left), "right": reached(right)}
        self._prepared: dict[Side, PreparedRecords] = {}
        self._tuples: dict[tuple[Side, str], ValueTuples | None] = {}
        self._tables: dict[str, np.ndarray] = {}
        self._enums: SharedEnums | None = None  # (see shared_enums_of)
        self._forms: dict[str, pl.DataFrame] = {}  # (see remembered_forms)
        self._link_memo: dict[Hashable, Any] = {}  # (see active_link_memo)
        self._prepare_lock = threading.Lock()
        self._memo_lock = threading.Lock()
        self._shared = False  # work was submitted: the calls share the cores with it
        self._submitted: list[Future[Any]] = []  # (see _helpers_busy)
        self._entered: list[contextvars.Token[dict[Hashable, Any] | None]] = []

    @property
    def whole_sides(self) -> tuple[Side, ...]:
        """The sides prepared whole, once for every call (see ``random_pairs``)."""
        return tuple(side for side, whole in self._whole.items() if whole)

    @property
    def dedupe(self) -> bool:
        """Whether both sides are the same records (pairs within one frame)."""
        return self.right is self.left

    def __enter__(self) -> CompareEngine:
        self._entered.append(_LINK_MEMO.set(self._link_memo if self.caches else None))
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close()
        finally:
            _LINK_MEMO.reset(self._entered.pop())

    def close(self) -> None:
        """Wait for submitted work, stop the threads and let go of the prepared records."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._prepared.clear()
        self._tuples.clear()
        self._tables.clear()
        self._enums = None
        self._forms = {}  # (not cleared: an engine made by within_left may still use it)
        self._link_memo = {}  # (the same)

    def within_left(self, comparisons: Sequence[Comparison]) -> CompareEngine:
        """An engine for pairs within the left records (dedupe mode), with the same knobs;
        it reuses this one's prepared left records when made for the same comparisons, and
        shares its name-form memo and link memo."""
        other = CompareEngine(
            self.left,
            self.left,
            comparisons,
            workers=self.workers,
            caches=self.caches,
            chunk_size=self.chunk_size,
        )
        other._forms = self._forms  # (values, not records: they hold for any records)
        other._link_memo = self._link_memo  # (its entries name their records)
        with self._prepare_lock:
            prepared = self._prepared.get("left")
        if prepared is not None and tuple(comparisons) == self.comparisons:
            other._prepared["left"] = prepared
            other._whole["left"] = True
            with self._memo_lock:
                other._tuples.update({k: v for k, v in self._tuples.items() if k[0] == "left"})
        return other

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in a helper thread (with one worker: now, in this one),
        e.g. a stage's work that does not wait for this thread's. Its errors are raised by the
        future's ``result()``."""

        def background() -> T:
            _IN_BACKGROUND.set(True)
            return fn(*args, **kwargs)

        self._shared = True
        if self._pool is not None:
            future = self._pool.submit(contextvars.copy_context().run, background)
            self._submitted = [f for f in self._submitted if not f.done()] + [future]
            return future
        done: Future[T] = Future()
        try:
            done.set_result(contextvars.copy_context().run(background))
        except BaseException as exc:  # (handed to the caller through the future)
            done.set_exception(exc)
        return done

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``fn`` over ``items`` on up to ``workers`` threads of their own, results in order
        (e.g. blocking's columns and rules: ``block(..., map_each=engine.map)``)."""
        work = list(items)
        if self.workers == 1 or len(work) < 2:
            return [fn(item) for item in work]
        with ThreadPoolExecutor(min(self.workers, len(work))) as pool:
            return list(pool.map(fn, work))

    def compare(self, pairs: pl.DataFrame) -> pl.DataFrame:
        """Comparison vectors of ``pairs`` ``{l_idx, r_idx, ...}`` (row indices):
        ``{l_idx: UInt32, r_idx: UInt32, gamma_<name>: Int8 ...}`` in the order of ``pairs``,
        the same as :func:`~.compute.compare` gives."""
        pairs = pairs.select(pl.col("l_idx").cast(pl.UInt32), pl.col("r_idx").cast(pl.UInt32))
        if pairs.height == 0:
            return empty_gammas(self.comparisons)
        lrec, l_idx, l_tuples = self._side("left", pairs["l_idx"])
        rrec, r_idx, r_tuples = self._side("right", pairs["r_idx"])
        local = pl.DataFrame({"l_idx": l_idx, "r_idx": r_idx})
        # the same records in every call: their tables are kept
        kept = self._whole["left"] and (self.dedupe or self._whole["right"])
        # (a table's names, a father's, are forms the chunks' names share: worked out once)
        with remembered_forms(self._forms if self.caches else None):
            tables = level_tables(
                self.comparisons,
                l_tuples,
                r_tuples,
                local.height,
                self._kept_table if kept else level_table_of,
            )
        comps = self.comparisons
        shared = self._kept_enums(lrec, rrec) if kept else shared_enums_of(lrec, rrec)

        def one(start: int, size: int) -> pl.DataFrame:
            return compare_chunk(lrec, rrec, local.slice(start, size), comps, tables, shared)

        out = self._chunks(local.height, one)
        return out.with_columns(pairs["l_idx"], pairs["r_idx"])

    # ----------------------------------------------------------------------------- sides

    def _side(
        self, side: Side, idx: pl.Series
    ) -> tuple[PreparedRecords, pl.Series, Callable[[Comparison], ValueTuples | None]]:
        """One side's prepared records, the pairs' indices into them and its value tuples."""
        key: Side = "left" if side == "right" and self.dedupe else side
        if self._whole[key]:
            return self._whole_side(key), idx, lambda c: self._kept_tuples(key, c)
        frame = self.left if key == "left" else self.right
        records, idx = prepare_referenced(frame, idx, self.comparisons)
        if self.workers > 1:
            records = PreparedRecords(
                records.frame, _Serialised(records.dictionaries, threading.Lock())
            )
        return records, idx, lambda c: value_tuples_of(records, c)

    def _whole_side(self, side: Side) -> PreparedRecords:
        with self._prepare_lock:  # a second caller waits for the first's work
            if side not in self._prepared:
                frame = self.left if side == "left" else self.right
                made = prepare_records(frame, self.comparisons)
                dicts = _Serialised(made.dictionaries, threading.Lock())
                self._prepared[side] = PreparedRecords(made.frame, dicts)
                # (a weak reference: the memo keeps no records alive, a reused id is no match)
                self._link_memo[(_PREPARED, id(frame))] = (weakref.ref(frame), dicts)
            return self._prepared[side]

    def _kept_tuples(self, side: Side, comparison: Comparison) -> ValueTuples | None:
        with self._memo_lock:
            key = (side, comparison.name)
            if key not in self._tuples:
                self._tuples[key] = value_tuples_of(self._prepared[side], comparison)
            return self._tuples[key]

    def _kept_enums(self, left: PreparedRecords, right: PreparedRecords) -> SharedEnums:
        with self._memo_lock:
            if self._enums is None:  # (the same sides in every call: made once)
                self._enums = shared_enums_of(left, right)
            return self._enums

    def _kept_table(
        self, comparison: Comparison, left: ValueTuples, right: ValueTuples
    ) -> np.ndarray:
        with self._memo_lock:
            found = self._tables.get(comparison.name)
        if found is None:  # (two threads may both make it: the same table, one is kept)
            found = level_table_of(comparison, left, right)
            with self._memo_lock:
                self._tables[comparison.name] = found
        return found

    # ----------------------------------------------------------------------------- threads

    def _chunk_size(self, n_pairs: int) -> int:
        """Pairs per chunk: half of :attr:`chunk_size` in submitted work (any engine's call
        made there: the dedupe pass's ``within_left`` one too) and in the calls of an engine
        that was given work to submit (two working sets at once, that work's and a call's:
        together those of one call alone). Not less: a chunk's fixed costs are high
        (the u sample's million random pairs, one thread: 3.4 CPU s in one chunk, 4.0 in four).
        With helpers (not in submitted work: its helpers are busy), as many chunks of equal
        size as the fewest within that bound that is a multiple of the workers (each of at
        least :data:`MIN_HELPED_CHUNK`): no short chunk is left for one thread at the end
        while the others wait (3.2 M pairs, two workers: eight chunks of 400 k, not six of
        500 k and one of 202 k). But a call of at most that bound while every helper runs
        submitted work is one chunk: this thread would compare its chunks alone, each with a
        chunk's fixed costs (the household pass's 306 k pairs while the partner lists are
        deduplicated: two chunks cost 0.2 CPU s more than one)."""
        if _IN_BACKGROUND.get():  # (also in another engine's call made there: within_left)
            return self.chunk_size // 2
        size = self.chunk_size // 2 if self._shared else self.chunk_size
        if self._pool is not None and n_pairs <= size and self._helpers_busy():
            return size
        if self._pool is not None:
            rounds = -(-n_pairs // (size * self.workers))  # chunks per worker
            size = min(size, max(MIN_HELPED_CHUNK, -(-n_pairs // (rounds * self.workers))))
        return size

    def _helpers_busy(self) -> bool:
        """Whether every helper thread runs (or has queued) submitted work not done yet."""
        running = sum(1 for f in self._submitted if not f.done())
        return running >= self.workers - 1

    def _chunks(self, n_pairs: int, one: Callable[[int, int], pl.DataFrame]) -> pl.DataFrame:
        """``one(start, size)`` over every chunk, by this thread and the free helpers (not
        from submitted work: its helpers are busy), concatenated in order."""
        size = self._chunk_size(n_pairs)
        starts = chunk_starts(n_pairs, size)
        done: list[pl.DataFrame | None] = [None] * len(starts)
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(len(starts)):
            todo.put(i)

        def work() -> None:  # until no chunk is left
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                token = _CHUNK_MEMO.set({} if self.caches else None)
                try:
                    done[i] = one(starts[i], size)
                finally:
                    _CHUNK_MEMO.reset(token)

        with self._pair_cache():
            helping = (
                [
                    self._pool.submit(contextvars.copy_context().run, work)
                    for _ in range(self.workers - 1)
                ]
                if self._pool is not None and len(starts) > 1 and not _IN_BACKGROUND.get()
                else []
            )
            try:
                work()
            finally:
                for helper in helping:
                    if not helper.cancel():
                        helper.result()  # its last chunk (and its error, if any)
        chunks = [c for c in done if c is not None]
        assert len(chunks) == len(done)  # every chunk was taken by a thread that returned
        return pl.concat(chunks, how="vertical") if len(chunks) > 1 else chunks[0]

    @contextmanager
    def _pair_cache(self) -> Iterator[None]:
        token = _PAIR_CACHE.set({} if self.caches else None)
        try:
            with remembered_forms(self._forms if self.caches else None):
                yield
        finally:
            _PAIR_CACHE.reset(token)
