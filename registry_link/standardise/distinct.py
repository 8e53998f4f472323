"""Compute costly per-value rules once per distinct value, then join the results back.

Names, places, codes and dates repeat a lot (Zipf-like names, a few hundred communes, a few
thousand dates), so running the rule chains on the distinct values of a column and joining
back is many times faster than running them on every row.

A caller that standardises a few rows many times with the same settings (the registry
index, one query at a time) can keep the results per value across calls
(:func:`remembered_values`): a rule then runs only on values it has not seen, and a query
whose values were all seen pays none of the rule chains' fixed cost (building their lookup
tables on every call, about a hundred milliseconds per standardisation). The results are
the rules' own, so they are the same with or without it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

Rule = Callable[[pl.LazyFrame], pl.LazyFrame]

#: At most this many new values of a rule are computed in Python (:class:`PerValueRule`)
#: when a memo is active; more go through polars (a batch-sized call).
FEW_VALUES: Final[int] = 128


@dataclass(frozen=True, eq=False)
class PerValueRule:
    """A rule (``frame``: adds columns to a one-column lazy frame, as :data:`Rule`) and the
    same columns of one value computed in Python (``one``: value → column → result, from the
    same rule tables: :mod:`registry_link.names.rewrite`).

    Under :func:`remembered_values` (a search standardising a record or a few), a few new
    values are computed by ``one`` (tens of microseconds a value, against polars' fixed cost
    of taking in the rule's expressions, ~10 ms); otherwise, and for the batch, by ``frame``.
    ``name`` keys the memo (one per rule and column).
    """

    name: str
    frame: Rule
    one: Callable[[Any], Mapping[str, Any]]

    def __call__(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        return self.frame(lf)

    def rows(self, column: str, values: list[Any], schema: Mapping[str, Any]) -> pl.DataFrame:
        """The frame ``frame`` gives for ``values`` (non-null), ``schema`` its columns."""
        new = [c for c in schema if c != column]
        rows = []
        for v in values:
            out = self.one(v)
            rows.append((v, *(out[c] for c in new)))
        return pl.DataFrame(rows, schema=dict(schema), orient="row")


class ValueMemo:
    """Per rule (column and rule), each value's results, kept across calls.

    Use one memo per source settings: some rules read them (sex codes, date formats).
    Thread-safe; it grows by the distinct values it sees (``limit`` per rule: past it, new
    values are computed and not kept).
    """

    def __init__(self, limit: int = 2_000_000) -> None:
        self.limit = limit
        self._rules: dict[Hashable, tuple[dict[str, Any], dict[Any, tuple[Any, ...]]]] = {}
        self._lock = threading.Lock()

    def known(self, key: Hashable, values: list[Any]) -> tuple[dict[str, Any] | None, list[Any]]:
        """The schema and rows of the values kept for ``key``, and the values not kept."""
        with self._lock:
            entry = self._rules.get(key)
        if entry is None:
            return None, values
        rows = entry[1]
        return entry[0], [v for v in values if v not in rows]

    def rows(self, key: Hashable, values: list[Any]) -> list[tuple[Any, ...]]:
        """The kept rows of ``values`` (all kept: see :meth:`known`)."""
        with self._lock:
            rows = self._rules[key][1]
            return [rows[v] for v in values]

    def keep(self, key: Hashable, mapped: pl.DataFrame) -> None:
        """Keep ``mapped``'s rows (first column the value), up to the limit."""
        with self._lock:
            rows = self._rules.setdefault(key, (dict(mapped.schema), {}))[1]
            room = self.limit - len(rows)
            for row in mapped.head(max(room, 0)).iter_rows():
                rows[row[0]] = row

    def __len__(self) -> int:
        with self._lock:
            return sum(len(rows) for _, rows in self._rules.values())


_MEMO: ContextVar[ValueMemo | None] = ContextVar("_MEMO", default=None)


@contextmanager
def remembered_values(memo: ValueMemo) -> Iterator[None]:
    """Within: :func:`with_distinct` keeps its results per value in ``memo``."""
    token = _MEMO.set(memo)
    try:
        yield
    finally:
        _MEMO.reset(token)


def remembering() -> bool:
    """Whether a memo is active (:func:`remembered_values`): for per-value rules outside
    :func:`with_distinct` that may go through it then."""
    return _MEMO.get() is not None


def _rule_key(column: str, rule: Rule | dict[str, pl.Expr]) -> Hashable:
    if isinstance(rule, dict):
        return (column, "columns", tuple(rule))
    if isinstance(rule, PerValueRule):
        return (column, "rule", rule.name)
    return (column, "rule", getattr(rule, "__qualname__", repr(rule)))


def _mapped(distinct: pl.DataFrame, column: str, rule: Rule | dict[str, pl.Expr]) -> pl.DataFrame:
    """The rule's columns for the distinct values (through the memo when one is active)."""

    def run(values: pl.DataFrame) -> pl.DataFrame:
        lazy = values.lazy()
        mapped = lazy.with_columns(**rule) if isinstance(rule, dict) else rule(lazy)
        return mapped.collect()

    memo = _MEMO.get()
    if memo is None:
        return run(distinct)
    key = _rule_key(column, rule)
    values = distinct.get_column(column).to_list()
    schema, missing = memo.known(key, values)
    if schema is None and not values:  # (the schema is learnt from a run)
        fresh = run(distinct)
        memo.keep(key, fresh)
        return fresh
    if missing:
        if isinstance(rule, PerValueRule) and schema is not None and len(missing) <= FEW_VALUES:
            fresh = rule.rows(column, missing, schema)
        else:
            fresh = run(pl.DataFrame({column: missing}, schema={column: distinct.schema[column]}))
        memo.keep(key, fresh)
        if len(missing) == len(values):
            return fresh
        schema, missing = memo.known(key, values)
        if missing:  # (the memo is full)
            return run(distinct)
    assert schema is not None
    return pl.DataFrame(memo.rows(key, values), schema=schema, orient="row")


def _all_remembered(
    frame: pl.DataFrame, column: str, rule: Rule | dict[str, pl.Expr]
) -> pl.DataFrame | None:
    """The rule's new columns for ``frame`` read from the active memo when it holds every
    value of ``column`` (a search's record, seen values): no polars call but the frame's
    construction. ``None`` otherwise (no memo, or a value not kept yet)."""
    memo = _MEMO.get()
    if memo is None:
        return None
    key = _rule_key(column, rule)
    values = frame.get_column(column).to_list()
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    schema, missing = memo.known(key, distinct)
    if schema is None or missing:
        return None
    rows = dict(zip(distinct, memo.rows(key, distinct), strict=True))
    names = list(schema)
    new = [(j, c) for j, c in enumerate(names) if c != column]
    data = {c: [None if v is None else rows[v][j] for v in values] for j, c in new}
    return pl.DataFrame(data, schema={c: schema[c] for _, c in new})


def with_distinct(
    frame: pl.DataFrame, column: str, rule: Rule | dict[str, pl.Expr]
) -> pl.DataFrame:
    """Add the columns that ``rule`` derives from ``column``, computed once per distinct value.

    ``rule`` is either a mapping of new column name -> expression over ``pl.col(column)``,
    or a function adding columns to a one-column lazy frame. Rows whose ``column`` is null
    get nulls in the new columns. Row order is kept.
    """
    known = _all_remembered(frame, column, rule)
    if known is not None:
        stale = [c for c in known.columns if c in frame.columns]
        return (frame.drop(stale) if stale else frame).hstack(known)
    distinct = frame.select(pl.col(column)).unique().drop_nulls()
    mapped_df = _mapped(distinct, column, rule)
    new = [c for c in mapped_df.columns if c != column]
    # join only the key column (not the whole wide frame), then put the results alongside
    looked_up = frame.select(column).join(mapped_df, on=column, how="left", maintain_order="left")
    return frame.drop([c for c in new if c in frame.columns]).hstack(looked_up.drop(column))
