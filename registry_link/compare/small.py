"""Comparison vectors of a few pairs (a search's tens of candidates), in few polars calls.

:func:`~registry_link.compare.compute.compare` is built for millions of pairs: dictionaries,
value tuples and level tables, chunks, each comparison's helper columns computed in calls of
their own. Each of those steps costs the same whatever the number of pairs — hundreds of polars
calls per call of ``compare``, hundreds of milliseconds for the thirty pairs of one search.
:class:`FewPairs` evaluates the SAME :class:`~registry_link.compare.levels.Comparison` objects
(their predicates, helper columns and ``gamma_expr``) on a few pairs with the fixed cost cut:

1. both sides' rows are gathered per pair and their per-record columns
   (:attr:`~.levels.Comparison.record_derived`) computed in one lazy query;
2. the helper columns (:attr:`~.levels.Comparison.derived`) are computed in *stages*: a
   helper column's stage is the first after those of the helper columns it reads (a helper
   column may read only its own comparison's earlier ones), so that the names' chains
   (same name, swap, "decided", similarity) set the number of stages, not the most helpers
   of one comparison. One ``select`` per stage evaluates every helper column
   that is a polars expression (:attr:`~.levels.Derived.expr`) every pair needs and the
   ``derived_when`` masks of the others, which then run on the pairs their mask selects (null
   elsewhere), as in the batch — a masked expression too (the dates' one-character check,
   the name tokens' counts, a swap's direction): most searches have no pair it is needed
   for, and then its expression is not run at all. The helper columns of a stage that apply
   one element-wise function to their own column's pairs (:attr:`~.levels.Derived.pairwise`:
   the given and family names' similarity, both places' spelling distance) get it applied
   once, to all their new pairs together: each such function costs tens of polars calls
   whatever the number of pairs;
3. one ``select`` evaluates every comparison's ``gamma_expr``.

**Memo.** A helper column that declares what it reads (:attr:`~.levels.Derived.reads`) is a
function of those values, pair by pair — the batch relies on it too when it computes a string
similarity once per distinct pair of values (:func:`~.similarity.on_unique_codes`). A
:class:`DerivedMemo` keeps each such column's value per tuple of values across calls, so the
costly functions (name similarity, same-name and variant checks, edit distances) run only on
value pairs not seen before: names, communes and their keys repeat from one search to the
next. The values are the functions' own: with or without the memo, the same vectors.

**Levels kept per value pair.** A comparison's level is a function of the values of its
:attr:`~.levels.Comparison.columns` on each side (the batch's level tables rely on it too:
:mod:`~registry_link.compare.value_tuples`). The memo also keeps, per comparison, the level of
each (left values, right values) pair it has evaluated: a search whose pairs were all seen
before (common names, communes, sexes, identifiers) is a dict look-up per pair and comparison,
with no polars call; the pairs of a comparison not seen before are evaluated by the stages
above (for the comparisons that have such pairs only) and their levels kept. A comparison
with a helper column that does not declare what it reads is always evaluated.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Any

import numpy as np
import polars as pl

from registry_link.compare.compute import (
    check_comparisons,
    empty_gammas,
    needed_columns,
    pair_level_columns,
)
from registry_link.compare.few_similarity import PythonPairwise, python_pairwise
from registry_link.compare.levels import Comparison, Derived
from registry_link.compare.rowwise import RowwiseExpr, Unsupported, compile_rowwise

__all__ = ["DEFAULT_LEVELS_LIMIT", "DEFAULT_MEMO_LIMIT", "DerivedMemo", "FewPairs"]

#: Values kept per helper column by default (past it, new values are computed, not kept).
DEFAULT_MEMO_LIMIT = 500_000


#: Levels kept per comparison by default (a key holds both sides' values: bigger than a
#: helper value's).
DEFAULT_LEVELS_LIMIT = 100_000


def _hashable(value: Any) -> Hashable:
    """A value of a pair-frame cell as a dict key (lists as tuples; strings interned: the
    kept keys share one copy of each name)."""
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _hashable_values(column: pl.Series) -> list[Hashable]:
    """A pair-frame column's values as dict keys (:func:`_hashable`), read column by
    column: a string column's cells interned, a list column's converted, the others as
    they are (no new object per cell)."""
    values = column.to_list()
    if column.dtype == pl.String:
        return [None if v is None else sys.intern(v) for v in values]
    if isinstance(column.dtype, (pl.List, pl.Array)):
        return [_hashable(v) for v in values]
    return values


class DerivedMemo:
    """Per helper column (:class:`~.levels.Derived`), its value per tuple of the values it
    reads, and per comparison, its level per pair of value tuples (see the module
    docstring), kept across calls; thread-safe; at most ``limit`` values per helper column
    and ``levels_limit`` levels per comparison (past them, new ones are computed, not
    kept)."""

    def __init__(
        self, limit: int = DEFAULT_MEMO_LIMIT, levels_limit: int = DEFAULT_LEVELS_LIMIT
    ) -> None:
        self.limit = limit
        self.levels_limit = levels_limit
        self._tables: dict[Derived, tuple[pl.DataType, dict[Hashable, Any]]] = {}
        # by the comparison object (kept alive here): a kind registered anew under its name
        # builds other levels
        self._levels: dict[int, tuple[Comparison, dict[Hashable, int | None]]] = {}
        self._lock = threading.Lock()

    def levels(self, comparison: Comparison) -> dict[Hashable, int | None]:
        """The comparison's kept levels by ``(left values, right values)`` (a live dict:
        read it, add to it with :meth:`keep_levels`)."""
        with self._lock:
            return self._levels_of(comparison)

    def _levels_of(self, comparison: Comparison) -> dict[Hashable, int | None]:
        found = self._levels.get(id(comparison))
        if found is None or found[0] is not comparison:
            found = self._levels[id(comparison)] = (comparison, {})
        return found[1]

    def keep_levels(self, comparison: Comparison, levels: dict[Hashable, int | None]) -> None:
        """Keep ``levels`` of the comparison (up to the limit)."""
        with self._lock:
            table = self._levels_of(comparison)
            room = self.levels_limit - len(table)
            for key, value in list(levels.items())[: max(room, 0)]:
                table[key] = value

    def table(self, fn: Derived) -> tuple[pl.DataType | None, dict[Hashable, Any]]:
        """The column's dtype (``None`` before its first values) and its kept values."""
        with self._lock:
            found = self._tables.get(fn)
        return (None, {}) if found is None else found

    def keep(self, fn: Derived, dtype: pl.DataType, values: dict[Hashable, Any]) -> None:
        """Keep ``values`` of the column (up to the limit)."""
        with self._lock:
            found = self._tables.get(fn)
            if found is None:
                found = self._tables[fn] = (dtype, {})
            table = found[1]
            room = self.limit - len(table)
            for key, value in list(values.items())[: max(room, 0)]:
                table[key] = value

    def __len__(self) -> int:
        """Values kept: helper values and levels."""
        with self._lock:
            helpers = sum(len(t) for _, t in self._tables.values())
            return helpers + sum(len(t) for _, t in self._levels.values())


