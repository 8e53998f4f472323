"""Compute comparison vectors over candidate pairs: pure functions, one thread.

The steps of :func:`compare`, each a function of its inputs:

1. **prepare** each side (:func:`prepare_records`, or :func:`prepare_referenced` for the rows
   the pairs reach): the columns the comparisons read, their per-record derived columns, and
   dictionaries of the columns with few distinct values (:mod:`.dictionaries`);
2. **level tables** (:func:`level_tables`): a comparison over few distinct values (sex,
   communes, a father's name) is evaluated once per combination of values (:mod:`.value_tuples`);
3. **each chunk** of pairs (:func:`compare_chunk`): gather the columns as ``l_<col>`` /
   ``r_<col>``, compute the comparisons' derived columns (string similarities, only on the
   pairs that need them) and evaluate the level predicates as one polars ``when/then`` chain
   per comparison. No per-pair Python loop.

Doing the per-record work once for several calls, caching, and threads are the engine's
(:mod:`.engine`): it runs these same steps, so it gives the same vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from registry_link.compare.dictionaries import (
    Dictionary,
    SharedEnums,
    code_column,
    dictionaries,
    shared_enums,
)
from registry_link.compare.levels import Comparison, Derived
from registry_link.compare.value_tuples import (
    ValueTuples,
    level_table,
    levels_from_tables,
    value_tuples,
)
from registry_link.errors import LinkageError
from registry_link.schema import values_type

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ENUM_SAFE_KINDS",
    "LevelTables",
    "PreparedRecords",
    "TuplesOf",
    "check_comparisons",
    "compare",
    "compare_chunk",
    "empty_gammas",
    "level_table_of",
    "level_tables",
    "needed_columns",
    "prepare_records",
    "prepare_referenced",
    "shared_enums_of",
    "value_tuples_of",
]

#: Pairs processed per chunk by :func:`compare` (bounds the gathered frame's memory).
DEFAULT_CHUNK_SIZE = 1_000_000

#: The shipped comparison kinds, whose level predicates and derived expressions only compare
#: string columns, test them for nulls and combine them: they may read them as the sides'
#: shared ``Enum`` (see :func:`evaluate_pairs`). A kind registered elsewhere (which may use
#: string functions in its predicates) reads strings.
ENUM_SAFE_KINDS = frozenset(
    {
        "exact",
        "string",
        "jaro_winkler",
        "id",
        "place",
        "numeric_abs_diff",
        "name",
        "name_tokens",
        "date",
    }
)

#: A comparison over few distinct values (:mod:`.value_tuples`) is evaluated once per
#: combination of values when they are at most this share of the pairs.
LEVEL_TABLE_MAX_SHARE = 0.5


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

    Read off its predicates' and derived columns' column names (a derived column whose
    :attr:`~.levels.Derived.reads` is ``None`` makes it unknown). A source column that only
    feeds the comparison's :attr:`~Comparison.record_derived` columns is not among them, and
    need not be gathered.
    """
    exprs = [comp.missing.predicate, *(lvl.predicate for lvl in comp.levels)]
    names = {n for e in [*exprs, *comp.derived_when.values()] for n in e.meta.root_names()}
    for fn in comp.derived.values():
        reads = fn.reads
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
    # not ``encoded or {}``: the truth value of lazy dictionaries is their length, which
    # encodes every list column (a million records' token lists that no pair may read)
    given = encoded if encoded is not None else {}
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
    ``enums``: the string columns' dictionaries as the sides' shared ``Enum``
    (:func:`~.dictionaries.shared_enums`): a comparison whose string columns all have one gets
    them as that ``Enum`` (its equalities compare codes), else as strings.
    """

    def __init__(
        self,
        frame: pl.DataFrame,
        values: Mapping[str, pl.Series],
        columns: Sequence[Sequence[str]],
        enums: Mapping[str, pl.Series] | None = None,
    ) -> None:
        self._frame = frame
        self._values = values
        self._enums = enums or {}
        self._last_use = {c: i for i, cols in enumerate(columns) for c in cols}
        self._asked = 0
        self._made: dict[tuple[str, bool], pl.Series] = {}

    def _is_string(self, column: str) -> bool:
        if column in self._values:
            return self._values[column].dtype == pl.Utf8
        return self._frame.schema.get(column) == pl.Utf8

    def pair_columns(self, columns: Sequence[str], enum: bool = True) -> pl.DataFrame:
        """``l_idx, r_idx``, ``columns`` and the encoded ones' codes, for the next comparison
        (``enum``: whose predicates may read its string columns as the shared ``Enum``)."""
        frame, values = self._frame, self._values
        wanted = list(dict.fromkeys(columns))
        strings = [c for c in wanted if self._is_string(c)]
        as_enum = enum and bool(strings) and all(c in self._enums for c in strings)
        kind = {c: as_enum and c in self._enums for c in wanted if c in values}
        new = [c for c, e in kind.items() if (c, e) not in self._made]
        if new:
            made = frame.select(
                pl.lit(self._enums[c] if kind[c] else values[c])
                .gather(pl.col(code_column(c)))
                .alias(c)
                for c in new
            )
            self._made.update({(c, kind[c]): made.get_column(c) for c in new})
        plain = [c for c in wanted if c not in values]
        codes = [code_column(c) for c in wanted if c in values]
        out = frame.select("l_idx", "r_idx", *plain, *codes).with_columns(
            self._made[(c, e)] for c, e in kind.items()
        )
        self._made = {k: v for k, v in self._made.items() if self._last_use[k[0]] > self._asked}
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
LevelTables = Mapping[str, tuple[np.ndarray, ValueTuples, ValueTuples]]


def evaluate_pairs(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    comps: Sequence[Comparison],
    encoded: tuple[Mapping[str, Dictionary], Mapping[str, Dictionary]] = ({}, {}),
    tables: LevelTables | None = None,
    shared: SharedEnums | None = None,
) -> pl.DataFrame:
    """The comparison vectors ``{l_idx, r_idx, gamma_<name> ...}`` of ``pairs`` of rows of
    ``left`` and ``right``: each comparison's levels evaluated on the gathered columns, or read
    from its level table in ``tables``; ``encoded``: the sides' dictionaries, if encoded;
    ``shared``: their string columns' dictionaries in one ``Enum``
    (:func:`shared_enums_of`): the levels then compare those columns' codes, and derived
    functions get strings only for the rows and columns they read (the same vectors)."""
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
    enums = {
        f"{prefix}{c}": e
        for prefix, side in zip(("l_", "r_"), shared or ({}, {}), strict=True)
        for c, e in side.items()
        if f"{prefix}{c}" in values
    }
    enum_dtype = next(iter(enums.values())).dtype if enums else None
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
    strings = _StringColumns(frame, values, columns, enums)
    for comp, cols in zip(comps_here, columns, strict=True):
        work = strings.pair_columns(cols, comp.kind in ENUM_SAFE_KINDS)
        masks: dict[str, pl.Series] = {}
        for name, fn in comp.derived.items():  # in order: later ones may use earlier ones
            if name in comp.derived_when and name not in masks:
                masks.update(_ready_masks(work, comp, masks))
                if name not in masks:  # reads a column not (yet) in the frame: polars says which
                    masks[name] = work.select(comp.derived_when[name].fill_null(False)).to_series()
            work = work.with_columns(_derive(work, name, fn, masks.get(name), sides, enum_dtype))
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
    fn: Derived,
    mask: pl.Series | None,
    sides: _Sides,
    enum: pl.DataType | None = None,
) -> pl.Series:
    """A derived column, computed only on the rows ``mask`` selects (null elsewhere).

    ``mask``: Boolean, no nulls (see :func:`_ready_masks`); ``None`` for every row. Only the
    columns ``fn`` reads (:attr:`~.levels.Derived.reads`, with their dictionary codes) are
    filtered. ``enum``: the sides' shared ``Enum`` (see :func:`evaluate_pairs`): a function
    that is not one polars expression (:attr:`~.levels.Derived.expr`) gets the columns it
    reads of that type as strings, as without it, unless it takes them as they are
    (:attr:`~.levels.Derived.takes_enums`); an expression compares their codes.
    """
    reads = fn.reads

    def run(rows: pl.DataFrame) -> pl.Series:
        if enum is not None and fn.expr is None and not fn.takes_enums:
            rows = _enums_as_strings(rows, enum, reads)
        return fn(_with_lists(rows, sides, reads))

    if mask is None:
        return run(frame).alias(name)
    n = int(mask.sum())
    if n == frame.height:
        return run(frame).alias(name)
    if n == 0:
        return pl.repeat(None, frame.height, dtype=pl.Float64, eager=True).alias(name)
    if reads is not None:  # filter only what fn and _with_lists need
        wanted = {"l_idx", "r_idx", *reads, *(code_column(c) for c in reads)}
        frame = frame.select(c for c in frame.columns if c in wanted)
    values = run(frame.filter(mask))
    full = pl.repeat(None, frame.height, dtype=values.dtype, eager=True).alias(name)
    return full.scatter(mask.arg_true(), values)


def _enums_as_strings(
    frame: pl.DataFrame, enum: pl.DataType, reads: frozenset[str] | None
) -> pl.DataFrame:
    """``frame`` with its columns of type ``enum`` that a function ``reads`` (all: None) as
    strings (the values they were made from)."""
    cast = [c for c, t in frame.schema.items() if t == enum and (reads is None or c in reads)]
    return frame.with_columns(pl.col(cast).cast(pl.Utf8)) if cast else frame


@dataclass(frozen=True, eq=False)
class PreparedRecords:
    """One side's records with the per-record comparison work done.

    Attributes:
        frame: the columns the pair frame needs (those the comparisons read and their
            per-record derived columns), one row per record.
        dictionaries: the string columns' dictionaries (see :mod:`.dictionaries`; empty when
            not worth making).
    """

    frame: pl.DataFrame = field(repr=False)
    dictionaries: Mapping[str, Dictionary] = field(repr=False)


#: A side's value tuples per comparison (:func:`value_tuples_of`), looked up by comparison.
TuplesOf = Callable[[Comparison], ValueTuples | None]


def check_comparisons(comparisons: Sequence[Comparison], *frames: tuple[str, pl.DataFrame]) -> None:
    """Raise :class:`LinkageError` when two comparisons share a name or a frame (``(side,
    frame)``) lacks a column they read."""
    names = [c.name for c in comparisons]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LinkageError(f"comparison names must be unique; repeated: {dupes}")
    for side, frame in frames:
        _check_columns(frame, side, needed_columns(comparisons))


def empty_gammas(comparisons: Sequence[Comparison]) -> pl.DataFrame:
    """The comparison vectors of no pairs: ``{l_idx, r_idx, gamma_<name> ...}``, no rows."""
    schema: dict[str, Any] = {"l_idx": pl.UInt32, "r_idx": pl.UInt32}
    schema.update({c.output_column: pl.Int8 for c in comparisons})
    return pl.DataFrame(schema=schema)


def prepare_records(frame: pl.DataFrame, comparisons: Sequence[Comparison]) -> PreparedRecords:
    """``frame``'s per-record comparison work, for every record (dictionary-encoded).

    Raises:
        LinkageError: a column a comparison reads is absent.
    """
    cols, record_derived, keep = _columns_plan(comparisons)
    _check_columns(frame, "prepared", cols)
    prepared = frame.select(cols).with_columns(**record_derived).select(keep)
    dicts = dictionaries(prepared)
    return PreparedRecords(_gathered_contiguous(prepared, dicts), dicts)


def prepare_referenced(
    frame: pl.DataFrame, idx: pl.Series, comparisons: Sequence[Comparison]
) -> tuple[PreparedRecords, pl.Series]:
    """The per-record work of the rows ``idx`` points at, and ``idx`` renumbered into them.

    Only those rows when they are under half of ``frame`` (a few extra pairs against a large
    registry); dictionary-encoded when the pairs gather the rows often enough to repay it.
    """
    cols, record_derived, keep = _columns_plan(comparisons)
    sel, idx = _referenced_rows(frame.select(cols), idx)
    sel = sel.with_columns(**record_derived).select(keep)
    dicts = dictionaries(sel) if idx.len() >= sel.height // 4 else {}
    return PreparedRecords(_gathered_contiguous(sel, dicts), dicts), idx


def _gathered_contiguous(frame: pl.DataFrame, dicts: Mapping[str, Dictionary]) -> pl.DataFrame:
    """``frame`` with the columns that pairs gather from it directly (those not
    dictionary-encoded, lists aside) in one chunk each.

    A registry read from Parquet comes in several chunks (one per row group); gathering a
    column of a million records for a million pairs from eight chunks costs several times
    what it costs from one (a string column: 0.13 s against 0.02), and every chunk of pairs
    gathers it again, while one copy of the column costs a few milliseconds. The encoded
    columns are gathered through their codes (one chunk already); list columns are gathered
    only for the rows a derived column reads (and, encoded lazily, are not looked up here).
    """
    scattered = [
        c
        for c, dtype in frame.schema.items()
        if not isinstance(dtype, pl.List) and frame.get_column(c).n_chunks() > 1 and c not in dicts
    ]
    return (
        frame.with_columns(frame.get_column(c).rechunk() for c in scattered) if scattered else frame
    )


def value_tuples_of(records: PreparedRecords, comparison: Comparison) -> ValueTuples | None:
    """The distinct tuples of the columns the comparison's levels read, over ``records``
    (:func:`~registry_link.compare.value_tuples.value_tuples`); ``None`` when they are not
    all dictionary-encoded, too many, or unknown (a derived function that does not say what
    it reads)."""
    reads = pair_level_columns(comparison)
    if reads is None:
        return None
    columns = [c for c in records.frame.columns if c in reads]
    return value_tuples(records.frame, columns, records.dictionaries)


def level_table_of(comparison: Comparison, left: ValueTuples, right: ValueTuples) -> np.ndarray:
    """One comparison's level table over two sides' value tuples (see :mod:`.value_tuples`)."""
    return level_table(comparison, left, right, evaluate_pairs)


def level_tables(
    comparisons: Sequence[Comparison],
    left: TuplesOf,
    right: TuplesOf,
    n_pairs: int,
    table: Callable[[Comparison, ValueTuples, ValueTuples], np.ndarray] = level_table_of,
) -> LevelTables:
    """The level tables of the comparisons with value tuples on both sides whose combinations
    of tuples are at most :data:`LEVEL_TABLE_MAX_SHARE` of the pairs (else comparing the pairs
    costs less). The right side's tuples are looked up only where the left side has some.

    ``table``: makes one comparison's table (the engine passes one that keeps them).
    """
    tables: dict[str, tuple[np.ndarray, ValueTuples, ValueTuples]] = {}
    for comp in comparisons:
        lt = left(comp)
        rt = right(comp) if lt is not None else None
        if lt is None or rt is None:
            continue
        if lt.values.height * rt.values.height > LEVEL_TABLE_MAX_SHARE * n_pairs:
            continue
        tables[comp.name] = (table(comp, lt, rt), lt, rt)
    return tables


def compare_chunk(
    left: PreparedRecords,
    right: PreparedRecords,
    pairs: pl.DataFrame,
    comparisons: Sequence[Comparison],
    tables: LevelTables,
    shared: SharedEnums | None = None,
) -> pl.DataFrame:
    """The comparison vectors of one chunk of pairs (``l_idx``/``r_idx`` index the prepared
    records), the comparisons with a level table read from it; ``shared``: the sides'
    :func:`shared_enums_of` (made once for all the chunks)."""
    encoded = (left.dictionaries, right.dictionaries)
    return evaluate_pairs(left.frame, right.frame, pairs, comparisons, encoded, tables, shared)


def shared_enums_of(left: PreparedRecords, right: PreparedRecords) -> SharedEnums:
    """The two prepared sides' string dictionaries in one ``Enum``
    (:func:`~.dictionaries.shared_enums`), for :func:`compare_chunk`.

    A ``Categorical`` column (a registry read with its repeated values coded) counts as a
    string column: its dictionary's values are its strings, as a string column's are."""
    columns = [
        c
        for c, t in left.frame.schema.items()
        if _is_text(t) and _is_text(right.frame.schema.get(c))
    ]
    return shared_enums(left.dictionaries, right.dictionaries, columns)


def _is_text(dtype: pl.DataType | None) -> bool:
    """A column of strings (a ``Categorical`` one too: :func:`~.schema.values_type`)."""
    return dtype is not None and values_type(dtype) == pl.Utf8


def chunk_starts(n_pairs: int, chunk_size: int) -> range:
    """Where each chunk of ``chunk_size`` pairs starts."""
    return range(0, n_pairs, max(1, chunk_size))


def compare(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: Sequence[Comparison],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pl.DataFrame:
    """Comparison vectors of candidate pairs (one call, one thread; for several calls over
    the same records, in several threads, see :class:`~.engine.CompareEngine`).

    Args:
        left: left records (link mode: partner records; dedupe mode: the one frame).
        right: right records (link mode: the registry; dedupe mode: the same frame as left).
        pairs: candidate pairs ``{l_idx: UInt32, r_idx: UInt32, ...}`` (row indices).
        comparisons: the comparisons to compute (distinct names).
        chunk_size: pairs per chunk (memory bound of the gathered columns).

    Returns:
        ``{l_idx: UInt32, r_idx: UInt32, gamma_<name>: Int8 ...}`` in the order of ``pairs``.

    Raises:
        LinkageError: a column a comparison reads is absent, or two comparisons share a name.
    """
    check_comparisons(comparisons, ("left", left), ("right", right))
    pairs = pairs.select(pl.col("l_idx").cast(pl.UInt32), pl.col("r_idx").cast(pl.UInt32))
    if pairs.height == 0:
        return empty_gammas(comparisons)
    lrec, l_idx = prepare_referenced(left, pairs["l_idx"], comparisons)
    rrec, r_idx = prepare_referenced(right, pairs["r_idx"], comparisons)
    local = pl.DataFrame({"l_idx": l_idx, "r_idx": r_idx})
    tables = level_tables(
        comparisons,
        lambda c: value_tuples_of(lrec, c),
        lambda c: value_tuples_of(rrec, c),
        local.height,
    )
    shared = shared_enums_of(lrec, rrec)
    chunks = [
        compare_chunk(lrec, rrec, local.slice(start, chunk_size), comparisons, tables, shared)
        for start in chunk_starts(local.height, chunk_size)
    ]
    out = pl.concat(chunks, how="vertical") if len(chunks) > 1 else chunks[0]
    return out.with_columns(pairs["l_idx"], pairs["r_idx"])


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


def _referenced_rows(frame: pl.DataFrame, idx: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """The rows ``idx`` points at and ``idx`` renumbered into them, when they are under half
    of ``frame`` (a few extra pairs against a large registry); else ``frame`` and ``idx``."""
    rows = idx.unique().sort()
    if rows.len() * 2 > frame.height:
        return frame, idx
    position = np.zeros(frame.height, dtype=np.uint32)
    position[rows.to_numpy()] = np.arange(rows.len(), dtype=np.uint32)
    return frame.gather(rows), pl.Series(idx.name, position[idx.to_numpy()], dtype=pl.UInt32)
