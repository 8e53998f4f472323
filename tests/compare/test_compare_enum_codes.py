"""Derived functions that take the sides' shared ``Enum`` (``Derived.takes_enums``) give the
values of the strings.

* :func:`~registry_link.compare.similarity.on_unique_codes_each` on ``Enum`` values (the
  Enum's codes identifying the pairs, a pair cache kept over calls) against the functions
  applied to each pair's strings alone;
* the name comparisons (the per-distinct-pair similarity, variant and same-name checks, and
  the swap's other crossing on the Enum's codes) in an engine of chunks of two pairs, against
  the same comparisons gathered as strings (no shared ``Enum``).
"""

from __future__ import annotations

from functools import partial
from typing import Any
from unittest import mock

import polars as pl
from comparison_pairs import all_pairs
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.compare import CompareEngine, build_comparison, compare
from registry_link.compare import compute as compute_module
from registry_link.compare import library as library_module
from registry_link.compare.engine import _PAIR_CACHE
from registry_link.compare.similarity import name_similarity_each, on_unique_codes_each
from registry_link.names import pairwise_name_variant
from registry_link.names.matcher import remembered_forms

_NAMES = ["mohamed", "mhamed", "alaoui", "lahcen", "hassan", "fatima zahra", "zahra", "slimane"]
_NAMES += ["ben slimane", "lamrani", "amrani", "ali"]
_KEYS = ["mhmd", "lw", "hsn", "ftm zhr", "zhr", "slmn", "mrn", "l"]
name = st.one_of(st.none(), st.sampled_from(_NAMES))
key = st.one_of(st.none(), st.sampled_from(_KEYS))

SCHEMA = {
    "given_lat": pl.Utf8,
    "given_key": pl.Utf8,
    "given_key_ar": pl.Utf8,
    "family_lat": pl.Utf8,
    "family_key": pl.Utf8,
    "family_key_ar": pl.Utf8,
    "name_token_keys": pl.List(pl.Utf8),
}
SPECS: list[dict[str, Any]] = [
    {"name": "given", "kind": "name", "field": "given", "tokens": "name_token_keys",
     "swapped_with": "family", "variants": True, "tf": True, "tokens_tf": True},
    {"name": "family", "kind": "name", "field": "family", "tokens": "name_token_keys",
     "swapped_with": "given", "glued_article": True, "variants": True, "tf": True,
     "tokens_tf": True},
]  # fmt: skip
COMPS = [build_comparison(s) for s in SPECS]


#: Keys as the names would have them (a record's key is mostly its name's: crossings by key,
#: then the other crossing scored, are frequent).
_KEY_OF = {
    "mohamed": "mhmd",
    "mhamed": "mhmd",
    "alaoui": "lw",
    "lahcen": "lhsn",
    "hassan": "hsn",
    "fatima zahra": "ftm zhr",
    "zahra": "zhr",
    "slimane": "slmn",
    "ben slimane": "bn slmn",
    "lamrani": "lmrn",
    "amrani": "mrn",
    "ali": "l",
}


@st.composite
def name_record(draw: st.DrawFn) -> dict[str, Any]:
    given_lat, family_lat = draw(name), draw(name)
    return {
        "given_lat": given_lat,
        "given_key": draw(st.sampled_from([_KEY_OF.get(given_lat or ""), None])) or draw(key),
        "given_key_ar": draw(key),
        "family_lat": family_lat,
        "family_key": draw(st.sampled_from([_KEY_OF.get(family_lat or ""), None])) or draw(key),
        "family_key_ar": draw(key),
        "name_token_keys": draw(st.one_of(st.none(), st.lists(key, max_size=3))),
    }


