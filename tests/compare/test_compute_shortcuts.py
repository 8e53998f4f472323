"""The shortcuts of compare() change no gamma: each equals the plain computation it replaces.

* the ``decided`` column of ``name`` comparisons (one pass over the levels that need no
  similarity) against the plain ``when/then`` chain;
* the distinct-probe x distinct-token matrix of :func:`max_token_similarity` against scoring
  every distinct (probe, token) pair;
* list-column dictionaries built on first use;
* the compare engine's prepared records, kept tables, pair cache and threads (its public knobs:
  ``workers=1, caches=False`` against the defaults).
"""

from __future__ import annotations

import dataclasses
from typing import Any
from unittest import mock

import polars as pl
from comparison_pairs import all_pairs
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.compare import (
    CompareEngine,
    build_comparison,
    compare,
    max_token_similarity,
)
from registry_link.compare import dictionaries as dictionaries_module
from registry_link.compare import similarity as similarity_module
from registry_link.compare.levels import Level, decided_expr, first_true

_KEYS = ["mhmd", "ftm", "lw", "bnn", "", "mhmt", "lwi"]
key = st.one_of(st.none(), st.sampled_from(_KEYS))
word = st.one_of(st.none(), st.sampled_from(["mohamed", "mohammed", "fatima", "alaoui", "lamrani"]))

SCHEMA = {
    "given_lat": pl.Utf8,
    "given_key": pl.Utf8,
    "given_key_ar": pl.Utf8,
    "family_lat": pl.Utf8,
    "family_key": pl.Utf8,
    "family_key_ar": pl.Utf8,
    "father_lat": pl.Utf8,
    "father_key": pl.Utf8,
    "name_token_keys": pl.List(pl.Utf8),
}

NAME_SPECS: list[dict[str, Any]] = [
    {"name": "given", "kind": "name", "field": "given", "tokens": "name_token_keys",
     "swapped_with": "family", "variants": True},
    {"name": "family", "kind": "name", "field": "family", "tokens": "name_token_keys",
     "swapped_with": "given", "glued_article": True, "variants": True},
    {"name": "father", "kind": "name", "field": "father", "key_ar": None, "variants": True},
    {"name": "plain", "kind": "name", "field": "given", "verify_same_name": False},
    {"name": "full_name", "kind": "name_tokens"},
]  # fmt: skip
NAME_COMPS = [build_comparison(s) for s in NAME_SPECS]


@st.composite
def name_record(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "given_lat": draw(word),
        "given_key": draw(key),
        "given_key_ar": draw(key),
        "family_lat": draw(word),
        "family_key": draw(key),
        "family_key_ar": draw(key),
        "father_lat": draw(word),
        "father_key": draw(key),
        "name_token_keys": draw(st.one_of(st.none(), st.lists(key, max_size=3))),
    }


def _plain(comp: Any) -> Any:
    """The comparison without shortcuts: every helper on every pair, the whole level chain."""
    return dataclasses.replace(comp, derived_when={}, decided=None)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(name_record(), min_size=1, max_size=6),
    st.lists(name_record(), min_size=1, max_size=6),
)
def test_name_comparisons_equal_their_plain_level_chains(a: list[dict], b: list[dict]) -> None:
    left, right = pl.DataFrame(a, schema=SCHEMA), pl.DataFrame(b, schema=SCHEMA)
    pairs = all_pairs(len(a), len(b))
    fast = compare(left, right, pairs, NAME_COMPS)
    plain = compare(left, right, pairs, [_plain(c) for c in NAME_COMPS])
    assert fast.equals(plain)
    with mock.patch.object(dictionaries_module, "DICTIONARY_MAX_VALUES", 0):  # no dictionary codes
        assert compare(left, right, pairs, NAME_COMPS, chunk_size=5).equals(plain)


def test_name_comparisons_declare_their_decided_column() -> None:
    for comp in NAME_COMPS[:4]:
        assert comp.decided is not None
        column, lowest = comp.decided
        assert column in comp.derived
        # with variants, the variant level (its own helper column) is the highest undecided one
        if comp.params.get("variants"):
            assert comp.levels[lowest - 1].label == "variant"
            lowest -= 1
        assert comp.levels[lowest - 1].label == "similar_high"


def test_first_true_and_decided_expr() -> None:
    frame = pl.DataFrame({"x": [1, 2, 3, None]})
    cases = [(pl.col("x") == 1, 5), (pl.col("x") >= 2, 3)]
    assert frame.select(first_true(cases)).to_series().to_list() == [5, 3, 3, None]
    assert frame.select(first_true(cases, 0)).to_series().to_list() == [5, 3, 3, 0]
    assert frame.select(first_true([], 0)).to_series().to_list() == [0]
    missing = Level("missing", pl.col("x").is_null(), "missing")
    got = frame.select(decided_expr(missing, [(Level("one", pl.col("x") == 1, "one"), 4)]))
    assert got.to_series().to_list() == [4, None, None, -1]


