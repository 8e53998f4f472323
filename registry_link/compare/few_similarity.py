"""The Jaro-Winkler similarity and the capped edit distance of a few pairs, in Python.

:func:`~registry_link.compare.similarity.jaro_winkler_similarity` and
:func:`~registry_link.compare.similarity.osa_distance` are built for millions of pairs: a
frame, its distinct rows, a join, masks and gathers — about a millisecond of polars calls
whatever the number of pairs. A search compares tens of new pairs
(:mod:`~registry_link.compare.small`), where those calls are the cost. The functions here
give the same value per pair, read pair by pair in Python with the same rapidfuzz scorers:
null where either value is null, the "equal" value where the two are equal, the scorer's
value elsewhere (``tests/compare/test_few_similarity.py`` holds them equal to the polars
functions on drawn values).

:func:`python_pairwise` finds the Python form of a pair function a comparison declares
(:attr:`~registry_link.compare.levels.Derived.pairwise`), or ``None`` for a function without
one (the caller then calls the function itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import polars as pl
from rapidfuzz.distance import OSA, JaroWinkler

from registry_link.compare.similarity import jaro_winkler_similarity, osa_distance

__all__ = ["PythonPairwise", "jaro_winkler_of", "osa_distance_of", "python_pairwise"]


def jaro_winkler_of(a: str | None, b: str | None) -> float | None:
    """:func:`~registry_link.compare.similarity.jaro_winkler_similarity` of one pair."""
    if a is None or b is None:
        return None
    if a == b:
        return 1.0
    # (rapidfuzz's cpdist gives a similarity as a float32: the same rounding here)
    return float(np.float32(JaroWinkler.normalized_similarity(a, b)))


def _may_be_one_edit_apart(a: str, b: str) -> bool:
    """:func:`~registry_link.compare.similarity._may_be_one_edit_apart` of one pair: the
    lengths at most one apart, and both shorter than 7 or agreeing on their first three or
    their last three characters."""
    la, lb = len(a), len(b)
    return abs(la - lb) <= 1 and (min(la, lb) < 7 or a[:3] == b[:3] or a[-3:] == b[-3:])


def osa_distance_of(a: str | None, b: str | None, cutoff: int = 3) -> int | None:
    """:func:`~registry_link.compare.similarity.osa_distance` of one pair (capped at
    ``cutoff + 1``; with ``cutoff`` 1, the same cheap filter first)."""
    if a is None or b is None:
        return None
    if a == b:
        return 0
    if cutoff == 1 and not _may_be_one_edit_apart(a, b):
        return cutoff + 1
    return int(OSA.distance(a, b, score_cutoff=cutoff))


class PythonPairwise:
    """A pair function read in Python: ``values(left, right)`` pair by pair, in the dtype
    the polars function gives."""

    def __init__(self, fn: Callable[[str | None, str | None], object], dtype: pl.DataType) -> None:
        self.fn = fn
        self.dtype = dtype

    def values(self, left: Sequence[str | None], right: Sequence[str | None]) -> pl.Series:
        """The function's value of each pair ``(left[i], right[i])``."""
        fn = self.fn
        return pl.Series([fn(a, b) for a, b in zip(left, right, strict=True)], dtype=self.dtype)


_JARO_WINKLER = PythonPairwise(jaro_winkler_of, pl.Float64())


def python_pairwise(fn: Callable[[pl.Series, pl.Series], pl.Series]) -> PythonPairwise | None:
    """The Python form of a comparison's pair function (Jaro-Winkler similarity, a capped
    edit distance given its cutoff only), or ``None``."""
    if fn is jaro_winkler_similarity:
        return _JARO_WINKLER
    if (
        isinstance(fn, partial)
        and fn.func is osa_distance
        and not fn.args
        and set(fn.keywords) == {"cutoff"}
        and type(fn.keywords["cutoff"]) is int
    ):
        return PythonPairwise(partial(osa_distance_of, cutoff=fn.keywords["cutoff"]), pl.Int32())
    return None