@dataclass(frozen=True)
class _Step:
    """One helper column of one comparison in a stage."""

    comparison: Comparison
    name: str
    fn: Derived


class FewPairs:
    """Comparison vectors of a few pairs through ``comparisons`` (see the module docstring).

    Args:
        comparisons: the comparisons (distinct names), as given to ``compare``.
        memo: the helper columns' values and the comparisons' levels kept across calls
            (``None``: none kept).
        keep_levels: whether levels are kept (and read) per value pair, with ``memo``.
        _compiled: the expressions' Python evaluations by (comparison, output) (a comparer
            of some of the comparisons shares its parent's).
    """

    def __init__(
        self,
        comparisons: Sequence[Comparison],
        memo: DerivedMemo | None = None,
        *,
        keep_levels: bool = True,
        _compiled: dict[Hashable, RowwiseExpr | None] | None = None,
    ) -> None:
        self.comparisons = tuple(comparisons)
        self.memo = memo
        # each expression's Python evaluation, by (comparison, output): shared with subsets
        self._compiled = {} if _compiled is None else _compiled
        self._columns = needed_columns(self.comparisons)
        # per comparison, the positions of its columns among self._columns, and its kept
        # levels: None when it cannot be keyed by its columns' values (or no memo)
        self._keys: list[tuple[int, ...] | None] = []
        self._levels: list[dict[Hashable, int | None] | None] = []
        for comp in self.comparisons:
            keyed = memo is not None and keep_levels and _levels_keyed_by_columns(comp)
            self._keys.append(
                tuple(self._columns.index(c) for c in comp.columns) if keyed else None
            )
            self._levels.append(memo.levels(comp) if keyed and memo is not None else None)
        # each keyed comparison's key: its columns' cells picked from a record's row
        self._key_of = [None if k is None else _picker(k) for k in self._keys]
        self._subsets: dict[tuple[int, ...], FewPairs] = {}
        self._record_derived = {n: e for c in self.comparisons for n, e in c.record_derived.items()}
        stages: list[list[_Step]] = []
        for comp in self.comparisons:
            for name, k in _stage_of_helpers(comp).items():
                while k >= len(stages):
                    stages.append([])
                stages[k].append(_Step(comp, name, comp.derived[name]))
        self._stages = stages
        # each stage's select, built once: expression helpers and the others' masks
        self._stage_exprs = [
            self._select([(s.comparison, e) for s in stage for e in _stage_exprs(s)])
            for stage in stages
        ]
        self._gammas = self._select([(c, c.gamma_expr()) for c in self.comparisons])
        # the selects of the expression helpers run on their own rows (see _alone)
        self._alone_selects: dict[tuple[int, str], _Select] = {}

    def _select(self, exprs: list[tuple[Comparison, pl.Expr]]) -> _Select:
        """The :class:`_Select` of comparisons' expressions, each compiled once."""
        compiled = []
        for comp, expr in exprs:
            key = (id(comp), expr.meta.output_name())
            if key not in self._compiled:
                self._compiled[key] = compile_rowwise(expr)
            compiled.append(self._compiled[key])
        return _Select([e for _, e in exprs], compiled)

    def compare(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        l_idx: np.ndarray,
        r_idx: np.ndarray,
    ) -> pl.DataFrame:
        """``{l_idx: UInt32, r_idx: UInt32, gamma_<name>: Int8 ...}`` of the pairs
        (``l_idx[i]``, ``r_idx[i]``) of rows of ``left`` and ``right``, in their order: the
        vectors :func:`~registry_link.compare.compute.compare` gives.

        Raises:
            LinkageError: a column a comparison reads is absent, or two comparisons share a
                name.
        """
        check_comparisons(self.comparisons, ("left", left), ("right", right))
        l_idx, r_idx = np.asarray(l_idx, np.uint32), np.asarray(r_idx, np.uint32)
        if l_idx.size == 0:
            return empty_gammas(self.comparisons)
        if self.memo is None or all(k is None for k in self._keys):
            return self._evaluate(left, right, l_idx, r_idx)
        return self._through_kept_levels(left, right, l_idx, r_idx)

    def _through_kept_levels(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        l_idx: np.ndarray,
        r_idx: np.ndarray,
    ) -> pl.DataFrame:
        """:meth:`compare` reading the levels kept per value pair; the comparisons with pairs
        not seen before evaluated on those pairs (and their levels kept)."""
        l_keys, l_of = self._record_keys(left, l_idx)
        r_keys, r_of = self._record_keys(right, r_idx)
        n = l_idx.size
        out: list[list[int | None]] = []
        pair_keys: list[list[Hashable]] = []
        todo: dict[int, list[int]] = {}  # comparison → pairs whose level is not kept
        for c, (keys, kept) in enumerate(zip(self._keys, self._levels, strict=True)):
            if keys is None or kept is None:
                out.append([None] * n)
                pair_keys.append([])
                todo[c] = list(range(n))
                continue
            ks: list[Hashable] = [
                (l_keys[li][c], r_keys[ri][c]) for li, ri in zip(l_of, r_of, strict=True)
            ]
            pair_keys.append(ks)
            got = [kept.get(k, _UNSEEN) for k in ks]
            missing = [i for i, g in enumerate(got) if g is _UNSEEN]
            if missing:
                todo[c] = missing
            out.append(got)  # type: ignore[arg-type]  # (_UNSEEN replaced below)
        if todo:
            comps = tuple(sorted(todo))
            pairs = np.asarray(sorted({i for c in comps for i in todo[c]}), dtype=np.int64)
            sub = self._subset(comps)
            done = sub._evaluate(left, right, l_idx[pairs], r_idx[pairs])
            for c in comps:
                comp = self.comparisons[c]
                values = done.get_column(comp.output_column).to_list()
                at = dict(zip(pairs.tolist(), values, strict=True))
                fresh: dict[Hashable, int | None] = {}
                for i in todo[c]:
                    out[c][i] = at[i]
                    if pair_keys[c]:
                        fresh[pair_keys[c][i]] = at[i]
                if fresh and self.memo is not None:
                    self.memo.keep_levels(comp, fresh)
        return pl.DataFrame(
            [
                pl.Series("l_idx", l_idx, dtype=pl.UInt32),
                pl.Series("r_idx", r_idx, dtype=pl.UInt32),
                *(
                    pl.Series(comp.output_column, values, dtype=pl.Int8)
                    for comp, values in zip(self.comparisons, out, strict=True)
                ),
            ]
        )

    def _record_keys(
        self, frame: pl.DataFrame, idx: np.ndarray
    ) -> tuple[list[list[Hashable]], list[int]]:
        """Per distinct record of ``idx``, per comparison, the tuple of its columns' values
        (``None`` for a comparison not keyed); and each pair's position among them."""
        rows, of = np.unique(idx, return_inverse=True)
        chosen = frame[self._columns]  # (by name: no query plan)
        if rows.size < frame.height:  # (sorted and distinct: else every row, in order)
            chosen = chosen[rows]
        cells = zip(*map(_hashable_values, chosen.get_columns()), strict=True)
        keys: list[list[Hashable]] = [
            [None if k is None else k(row) for k in self._key_of] for row in cells
        ]
        return keys, of.ravel().tolist()

    def _subset(self, comps: tuple[int, ...]) -> FewPairs:
        """The comparer of some of the comparisons (by position), without kept levels."""
        found = self._subsets.get(comps)
        if found is None:
            found = FewPairs(
                [self.comparisons[c] for c in comps],
                self.memo,
                keep_levels=False,
                _compiled=self._compiled,
            )
            self._subsets[comps] = found
        return found

    def _evaluate(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        l_idx: np.ndarray,
        r_idx: np.ndarray,
    ) -> pl.DataFrame:
        """The vectors of the pairs through the stages (see the module docstring)."""
        ids = pl.DataFrame({"l_idx": l_idx, "r_idx": r_idx})
        frame = self._pair_frame(left, right, ids)
        lists = _Lists(frame)
        for stage, select in zip(self._stages, self._stage_exprs, strict=True):
            frame = self._run_stage(frame, stage, select, lists)
        gammas = self._gammas(frame, lists)
        return pl.concat(
            [ids, pl.DataFrame({n: pl.Series(n, v, t) for n, (v, t) in gammas.items()})],
            how="horizontal",
        )

    def _pair_frame(
        self, left: pl.DataFrame, right: pl.DataFrame, ids: pl.DataFrame
    ) -> pl.DataFrame:
        """Both sides' columns per pair as ``l_<col>``/``r_<col>``, record-derived included
        (eager calls: a lazy query over the whole registry costs more to plan than this)."""
        columns: list[pl.Series] = []
        for frame, idx, prefix in ((left, ids["l_idx"], "l_"), (right, ids["r_idx"], "r_")):
            rows = frame[self._columns][idx]  # (by name: no query plan)
            if self._record_derived:
                rows = rows.with_columns(**self._record_derived)
            columns += (c.alias(prefix + c.name) for c in rows.get_columns())
        return pl.DataFrame(columns)

    def _run_stage(
        self, frame: pl.DataFrame, stage: Sequence[_Step], select: _Select, lists: _Lists
    ) -> pl.DataFrame:
        """``frame`` with the stage's helper columns (null where their mask is false)."""
        done = select(frame, lists)
        new: dict[str, pl.Series] = {}
        wanted: list[_Wanted] = []
        for step in stage:
            if _in_select(step):
                values, dtype = done[step.name]
                new[step.name] = pl.Series(step.name, values, dtype)
                lists[step.name] = values
                continue
            found_mask = done.get(_mask(step.name))
            mask = None if found_mask is None else np.array(found_mask[0], dtype=bool)
            found = self._through_memo(frame, step, mask, lists)
            if isinstance(found, pl.Series):
                new[step.name] = found.alias(step.name)
            else:
                wanted.append(found)
        if wanted:
            self._compute(frame, wanted)
            for w in wanted:
                new[w.step.name] = w.column(frame.height).alias(w.step.name)
        frame = _with(frame, [new[step.name] for step in stage])
        lists.frame = frame
        return frame

    def _through_memo(
        self, frame: pl.DataFrame, step: _Step, mask: np.ndarray | None, lists: _Lists
    ) -> pl.Series | _Wanted:
        """One helper column computed by its function on the rows ``mask`` selects (all when
        ``None``), null elsewhere — or, when it declares what it reads and a memo is kept,
        what it needs: its values per tuple of the values it reads, those not kept yet to be
        computed (:meth:`_compute`)."""
        fn = step.fn
        rows = np.arange(frame.height) if mask is None else np.flatnonzero(mask)
        if rows.size == 0:
            return _nulls(frame.height, pl.Float64)
        if fn.reads is None or self.memo is None:
            values = fn(frame if rows.size == frame.height else frame[rows])
            if rows.size == frame.height:
                return values
            return _nulls(frame.height, values.dtype).scatter(rows, values)
        reads = sorted(fn.reads)
        columns = [lists.hashable(c) for c in reads]
        if rows.size < frame.height:
            picked = rows.tolist()
            columns = [[col[i] for i in picked] for col in columns]
        keys = list(zip(*columns, strict=True))
        dtype, known = self.memo.table(fn)
        todo: dict[Hashable, int] = {}
        for key, i in zip(keys, rows, strict=True):
            if key not in known and key not in todo:
                todo[key] = int(i)
        return _Wanted(step, reads, rows, keys, dtype, known, todo)

    def _compute(self, frame: pl.DataFrame, wanted: list[_Wanted]) -> None:
        """The values not kept of the ``wanted`` helper columns, kept in the memo. Columns
        that apply one element-wise function to their pair's values
        (:attr:`~.levels.Derived.pairwise`: the name similarity of the given names and of
        the family names, the spelling distance of both places) get it applied once, to all
        their new pairs: its fixed cost (tens of polars calls) paid once a stage, the values
        those of each pair alone."""
        groups: dict[Hashable, list[_Wanted]] = {}
        for w in wanted:
            if not w.todo:
                continue
            pairwise = w.step.fn.pairwise
            key: Hashable = ("alone", id(w)) if pairwise is None else _fn_key(pairwise[0])
            groups.setdefault(key, []).append(w)
        assert self.memo is not None
        for group in groups.values():
            if group[0].step.fn.pairwise is None:
                (w,) = group
                parts = [self._alone(frame, w)]
            else:
                parts = _pairwise_on_all(frame, group)
            for w, values in zip(group, parts, strict=True):
                w.dtype = values.dtype
                w.fresh = dict(zip(w.todo, values.to_list(), strict=True))
                self.memo.keep(w.step.fn, values.dtype, w.fresh)

    def _alone(self, frame: pl.DataFrame, wanted: _Wanted) -> pl.Series:
        """A helper column that is not pairwise, on its rows whose values are not kept: a
        polars expression (a masked one: the dates' one-character check, the name tokens'
        counts...) through a :class:`_Select` of its own (read in Python on a few rows, as
        the stages' selects are), else its function."""
        rows = frame[wanted.reads][list(wanted.todo.values())]  # (by name: no query plan)
        step = wanted.step
        if step.fn.expr is None:
            return step.fn(rows)
        key = (id(step.comparison), step.name)
        select = self._alone_selects.get(key)
        if select is None:
            select = self._select([(step.comparison, step.fn.expr.alias(step.name))])
            self._alone_selects[key] = select
        values, dtype = select(rows, _Lists(rows))[step.name]
        return pl.Series(step.name, values, dtype)


