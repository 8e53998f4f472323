"""Compute costly per-value rules once per distinct value, then join the results back.

Names, places, codes and dates repeat a lot (Zipf-like names, a few hundred communes, a few
thousand dates), so running the rule chains on the distinct values of a column and joining
back is many times faster than running them on every row.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

Rule = Callable[[pl.LazyFrame], pl.LazyFrame]


def with_distinct(
    frame: pl.DataFrame, column: str, rule: Rule | dict[str, pl.Expr]
) -> pl.DataFrame:
    """Add the columns that ``rule`` derives from ``column``, computed once per distinct value.

    ``rule`` is either a mapping of new column name -> expression over ``pl.col(column)``,
    or a function adding columns to a one-column lazy frame. Rows whose ``column`` is null
    get nulls in the new columns. Row order is kept.
    """
    distinct = frame.select(pl.col(column)).unique().drop_nulls().lazy()
    mapped = distinct.with_columns(**rule) if isinstance(rule, dict) else rule(distinct)
    mapped_df = mapped.collect()
    new = [c for c in mapped_df.columns if c != column]
    # join only the key column (not the whole wide frame), then put the results alongside
    looked_up = frame.select(column).join(mapped_df, on=column, how="left", maintain_order="left")
    return frame.drop([c for c in new if c in frame.columns]).hstack(looked_up.drop(column))
