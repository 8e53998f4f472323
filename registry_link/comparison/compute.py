"""Compute comparison vectors over candidate pairs, vectorised and chunked.

:func:`compare` gathers only the columns the comparisons read, as ``l_<col>``/``r_<col>``
(strings with few distinct values through dictionaries, :mod:`.dictionaries`), computes each
comparison's derived columns (string similarities from :mod:`.similarity`, only on the pairs
that need them) and evaluates the level predicates as one polars ``when/then`` chain per
comparison. No per-pair Python loop. A comparison over few distinct values (sex, communes, a
father's name) is evaluated once per combination of values instead (:mod:`.value_tuples`).
With a ``helper`` executor, two threads compare the chunks.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from registry_link.comparison.dictionaries import Dictionary, code_column, dictionaries
from registry_link.comparison.levels import Comparison
from registry_link.comparison.similarity import (
    damerau_levenshtein_distance,
    distinct_pair_cache,
    jaro_winkler_similarity,
    max_token_similarity,
    name_similarity,
    on_unique_pairs,
    osa_distance,
)
from registry_link.comparison.value_tuples import (
    ValueTuples,
    level_table,
    levels_from_tables,
    value_tuples,
)
from registry_link.errors import LinkageError

#: The similarity helpers are re-exported: they lived here before the module was split.
__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "PreparedRecords",
    "compare",
    "damerau_levenshtein_distance",
    "jaro_winkler_similarity",
    "max_token_similarity",
    "name_similarity",
    "needed_columns",
    "on_unique_pairs",
    "osa_distance",
    "prepare_records",
]

#: Pairs processed per chunk by :func:`compare` (bounds the gathered frame's memory).
DEFAULT_CHUNK_SIZE = 1_000_000

#: A comparison over few distinct values (:mod:`.value_tuples`) is evaluated once per
#: combination of values when they are at most this share of the pairs.
LEVEL_TABLE_MAX_SHARE = 0.5

#: With a ``helper``, :func:`compare` cuts its pairs into at least two chunks, each of at
#: least this many pairs (fewer are not worth a second thread).
MIN_HELPED_CHUNK = 50_000


def _check_columns(frame: pl.DataFrame, side: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LinkageError(
            f"the {side} records lack column(s) {missing} needed by the comparisons; "
            f"columns present: {frame.columns[:40]}. Fix: standardise the records first, or "
            f"name existing columns in the model config's comparisons"
        )


def needed_columns(comparisons: Sequence[Comparison]) -> list[str]:
    """The record columns the comparisons read, in first-use order, without repeats."""
    seen: dict[str, None] = {}
    for comp in comparisons:
        for col in comp.columns:
            seen.setdefault(col, None)
    return list(seen)


def pair_level_columns(comp: Comparison) -> set[str] | None:
    """The record columns a comparison reads in the pair frame (``None``: unknown, all).

    Read off its predicates' and derived functions' column names (a derived function without a
    ``reads`` attribute makes it unknown). A source column that only feeds the comparison's
    :attr:`~Comparison.record_derived` columns is not among them, and need not be gathered.
    """
    exprs = [comp.missing.predicate, *(lvl.predicate for lvl in comp.levels)]
    names = {n for e in [*exprs, *comp.derived_when.values()] for n in e.meta.root_names()}
    for fn in comp.derived.values():
        reads = getattr(fn, "reads", None)
        if reads is None:
            return None
        names |= set(reads)
    return {n[2:] for n in names if n.startswith(("l_", "r_"))}


def _gather(
    frame: pl.DataFrame,
    idx: pl.Series,
    prefix: str,
    lists: Sequence[str],
    encoded: Mapping[str, Dictionary] | None = None,
) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """``frame`` rows at ``idx`` as ``<prefix><col>``; list columns only as placeholders;
    dictionary-encoded columns only as their codes.

    Columns in ``encoded`` (see :func:`dictionaries`) are gathered as codes (``code_column``);
    the second value maps each such ``<prefix><col>`` to its dictionary's values, from which
    :class:`_StringColumns` gives the strings to one comparison at a time: the values of every
    column for every pair of a chunk are never in memory at once.

    Gathering list columns for every pair is the costliest part of a chunk, yet only derived
    columns read their contents, and only on the rows their ``when`` selects. A placeholder
    keeps the list's nulls (so ``is_null``/``is_not_null`` in predicates stay exact) with an
    empty list elsewhere; :func:`_with_lists` puts the real lists in before a derived function
    runs.
    """
    given = encoded or {}
    # (lists first: looking a list column up in a lazy dictionary would encode it)
    encoded = {c: given[c] for c in frame.columns if c not in lists and c in given}
    plain = [c for c in frame.columns if c not in lists and c not in encoded]
    # one parallel select for the codes, one for the plain columns (no per-column Python loop)
    codes = pl.DataFrame([d[1].alias(c) for c, d in encoded.items()]).select(pl.all().gather(idx))
    out = frame.select(pl.col(plain).gather(idx))
    if lists:
        nulls = frame.select(pl.col(lists).is_null().gather(idx))
        placeholders = nulls.select(
            pl.when(pl.col(c)).then(None).otherwise(pl.lit([], dtype=frame.schema[c])).alias(c)
            for c in lists
        )
        out = pl.concat([out, placeholders], how="horizontal") if out.width else placeholders
    out = out.select(pl.col(c).alias(f"{prefix}{c}") for c in frame.columns if c not in encoded)
    if codes.width:
        renamed = codes.select(pl.col(c).alias(code_column(f"{prefix}{c}")) for c in codes.columns)
        out = pl.concat([out, renamed], how="horizontal") if out.width else renamed
    return out, {f"{prefix}{c}": d[0] for c, d in encoded.items()}


class _StringColumns:
    """The pair frame's columns for one comparison at a time (see :func:`_gather`): the
    dictionary-encoded ones as their values (from the dictionary, cache-friendly) beside their
    codes. A column that a later comparison reads as well (the name comparisons share their
    keys) is made once and kept until its last reader has it; no longer.

    ``columns``: the columns of each comparison of the chunk, in the order they are asked for.
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        values: Mapping[str, pl.Series],
        columns: Sequence[Sequence[str]],
    ) -> None:
        self._frame = frame
        self._values = values
        self._last_use = {c: i for i, cols in enumerate(columns) for c in cols}
        self._asked = 0
        self._made: dict[str, pl.Series] = {}

    def pair_columns(self, columns: Sequence[str]) -> pl.DataFrame:
        """``l_idx, r_idx``, ``columns`` and the encoded ones' codes, for the next comparison."""
        frame, values = self._frame, self._values
        new = [c for c in dict.fromkeys(columns) if c in values and c not in self._made]
        if new:
            made = frame.select(
                pl.lit(values[c]).gather(pl.col(code_column(c))).alias(c) for c in new
            )
            self._made.update({c: made.get_column(c) for c in new})
        plain = [c for c in dict.fromkeys(columns) if c not in values]
        codes = [code_column(c) for c in dict.fromkeys(columns) if c in values]
        out = frame.select("l_idx", "r_idx", *plain, *codes).with_columns(
            self._made[c] for c in dict.fromkeys(columns) if c in values
        )
        self._made = {c: v for c, v in self._made.items() if self._last_use[c] > self._asked}
        self._asked += 1
        return out


