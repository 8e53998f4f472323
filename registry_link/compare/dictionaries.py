"""Dictionary encoding of record columns, so that gathering them for pairs stays cheap.

Gathering a string column for millions of pairs from a million-row frame is dominated by cache
misses; gathering integer codes and then the values from a small dictionary gives the same
strings several times faster (see :func:`registry_link.compare.compute.compare`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import polars as pl


def code_column(column: str) -> str:
    """Name of the dictionary-code column :func:`compare` adds beside a gathered column."""
    return f"__code_{column}"


#: A string column as (its distinct values, each record's position among them).
Dictionary = tuple[pl.Series, pl.Series]

#: Dictionary-encode a string column when it has at most this many distinct values (or an
#: eighth of its rows, if more): gathering from a small dictionary stays in the CPU cache.
DICTIONARY_MAX_VALUES = 1024


def dictionaries(frame: pl.DataFrame) -> Mapping[str, Dictionary]:
    """Per column with few distinct values: (dictionary of values, codes per record).

    Gathering a string column for millions of pairs from a million-row frame is dominated by
    cache misses; gathering the codes (integers) and then the values from the small dictionary
    is several times faster and gives the same strings (:func:`_gather`). Nulls are a value of
    the dictionary like any other, so they survive the round trip. The distinct values are
    compacted (``shrink_to_fit``): fresh from ``unique`` they still point into the whole
    column's string buffers, which makes gathering from them several times slower.

    String columns are encoded at once, in parallel (distinct values, then an ``Enum`` cast
    of each column for the codes). Integer, date and Boolean columns whose values span few
    enough (birth years, dates, flags) get the whole span as dictionary and their offset from
    its minimum as code (:func:`_span_dictionaries`): no hashing. List columns are only read
    by derived functions on some pairs (often none), so each is encoded on first use (see
    :class:`_Dictionaries`).
    """
    strings = [c for c, t in frame.schema.items() if t == pl.Utf8]
    lists = [c for c, t in frame.schema.items() if t == pl.List(pl.Utf8)]
    spans = [c for c, t in frame.schema.items() if t in _SPAN_TYPES]
    categoricals = [c for c, t in frame.schema.items() if t == pl.Categorical]
    if not (strings or lists or spans or categoricals) or frame.height == 0:
        return {}
    limit = max(DICTIONARY_MAX_VALUES, frame.height // 8)
    lazy = frame.lazy()
    strings = _few_distinct_in_head(frame, strings, limit)
    distinct = pl.collect_all([lazy.select(pl.col(c).unique().alias("v")) for c in strings])
    chosen = {c: d.get_column("v") for c, d in zip(strings, distinct, strict=True)}
    chosen = {c: v for c, v in chosen.items() if v.len() <= limit}
    codes = pl.collect_all([lazy.select(_enum_codes(c, v)) for c, v in chosen.items()])
    eager = {
        c: (_dictionary_values(v).alias(c).rechunk().shrink_to_fit(), k.to_series().rechunk())
        for (c, v), k in zip(chosen.items(), codes, strict=True)
    }
    eager |= _span_dictionaries(frame, spans, limit)
    eager |= _categorical_dictionaries(frame, categoricals, limit)
    return _Dictionaries(frame.select(lists), limit, {c: narrowed(d) for c, d in eager.items()})


def _few_distinct_in_head(frame: pl.DataFrame, columns: list[str], limit: int) -> list[str]:
    """``columns`` less those whose first ``2 * limit`` rows already hold more than ``limit``
    distinct values (nulls count as one), so that the whole column does too: finding the
    distinct values of a registry's million CINs (0.15 CPU s) only to drop them is skipped,
    for a fifth of that. The same columns are encoded as without it."""
    if not columns or frame.height <= 2 * limit:
        return columns
    counts = frame.head(2 * limit).select(pl.col(columns).n_unique()).row(0, named=True)
    return [c for c in columns if counts[c] <= limit]


def narrowed(dictionary: Dictionary) -> Dictionary:
    """``dictionary`` with its codes in the narrowest unsigned type that holds them (``UInt8``
    up to 256 values, ``UInt16`` up to 65,536, else ``UInt32``).

    Pairs gather every encoded column's codes (random reads from a million records): from an
    array of one or two bytes a record, which stays in the CPU's caches, they cost about half
    of what they cost from four."""
    values, codes = dictionary
    n = values.len()
    dtype = pl.UInt8 if n <= 1 << 8 else pl.UInt16 if n <= 1 << 16 else pl.UInt32
    return (values, codes) if codes.dtype == dtype else (values, codes.cast(dtype))


def _categorical_dictionaries(
    frame: pl.DataFrame, columns: list[str], limit: int
) -> dict[str, Dictionary]:
    """Dictionaries of ``Categorical`` columns (a registry read with its repeated values
    coded: :data:`~registry_link.linker.REPEATED_COLUMNS`): the column's distinct values as
    strings (then null, if any), each record's position among them found from its category
    code through a look-up table (no string hashed). Gathered, the same strings as the
    column's values cast to strings."""
    out: dict[str, Dictionary] = {}
    for c in columns:
        column = frame.get_column(c)
        distinct = column.unique()
        if distinct.len() > limit:
            continue
        present = distinct.drop_nulls()
        category = present.to_physical().to_numpy()
        position = np.full(int(category.max(initial=0)) + 1, present.len(), dtype=np.uint32)
        position[category] = np.arange(present.len(), dtype=np.uint32)
        codes = pl.Series(position).gather(column.to_physical()).fill_null(present.len())
        values = _dictionary_values(distinct.cast(pl.Utf8)).alias(c).rechunk().shrink_to_fit()
        out[c] = (values, codes.rechunk())
    return out