def _one_by_one(fn: Any, a: list[str | None], b: list[str | None]) -> list[Any]:
    """``fn`` applied to each pair of strings alone (a one-row call per pair)."""
    return [
        fn(pl.Series([x], dtype=pl.Utf8), pl.Series([y], dtype=pl.Utf8)).item()
        for x, y in zip(a, b, strict=True)
    ]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(name, name), min_size=1, max_size=12),
    st.lists(st.tuples(name, name), min_size=1, max_size=12),
    st.booleans(),
)
def test_per_distinct_pair_functions_on_enum_codes_equal_each_pair_on_strings(
    first: list[tuple[str | None, str | None]],
    second: list[tuple[str | None, str | None]],
    cached: bool,
) -> None:
    """Enum values with the Enum's codes as the pairs' identity: the functions get strings
    and give each pair its own value, over two calls sharing a pair cache (or none)."""
    enum = pl.Enum(_NAMES)
    fns = (partial(name_similarity_each, score_cutoff=0.8), pairwise_name_variant)
    token = _PAIR_CACHE.set({} if cached else None)
    try:
        with remembered_forms({}):
            for pairs in (first, second, first):  # (new pairs, some known, all known)
                a = pl.Series([x for x, _ in pairs], dtype=enum)
                b = pl.Series([y for _, y in pairs], dtype=enum)
                got = on_unique_codes_each(a, b, a.to_physical(), b.to_physical(), fns, "enum-test")
                strings = ([x for x, _ in pairs], [y for _, y in pairs])
                for values, fn in zip(got, fns, strict=True):
                    assert values.to_list() == _one_by_one(fn, *strings)
    finally:
        _PAIR_CACHE.reset(token)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=20),
        min_size=1,
        max_size=5,
    )
)
def test_the_pair_cache_scores_each_distinct_pair_once_over_the_chunks(
    chunks: list[list[tuple[int, int]]],
) -> None:
    """Chunks of code pairs sharing a pair cache (its table kept sorted by pair key, new
    pairs merged in): each pair gets its function's value, and each distinct pair is scored
    once over all the chunks."""
    scored: list[tuple[str, str]] = []

    def fn(a: pl.Series, b: pl.Series) -> pl.Series:
        scored.extend(zip(a.to_list(), b.to_list(), strict=True))
        return pl.Series([f"{x}/{y}" for x, y in zip(a, b, strict=True)])

    token = _PAIR_CACHE.set({})
    try:
        for chunk in chunks:
            codes_a = pl.Series([x for x, _ in chunk], dtype=pl.UInt32)
            codes_b = pl.Series([y for _, y in chunk], dtype=pl.UInt32)
            a, b = codes_a.cast(pl.Utf8), codes_b.cast(pl.Utf8)
            (got,) = on_unique_codes_each(a, b, codes_a, codes_b, (fn,), "cache-test")
            assert got.to_list() == [f"{x}/{y}" for x, y in chunk]
    finally:
        _PAIR_CACHE.reset(token)
    assert sorted(scored) == sorted({(str(x), str(y)) for c in chunks for x, y in c})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(name_record(), min_size=1, max_size=7),
    st.lists(name_record(), min_size=1, max_size=7),
)
def test_name_comparisons_on_the_shared_enum_equal_them_on_strings(
    a: list[dict], b: list[dict]
) -> None:
    """An engine in chunks of two pairs (its pair cache kept over the chunks), the names
    gathered as the shared Enum: the vectors of the strings (no Enum, no engine)."""
    left, right = pl.DataFrame(a, schema=SCHEMA), pl.DataFrame(b, schema=SCHEMA)
    pairs = all_pairs(len(a), len(b))
    with CompareEngine(left, right, COMPS, workers=1, chunk_size=2) as engine:
        coded = engine.compare(pairs)
    with mock.patch.object(compute_module, "shared_enums_of", lambda lrec, rrec: ({}, {})):
        strings = compare(left, right, pairs, COMPS)
    assert coded.equals(strings)


def test_the_swaps_other_crossing_is_scored_on_the_enums_codes() -> None:
    """Given on one side the other's family name by key, the other crossing's similarity
    runs once per distinct pair of Enum codes (not strings) and gives the strings' levels:
    Alaoui Lahcen / Hassan Alaoui is a swap (Lahcen = Hassan, one reading of الحسن)."""
    rows = [
        {"given_lat": "lahcen", "given_key": "lhsn", "family_lat": "alaoui", "family_key": "lw"},
        {"given_lat": "ali", "given_key": "l", "family_lat": "alaoui", "family_key": "lw"},
    ]
    left = pl.DataFrame(rows * 3, schema=SCHEMA)
    right = pl.DataFrame(
        [{"given_lat": "alaoui", "given_key": "lw", "family_lat": "hassan", "family_key": "hsn"}]
        * 2,
        schema=SCHEMA,
    )
    pairs = all_pairs(left.height, right.height)
    seen: list[pl.DataType] = []
    original = library_module.on_unique_codes

    def noting(a: pl.Series, *args: Any) -> pl.Series:
        if args[-1] is args[-2]:  # the crossing's call: its similarity is its cache key
            seen.append(a.dtype)
        return original(a, *args)

    with (
        mock.patch.object(library_module, "on_unique_codes", noting),
        CompareEngine(left, right, COMPS, workers=1, chunk_size=4) as engine,
    ):
        coded = engine.compare(pairs)
    assert seen and all(isinstance(t, pl.Enum) for t in seen)
    with mock.patch.object(compute_module, "shared_enums_of", lambda lrec, rrec: ({}, {})):
        assert coded.equals(compare(left, right, pairs, COMPS))
    given_levels = [COMPS[0].level(g).label for g in coded["gamma_given"]]
    assert given_levels[::4] == ["swapped"] * 3  # (Lahcen Alaoui / Alaoui Hassan: a swap)
