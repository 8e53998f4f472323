"""Ordered comparison levels: the building blocks of every comparison.

A :class:`Comparison` turns a frame of record pairs (columns ``l_<col>`` / ``r_<col>``)
into one ``Int8`` agreement level per pair:

* ``-1`` — missing: a value is null on either side (neutral, weight 0);
* ``0`` — the lowest agreement ("else / different");
* higher values — closer agreement; the top level is usually "exact".

Levels are *tried* from the closest to the loosest (missing first, then exact, thresholds,
and "else" last): the first level whose predicate is true gives the pair its gamma. A level's
predicate is a polars expression over the pair frame; helper columns that need a vectorised
Python function (string similarity over millions of pairs) are declared as *derived* columns
of the comparison and computed once before the predicates run.

``Comparison.levels`` is indexed by gamma value: ``levels[0]`` is "else", ``levels[-1]`` the
closest level; ``Comparison.missing`` is the level of gamma ``-1``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

#: A vectorised function computing one helper column from the pair frame.
DerivedFn = Callable[[pl.DataFrame], pl.Series]


@dataclass(frozen=True)
class Derived:
    """A helper column of a comparison, computed (vectorised) from the pair frame before its
    level predicates run.

    Attributes:
        fn: computes the column from the pair frame (one value per pair).
        reads: the pair-frame columns ``fn`` reads (``l_<col>``, ``r_<col>``, earlier helper
            columns); ``None`` when unknown, so every column is gathered for it.
        expr: when ``fn`` evaluates one element-wise polars expression over the pair frame,
            that expression (``fn`` gives ``frame.select(expr)``): a caller comparing a few
            pairs evaluates it beside the other comparisons' in one ``select``
            (:mod:`registry_link.compare.small`).
        pairwise: when the column is ``f(l_<col>, r_<col>)`` for an element-wise ``f`` (each
            pair's value depends on its two values alone, as the batch's per-distinct-pair
            step assumes), ``(f, col)``: a caller comparing a few pairs applies ``f`` once to
            the new pairs of every comparison that uses it (:mod:`registry_link.compare.small`).
        takes_enums: ``fn`` accepts the string columns it reads as the sides' shared ``Enum``
            (it casts to strings only the values it works on: once per distinct pair), so the
            batch engine need not cast every pair's values to strings first
            (:func:`~registry_link.compare.compute.evaluate_pairs`).
    """

    fn: DerivedFn
    reads: frozenset[str] | None = None
    expr: pl.Expr | None = field(default=None, compare=False)
    pairwise: tuple[Callable[[pl.Series, pl.Series], pl.Series], str] | None = field(
        default=None, compare=False
    )
    takes_enums: bool = field(default=False, compare=False)

    def __call__(self, frame: pl.DataFrame) -> pl.Series:
        """The column over ``frame``."""
        return self.fn(frame)


@dataclass(frozen=True, eq=False)
class Level:
    """One agreement level: a label, a predicate over the pair frame and a description.

    ``tf_column`` names the record column whose value drives a term-frequency adjustment of
    this level (set on levels whose pairs agree on that value: exact agreement, or a split
    name's key found among an unsplit name's tokens); ``None`` for no adjustment.
    """

    label: str
    predicate: pl.Expr
    description: str
    tf_column: str | None = None

    def describe(self) -> str:
        """The level in words, e.g. ``"given names have the same cross-script key"``."""
        return self.description

    def _identity(self) -> tuple[str, str, str | None]:
        return (self.label, self.description, self.tf_column)

    def __eq__(self, other: object) -> bool:
        """Levels are equal when label, description and tf column are (not the predicate)."""
        return isinstance(other, Level) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


@dataclass(frozen=True, eq=False)
class Comparison:
    """A named comparison of record pairs with ordered agreement levels.

    Attributes:
        name: the comparison's name; its output column is ``gamma_<name>``.
        kind: the library kind that built it (see :mod:`registry_link.compare.library`).
        params: the kind's parameters, as given in the model config (JSON-safe).
        columns: record columns the comparison reads (gathered as ``l_<col>``/``r_<col>``).
        missing: the level of gamma -1 (its predicate says when a pair is "missing").
        levels: non-missing levels indexed by gamma: ``levels[0]`` = else, last = closest.
        derived: helper columns computed (vectorised) before the predicates, by name (a
            plain function is taken as a :class:`Derived` that reads every column).
        derived_when: for a derived column, the pairs that need it (others get null), so
            costly similarities are computed only for pairs no closer level has decided.
        record_derived: columns computed once per record (on each side, from
            :attr:`columns`) before the pairs are gathered, by name; the pair frame has them as
            ``l_<name>``/``r_<name>``. Cheaper than a per-pair derived column when a value
            depends on one record only (e.g. a name's tokens, kept only where it is unsplit).
        decided: optionally ``(column, gamma)``: a derived column holding the gamma of the
            pairs the missing level or a level of gamma ``>= gamma`` decides, null for the
            others (built with :func:`decided_expr` from these same levels). Costly helper
            columns of the lower levels can then be computed where it is null, and
            :meth:`gamma_expr` evaluates only the lower levels' predicates.
    """

    name: str
    kind: str
    params: Mapping[str, Any]
    columns: tuple[str, ...]
    missing: Level
    levels: tuple[Level, ...]
    derived: Mapping[str, Derived] = field(default_factory=dict)
    derived_when: Mapping[str, pl.Expr] = field(default_factory=dict)
    record_derived: Mapping[str, pl.Expr] = field(default_factory=dict)
    decided: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        typed = {
            name: fn if isinstance(fn, Derived) else Derived(fn)
            for name, fn in self.derived.items()
        }
        object.__setattr__(self, "derived", typed)

    def __eq__(self, other: object) -> bool:
        """Comparisons are equal when their :meth:`to_dict` descriptions are."""
        return isinstance(other, Comparison) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True, default=str))

    @property
    def output_column(self) -> str:
        """The gamma column this comparison writes: ``gamma_<name>``."""
        return f"gamma_{self.name}"

    @property
    def n_levels(self) -> int:
        """Number of non-missing levels (gamma values 0 .. n_levels - 1)."""
        return len(self.levels)

    def level(self, gamma: int) -> Level:
        """The level of a gamma value (-1 = missing)."""
        if gamma == -1:
            return self.missing
        return self.levels[gamma]

    def describe(self) -> str:
        """The comparison and its levels in words, closest level first."""
        lines = [f"{self.name} ({self.kind}):"]
        lines.append(f"  -1 {self.missing.label}: {self.missing.describe()}")
        for gamma in range(self.n_levels - 1, -1, -1):
            lvl = self.levels[gamma]
            tf = f" [term-frequency adjusted on {lvl.tf_column}]" if lvl.tf_column else ""
            lines.append(f"  {gamma} {lvl.label}: {lvl.describe()}{tf}")
        return "\n".join(lines)

    def gamma_expr(self) -> pl.Expr:
        """The polars expression computing ``gamma_<name>`` over the pair frame.

        Derived columns (:attr:`derived`) must already be in the frame. With :attr:`decided`,
        the gamma is that column's where it is not null, else the first lower level's.
        Built once per comparison (a chain of a dozen predicates costs milliseconds to build,
        at every chunk of every call).
        """
        return self._gamma_expr

    @cached_property
    def _gamma_expr(self) -> pl.Expr:
        if self.decided is None:
            cases = [(self.missing.predicate, -1)]
            cases += [(self.levels[g].predicate, g) for g in range(self.n_levels - 1, 0, -1)]
            return first_true(cases, otherwise=0).alias(self.output_column)
        column, lowest = self.decided
        rest = first_true([(self.levels[g].predicate, g) for g in range(lowest - 1, 0, -1)], 0)
        return pl.coalesce(pl.col(column), rest).cast(pl.Int8).alias(self.output_column)

    def tf_columns(self) -> dict[int, str]:
        """Gamma value → record column, for levels that carry a term-frequency adjustment."""
        return {g: lvl.tf_column for g, lvl in enumerate(self.levels) if lvl.tf_column}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description for the model file: name, kind, params and level labels.

        ``levels`` lists labels by gamma value (index 0 = else); it is informative only,
        :func:`~registry_link.compare.library.build_comparison` rebuilds the levels from
        ``kind`` and the parameters.
        """
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        out.update(self.params)
        out["levels"] = [lvl.label for lvl in self.levels]
        out["missing_level"] = self.missing.label
        return out


def l_(col: str) -> pl.Expr:
    """The left-hand value of a record column in the pair frame."""
    return pl.col(f"l_{col}")


def r_(col: str) -> pl.Expr:
    """The right-hand value of a record column in the pair frame."""
    return pl.col(f"r_{col}")


def either_null(*cols: str) -> pl.Expr:
    """True when any of the columns is null on the left or on the right."""
    exprs = [l_(c).is_null() | r_(c).is_null() for c in cols]
    return pl.any_horizontal(exprs)


def all_null_on_a_side(cols: Sequence[str]) -> pl.Expr:
    """True when, on the left or on the right, all the given columns are null."""
    left = pl.all_horizontal([l_(c).is_null() for c in cols])
    right = pl.all_horizontal([r_(c).is_null() for c in cols])
    return left | right


def equal(col: str) -> pl.Expr:
    """Left and right values equal (null never equals anything)."""
    return (l_(col) == r_(col)).fill_null(False)


def first_true(cases: Sequence[tuple[pl.Expr, int]], otherwise: int | None = None) -> pl.Expr:
    """``Int8``: the value of the first case whose predicate is true (null counts as false).

    ``otherwise`` where none is: ``None`` leaves those positions null.
    """
    default = pl.lit(otherwise, dtype=pl.Int8)
    if not cases:
        return default
    chain: Any = pl.when(cases[0][0]).then(pl.lit(cases[0][1], dtype=pl.Int8))
    for predicate, value in cases[1:]:
        chain = chain.when(predicate).then(pl.lit(value, dtype=pl.Int8))
    return chain.otherwise(default).cast(pl.Int8)


def decided_expr(missing: Level, levels: Sequence[tuple[Level, int]]) -> pl.Expr:
    """The gamma the missing level or one of ``levels`` (``(level, gamma)``, closest first)
    gives a pair, null when none applies: the column of :attr:`Comparison.decided`."""
    return first_true([(missing.predicate, -1), *((lvl.predicate, g) for lvl, g in levels)])
