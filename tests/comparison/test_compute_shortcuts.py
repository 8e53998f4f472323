"""The shortcuts of compare() change no gamma: each equals the plain computation it replaces.

* the ``decided`` column of ``name`` comparisons (one pass over the levels that need no
  similarity) against the plain ``when/then`` chain;
* the distinct-probe x distinct-token matrix of :func:`max_token_similarity` against scoring
  every distinct (probe, token) pair;
* list-column dictionaries built on first use.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from unittest import mock

import polars as pl
import pytest
from comparison_pairs import all_pairs
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.comparison import (
    build_comparison,
    compare,
    max_token_similarity,
    prepare_records,
)
from registry_link.comparison import dictionaries as dictionaries_module
from registry_link.comparison import similarity as similarity_module
from registry_link.comparison.levels import Level, decided_expr, first_true
from registry_link.errors import LinkageError

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
     "swapped_with": "family"},
    {"name": "family", "kind": "name", "field": "family", "tokens": "name_token_keys",
     "swapped_with": "given", "glued_article": True},
    {"name": "father", "kind": "name", "field": "father", "key_ar": None},
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


def _look_up_from_threads(frame: pl.DataFrame, threads: int) -> tuple[int, list, list]:
    """Encodings made (joins), and per thread its ``len`` and decoded list columns, or errors,
    when ``threads`` threads look up the same fresh dictionaries at once."""
    import threading

    enc = dictionaries_module.dictionaries(frame)
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    encodings: list[int] = []
    seen: list[tuple[int, list[list[Any]]]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    original = pl.DataFrame.join

    def counted(self: pl.DataFrame, *args: Any, **kwargs: Any) -> pl.DataFrame:
        encodings.append(1)  # one join per list column encoded
        return original(self, *args, **kwargs)

    def look() -> None:
        try:
            start.wait()
            n = len(enc)  # iterates: encodes every pending list column
            seen.append((n, [enc[c][0].gather(enc[c][1]).to_list() for c in lists]))
        except BaseException as exc:
            errors.append(exc)

    with mock.patch.object(pl.DataFrame, "join", counted):
        workers = [threading.Thread(target=look) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
    return len(encodings), seen, errors


def test_list_dictionaries_are_encoded_once_when_threads_look_them_up_together() -> None:
    """The registry's prepared records are compared from two threads at once (candidate pairs,
    random pairs for u): lazily encoded list columns must come out whole, and only once."""
    values = [[f"k{i % 7}", f"k{i % 3}"] if i % 5 else None for i in range(5000)]
    frame = pl.DataFrame(
        {f"v{j}": values for j in range(4)} | {"s": ["a"] * len(values)},
        schema={**{f"v{j}": pl.List(pl.Utf8) for j in range(4)}, "s": pl.Utf8},
    )
    for _ in range(5):
        encodings, seen, errors = _look_up_from_threads(frame, 6)
        assert errors == []
        assert encodings == 4
        assert len(seen) == 6
        for n, decoded in seen:
            assert n == 5
            assert all(d == values for d in decoded)


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


@settings(max_examples=60, deadline=None)
@given(
    st.lists(name_record(), min_size=1, max_size=6),
    st.lists(name_record(), min_size=1, max_size=8),
    st.data(),
)
def test_prepared_right_records_give_the_same_vectors(
    a: list[dict], b: list[dict], data: st.DataObject
) -> None:
    """``prepare_records`` once, then several ``compare`` calls on any pairs of those records:
    the vectors of comparing without it."""
    left, right = pl.DataFrame(a, schema=SCHEMA), pl.DataFrame(b, schema=SCHEMA)
    prepared = prepare_records(right, NAME_COMPS)
    for _ in range(2):
        pairs = all_pairs(len(a), len(b))
        rows = data.draw(st.lists(st.integers(0, pairs.height - 1), max_size=pairs.height))
        pairs = pairs[rows] if rows else pairs.clear()
        plain = compare(left, right, pairs, NAME_COMPS)
        assert compare(left, right, pairs, NAME_COMPS, right_prepared=prepared).equals(plain)


def test_records_prepared_for_other_records_or_comparisons_are_refused() -> None:
    right = pl.DataFrame([{c: None for c in SCHEMA}], schema=SCHEMA)
    prepared = prepare_records(right, NAME_COMPS)
    pairs = all_pairs(1, 1)
    with pytest.raises(LinkageError, match="prepared from other records or comparisons"):
        compare(right, right.clone(), pairs, NAME_COMPS, right_prepared=prepared)
    with pytest.raises(LinkageError, match="prepared from other records or comparisons"):
        compare(right, right, pairs, NAME_COMPS[:2], right_prepared=prepared)


def test_string_columns_are_made_once_and_kept_until_their_last_reader() -> None:
    from registry_link.comparison.compute import _StringColumns
    from registry_link.comparison.dictionaries import code_column

    values = {
        "l_a": pl.Series(["x", "y", None]),
        "l_b": pl.Series(["p", "q"]),
        "r_c": pl.Series(["u", "v"]),
    }
    frame = pl.DataFrame(
        {
            "l_idx": [0, 1, 2],
            "r_idx": [2, 1, 0],
            code_column("l_a"): pl.Series([2, 0, 1], dtype=pl.UInt32),
            code_column("l_b"): pl.Series([1, 1, 0], dtype=pl.UInt32),
            code_column("r_c"): pl.Series([0, 1, 0], dtype=pl.UInt32),
            "r_plain": [7, 8, 9],
        }
    )
    strings = _StringColumns(frame, values, [["l_a", "l_b"], ["l_b", "r_c", "r_plain"], ["r_c"]])
    first = strings.pair_columns(["l_a", "l_b"])
    assert first["l_a"].to_list() == [None, "x", "y"]
    assert first["l_b"].to_list() == ["q", "q", "p"]
    assert set(strings._made) == {"l_b"}  # l_a has no later reader
    second = strings.pair_columns(["l_b", "r_c", "r_plain"])
    assert second["l_b"].to_list() == ["q", "q", "p"]
    assert second["r_c"].to_list() == ["u", "v", "u"]
    assert second["r_plain"].to_list() == [7, 8, 9]
    assert code_column("r_c") in second.columns
    assert set(strings._made) == {"r_c"}
    assert strings.pair_columns(["r_c"])["r_c"].to_list() == ["u", "v", "u"]
    assert strings._made == {}