def _with_lists(
    frame: pl.DataFrame, sides: _Sides, reads: frozenset[str] | None = None
) -> pl.DataFrame:
    """``frame`` with its list placeholders replaced by the real lists of its pairs.

    ``reads``: the columns the derived function reads (all when None); only those are gathered.
    """
    real = []
    for prefix, source, idx_col, encoded in sides:
        wanted = [
            c
            for c in source.columns
            if f"{prefix}{c}" in frame.columns
            and (reads is None or f"{prefix}{c}" in reads)
            and source.get_column(c).null_count() < source.height  # placeholders are exact
        ]
        if not wanted:
            continue
        idx = frame.get_column(idx_col)
        real += [
            (
                encoded[c][0].gather(encoded[c][1].gather(idx))  # cache-friendly, see dictionaries
                if c in encoded
                else source.get_column(c).gather(idx)
            ).alias(f"{prefix}{c}")
            for c in wanted
        ]
    return frame.with_columns(real) if real else frame


#: Per side: column prefix, the side's list columns, its index column in the pair frame, and
#: its dictionaries (:func:`dictionaries`).
_Sides = list[tuple[str, pl.DataFrame, str, Mapping[str, Dictionary]]]


#: Per comparison evaluated per combination of distinct values (:mod:`.value_tuples`): its
#: level table and the two sides' tuples.
_Tables = Mapping[str, tuple[np.ndarray, ValueTuples, ValueTuples]]


