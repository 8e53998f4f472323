"""pairwise_jaro_winkler: the distinct-values matrix path equals scoring every position."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from registry_link.names.matcher import pairwise_jaro_winkler

_FEW = st.sampled_from(["mhmd", "mhmt", "lw", "", "bnn", "ftm", "fth"])
_ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(_FEW, _ANY), st.one_of(_FEW, _ANY)), max_size=40))
def test_pairwise_jaro_winkler_equals_rapidfuzz(pairs: list[tuple[str, str]]) -> None:
    a = pl.Series([p[0] for p in pairs], dtype=pl.Utf8)
    b = pl.Series([p[1] for p in pairs], dtype=pl.Utf8)
    got = pairwise_jaro_winkler(a, b)
    want = process.cpdist(
        a.to_list(), b.to_list(), scorer=JaroWinkler.normalized_similarity, workers=-1
    )
    assert got.dtype == np.asarray(want).dtype
    assert np.array_equal(got, np.asarray(want))


def test_pairwise_jaro_winkler_uses_the_matrix_for_repeated_values() -> None:
    a = pl.Series(["mhmd", "lw"] * 50)
    b = pl.Series(["mhmt", "lw", "bnn", "mhmd"] * 25)
    got = pairwise_jaro_winkler(a, b)
    assert got[1] == 1.0 and got.shape == (100,)
    assert got[0] == JaroWinkler.normalized_similarity("mhmd", "mhmt")
