"""Blocking: candidate record pairs from equality rules, never a full cross product.

A :class:`BlockingRule` names columns that must be equal on both records (nulls never block
together). List columns (e.g. ``name_token_keys``) are exploded: two records share the block
when they share one element. Candidate pairs are the union over the rules, deduplicated, with
``rule`` = the first rule that produced the pair.

A rule may also name integer columns ``near`` (a birth year): those need not be equal, only
close. Each record is given the two-wide buckets ``value // 2`` and ``(value + 1) // 2`` of its
value, so two records whose values differ by at most one always share a bucket (two apart:
when both are odd) — a year-window rule at about twice the pairs of the exact-year rule, the same in
link and dedupe modes (:func:`with_near_keys`; :func:`block` emits each record's buckets as
rows directly, :func:`near_rows`).

Modes: **link** (``right`` given: pairs of a left row and a right row) and **dedupe**
(``right=None``: pairs of rows of ``left`` with ``l_idx < r_idx``).

Speed and memory: each rule column is encoded once to integer codes and each rule's codes are
packed into one ``UInt64`` block key per record, so block sizes and the pair join never touch
the (string) key columns. Rules are processed one by one; each rule's pairs are checked against
its pair-count limit *before* the join (from block sizes), built in batches of blocks, and kept
as packed ``UInt64`` keys ``l_idx << 32 | r_idx`` (8 bytes a pair). The batches are then
deduplicated one by one, in rule order, against the distinct pairs so far (:func:`first_seen`),
each let go once read: the peak holds the rules' batches and the distinct pairs, not the
temporaries of one deduplication of every rule's pairs at once.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

import numpy as np
import polars as pl

from registry_link.errors import LinkageError

PAIR_SCHEMA: dict[str, Any] = {"l_idx": pl.UInt32, "r_idx": pl.UInt32, "rule": pl.Categorical}


class OversizedBlockWarning(UserWarning):
    """Blocks larger than a rule's ``max_block_size``, or offering a record more candidates
    than its ``max_candidates``, were skipped."""


@dataclass(frozen=True)
class BlockingRule:
    """Records are candidates when all ``columns`` are equal (and non-null) on both.

    Attributes:
        name: the rule's name (reported in ``rule`` and in messages).
        columns: record columns that must be equal; a list column matches on any shared element.
        max_block_size: skip (with an :class:`OversizedBlockWarning`) any block that would
            produce more pairs than this (left size × right size; n·(n-1)/2 in dedupe mode).
        max_pairs: raise :class:`~registry_link.errors.LinkageError` if the rule would produce
            more pairs than this (counted from block sizes, before any join).
        max_candidates: skip (with an :class:`OversizedBlockWarning`) any block in which a
            record would meet more than this many records of the other side: more right
            records (link mode), more other records (dedupe mode). Unlike ``max_block_size``
            it does not depend on how many left records share the block, so a record gets the
            same candidates from a rule whether its list is linked whole or in parts, and
            no rule gives one record more than this many candidates ("Mohamed, Casablanca,
            1980" is too common a key to tell persons apart: the other rules must).
        near: integer columns of ``columns`` whose values need only be within one of each
            other (a birth year typed one off), not equal: blocked on two-year buckets (see
            :func:`with_near_keys`).
    """

    name: str
    columns: tuple[str, ...]
    max_block_size: int | None = None
    max_pairs: int | None = None
    max_candidates: int | None = None
    near: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "near", tuple(self.near))
        if not self.columns:
            raise LinkageError(f"blocking rule {self.name!r} names no column; give at least one")
        stray = [c for c in self.near if c not in self.columns]
        if stray:
            raise LinkageError(
                f"blocking rule {self.name!r}: near names {stray}, not among its columns "
                f"{list(self.columns)}; list each near column in columns too"
            )

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The columns blocked on: ``columns`` with each ``near`` column replaced by its
        buckets' column (:func:`near_column`)."""
        return tuple(near_column(c) if c in self.near else c for c in self.columns)

    def describe(self) -> str:
        """The rule in words."""
        parts = [f"{c} within one" if c in self.near else c for c in self.columns]
        text = f"{self.name}: same {' and '.join(parts)}"
        if self.max_candidates is not None:
            text += f" (blocks of more than {self.max_candidates} candidates per record skipped)"
        return text


def near_column(column: str) -> str:
    """The name of the buckets' column of a ``near`` column (``birth_year`` ->
    ``birth_year~1``)."""
    return f"{column}~1"


def near_keys(values: pl.Expr) -> pl.Expr:
    """The two-wide buckets of an integer value: ``[v // 2, (v + 1) // 2]`` without repeats
    (one bucket for an even value). Values one apart always share a bucket, values two apart
    when both are odd, values further apart never; null for a null value."""
    v = values.cast(pl.Int64)
    both = pl.concat_list(v // 2, (v + 1) // 2)
    return pl.when(v.is_not_null()).then(both.list.unique(maintain_order=True))


def with_near_keys(frame: pl.DataFrame, rules: Sequence[BlockingRule]) -> pl.DataFrame:
    """``frame`` with the buckets' column (:func:`near_keys`) of every ``near`` column of the
    rules, named :func:`near_column` (the frame's other columns are shared, not copied)."""
    near = dict.fromkeys(c for r in rules for c in r.near if c in frame.columns)
    if not near:
        return frame
    return frame.with_columns(near_keys(pl.col(c)).alias(near_column(c)) for c in near)


def near_rows(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``{idx, v}``: the buckets (:func:`near_keys`) of each record's ``column`` value, one row
    per bucket: the rows of the buckets' list column exploded, nulls dropped (same rows, same
    order), without building the list column (one row for an even value, two for an odd one:
    ``v // 2`` then ``(v + 1) // 2``; none for a null)."""
    values = frame.get_column(column).cast(pl.Int64)
    present = values.is_not_null().to_numpy()
    v = values.fill_null(0).to_numpy()
    low, high = v // 2, (v + 1) // 2  # (floor division, as polars')
    two = present & (high != low)
    counts = present.astype(np.int64) + two
    starts = np.cumsum(counts) - counts
    out = np.empty(int(counts.sum()), dtype=np.int64)
    out[starts[present]] = low[present]
    out[starts[two] + 1] = high[two]
    idx = np.repeat(np.arange(len(v), dtype=np.uint32), counts)
    return pl.DataFrame({"idx": idx, "v": out}, schema={"idx": pl.UInt32, "v": pl.Int64})


def _keyed(rule: BlockingRule) -> BlockingRule:
    """The rule over its key columns (near columns replaced by their buckets' columns)."""
    if not rule.near:
        return rule
    return replace(rule, columns=rule.key_columns, near=())


@dataclass
class _Side:
    keys: pl.DataFrame  # idx + key columns, exploded, nulls dropped, unique
    sizes: pl.DataFrame  # key columns + n


def _check_columns(frame: pl.DataFrame, side: str, rule: BlockingRule) -> None:
    missing = [c for c in rule.columns if c not in frame.columns]
    if missing:
        raise LinkageError(
            f"blocking rule {rule.name!r}: the {side} records lack column(s) {missing}; "
            f"columns present: {frame.columns[:40]}. Fix the rule's columns in the model config"
        )


def _key_cols(rule: BlockingRule) -> list[str]:
    return [f"k{i}" for i in range(len(rule.columns))]


def _side(frame: pl.DataFrame, rule: BlockingRule) -> _Side:
    keys = _key_cols(rule)
    sel = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("idx"),
        *[pl.col(c).alias(k) for c, k in zip(rule.columns, keys, strict=True)],
    )
    for k in keys:
        if isinstance(sel.schema[k], pl.List):
            sel = sel.explode(k)
    sel = sel.drop_nulls(keys)
    if any(isinstance(frame.schema[c], pl.List) for c in rule.columns):
        sel = sel.unique(maintain_order=True)
    sizes = sel.group_by(keys).agg(pl.len().cast(pl.UInt64).alias("n"))
    return _Side(sel, sizes)


def _block_sizes(left: _Side, right: _Side | None, keys: list[str]) -> pl.DataFrame:
    """Per block: left size, right size, pairs (link: nl·nr; dedupe: n(n-1)/2)."""
    if right is None:
        return left.sizes.select(
            *keys,
            pl.col("n").alias("left_size"),
            pl.col("n").alias("right_size"),
            (pl.col("n") * (pl.col("n") - 1) // 2).alias("pairs"),
        )
    return left.sizes.join(right.sizes, on=keys, how="inner", suffix="_r").select(
        *keys,
        pl.col("n").alias("left_size"),
        pl.col("n_r").alias("right_size"),
        (pl.col("n") * pl.col("n_r")).alias("pairs"),
    )


# ---- block(): every rule on integer keys ------------------------------------------------------
#
# Each rule column is encoded once to dense UInt32 codes (one join on its distinct values), a
# rule's codes are packed into one UInt64 block key per record, and pairs are packed into one
# UInt64 ``l_idx << 32 | r_idx``: block sizes, the pair join and the deduplication run on
# integers, never on the (string) key columns.

#: A packed block key stays below this; above, block keys are renumbered densely (a test
#: lowers it to exercise that path).
KEY_SPAN = 2**64
_HIGH = pl.lit(2**32, pl.UInt64)


def pack_pair(high: str, low: str) -> pl.Expr:
    """``pair: UInt64 = high * 2**32 + low`` of two UInt32 columns (sorts as ``high, low``)."""
    return (pl.col(high).cast(pl.UInt64) * _HIGH + pl.col(low)).alias("pair")


def _unpack_pair(pairs: pl.Series, high: str, low: str) -> pl.DataFrame:
    """The two UInt32 columns of packed pairs (inverse of :func:`pack_pair`)."""
    return pairs.to_frame("pair").select(
        (pl.col("pair") // _HIGH).cast(pl.UInt32).alias(high),
        (pl.col("pair") % _HIGH).cast(pl.UInt32).alias(low),
    )


def _distinct_sorted(values: pl.Series) -> pl.Series:
    """The distinct values, sorted (a sort and a neighbour comparison: much cheaper than a
    hash-based unique on millions of integers)."""
    values = values.sort()
    return values.filter(values.ne_missing(values.shift(1)))


def _unseen(part: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """The values of ``part`` (sorted) that ``seen`` (sorted, distinct) lacks, each once, in
    order (a binary search per value: no hash table, no copy of ``seen``)."""
    if part.size > 1:
        part = part[np.concatenate(([True], part[1:] != part[:-1]))]
    if seen.size == 0 or part.size == 0:
        return part
    at = np.searchsorted(seen, part)
    found = seen[np.minimum(at, seen.size - 1)] == part
    return part[~found]


T = TypeVar("T")
R = TypeVar("R")

#: How :func:`block` applies a function to each column, then to each rule, then to each range
#: of the pairs' deduplication: in order, on this thread (the default), or in parallel (the
#: link's :meth:`~registry_link.compare.engine.CompareEngine.map`); results come back in order.
MapEach = Callable[[Callable[[T], R], Iterable[T]], list[R]]


def in_order(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``fn`` over ``items`` one after another on this thread (:data:`MapEach`)."""
    return [fn(item) for item in items]


def first_seen(
    parts: Iterable[tuple[int, np.ndarray]],
    cuts: Sequence[int] = (),
    map_each: MapEach[Any, Any] = in_order,
) -> Iterator[tuple[int, np.ndarray]]:
    """``(key, values)`` of each part (its values sorted ``UInt64``) with only the values no
    earlier part had, each once: the first occurrences of the parts' concatenation, in its
    order. The values seen so far are one sorted array (merged with each part's new ones), so
    a part can be let go once read: memory is that of the distinct values, not of every part.

    ``cuts`` (increasing) split the values into ranges (``v < cuts[0]``, ``cuts[0] <= v <
    cuts[1]``, ...): a value of one range is never one of another, so each range is
    deduplicated against its own seen values, the ranges of a part through ``map_each`` (on
    two threads, two ranges take half the time), then joined in order: the same values."""
    bounds = np.asarray(cuts, dtype=np.uint64)
    seen = [np.empty(0, dtype=np.uint64) for _ in range(bounds.size + 1)]

    def range_new(part: np.ndarray, edges: np.ndarray, i: int) -> np.ndarray:
        new = _unseen(part[edges[i] : edges[i + 1]], seen[i])
        if new.size:
            merged = np.concatenate([seen[i], new])
            merged.sort(kind="stable")  # (two sorted runs: a merge)
            seen[i] = merged
        return new

    for key, part in parts:
        edges = np.concatenate(([0], np.searchsorted(part, bounds), [part.size]))
        news = map_each(partial(range_new, part, edges), range(len(seen)))
        yield key, news[0] if len(news) == 1 else np.concatenate(news)


@dataclass
class _Coded:
    """One column, encoded: ``values[code]`` is the value; per side ``{idx, code}`` rows.

    A scalar column has one row per record, in record order (``code`` null for a null value
    or, in link mode, a value that no left record has); a list column has one row per record
    and distinct non-null element that has a code, in record order.
    """

    values: pl.Series
    left: pl.DataFrame
    right: pl.DataFrame  # dedupe: the same as left
    left_is_list: bool
    right_is_list: bool


def _elements(frame: pl.DataFrame, col: str, near: str | None = None) -> tuple[pl.DataFrame, bool]:
    """``{idx, v}`` of one column; a list column exploded, its null elements dropped; the
    buckets' column of a ``near`` column (``col`` is then :func:`near_column` of ``near``) as
    the rows of its list (:func:`near_rows`)."""
    if near is not None:
        return near_rows(frame, near), True
    out = frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("idx"), pl.col(col).alias("v"))
    if isinstance(out.schema["v"], pl.List):
        return out.explode("v").drop_nulls("v"), True
    return out, False


#: Integer and date values are coded through a table indexed by value (:func:`value_codes`)
#: when the left side's values span at most this many; wider, by a join.
TABLE_SPAN = 1 << 22


def value_codes(v: pl.Series, values: pl.Series) -> pl.Series | None:
    """Each value's position in ``values`` (distinct, non-null), null where it is absent
    (``UInt32``), without a join; ``None`` where there is no such way (then join them).

    Strings: a cast to the ``Enum`` of ``values`` (its physical codes are their positions;
    a value outside it becomes null), about twice as fast as a join on the million registry
    strings; a ``Categorical`` column through its categories (one cast per category, then a
    gather of the rows' physical codes). Integers and dates: a table of positions indexed by
    value, when ``values`` span at most :data:`TABLE_SPAN` values."""
    if values.len() == 0:
        return None
    if values.dtype == pl.Utf8:
        enum = pl.Enum(values)
        if isinstance(v.dtype, pl.Categorical):
            categories = v.dtype.categories.to_series()
            table = categories.cast(enum, strict=False).to_physical().cast(pl.UInt32)
            return table.gather(v.to_physical())
        return v.cast(enum, strict=False).to_physical().cast(pl.UInt32)
    if v.dtype != values.dtype or not (values.dtype.is_integer() or values.dtype == pl.Date):
        return None
    numbers = values.to_physical().cast(pl.Int64).to_numpy()
    low, span = int(numbers.min()), int(numbers.max() - numbers.min()) + 1
    if span > TABLE_SPAN:
        return None
    slots = np.full(span, -1, dtype=np.int64)
    slots[numbers - low] = np.arange(numbers.size)
    offset = v.to_physical().cast(pl.Int64) - low
    slot = pl.lit(pl.Series(slots)).gather(pl.when(offset.is_between(0, span - 1)).then(offset))
    return pl.select(pl.when(slot >= 0).then(slot).cast(pl.UInt32)).to_series()


def _code_rows(elements: pl.DataFrame, lookup: pl.DataFrame, is_list: bool) -> pl.DataFrame:
    """``{idx, code}`` of one side (see :class:`_Coded`): the codes of :func:`value_codes`,
    else by a join on the values."""
    codes = value_codes(elements.get_column("v"), lookup.get_column("v"))
    if codes is not None:
        coded = elements.select("idx").with_columns(codes.alias("code"))
    else:
        coded = elements.join(
            lookup, on="v", how="inner" if is_list else "left", maintain_order="left"
        ).select("idx", "code")
    if not is_list:
        return coded
    return first_in_record(coded.drop_nulls("code"))


#: Lists longer than this have their repeated elements found by a sort (:func:`first_in_record`).
SHIFT_LIMIT = 16


def first_in_record(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` (``{idx, code}``, each record's rows next to each other, as a list column's
    elements are) without a repeat of a code within a record, the first kept, in order: each
    row compared with the 1, 2, ... rows before it while any of them is of the same record (a
    list's length: a few passes, no sort); lists longer than :data:`SHIFT_LIMIT`: the distinct
    rows by a sort, ordered by ``idx, code``."""
    idx = rows.get_column("idx").to_numpy()
    code = rows.get_column("code").to_numpy()
    keep = np.ones(idx.size, dtype=bool)
    for k in range(1, SHIFT_LIMIT + 1):
        same = idx[k:] == idx[:-k]
        if not same.any():
            return rows.filter(pl.Series(keep)) if not keep.all() else rows
        keep[k:] &= ~(same & (code[k:] == code[:-k]))
    pairs = rows.select(pack_pair("idx", "code")).get_column("pair")
    return _unpack_pair(_distinct_sorted(pairs), "idx", "code")


def _list_codes(lists: pl.Series, values: pl.Series) -> pl.DataFrame:
    """``{idx, code}`` of a list column of strings (see :class:`_Coded`): the lists cast to the
    ``Enum`` of ``values`` (an element outside it null) and their codes exploded, integers
    rather than strings (the registry's token lists: twice as fast as exploding the strings)."""
    codes = lists.cast(pl.List(pl.Enum(values)), strict=False).to_physical()
    rows = (
        pl.DataFrame({"idx": pl.int_range(lists.len(), dtype=pl.UInt32, eager=True), "code": codes})
        .explode("code")
        .drop_nulls("code")
        .with_columns(pl.col("code").cast(pl.UInt32))
    )
    return first_in_record(rows)


def _encode(
    left: pl.DataFrame, right: pl.DataFrame | None, col: str, near: str | None = None
) -> _Coded:
    """Codes of ``col``: one per distinct non-null value of the left records (in link mode a
    value that only right records have blocks nothing), in order of first appearance.
    ``near``: ``col`` is the buckets' column of this column (see :func:`_elements`)."""
    lv, left_is_list = _elements(left, col, near)
    values = lv.get_column("v").drop_nulls().unique(maintain_order=True)
    lookup = values.to_frame("v").with_row_index("code")
    if right is None:
        rows = _code_rows(lv, lookup, left_is_list)
        return _Coded(values, rows, rows, left_is_list, left_is_list)
    if near is None and right.schema[col] == pl.List(pl.Utf8) and values.dtype == pl.Utf8:
        right_rows, right_is_list = _list_codes(right.get_column(col), values), True
    else:
        rv, right_is_list = _elements(right, col, near)
        right_rows = _code_rows(rv, lookup, right_is_list)
    return _Coded(
        values, _code_rows(lv, lookup, left_is_list), right_rows, left_is_list, right_is_list
    )


def _rule_rows(coded: Sequence[tuple[pl.DataFrame, bool]], n: int) -> pl.DataFrame:
    """``{idx, k0, k1, ...}`` of one side for one rule: records whose rule columns are all
    non-null, one row per combination of their (distinct) list elements."""
    lists = [(f"k{i}", c) for i, (c, is_list) in enumerate(coded) if is_list]
    if lists:
        frame = lists[0][1].rename({"code": lists[0][0]})
    else:
        frame = pl.DataFrame({"idx": pl.int_range(n, dtype=pl.UInt32, eager=True)})
    idx = frame.get_column("idx")
    frame = frame.with_columns(
        # (without a list column the rows are the records in order: the codes as they are)
        (c.get_column("code").gather(idx) if lists else c.get_column("code")).alias(f"k{i}")
        for i, (c, is_list) in enumerate(coded)
        if not is_list
    ).drop_nulls()
    for k, c in lists[1:]:
        frame = frame.join(c.rename({"code": k}), on="idx", how="inner")
    return frame


def _densify(sides: list[pl.DataFrame]) -> tuple[list[pl.DataFrame], int]:
    """Renumber ``key`` densely (0..distinct-1) over all sides; the new span."""
    keys = pl.concat([s.get_column("key") for s in sides]).unique().sort()
    lookup = keys.to_frame("key").with_row_index("dense")
    out = [
        s.join(lookup, on="key", how="inner")
        .with_columns(pl.col("dense").cast(pl.UInt64).alias("key"))
        .drop("dense")
        for s in sides
    ]
    return out, max(1, keys.len())


def _pack(sides: list[pl.DataFrame], spans: Sequence[int]) -> list[pl.DataFrame]:
    """Add ``key: UInt64``, equal on two rows (of any side) iff all their codes ``k0, k1, ...``
    are: mixed-radix packing of codes below ``spans``, renumbered densely when it would
    overflow."""
    key = pl.col("k0").cast(pl.UInt64)
    span = max(1, spans[0])
    for i, size in enumerate(spans[1:], start=1):
        size = max(1, size)
        if span * size > KEY_SPAN:
            sides, span = _densify([s.with_columns(key.alias("key")) for s in sides])
            key = pl.col("key")
        key = key * pl.lit(size, pl.UInt64) + pl.col(f"k{i}")
        span *= size
    return [s.with_columns(key.alias("key")) for s in sides]  # (one pass a side)


def _rule_keys(
    coded: dict[str, _Coded], rule: BlockingRule, n_left: int, n_right: int | None
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Per side ``{idx, k0, ..., key}``: the rule's packed block key of each record (one row
    per distinct key of a record with list columns; records with a null key part left out)."""
    cols = [coded[c] for c in rule.columns]
    left = _rule_rows([(c.left, c.left_is_list) for c in cols], n_left)
    spans = [c.values.len() for c in cols]
    if n_right is None:
        return _pack([left], spans)[0], None
    right = _rule_rows([(c.right, c.right_is_list) for c in cols], n_right)
    packed = _pack([left, right], spans)
    return packed[0], packed[1]


#: A null code in :func:`packed_rows`' arrays (no code reaches it: codes index the values).
_NO_CODE = np.uint32(2**32 - 1)


def packed_rows(
    coded: Sequence[tuple[pl.DataFrame, bool]], spans: Sequence[int], n: int
) -> pl.DataFrame | None:
    """``{idx, key}`` of one side for one rule: the rows and packed keys of :func:`_rule_rows`
    then :func:`_pack` (the same rows in the same order, the same keys), in numpy over the
    code arrays: no frame of every code column, no pass to drop its nulls. ``None`` where
    that needs the frames: two list columns (their rows are a join) or keys that would
    overflow (:data:`KEY_SPAN`, renumbered across both sides)."""
    lists = [c for c, is_list in coded if is_list]
    if len(lists) > 1 or np.prod([max(1, s) for s in spans], dtype=object) > KEY_SPAN:
        return None
    rows = lists[0].get_column("idx").to_numpy() if lists else None
    key = np.zeros(rows.size if rows is not None else n, dtype=np.uint64)
    present = np.ones(key.size, dtype=bool)
    for (c, is_list), span in zip(coded, spans, strict=True):
        code = c.get_column("code").fill_null(_NO_CODE).to_numpy()
        if rows is not None and not is_list:
            code = code[rows]
        present &= code != _NO_CODE
        key *= np.uint64(max(1, span))
        key += code
    idx = np.flatnonzero(present).astype(np.uint32) if rows is None else rows[present]
    return pl.DataFrame(
        {"idx": idx, "key": key[present]}, schema={"idx": pl.UInt32, "key": pl.UInt64}
    )


#: The largest kept blocks of each rule that ``block(largest=...)`` reports.
LARGEST_BLOCKS = 3


def value_shape(value: str) -> str:
    """The shape of a key value, not the value: Latin capitals ``A``, other letters ``a``,
    digits ``9``, the rest kept (``BK123456`` -> ``AA999999``, ``1980-05-12`` ->
    ``9999-99-99``, ``mhmd`` -> ``aaaa``)."""
    out = re.sub(r"[A-Z]", "A", value)
    out = re.sub(r"[^\W\dA_]", "a", out)
    return re.sub(r"\d", "9", out)


def _decode(
    keys: pl.DataFrame,
    key: int,
    rule: BlockingRule,
    coded: dict[str, _Coded],
    *,
    shape: bool = False,
) -> str:
    """``col='value', ...`` of the block ``key``, or with ``shape`` each value's shape
    (:func:`value_shape`) instead of the value (as in the oversized-block warning, which may
    end up in logs)."""
    row = keys.filter(pl.col("key") == key).row(0, named=True)
    values = [coded[c].values[row[k]] for c, k in zip(rule.columns, _key_cols(rule), strict=True)]
    shown = [_near_shown(c, v) for c, v in zip(rule.columns, values, strict=True)]
    return ", ".join(f"{c}={value_shape(str(v)) if shape else repr(v)}" for c, v in shown)


def _near_shown(column: str, value: Any) -> tuple[str, Any]:
    """A key column and value as shown: a near column's bucket ``b`` (of ``birth_year~1``) as
    ``near_birth_year`` and the middle year ``2b`` of the years ``2b - 1 .. 2b + 1`` it holds
    (no digit in the name: a shown key's digits are its values')."""
    suffix = near_column("")
    if column.endswith(suffix) and isinstance(value, int):
        return f"near_{column.removesuffix(suffix)}", 2 * value
    return column, value


@dataclass
class _RuleBlocks:
    """One rule's kept blocks: ``{key, pairs}`` and per side the ``{idx, key}`` rows."""

    rule: BlockingRule
    blocks: pl.DataFrame
    left: pl.DataFrame
    right: pl.DataFrame  # dedupe: the same as left
    is_list: bool
    skipped: pl.Series  # left rows in a block its limits skipped (sorted, distinct)
    notes: list[str]  # what its limits skipped, in words (block() warns them)
    largest: list[dict[str, Any]]  # its largest kept blocks: {rule, pairs, key shape}


def _right_blocks(sizes: pl.DataFrame, right: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The right rows ``{idx, key}`` in a block a left record has (in their order), and the
    blocks both sides have, ``{key, pairs, others}`` (``sizes``: the left's ``{key, n}``)."""
    rows = right.filter(pl.col("key").is_in(sizes.get_column("key").implode()))
    rsizes = rows.group_by("key").agg(pl.len().cast(pl.UInt64).alias("n_r"))
    blocks = sizes.join(rsizes, on="key", how="inner").select(
        "key", (pl.col("n") * pl.col("n_r")).alias("pairs"), pl.col("n_r").alias("others")
    )
    return rows, blocks


def _rule_blocks(
    coded: dict[str, _Coded], n_left: int, n_right: int | None, rule: BlockingRule
) -> _RuleBlocks:
    """Block the rule's records, apply max_block_size and max_pairs (before any pair join)."""
    rk: pl.DataFrame | None = None
    if n_right is None:  # dedupe: one side, each block's pairs within it
        lk, _ = _rule_keys(coded, rule, n_left, None)
        sizes = lk.group_by("key").agg(pl.len().cast(pl.UInt64).alias("n"))
        blocks = sizes.select(
            "key",
            (pl.col("n") * (pl.col("n") - 1) // 2).alias("pairs"),
            (pl.col("n") - 1).alias("others"),
        )
    else:
        cols = [coded[c] for c in rule.columns]
        spans = [c.values.len() for c in cols]
        rk = packed_rows([(c.right, c.right_is_list) for c in cols], spans, n_right)
        if rk is None:  # two list columns, or keys renumbered across both sides: the frames
            lk, both = _rule_keys(coded, rule, n_left, n_right)
            assert both is not None  # (n_right given: a right side)
            rk = both.select("idx", "key")
        else:  # the left's rows as frames: their codes name the blocks (_decode)
            lk, _ = _rule_keys(coded, rule, n_left, None)
        sizes = lk.group_by("key").agg(pl.len().cast(pl.UInt64).alias("n"))
        # only keys that left records have can block: far fewer right rows to count and join
        rk, blocks = _right_blocks(sizes, rk)
    limits = [
        (
            pl.col("pairs") > rule.max_block_size,
            f"larger than max_block_size={rule.max_block_size} pairs",
        )
        if rule.max_block_size is not None
        else None,
        (
            pl.col("others") > rule.max_candidates,
            f"offering a record more than max_candidates={rule.max_candidates} candidates",
        )
        if rule.max_candidates is not None
        else None,
    ]
    skipped: list[pl.Series] = []
    notes: list[str] = []
    for limit in limits:
        if limit is None:
            continue
        big = blocks.filter(limit[0])
        if big.height:
            skipped.append(lk.filter(pl.col("key").is_in(big.get_column("key").implode()))["idx"])
            worst = big.sort(["pairs", "key"], descending=[True, False]).row(0, named=True)
            shown = _decode(lk, worst["key"], rule, coded, shape=True)  # no personal data
            notes.append(
                f"blocking rule {rule.name!r}: skipped {big.height} block(s) {limit[1]} "
                f"({int(big['pairs'].sum())} pairs in all; largest: {shown} with "
                f"{worst['pairs']} pairs; `registry-link blocking --show-values` shows values)"
            )
            blocks = blocks.filter(~limit[0])
            lk = lk.filter(~pl.col("key").is_in(big.get_column("key").implode()))
            if rk is not None:
                rk = rk.filter(~pl.col("key").is_in(big.get_column("key").implode()))
    blocks = blocks.drop("others")
    blocks = blocks.filter(pl.col("pairs") > 0)
    total = int(blocks["pairs"].sum()) if blocks.height else 0
    if rule.max_pairs is not None and total > rule.max_pairs:
        raise LinkageError(
            f"blocking rule {rule.name!r} ({' + '.join(rule.columns)}) would produce {total:,} "
            f"candidate pairs, above its limit of {rule.max_pairs:,}. Fix: add a column to the "
            f"rule, set a max_block_size, or raise max_pairs"
        )
    is_list = any(coded[c].left_is_list or coded[c].right_is_list for c in rule.columns)
    top = blocks.top_k(LARGEST_BLOCKS, by=["pairs", "key"], reverse=[False, True]).sort(
        ["pairs", "key"], descending=[True, False]
    )  # ties broken by key: the same blocks in every run
    largest = [
        {"rule": rule.name, "pairs": int(n), "key": _decode(lk, key, rule, coded, shape=True)}
        for key, n in top.select("key", "pairs").iter_rows()
    ]
    lk = lk.select("idx", "key")
    if rk is None:  # dedupe: a self-join on rows sorted by block is about 2x faster
        lk = rk = lk.sort("key", "idx")
    rows = pl.concat(skipped) if skipped else pl.Series("idx", [], dtype=pl.UInt32)
    return _RuleBlocks(rule, blocks, lk, rk, is_list, rows.unique().sort(), notes, largest)


def _batches(rb: _RuleBlocks, batch_pairs: int) -> list[tuple[int, int]]:
    """Block-key ranges ``[lo, hi]`` (inclusive) of about ``batch_pairs`` pairs each."""
    if rb.blocks.height == 0:
        return []
    blocks = rb.blocks.sort("key")
    cum = blocks["pairs"].cum_sum()
    ranges = (
        blocks.select("key", ((cum - blocks["pairs"]) // max(1, batch_pairs)).alias("batch"))
        .group_by("batch", maintain_order=True)
        .agg(pl.col("key").min().alias("lo"), pl.col("key").max().alias("hi"))
    )
    return list(zip(ranges["lo"].to_list(), ranges["hi"].to_list(), strict=True))


def _batch_pairs(rb: _RuleBlocks, lo: int, hi: int, dedupe: bool, whole: bool) -> pl.Series:
    """Packed pairs ``l_idx << 32 | r_idx`` of blocks ``lo <= key <= hi``: sorted, unique."""
    lk, rk = rb.left.lazy(), rb.right.lazy()
    if not whole:
        lk = lk.filter(pl.col("key").is_between(lo, hi))
        rk = rk.filter(pl.col("key").is_between(lo, hi))
    pairs = lk.join(rk, on="key", how="inner", suffix="_r")
    if dedupe:
        pairs = pairs.filter(pl.col("idx") < pl.col("idx_r"))
    packed = pairs.select(pack_pair("idx", "idx_r")).collect().get_column("pair")
    if rb.is_list:  # records sharing several elements meet in several blocks
        return _distinct_sorted(packed)
    return packed.sort()


def block(
    left: pl.DataFrame,
    right: pl.DataFrame | None,
    rules: Sequence[BlockingRule],
    *,
    batch_pairs: int = 20_000_000,
    skipped: dict[str, pl.Series] | None = None,
    largest: list[dict[str, Any]] | None = None,
    map_each: MapEach[Any, Any] = in_order,
) -> pl.DataFrame:
    """Candidate pairs: the union of the rules' pairs, deduplicated.

    Each rule column is encoded once to integer codes, each rule's codes are packed into one
    integer block key per record, and each rule's pairs are built in batches of blocks (about
    ``batch_pairs`` pairs each) by a join on that key. Pairs are packed ``l_idx << 32 | r_idx``
    and deduplicated across rules at the end (first rule wins).

    Args:
        left: left records (link mode) or the one frame (dedupe mode).
        right: right records (link mode), or ``None`` for dedupe mode (pairs ``l_idx < r_idx``).
        rules: blocking rules, in priority order (``rule`` = first rule producing the pair).
        batch_pairs: pairs joined at once (memory bound of the intermediate join).
        skipped: if given, filled with, per rule whose limits (``max_block_size``,
            ``max_candidates``) skipped blocks, the left rows (sorted ``UInt32`` indices) in
            those blocks: to tell a record without candidates because its keys were too common
            from one that shares no key at all.
        largest: if given, filled with the largest kept blocks of each rule
            (:data:`LARGEST_BLOCKS`), ``{rule, pairs, key}``, ``key`` the shape of the block's
            values (``given_key=aaaa, birth_year=9999``), never the values themselves.
        map_each: how to run the independent work of each column, then of each rule, then
            of each half of the left rows' deduplication (:data:`MapEach`): the same pairs
            whichever it is.

    Returns:
        ``{l_idx: UInt32, r_idx: UInt32, rule: Categorical}``, unique on ``(l_idx, r_idx)``; ordered
        by rule, then ``(l_idx, r_idx)`` within each batch.

    Raises:
        LinkageError: a rule names an absent column, names repeat, or a rule exceeds max_pairs.
    """
    _validate(left, right, rules)
    # a near column's buckets: encoded from the column's values (no list column is built)
    near = {near_column(c): c for r in rules for c in r.near}
    rules = [_keyed(r) for r in rules]
    if len(left) >= 2**32 or (right is not None and len(right) >= 2**32):
        raise LinkageError("blocking supports at most 2**32 - 1 records per side")
    columns = list(dict.fromkeys(c for r in rules for c in r.columns))
    n_right = len(right) if right is not None else None

    def rule_pairs(rule: BlockingRule) -> tuple[_RuleBlocks, list[pl.Series]]:
        rb = _rule_blocks(coded, len(left), n_right, rule)
        ranges = _batches(rb, batch_pairs)
        batches = [
            _batch_pairs(rb, lo, hi, dedupe=right is None, whole=len(ranges) == 1)
            for lo, hi in ranges
        ]
        # its blocks and records' keys are read: let them go (12 bytes a record per rule)
        kept = replace(rb, blocks=rb.blocks.clear(), left=rb.left.clear(), right=rb.right.clear())
        return kept, batches

    def batches_in_order() -> Iterator[tuple[int, np.ndarray]]:
        """``(rule number, packed pairs)`` of each rule's batches, each let go once given."""
        for no, (_, batches) in enumerate(per_rule):
            while batches:
                yield no, batches.pop(0).to_numpy()

    # Columns, then rules, are independent: run in parallel, they keep both cores busy (a
    # polars join or group-by alone leaves one idle for part of its time).
    coded = dict(
        zip(columns, map_each(lambda c: _encode(left, right, c, near.get(c)), columns), strict=True)
    )
    per_rule = map_each(rule_pairs, rules)
    for rule, (rb, _) in zip(rules, per_rule, strict=True):
        for note in rb.notes:  # warned here, in the caller's thread, at the caller's call
            warnings.warn(note, OversizedBlockWarning, stacklevel=3)
        if skipped is not None and rb.skipped.len():
            skipped[rule.name] = rb.skipped
        if largest is not None:
            largest += rb.largest
    if not any(batches for _, batches in per_rule):
        return pl.DataFrame(schema=PAIR_SCHEMA)
    l_idx: list[np.ndarray] = []
    r_idx: list[np.ndarray] = []
    rule_no: list[np.ndarray] = []
    # pairs of the first and of the second half of the left rows never meet: deduplicated
    # apart (two ranges of values), one range a thread
    halves = [(len(left) // 2) << 32] if len(left) > 1 else []
    for no, new in first_seen(batches_in_order(), halves, map_each):  # first rule wins
        l_idx.append((new >> np.uint64(32)).astype(np.uint32))
        r_idx.append(new.astype(np.uint32))  # (the low 32 bits)
        rule_no.append(np.full(new.size, no, dtype=np.uint16))
    # categorical: 4 bytes per pair instead of a 16-byte string view (millions of pairs)
    names = pl.Series("rule", [r.name for r in rules], dtype=pl.Categorical)
    return pl.DataFrame(
        {
            "l_idx": pl.Series(np.concatenate(l_idx), dtype=pl.UInt32),
            "r_idx": pl.Series(np.concatenate(r_idx), dtype=pl.UInt32),
            "rule": names.gather(pl.Series(np.concatenate(rule_no))),
        }
    )


def _with_keys(
    left: pl.DataFrame, right: pl.DataFrame | None, rules: Sequence[BlockingRule]
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[BlockingRule]]:
    """Both sides with the buckets' columns of the rules' near columns; the rules over them."""
    return (
        with_near_keys(left, rules),
        with_near_keys(right, rules) if right is not None else None,
        [_keyed(r) for r in rules],
    )


def _validate(
    left: pl.DataFrame, right: pl.DataFrame | None, rules: Sequence[BlockingRule]
) -> None:
    names = [r.name for r in rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LinkageError(f"blocking rule names must be unique; repeated: {dupes}")
    for rule in rules:
        _check_columns(left, "left", rule)
        if right is not None:
            _check_columns(right, "right", rule)


@dataclass(frozen=True)
class BlockingReport:
    """Candidate-pair counts per rule and the largest blocks, from block sizes only.

    ``rules``: ``{rule, columns, blocks, pairs, largest_block_pairs, left_rows, right_rows,
    skipped_blocks, skipped_pairs}`` — ``pairs`` counts the rule alone (pairs also produced by
    earlier rules are included; for list columns a pair sharing several elements is counted
    once per element), before its limits; ``skipped_*`` are the blocks (and their pairs) that
    its ``max_block_size`` or ``max_candidates`` skip.
    ``largest_blocks``: ``{rule, key, left_size, right_size, pairs}``, the ``top`` largest
    blocks of each rule, largest first.
    """

    rules: pl.DataFrame
    largest_blocks: pl.DataFrame = field(repr=False)

    def with_key_shapes(self) -> BlockingReport:
        """This report with each largest block's key values replaced by their shapes
        (:func:`value_shape`: a CIN as AA999999, a birth date as 9999-99-99): no personal data."""
        columns = sorted(
            {c.strip() for cols in self.rules["columns"].to_list() for c in cols.split(",")},
            key=len,
            reverse=True,
        )
        if not columns or self.largest_blocks.is_empty():
            return self
        part = re.compile(r"(^|, )(" + "|".join(re.escape(c) for c in columns) + r")=")

        def shape(key: str) -> str:
            cuts = list(part.finditer(key))
            pieces = []
            for i, m in enumerate(cuts):
                end = cuts[i + 1].start() if i + 1 < len(cuts) else len(key)
                pieces.append(f"{m.group(2)}={value_shape(key[m.end() : end])}")
            return ", ".join(pieces)

        shaped = self.largest_blocks.with_columns(
            pl.col("key").map_elements(shape, return_dtype=pl.Utf8)
        )
        return replace(self, largest_blocks=shaped)

    def to_text(self) -> str:
        """A plain-text table for the ``registry-link blocking`` command."""
        lines = [
            "rule                          blocks        pairs  largest block"
            "   skipped by limits (blocks / pairs)"
        ]
        for r in self.rules.iter_rows(named=True):
            lines.append(
                f"{r['rule']:<28}{r['blocks']:>8,}{r['pairs']:>13,}  "
                f"{r['largest_block_pairs']:>13,}   "
                f"{r['skipped_blocks']:,} / {r['skipped_pairs']:,}"
            )
        lines.append("")
        lines.append("largest blocks (rule, key, left size, right size, pairs):")
        for b in self.largest_blocks.iter_rows(named=True):
            lines.append(
                f"  {b['rule']}: {b['key']}  {b['left_size']:,} x {b['right_size']:,}"
                f" = {b['pairs']:,}"
            )
        return "\n".join(lines)


def blocking_report(
    left: pl.DataFrame,
    right: pl.DataFrame | None,
    rules: Sequence[BlockingRule],
    top: int = 10,
) -> BlockingReport:
    """Count candidate pairs per rule and list the largest blocks, without building pairs.

    ``right=None`` means dedupe mode (block pairs n·(n-1)/2). Size limits of the rules are
    not applied to the counts: the report shows what the rules would produce, and how much of
    it their limits skip (``skipped_blocks``, ``skipped_pairs``).
    """
    _validate(left, right, rules)
    named = {r.name: r for r in rules}
    left, right, rules = _with_keys(left, right, rules)
    rows: list[dict[str, Any]] = []
    tops: list[pl.DataFrame] = []
    for rule in rules:
        keys = _key_cols(rule)
        given = named[rule.name]
        # a near column as "near_birth_year", its bucket b shown as the middle year 2b (of the
        # years 2b - 1 .. 2b + 1 it holds)
        labels = [f"near_{c}" if c in given.near else c for c in given.columns]
        values = [
            pl.col(k) * 2 if c in given.near else pl.col(k)
            for c, k in zip(given.columns, keys, strict=True)
        ]
        lside = _side(left, rule)
        rside = _side(right, rule) if right is not None else None
        blocks = _block_sizes(lside, rside, keys)
        others = pl.col("right_size") - (1 if right is None else 0)
        skipped = blocks.filter(
            (pl.col("pairs") > (rule.max_block_size or 2**63))
            | (others > (rule.max_candidates if rule.max_candidates is not None else 2**63))
        )
        rows.append(
            {
                "rule": rule.name,
                "columns": ", ".join(labels),
                "blocks": blocks.height,
                "pairs": int(blocks["pairs"].sum()) if blocks.height else 0,
                "largest_block_pairs": int(blocks["pairs"].max() or 0),  # type: ignore[arg-type]
                "left_rows": lside.keys.select(pl.col("idx").n_unique()).item(),
                "right_rows": (rside or lside).keys.select(pl.col("idx").n_unique()).item(),
                "skipped_blocks": skipped.height,
                "skipped_pairs": int(skipped["pairs"].sum()) if skipped.height else 0,
            }
        )
        key_text = pl.concat_str(
            [pl.lit(f"{c}=") + v.cast(pl.Utf8) for c, v in zip(labels, values, strict=True)],
            separator=", ",
        )
        tops.append(
            blocks.sort("pairs", descending=True)
            .head(top)
            .select(
                pl.lit(rule.name).alias("rule"),
                key_text.alias("key"),
                pl.col("left_size").cast(pl.Int64),
                pl.col("right_size").cast(pl.Int64),
                pl.col("pairs").cast(pl.Int64),
            )
        )
    rule_schema = {
        "rule": pl.Utf8,
        "columns": pl.Utf8,
        "blocks": pl.Int64,
        "pairs": pl.Int64,
        "largest_block_pairs": pl.Int64,
        "left_rows": pl.Int64,
        "right_rows": pl.Int64,
        "skipped_blocks": pl.Int64,
        "skipped_pairs": pl.Int64,
    }
    largest = (
        pl.concat(tops)
        if tops
        else pl.DataFrame(
            schema={
                "rule": pl.Utf8,
                "key": pl.Utf8,
                "left_size": pl.Int64,
                "right_size": pl.Int64,
                "pairs": pl.Int64,
            }
        )
    )
    return BlockingReport(pl.DataFrame(rows, schema=rule_schema), largest)


def rules_from_config(specs: Sequence[dict[str, Any]]) -> list[BlockingRule]:
    """Rules from model-config mappings ``{name, columns, max_block_size?, max_pairs?,
    max_candidates?, near?}``."""
    return [
        BlockingRule(
            name=s["name"],
            columns=tuple(s["columns"]),
            max_block_size=s.get("max_block_size"),
            max_pairs=s.get("max_pairs"),
            max_candidates=s.get("max_candidates"),
            near=tuple(s.get("near") or ()),
        )
        for s in specs
    ]