def _compare_chunk(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    comps: Sequence[Comparison],
    encoded: tuple[Mapping[str, Dictionary], Mapping[str, Dictionary]] = ({}, {}),
    tables: _Tables | None = None,
) -> pl.DataFrame:
    l_idx = pairs.get_column("l_idx")
    r_idx = pairs.get_column("r_idx")
    tables = tables or {}
    from_tables = levels_from_tables(
        tables, [(c.name, c.output_column) for c in comps if c.name in tables], l_idx, r_idx
    )
    comps_here = [c for c in comps if c.name not in tables]
    if not comps_here:
        return pairs.select("l_idx", "r_idx").with_columns(from_tables[c.name] for c in comps)
    if from_tables:  # gather only the columns the other comparisons read
        reads = [pair_level_columns(c) for c in comps_here]
        if all(r is not None for r in reads):
            needed = set().union(*(r for r in reads if r is not None))
            left = left.select(c for c in left.columns if c in needed)
            right = right.select(c for c in right.columns if c in needed)
    lists = [
        c
        for c, t in left.schema.items()
        if isinstance(t, pl.List) and isinstance(right.schema[c], pl.List)
    ]
    l_frame, l_values = _gather(left, l_idx, "l_", lists, encoded[0])
    r_frame, r_values = _gather(right, r_idx, "r_", lists, encoded[1])
    frame = pl.concat([pairs.select("l_idx", "r_idx"), l_frame, r_frame], how="horizontal")
    values = {**l_values, **r_values}
    sides: _Sides = [
        ("l_", left.select(lists), "l_idx", encoded[0]),
        ("r_", right.select(lists), "r_idx", encoded[1]),
    ]
    out = [frame.select("l_idx", "r_idx")]
    columns = [
        [
            f"{side}_{c}"
            for c in (*comp.columns, *comp.record_derived)
            for side in ("l", "r")
            if c in left.columns
        ]
        for comp in comps_here
    ]
    strings = _StringColumns(frame, values, columns)
    for comp, cols in zip(comps_here, columns, strict=True):
        work = strings.pair_columns(cols)
        masks: dict[str, pl.Series] = {}
        for name, fn in comp.derived.items():  # in order: later ones may use earlier ones
            if name in comp.derived_when and name not in masks:
                masks.update(_ready_masks(work, comp, masks))
                if name not in masks:  # reads a column not (yet) in the frame: polars says which
                    masks[name] = work.select(comp.derived_when[name].fill_null(False)).to_series()
            work = work.with_columns(_derive(work, name, fn, masks.get(name), sides))
        out.append(work.lazy().select(comp.gamma_expr()).collect())
    gammas = pl.concat(out, how="horizontal")
    if not from_tables:
        return gammas
    return gammas.with_columns(from_tables.values()).select(
        "l_idx", "r_idx", *(c.output_column for c in comps)
    )


def _ready_masks(
    frame: pl.DataFrame, comp: Comparison, done: Mapping[str, pl.Series]
) -> dict[str, pl.Series]:
    """The ``derived_when`` masks (nulls as False) of ``comp`` that ``frame`` can evaluate now.

    Masks not yet computed whose columns are all in ``frame`` are evaluated in one lazy
    query, so a condition shared by several masks (e.g. "no closer level decided the pair")
    is computed once (common-subexpression elimination).
    """
    ready = {
        name: when
        for name, when in comp.derived_when.items()
        if name in comp.derived
        and name not in done
        and set(when.meta.root_names()) <= set(frame.columns)
    }
    if not ready:
        return {}
    exprs = [when.fill_null(False).alias(name) for name, when in ready.items()]
    masks = frame.lazy().select(exprs).collect()
    return {name: masks.get_column(name) for name in ready}