tokens_st = st.one_of(st.none(), st.lists(key, max_size=4))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(key, tokens_st), max_size=30))
def test_max_token_similarity_matrix_equals_distinct_pairs(rows: list[tuple[Any, Any]]) -> None:
    probe = pl.Series([r[0] for r in rows], dtype=pl.Utf8)
    tokens = pl.Series([r[1] for r in rows], dtype=pl.List(pl.Utf8))
    with mock.patch.object(similarity_module, "TOKEN_MATRIX_MAX_RATIO", 10**9):
        matrix = max_token_similarity(probe, tokens)
    with mock.patch.object(similarity_module, "TOKEN_MATRIX_MAX_RATIO", -1):
        pairs = max_token_similarity(probe, tokens)
    assert matrix.to_list() == pairs.to_list()
    assert matrix.dtype == pairs.dtype == pl.Float64


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(key, max_size=3)), max_size=40))
def test_list_dictionaries_are_built_on_first_use(values: list[Any]) -> None:
    frame = pl.DataFrame(
        {"v": values, "s": ["a"] * len(values)},
        schema={"v": pl.List(pl.Utf8), "s": pl.Utf8},
    )
    enc = dictionaries_module.dictionaries(frame)
    if not values:
        assert not enc
        return
    assert "v" in enc  # few distinct values: encoded, on this first look-up
    distinct, codes = enc["v"]
    assert distinct.gather(codes).to_list() == values
    assert set(enc) == {"v", "s"}
    with mock.patch.object(dictionaries_module, "DICTIONARY_MAX_VALUES", 0):
        small = dictionaries_module.dictionaries(frame)  # limit len // 8: too many distinct lists
        if pl.Series(values, dtype=pl.List(pl.Utf8)).n_unique() > len(values) // 8:
            assert "v" not in small


@settings(max_examples=25, deadline=None)
@given(
    st.lists(name_record(), min_size=1, max_size=6),
    st.lists(name_record(), min_size=1, max_size=8),
    st.sampled_from([(1, False, 0), (2, True, 0), (2, True, 10**6), (3, True, 10**6)]),
    st.data(),
)
def test_the_engine_gives_the_vectors_of_compare_over_several_calls(
    a: list[dict], b: list[dict], knobs: tuple[int, bool, int], data: st.DataObject
) -> None:
    """One engine, several calls on any pairs of its records (list columns looked up from
    several threads, sides prepared whole or per call, caches on or off, chunks of 2 pairs):
    the vectors of :func:`compare` alone."""
    workers, caches, random_pairs = knobs
    left, right = pl.DataFrame(a, schema=SCHEMA), pl.DataFrame(b, schema=SCHEMA)
    with (
        mock.patch("registry_link.compare.engine.MIN_HELPED_CHUNK", 1),
        CompareEngine(
            left,
            right,
            NAME_COMPS,
            workers=workers,
            caches=caches,
            random_pairs=random_pairs,
            chunk_size=2,
        ) as engine,
    ):
        for _ in range(3):
            pairs = all_pairs(len(a), len(b))
            rows = data.draw(st.lists(st.integers(0, pairs.height - 1), max_size=pairs.height))
            pairs = pairs[rows] if rows else pairs.clear()
            assert engine.compare(pairs).equals(compare(left, right, pairs, NAME_COMPS))
        within = engine.within_left(NAME_COMPS)
    with within:
        pairs = all_pairs(len(a), len(a))
        assert within.compare(pairs).equals(compare(left, left, pairs, NAME_COMPS))


def test_the_link_memo_lives_while_the_engine_is_entered() -> None:
    """``active_link_memo``: a dict while an engine is entered (seen by its submitted work
    too, shared by its ``within_left`` engine), the outer one's again after an inner engine
    is left, ``None`` outside any and with ``caches=False``."""
    from registry_link.compare.engine import active_link_memo

    frame = pl.DataFrame({"x": ["a", "b"]})
    comps = [build_comparison({"name": "x", "kind": "exact", "column": "x"})]
    assert active_link_memo() is None
    with CompareEngine(frame, frame, comps, workers=2) as outer:
        memo = active_link_memo()
        assert memo == {}
        assert outer.submit(active_link_memo).result() is memo
        with CompareEngine(frame, frame, comps, caches=False):
            assert active_link_memo() is None
        assert active_link_memo() is memo
        within = outer.within_left(comps)
    assert active_link_memo() is None
    with within:  # (the link's dedupe engine: the same memo)
        assert active_link_memo() is memo
    assert active_link_memo() is None