class _Lists(dict[str, list[Any]]):
    """The pair frame's columns as lists, each made when first read (by :class:`_Select`),
    and as dict keys (:meth:`hashable`, by the memo's look-ups); ``frame`` follows the stages
    (their new columns stacked, none replaced)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        super().__init__()
        self.frame = frame
        self._hashable: dict[str, list[Hashable]] = {}

    def __missing__(self, name: str) -> list[Any]:
        values = self[name] = self.frame.get_column(name).to_list()
        return values

    def hashable(self, name: str) -> list[Hashable]:
        """A column's values as dict keys (:func:`_hashable_values`), made when first read:
        the helper columns of every stage that read it share them."""
        found = self._hashable.get(name)
        if found is None:
            found = self._hashable[name] = _hashable_values(self.frame.get_column(name))
        return found


#: A select of at most this many pairs is read in Python (:class:`_Select`), of more by
#: polars: Python's cost grows with the rows, polars' hardly (measured on a search's selects:
#: Python 0.2 ms against polars' 0.7 below 20 pairs, even at 60-80, behind past 80).
ROWWISE_MAX_ROWS = 64


class _Select:
    """One ``select`` of a few pairs (a stage's, the gammas'): the expressions evaluated in
    Python (:mod:`~registry_link.compare.rowwise`: the same expressions, the same values,
    none of polars' fixed cost per expression), by polars when one of them is not read
    there or meets a value it does not take, or for more than :data:`ROWWISE_MAX_ROWS`
    pairs."""

    def __init__(self, exprs: list[pl.Expr], compiled: list[RowwiseExpr | None]) -> None:
        self.exprs = exprs
        self.rowwise: list[RowwiseExpr] | None = (
            None if any(c is None for c in compiled) else [c for c in compiled if c is not None]
        )

    def __call__(
        self, frame: pl.DataFrame, lists: _Lists
    ) -> dict[str, tuple[list[Any], pl.DataType]]:
        """The expressions over ``frame`` (whose columns ``lists`` holds as lists): each
        one's values and dtype, by name."""
        if not self.exprs:
            return {}
        if self.rowwise is not None and frame.height <= ROWWISE_MAX_ROWS:
            # (each expression's arithmetic nodes' integer ranges over these columns' dtypes;
            # None: one computes in another dtype, polars evaluates the select)
            widths = [c.widths(frame) for c in self.rowwise]
            if all(w is not None for w in widths):
                try:
                    n = frame.height
                    return {
                        c.name: (c.values(lists, n, w), c.dtype(frame))
                        for c, w in zip(self.rowwise, widths, strict=True)
                    }
                except Unsupported:
                    pass
        done = frame.select(self.exprs)
        return {c.name: (c.to_list(), c.dtype) for c in done.get_columns()}


@dataclass
class _Wanted:
    """A helper column of a stage to be read from the memo (:meth:`FewPairs._through_memo`):
    the rows it is computed on, their keys (values read), the kept values and the keys not
    kept (``todo``: key → a row holding it), then their values (``fresh``)."""

    step: _Step
    reads: list[str]
    rows: np.ndarray
    keys: Sequence[Hashable]
    dtype: pl.DataType | None
    known: dict[Hashable, Any]
    todo: dict[Hashable, int]
    fresh: dict[Hashable, Any] = field(default_factory=dict)

    def column(self, height: int) -> pl.Series:
        """The column: kept or fresh values on its rows, null elsewhere."""
        assert self.dtype is not None
        out: list[Any] = [None] * height
        for key, i in zip(self.keys, self.rows, strict=True):
            out[i] = self.fresh[key] if key in self.fresh else self.known[key]
        return pl.Series(out, dtype=self.dtype)


def _picker(positions: tuple[int, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The tuple of a row's cells at ``positions``."""
    if len(positions) == 1:
        (at,) = positions
        return lambda row: (row[at],)
    return itemgetter(*positions)


def _nulls(height: int, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    """A column of ``height`` nulls (built from a list: ``pl.repeat`` runs a query)."""
    return pl.Series([None] * height, dtype=dtype)


def _with(frame: pl.DataFrame, columns: list[pl.Series]) -> pl.DataFrame:
    """``frame.with_columns(columns)``; stacked on it when they are all new (no query)."""
    if any(c.name in frame.columns for c in columns) or any(
        c.len() != frame.height for c in columns
    ):
        return frame.with_columns(columns)
    return frame.hstack(columns)


def _fn_key(fn: Any) -> Hashable:
    """What identifies an element-wise function: itself, or a ``partial``'s function and
    arguments (each comparison builds its own ``partial``)."""
    if isinstance(fn, partial):
        return (fn.func, fn.args, tuple(sorted(fn.keywords.items())))
    return fn


def _pairwise_on_all(frame: pl.DataFrame, group: list[_Wanted]) -> list[pl.Series]:
    """The new values of the columns of ``group`` (one element-wise function, each on its own
    column's pairs) by one call of the function on all their pairs, split back."""
    fn = group[0].step.fn.pairwise
    assert fn is not None
    in_python = python_pairwise(fn[0])
    if in_python is not None and all(_strings(frame, w) for w in group):
        return [_pairwise_in_python(frame, w, in_python) for w in group]
    left: list[pl.Series] = []
    right: list[pl.Series] = []
    for w in group:
        pairwise = w.step.fn.pairwise
        assert pairwise is not None
        rows = list(w.todo.values())
        left.append(frame.get_column(f"l_{pairwise[1]}")[rows])
        right.append(frame.get_column(f"r_{pairwise[1]}")[rows])
    if len({s.dtype for s in (*left, *right)}) > 1:  # (not one dtype: each on its own)
        return [fn[0](a, b) for a, b in zip(left, right, strict=True)]
    values = fn[0](pl.concat(left), pl.concat(right))
    out, offset = [], 0
    for a in left:
        out.append(values.slice(offset, a.len()))
        offset += a.len()
    return out


def _strings(frame: pl.DataFrame, wanted: _Wanted) -> bool:
    """Whether both columns a pairwise helper column reads hold strings."""
    pairwise = wanted.step.fn.pairwise
    assert pairwise is not None
    return all(frame.schema[f"{side}_{pairwise[1]}"] == pl.String for side in "lr")


def _pairwise_in_python(frame: pl.DataFrame, wanted: _Wanted, fn: PythonPairwise) -> pl.Series:
    """A pairwise helper column's new values, its function read pair by pair in Python
    (:mod:`~registry_link.compare.few_similarity`: the same values as the polars function's,
    without its fixed cost)."""
    pairwise = wanted.step.fn.pairwise
    assert pairwise is not None
    rows = list(wanted.todo.values())
    left = frame.get_column(f"l_{pairwise[1]}").to_list()
    right = frame.get_column(f"r_{pairwise[1]}").to_list()
    return fn.values([left[i] for i in rows], [right[i] for i in rows])


#: A level not kept (``None`` is a level: a null gamma).
_UNSEEN = object()


def _levels_keyed_by_columns(comp: Comparison) -> bool:
    """Whether the comparison's level is known to depend only on the values of its
    :attr:`~.levels.Comparison.columns` (every helper column declares what it reads)."""
    read = pair_level_columns(comp)
    if read is None:
        return False
    return all(c in comp.columns or c in comp.record_derived for c in read)


def _stage_of_helpers(comp: Comparison) -> dict[str, int]:
    """Each helper column's stage: the first one after those of the helper columns it reads
    (its value, its expression or its mask), 0 when it reads none — so a stage's
    ``select`` holds every expression and mask whose inputs are done, and a search runs as
    few selects as the longest chain of helper columns, not one per helper's position. A
    helper that does not declare what it reads comes after all its comparison's earlier
    ones."""
    stage: dict[str, int] = {}
    for name, fn in comp.derived.items():
        if fn.reads is None:
            after = list(stage)
        else:
            read = set(fn.reads)
            for expr in (fn.expr, comp.derived_when.get(name)):
                if expr is not None:
                    read |= set(expr.meta.root_names())
            after = [n for n in stage if n in read]
        stage[name] = 1 + max((stage[n] for n in after), default=-1)
    return stage


def _mask(name: str) -> str:
    return f"__when__{name}"


def _in_select(step: _Step) -> bool:
    """Whether a helper column is evaluated in its stage's ``select``: an expression needed
    by every pair (no mask)."""
    return step.fn.expr is not None and step.name not in step.comparison.derived_when


def _stage_exprs(step: _Step) -> list[pl.Expr]:
    """What a stage's ``select`` evaluates for one helper column: the column itself when it
    is an expression needed by every pair, else its mask (none: every pair). A masked
    expression (the dates' one-character check, the name tokens' counts, the swap's
    direction...) runs afterwards on the pairs its mask selects, as a function helper does:
    often none, and its polars expression is then not run at all."""
    if _in_select(step):
        assert step.fn.expr is not None
        return [step.fn.expr.alias(step.name)]
    when = step.comparison.derived_when.get(step.name)
    if when is None:
        return []
    return [when.fill_null(False).cast(pl.Boolean).alias(_mask(step.name))]