def _derive(
    frame: pl.DataFrame,
    name: str,
    fn: Callable[[pl.DataFrame], pl.Series],
    mask: pl.Series | None,
    sides: _Sides,
) -> pl.Series:
    """A derived column, computed only on the rows ``mask`` selects (null elsewhere).

    ``mask``: Boolean, no nulls (see :func:`_ready_masks`); ``None`` for every row. Only the
    columns ``fn`` reads (``fn.reads``, with their dictionary codes) are filtered.
    """
    reads: frozenset[str] | None = getattr(fn, "reads", None)
    if mask is None:
        return fn(_with_lists(frame, sides, reads)).alias(name)
    n = int(mask.sum())
    if n == frame.height:
        return fn(_with_lists(frame, sides, reads)).alias(name)
    if n == 0:
        return pl.repeat(None, frame.height, dtype=pl.Float64, eager=True).alias(name)
    if reads is not None:  # filter only what fn and _with_lists need
        wanted = {"l_idx", "r_idx", *reads, *(code_column(c) for c in reads)}
        frame = frame.select(c for c in frame.columns if c in wanted)
    values = fn(_with_lists(frame.filter(mask), sides, reads))
    full = pl.repeat(None, frame.height, dtype=values.dtype, eager=True).alias(name)
    return full.scatter(mask.arg_true(), values)


