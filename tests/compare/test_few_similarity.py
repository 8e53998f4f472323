"""The few pairs' Python forms of the pair functions (:mod:`registry_link.compare.few_similarity`)
give the polars functions' values, and the few-pairs path uses them."""

from __future__ import annotations

from functools import partial

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.compare import compare, few_similarity, small
from registry_link.compare.few_similarity import (
    jaro_winkler_of,
    osa_distance_of,
    python_pairwise,
)
from registry_link.compare.levels import Comparison, Derived, Level, either_null
from registry_link.compare.similarity import (
    jaro_winkler_similarity,
    name_similarity,
    osa_distance,
)
from registry_link.compare.small import DerivedMemo, FewPairs

# short strings over a small alphabet (equal values, one edit apart, transpositions) and IDs
# around the 7 characters where the edit distance's filter changes (and accents, Arabic)
_TEXT = st.one_of(
    st.none(),
    st.text(alphabet="abAB ", max_size=4),
    st.text(alphabet="ab1234567", min_size=5, max_size=10),
    st.text(alphabet="éeاب", max_size=5),
)
_PAIRS = st.lists(st.tuples(_TEXT, _TEXT), min_size=1, max_size=40)


def _series(pairs: list[tuple[str | None, str | None]]) -> tuple[pl.Series, pl.Series]:
    return (
        pl.Series([a for a, _ in pairs], dtype=pl.Utf8),
        pl.Series([b for _, b in pairs], dtype=pl.Utf8),
    )


@settings(max_examples=300, deadline=None)
@given(pairs=_PAIRS)
def test_jaro_winkler_of_each_pair_is_the_polars_functions(
    pairs: list[tuple[str | None, str | None]],
) -> None:
    a, b = _series(pairs)
    want = jaro_winkler_similarity(a, b)
    got = python_pairwise(jaro_winkler_similarity)
    assert got is not None
    assert [jaro_winkler_of(x, y) for x, y in pairs] == want.to_list()
    assert got.values(a.to_list(), b.to_list()).equals(want, check_names=False)
    assert got.values(a.to_list(), b.to_list()).dtype == want.dtype


@settings(max_examples=300, deadline=None)
@given(pairs=_PAIRS, cutoff=st.integers(min_value=1, max_value=3))
def test_osa_distance_of_each_pair_is_the_polars_functions(
    pairs: list[tuple[str | None, str | None]], cutoff: int
) -> None:
    a, b = _series(pairs)
    want = osa_distance(a, b, cutoff=cutoff)
    assert [osa_distance_of(x, y, cutoff) for x, y in pairs] == want.to_list()
    got = python_pairwise(partial(osa_distance, cutoff=cutoff))
    assert got is not None
    values = got.values(a.to_list(), b.to_list())
    assert values.equals(want, check_names=False)
    assert values.dtype == want.dtype


def test_functions_without_a_python_form_are_left_to_polars() -> None:
    assert python_pairwise(name_similarity) is None
    assert python_pairwise(partial(osa_distance, 1)) is None  # (positional: not read)
    assert python_pairwise(partial(jaro_winkler_similarity)) is None


def _comparison(name: str, fn: object, col: str) -> Comparison:
    def derive(frame: pl.DataFrame) -> pl.Series:
        return fn(frame[f"l_{col}"], frame[f"r_{col}"])  # type: ignore[operator,no-any-return]

    helper = Derived(derive, frozenset([f"l_{col}", f"r_{col}"]), pairwise=(fn, col))  # type: ignore[arg-type]
    close = pl.col(f"__{name}").cast(pl.Float64)
    return Comparison(
        name=name,
        kind="custom",
        params={},
        columns=(col,),
        missing=Level("missing", either_null(col), f"a {col} is missing"),
        levels=(
            Level("different", pl.lit(True), f"{col} differ"),
            Level("mid", close.is_between(0.5, 1.5), f"{col} between"),
            Level("exact", pl.col(f"l_{col}") == pl.col(f"r_{col}"), f"{col} equal"),
        ),
        derived={f"__{name}": helper},
    )


@pytest.mark.parametrize("polars_only", [False, True], ids=["python", "polars"])
def test_the_few_pairs_path_reads_the_functions_in_python_with_the_same_vectors(
    polars_only: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    left = pl.DataFrame(
        {"place": ["Rabat", "Sale", None, "Fes"], "cin": ["AB123456", "X1", "", None]}
    )
    right = pl.DataFrame(
        {"place": ["Rabat", "Salé", "Tanger", "Fès"], "cin": ["AB123465", "X2", "Y", "Z9"]}
    )
    comparisons = [
        _comparison("jw", jaro_winkler_similarity, "place"),
        _comparison("edits", partial(osa_distance, cutoff=1), "cin"),
    ]
    called: list[object] = []
    original = few_similarity.PythonPairwise.values

    def noted(self: few_similarity.PythonPairwise, a: list[str], b: list[str]) -> pl.Series:
        called.append(self.fn)
        return original(self, a, b)

    monkeypatch.setattr(few_similarity.PythonPairwise, "values", noted)
    if polars_only:
        monkeypatch.setattr(small, "python_pairwise", lambda fn: None)
    l_idx = [i for i in range(4) for _ in range(4)]
    r_idx = [j for _ in range(4) for j in range(4)]
    pairs = pl.DataFrame(
        {"l_idx": l_idx, "r_idx": r_idx}, schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32}
    )
    want = compare(left, right, pairs, comparisons)
    got = FewPairs(comparisons, DerivedMemo()).compare(
        left, right, np.asarray(l_idx), np.asarray(r_idx)
    )
    assert got.equals(want)
    assert len(called) == (0 if polars_only else 2)