#: Column types encoded by their span: physically integers that fit in Int64 (not UInt64).
_SPAN_TYPES = frozenset(
    {
        pl.Boolean,
        pl.Date,
        pl.Int8,
        pl.Int16,
        pl.Int32,
        pl.Int64,
        pl.UInt8,
        pl.UInt16,
        pl.UInt32,
    }
)


def _span_dictionaries(
    frame: pl.DataFrame, columns: list[str], limit: int
) -> dict[str, Dictionary]:
    """Dictionaries of integer-like columns whose values span at most ``limit``.

    The dictionary is every value from the column's minimum to its maximum (present or not),
    then null if the column has nulls; a record's code is its value's offset from the
    minimum (nulls: the last code). Gathering a nullable numeric column for millions of pairs
    from a million-row frame is several times slower than gathering the codes (no validity
    to gather) and then the values from the small dictionary.
    """
    if not columns:
        return {}
    phys = {c: pl.col(c).to_physical().cast(pl.Int64) for c in columns}
    bounds = frame.select(
        *(phys[c].min().alias(f"{c}\0min") for c in columns),
        *(phys[c].max().alias(f"{c}\0max") for c in columns),
    ).row(0, named=True)
    chosen: dict[str, tuple[int, int]] = {}
    for c in columns:
        low, high = bounds[f"{c}\0min"], bounds[f"{c}\0max"]
        if low is None and limit >= 1:  # only nulls: a dictionary of one null
            chosen[c] = (0, -1)
        elif low is not None and high - low + 1 <= limit:
            chosen[c] = (low, high)
    if not chosen:
        return {}
    codes = frame.select(
        (phys[c] - low).cast(pl.UInt32).fill_null(high - low + 1).alias(c)
        for c, (low, high) in chosen.items()
    )
    out: dict[str, Dictionary] = {}
    for c, (low, high) in chosen.items():
        dtype = frame.schema[c]
        span = pl.int_range(low, high + 1, dtype=pl.Int64, eager=True)
        values = (
            span > 0
            if dtype == pl.Boolean
            else span.cast(pl.Int32 if dtype == pl.Date else dtype).cast(dtype)
        )
        if frame.get_column(c).has_nulls():
            values = values.extend(pl.Series([None], dtype=dtype))
        out[c] = (values.alias(c).rechunk(), codes.get_column(c).rechunk())
    return out