def compare(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: Sequence[Comparison],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    left_prepared: PreparedRecords | None = None,
    right_prepared: PreparedRecords | None = None,
    helper: Executor | None = None,
) -> pl.DataFrame:
    """Comparison vectors of candidate pairs.

    Args:
        left: left records (link mode: partner records; dedupe mode: the one frame).
        right: right records (link mode: the registry; dedupe mode: the same frame as left).
        pairs: candidate pairs ``{l_idx: UInt32, r_idx: UInt32, ...}`` (row indices).
        comparisons: the comparisons to compute (distinct names).
        chunk_size: pairs per chunk (memory bound of the gathered columns).
        left_prepared: ``prepare_records(left, comparisons)``, when the same left records are
            compared in several calls (the partner lists: candidate pairs, random pairs for u,
            the household pass's pairs); their per-record work is then done once. Same result
            without it.
        right_prepared: the same for the right records (the registry).
        helper: an executor whose worker, once free, compares chunks beside this thread (e.g.
            the linker's second thread, when it is done with the random pairs for u); the
            pairs are then cut into at least two chunks (of at least
            :data:`MIN_HELPED_CHUNK`). Same result without it; each chunk is compared by one
            thread. polars alone keeps about 1.3 of 2 cores busy here.

    Returns:
        ``{l_idx: UInt32, r_idx: UInt32, gamma_<name>: Int8 ...}`` in the order of ``pairs``.

    Raises:
        LinkageError: a column a comparison reads is absent, two comparisons share a name, or
            a prepared side was prepared from other records or comparisons.
    """
    names = [c.name for c in comparisons]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LinkageError(f"comparison names must be unique; repeated: {dupes}")
    plan = _columns_plan(comparisons)
    _check_columns(left, "left", plan[0])
    _check_columns(right, "right", plan[0])
    for side, frame, prepared in (("left", left, left_prepared), ("right", right, right_prepared)):
        if prepared is not None and (
            prepared.source is not frame or prepared.comparisons != tuple(names)
        ):
            raise LinkageError(
                f"{side}_prepared was prepared from other records or comparisons; prepare it "
                f"with prepare_records({side}, comparisons) for this call"
            )
    pairs = pairs.select(pl.col("l_idx").cast(pl.UInt32), pl.col("r_idx").cast(pl.UInt32))
    if pairs.height == 0:
        schema: dict[str, Any] = {"l_idx": pl.UInt32, "r_idx": pl.UInt32}
        schema.update({c.output_column: pl.Int8 for c in comparisons})
        return pl.DataFrame(schema=schema)
    original = pairs
    lsel, l_idx, l_dicts, l_tuples = _side(left, pairs["l_idx"], left_prepared, plan, comparisons)
    rsel, r_idx, r_dicts, r_tuples = _side(right, pairs["r_idx"], right_prepared, plan, comparisons)
    pairs = pl.DataFrame({"l_idx": l_idx, "r_idx": r_idx})
    encoded = (l_dicts, r_dicts)
    cache = (
        _LevelTableCache(left_prepared.level_tables, right_prepared)
        if left_prepared is not None and right_prepared is not None
        else None
    )
    tables = _level_tables(comparisons, l_tuples, r_tuples, pairs.height, cache)
    if helper is not None:  # at least two chunks, if each is worth a thread
        chunk_size = min(chunk_size, max(MIN_HELPED_CHUNK, -(-pairs.height // 2)))
    starts = range(0, pairs.height, max(1, chunk_size))
    chunks: list[pl.DataFrame | None] = [None] * len(starts)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(starts)):
        todo.put(i)

    def compare_chunks() -> None:  # until none is left (run by this thread and the helper)
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            chunk = pairs.slice(starts[i], chunk_size)
            chunks[i] = _compare_chunk(lsel, rsel, chunk, comparisons, encoded, tables)

    with distinct_pair_cache():  # the dictionaries, so the codes, hold for every chunk
        # the helper shares the cache: its thread runs in a copy of this context
        helping = (
            helper.submit(contextvars.copy_context().run, compare_chunks)
            if helper is not None and len(starts) > 1
            else None
        )
        try:
            compare_chunks()
        finally:
            if helping is not None and not helping.cancel():
                helping.result()  # its last chunk (and its error, if any)
    done = [c for c in chunks if c is not None]
    assert len(done) == len(chunks)  # every chunk was taken by a thread that returned
    out = pl.concat(done, how="vertical") if len(done) > 1 else done[0]
    return out.with_columns(original["l_idx"], original["r_idx"])


def _side(
    frame: pl.DataFrame,
    idx: pl.Series,
    prepared: PreparedRecords | None,
    plan: tuple[list[str], dict[str, pl.Expr], list[str]],
    comparisons: Sequence[Comparison],
) -> tuple[pl.DataFrame, pl.Series, Mapping[str, Dictionary], Mapping[str, ValueTuples]]:
    """One side's records with the per-record work done, the pairs' indices into them, their
    dictionaries and the comparisons' value tuples (:class:`_ValueTuplesOf`): from ``prepared``
    if given, else done here on the rows ``idx`` points at (dictionary-encoded when the pairs
    gather them often enough to repay it)."""
    if prepared is not None:
        return prepared.frame, idx, prepared.dictionaries, prepared.tuples
    cols, record_derived, keep = plan
    sel, idx = _referenced_rows(frame.select(cols), idx)
    sel = sel.with_columns(**record_derived).select(keep)
    dicts = dictionaries(sel) if idx.len() >= sel.height // 4 else {}
    return sel, idx, dicts, _ValueTuplesOf(sel, comparisons, dicts)


class _ValueTuplesOf(Mapping[str, ValueTuples]):
    """Per comparison whose columns are all dictionary-encoded and take few distinct tuples
    of values (see :func:`~registry_link.comparison.value_tuples.value_tuples`): those.

    Each comparison's are found on first look-up (under a lock: the registry's prepared
    records are compared from two threads), so that a side whose other side has none (e.g.
    dates: too many distinct values on the partner side to encode) never pays for them.
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        comparisons: Sequence[Comparison],
        dicts: Mapping[str, Dictionary],
    ) -> None:
        self._frame = frame
        self._comparisons = {c.name: c for c in comparisons}
        self._dicts = dicts
        self._found: dict[str, ValueTuples | None] = {}
        self._lock = threading.Lock()

    def _find(self, name: str) -> ValueTuples | None:
        with self._lock:
            if name not in self._found:
                reads = pair_level_columns(self._comparisons[name])
                columns = [c for c in self._frame.columns if reads is not None and c in reads]
                self._found[name] = (
                    value_tuples(self._frame, columns, self._dicts) if reads is not None else None
                )
            return self._found[name]

    def __getitem__(self, name: str) -> ValueTuples:
        found = self._find(name) if name in self._comparisons else None
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter([n for n in self._comparisons if self._find(n) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True)
class _LevelTableCache:
    """The level tables of one pair of prepared sides: kept on the left one
    (:attr:`PreparedRecords.level_tables`), keyed by the right one and the comparison.

    The right side is referred to weakly: keeping the tables must not keep the registry's
    prepared records alive once the linker lets them go (a new object may then take its id:
    the dead reference tells them apart).
    """

    tables: dict[tuple[int, str], tuple[weakref.ref[PreparedRecords], np.ndarray]]
    right: PreparedRecords

    def get(self, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        key = (id(self.right), name)
        found = self.tables.get(key)
        if found is not None and found[0]() is self.right:
            return found[1]
        table = make()  # (two threads may both make it: same table, one is kept)
        self.tables[key] = (weakref.ref(self.right), table)
        return table


def _level_tables(
    comparisons: Sequence[Comparison],
    left: Mapping[str, ValueTuples],
    right: Mapping[str, ValueTuples],
    n_pairs: int,
    cache: _LevelTableCache | None = None,
) -> _Tables:
    """The level tables of the comparisons with value tuples on both sides whose combinations
    of tuples are at most :data:`LEVEL_TABLE_MAX_SHARE` of the pairs (else comparing the pairs
    costs less). ``cache``: for prepared sides, whose tables serve every call on them (the
    candidate pairs, the u sample, the household pass's pairs)."""
    tables: dict[str, tuple[np.ndarray, ValueTuples, ValueTuples]] = {}
    for comp in comparisons:
        lt = left.get(comp.name)
        rt = right.get(comp.name) if lt is not None else None  # (found on first look-up)
        if lt is None or rt is None:
            continue
        if lt.values.height * rt.values.height > LEVEL_TABLE_MAX_SHARE * n_pairs:
            continue

        def make(comp: Comparison = comp, lt: ValueTuples = lt, rt: ValueTuples = rt) -> Any:
            return level_table(comp, lt, rt, _compare_chunk)

        tables[comp.name] = (make() if cache is None else cache.get(comp.name, make), lt, rt)
    return tables


def _columns_plan(
    comparisons: Sequence[Comparison],
) -> tuple[list[str], dict[str, pl.Expr], list[str]]:
    """The record columns the comparisons read, their per-record derived columns, and the
    columns (of both) that the pair frame needs."""
    cols = needed_columns(comparisons)
    record_derived = {n: e for c in comparisons for n, e in c.record_derived.items()}
    reads = [pair_level_columns(c) for c in comparisons]
    keep = (
        [*cols, *record_derived]
        if any(r is None for r in reads)
        else [c for c in [*cols, *record_derived] if any(c in r for r in reads if r is not None)]
    )
    return cols, record_derived, keep


@dataclass(frozen=True, eq=False)
class PreparedRecords:
    """One side's records with :func:`compare`'s per-record work done (derived columns,
    dictionaries), for several ``compare`` calls on the same records and comparisons.

    Attributes:
        source: the frame it was prepared from (``compare`` checks it is the same object).
        comparisons: the names of the comparisons it was prepared for.
        frame: the columns the pair frame needs, one row per record of ``source``.
        dictionaries: the string columns' dictionaries (see :mod:`.dictionaries`).
        tuples: per comparison over few distinct values, those (see :mod:`.value_tuples`).
        level_tables: their level tables against right sides compared with these records
            (filled by ``compare``; see :mod:`.value_tuples`).
    """

    source: pl.DataFrame = field(repr=False)
    comparisons: tuple[str, ...]
    frame: pl.DataFrame = field(repr=False)
    dictionaries: Mapping[str, Dictionary] = field(repr=False)
    tuples: Mapping[str, ValueTuples] = field(repr=False, default_factory=dict)
    level_tables: dict[tuple[int, str], tuple[weakref.ref[PreparedRecords], np.ndarray]] = field(
        repr=False, default_factory=dict
    )


def prepare_records(frame: pl.DataFrame, comparisons: Sequence[Comparison]) -> PreparedRecords:
    """``frame``'s per-record comparison work, done once (see ``compare``'s ``left_prepared``
    and ``right_prepared``).

    Raises:
        LinkageError: a column a comparison reads is absent.
    """
    cols, record_derived, keep = _columns_plan(comparisons)
    _check_columns(frame, "prepared", cols)
    prepared = frame.select(cols).with_columns(**record_derived).select(keep)
    dicts = dictionaries(prepared)
    return PreparedRecords(
        frame,
        tuple(c.name for c in comparisons),
        prepared,
        dicts,
        _ValueTuplesOf(prepared, comparisons, dicts),
    )


def _referenced_rows(frame: pl.DataFrame, idx: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """The rows ``idx`` points at and ``idx`` renumbered into them, when they are under half
    of ``frame`` (a few extra pairs against a large registry); else ``frame`` and ``idx``."""
    rows = idx.unique().sort()
    if rows.len() * 2 > frame.height:
        return frame, idx
    position = np.zeros(frame.height, dtype=np.uint32)
    position[rows.to_numpy()] = np.arange(rows.len(), dtype=np.uint32)
    return frame.gather(rows), pl.Series(idx.name, position[idx.to_numpy()], dtype=pl.UInt32)
