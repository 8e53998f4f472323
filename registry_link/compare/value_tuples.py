"""Comparisons over few distinct values, evaluated once per pair of distinct values.

A comparison's level depends only on the values of the columns it reads, on each side
(:func:`~registry_link.compare.compute.pair_level_columns`). When every such column is
dictionary-encoded (:mod:`.dictionaries`), each record's values are one *tuple* of codes, and
a side has few distinct tuples (sex; commune of birth or residence; a father's given name with
its key), every (left tuple, right tuple) combination can be compared once into a small table
of levels, and each pair's level is read from it: two integer gathers per pair instead of
gathering and comparing its strings. At 100,000 x 1,000,000 five comparisons of the shipped
model are evaluated this way for the 2.9 M candidate pairs and the 1 M random pairs: sex, birth
place, residence (76 x 75 combinations), the father's name with its key (163 x 308) and the
CNSS number, which that registry lacks (6,863 x 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from registry_link.compare.dictionaries import Dictionary, narrowed
from registry_link.compare.levels import Comparison

#: A side has at most this many distinct tuples of a comparison's columns for the comparison
#: to be evaluated per combination of tuples (see :func:`value_tuples`).
MAX_TUPLES = 65_536


@dataclass(frozen=True, eq=False)
class ValueTuples:
    """One side's distinct tuples of a comparison's columns.

    Attributes:
        values: one row per distinct tuple, the comparison's columns (values, not codes).
        codes: per record of the side, the row of ``values`` holding its tuple (UInt32).
    """

    values: pl.DataFrame
    codes: pl.Series


def value_tuples(
    frame: pl.DataFrame, columns: Sequence[str], dicts: Mapping[str, Dictionary]
) -> ValueTuples | None:
    """The distinct tuples of ``columns`` over ``frame``, from their dictionaries ``dicts``;
    ``None`` when a column is a list or not encoded, or when there are more than
    :data:`MAX_TUPLES`.

    One column: its dictionary is the tuples. Several: each record's codes are combined into
    one integer (mixed radix), whose distinct values are the tuples.
    """
    if not columns or any(isinstance(frame.schema[c], pl.List) for c in columns):
        return None
    if not all(c in dicts for c in columns):
        return None
    if len(columns) == 1:
        values, codes = dicts[columns[0]]
        if values.len() > MAX_TUPLES:
            return None
        return ValueTuples(values.alias(columns[0]).to_frame(), codes)
    sizes = [dicts[c][0].len() for c in columns]
    if float(np.prod(np.asarray(sizes, dtype=np.float64))) >= 2.0**63:
        return None
    combined = np.zeros(frame.height, dtype=np.uint64)
    for c, size in zip(columns, sizes, strict=True):
        combined = combined * np.uint64(size) + dicts[c][1].to_numpy().astype(np.uint64)
    distinct = np.sort(pl.Series(combined).unique().to_numpy())  # (hashing: faster than np.unique)
    if distinct.size > MAX_TUPLES:
        return None
    codes = pl.Series("codes", np.searchsorted(distinct, combined), dtype=pl.UInt32)
    codes = narrowed((pl.Series(distinct), codes))[1]  # (gathered for every pair)
    digits: dict[str, pl.Series] = {}
    rest = distinct
    for c, size in reversed(list(zip(columns, sizes, strict=True))):
        digits[c] = dicts[c][0].gather(pl.Series((rest % np.uint64(size)).astype(np.uint32)))
        rest = rest // np.uint64(size)
    return ValueTuples(pl.DataFrame([digits[c].alias(c) for c in columns]), codes)


#: Evaluates comparisons on pairs of two frames: ``(left, right, pairs, comparisons)`` →
#: ``{l_idx, r_idx, gamma_<name> ...}`` (``compute.evaluate_pairs``).
Evaluate = Callable[[pl.DataFrame, pl.DataFrame, pl.DataFrame, Sequence[Comparison]], pl.DataFrame]


def level_table(
    comparison: Comparison, left: ValueTuples, right: ValueTuples, evaluate: Evaluate
) -> np.ndarray:
    """Every (left tuple, right tuple) combination's level, as an ``Int8`` matrix indexed
    ``[left code, right code]``."""
    n_left, n_right = left.values.height, right.values.height
    combos = pl.DataFrame(
        {
            "l_idx": np.repeat(np.arange(n_left, dtype=np.uint32), n_right),
            "r_idx": np.tile(np.arange(n_right, dtype=np.uint32), n_left),
        }
    )
    gammas = evaluate(left.values, right.values, combos, [comparison])
    return gammas.get_column(comparison.output_column).to_numpy().reshape(n_left, n_right)


def levels_from_tables(
    tables: Mapping[str, tuple[np.ndarray, ValueTuples, ValueTuples]],
    names: Sequence[tuple[str, str]],
    l_idx: pl.Series,
    r_idx: pl.Series,
) -> dict[str, pl.Series]:
    """Per ``(comparison, output column)`` of ``names``, the pairs' levels from its table
    (:func:`level_table`). The tuple codes of every table are gathered in one parallel
    selection per side (random reads from a large side are the cost)."""
    if not names:
        return {}
    rows = pl.DataFrame({name: tables[name][1].codes for name, _ in names})
    cols = pl.DataFrame({name: tables[name][2].codes for name, _ in names})
    rows, cols = rows.select(pl.all().gather(l_idx)), cols.select(pl.all().gather(r_idx))
    out = {}
    for name, column in names:
        table = tables[name][0]
        levels = table[rows.get_column(name).to_numpy(), cols.get_column(name).to_numpy()]
        out[name] = pl.Series(column, levels, dtype=pl.Int8)
    return out