def _dictionary_values(distinct: pl.Series) -> pl.Series:
    """The dictionary of a column's distinct values: the non-null ones, then null if any."""
    values = distinct.drop_nulls()
    return values.extend(pl.Series([None], dtype=values.dtype)) if distinct.has_nulls() else values


def _enum_codes(col: str, distinct: pl.Series) -> pl.Expr:
    """Each record's position in ``_dictionary_values(distinct)`` (nulls: the last one)."""
    values = distinct.drop_nulls()
    return (
        pl.col(col)
        .cast(pl.Enum(values))
        .to_physical()
        .cast(pl.UInt32)
        .fill_null(values.len())
        .alias("c")
    )


class _Dictionaries(Mapping[str, Dictionary]):
    """:func:`dictionaries`' result: string columns' dictionaries computed already, list
    columns' on first use (looking one up; iterating computes them all).

    Not thread-safe (a look-up may encode a column): :class:`~.engine.CompareEngine`
    serialises the look-ups of records it compares from several threads.
    """

    def __init__(self, lists: pl.DataFrame, limit: int, encoded: Mapping[str, Dictionary]) -> None:
        self._lists = lists
        self._limit = limit
        self._encoded = dict(encoded)
        self._pending = set(lists.columns)

    def _resolve(self, col: str) -> None:
        if col not in self._pending:
            return
        column = self._lists.select(pl.col(col).alias("v"))
        distinct = column.unique()
        if distinct.height <= self._limit:
            codes = column.join(
                distinct.with_row_index("c"),
                on="v",
                how="left",
                maintain_order="left",
                nulls_equal=True,
            )
            self._encoded[col] = narrowed(
                (
                    distinct.get_column("v").alias(col).rechunk().shrink_to_fit(),
                    codes.get_column("c").rechunk(),
                )
            )
        self._pending.discard(col)

    def __getitem__(self, col: str) -> Dictionary:
        self._resolve(col)
        return self._encoded[col]

    def __contains__(self, col: object) -> bool:
        if isinstance(col, str):
            self._resolve(col)
        return col in self._encoded

    def __iter__(self) -> Iterator[str]:
        for col in list(self._pending):
            self._resolve(col)
        return iter(list(self._encoded))  # a snapshot: no "changed size during iteration"

    def __len__(self) -> int:
        return sum(1 for _ in self)


#: Per side, string column → its dictionary's values as one :class:`polars.Enum` shared by
#: both sides and all those columns (see :func:`shared_enums`).
SharedEnums = tuple[Mapping[str, pl.Series], Mapping[str, pl.Series]]


def shared_enums(
    left: Mapping[str, Dictionary], right: Mapping[str, Dictionary], columns: Iterable[str]
) -> SharedEnums:
    """The dictionaries of the string ``columns`` encoded on both sides, cast to one ``Enum``
    whose categories are all their values, sorted.

    Gathered for pairs from these (as the strings are), a column is an ``Enum`` of one code
    space: equal values have equal physical codes whatever the side or column, so the level
    predicates' equalities (``l_x == r_x``, a key against the other name part's key) compare
    integers instead of strings (several times faster), with the same result; nulls stay null,
    and the sorted categories keep the strings' order. ``columns``: string columns of both
    sides (list columns are not looked up: a lazy dictionary would encode them).
    """
    both = [c for c in columns if c in left and c in right]
    if not both:
        return {}, {}
    values = pl.concat([side[c][0] for side in (left, right) for c in both])
    dtype = pl.Enum(values.drop_nulls().unique().sort())
    return (
        {c: left[c][0].cast(dtype).rechunk() for c in both},
        {c: right[c][0].cast(dtype).rechunk() for c in both},
    )
