"""Hypothesis properties of the normalisers and the matcher."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.names import (
    arabic_to_latin_expr,
    matching_form,
    matching_form_expr,
    name_similarity,
    normalise_arabic_expr,
    normalise_latin_expr,
    pairwise_name_similarity,
    pairwise_same_name,
    same_name,
    token_keys_expr,
)
from registry_link.names.arabic import normalise_arabic

# Arbitrary Unicode, plus text biased to the characters the rules care about.
_ARABIC_BLOCK = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
_SPECIAL = st.sampled_from(list("\u200b\u200f\u202b\u2067\ufeff -'.ÂéçœßAaEeLlOoUuYyWw"))
_ANY = st.characters(blacklist_categories=("Cs",))  # polars strings are UTF-8: no surrogates
_MIXED = st.text(st.one_of(_ARABIC_BLOCK, _SPECIAL, _ANY), max_size=30)
_LATIN = st.text(st.sampled_from(list("abcdeghiklmnorstuyzw ")), min_size=1, max_size=14)
_NAME = st.one_of(
    st.sampled_from(["Mohamed", "محمد", "Alaoui", "العلوي", "Said", "Saida", "Aya", "Ben Ali"]),
    _LATIN,
    _MIXED,
)
_FAST = settings(max_examples=60, deadline=None)


def _apply(expr_fn, values: list[str | None]) -> list[str | None]:  # type: ignore[no-untyped-def]
    series = pl.Series(values, dtype=pl.Utf8)
    return pl.select(expr_fn(pl.lit(series))).to_series().to_list()


@_FAST
@given(st.lists(_MIXED, min_size=1, max_size=20))
def test_normalisers_never_raise_and_are_idempotent(values: list[str]) -> None:
    for fn in (normalise_arabic_expr, normalise_latin_expr, matching_form_expr):
        once = _apply(fn, values)
        twice = _apply(fn, once)
        assert once == twice
        assert all(v is None or (v != "" and v == v.strip() and "  " not in v) for v in once)


@_FAST
@given(st.lists(_MIXED, min_size=1, max_size=20))
def test_transliteration_gives_latin_matching_forms(values: list[str]) -> None:
    out = _apply(arabic_to_latin_expr, values)
    assert all(v is None or all(c.islower() or c == " " for c in v) for v in out)
    assert _apply(normalise_latin_expr, out) is not None  # never raises on its own output


@_FAST
@given(_MIXED)
def test_scalar_normalisers_idempotent(value: str) -> None:
    once = normalise_arabic(value)
    assert normalise_arabic(once) == once
    form = matching_form(value)
    assert matching_form(form) == form


@_FAST
@given(_NAME, _NAME)
def test_similarity_symmetric_and_bounded(a: str, b: str) -> None:
    s_ab, s_ba = name_similarity(a, b), name_similarity(b, a)
    assert 0.0 <= s_ab <= 1.0
    assert s_ab == s_ba
    assert same_name(a, b) == same_name(b, a)
    assert (s_ab == 1.0) == same_name(a, b)


@_FAST
@given(_NAME)
def test_a_name_is_itself(name: str) -> None:
    if matching_form(name) is not None:
        assert same_name(name, name)
        assert name_similarity(name, name) == 1.0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(_NAME, _NAME), min_size=1, max_size=8))
def test_pairwise_symmetric_and_matches_scalar(pairs: list[tuple[str, str]]) -> None:
    a = pl.Series([p[0] for p in pairs], dtype=pl.Utf8)
    b = pl.Series([p[1] for p in pairs], dtype=pl.Utf8)
    fa, fb = (
        pl.Series(_apply(matching_form_expr, a.to_list())),
        pl.Series(_apply(matching_form_expr, b.to_list())),
    )
    same_ab = pairwise_same_name(fa, fb).to_list()
    assert same_ab == pairwise_same_name(fb, fa).to_list()
    sim_ab = pairwise_name_similarity(fa, fb).to_list()
    assert sim_ab == pairwise_name_similarity(fb, fa).to_list()
    for (x, y), s, v in zip(pairs, same_ab, sim_ab, strict=True):
        assert bool(s) == same_name(x, y)
        assert (v or 0.0) == name_similarity(x, y)


@st.composite
def _name_pair(draw: st.DrawFn) -> tuple[str, str]:
    """Two names: unrelated, or the second one edit away from the first (near misses, where
    the similarity lands close to the thresholds)."""
    a = draw(_NAME)
    if draw(st.booleans()):
        return a, draw(_NAME)
    i = draw(st.integers(0, len(a)))
    letter = draw(st.sampled_from(list("aeiouyhlmnrst")))
    edit = draw(st.sampled_from(["insert", "replace", "delete"]))
    tail = a[i + 1 :] if edit != "insert" else a[i:]
    return a, a[:i] + ("" if edit == "delete" else letter) + tail


@settings(max_examples=80, deadline=None)
@given(
    st.lists(_name_pair(), min_size=1, max_size=30),
    st.one_of(
        st.sampled_from([0.8, 0.92, 0.5, 0.6, 0.7, 0.955, 0.99]),
        st.floats(0.01, 0.999),
    ),
    st.booleans(),
)
def test_similarity_cutoff_keeps_every_level(
    pairs: list[tuple[str, str]], cutoff: float, glued: bool
) -> None:
    """With ``score_cutoff``, a similarity at or above it is the full computation's value and
    one below it is 0.0: every threshold at or above the cutoff (a comparison's levels: the
    lowest is the cutoff) puts each pair on the same side."""
    fa = pl.Series(_apply(matching_form_expr, [p[0] for p in pairs]), dtype=pl.Utf8)
    fb = pl.Series(_apply(matching_form_expr, [p[1] for p in pairs]), dtype=pl.Utf8)
    full = pairwise_name_similarity(fa, fb, glued_article=glued).to_list()
    cut = pairwise_name_similarity(fa, fb, glued_article=glued, score_cutoff=cutoff).to_list()
    for f, c in zip(full, cut, strict=True):
        if f is None:
            assert c is None
        elif f >= cutoff:
            assert c == f
        else:
            assert c == 0.0
        for threshold in (cutoff, (cutoff + 1.0) / 2, 0.92, 0.95):
            if f is not None and threshold >= cutoff:
                assert (c >= threshold) == (f >= threshold)


def test_similarity_cutoff_at_a_pairs_own_value() -> None:
    """A cutoff equal to a pair's similarity keeps it (the sharpest edge: the scorers' own
    cutoffs, ``2 * cutoff - 1`` in floats, carry a margin)."""
    names = [
        "mohamed",
        "mhamed",
        "mohammed",
        "ahmed",
        "hamid",
        "hamida",
        "saida",
        "said",
        "saad",
        "aicha",
        "aisha",
        "fatima",
        "fatiha",
        "khadija",
        "hadija",
        "lahcen",
        "hassan",
        "houssine",
        "amine",
        "imane",
        "yassine",
        "yasmine",
        "alaoui",
        "ali",
    ]
    a = pl.Series([x for x in names for _ in names], dtype=pl.Utf8)
    b = pl.Series([y for _ in names for y in names], dtype=pl.Utf8)
    full = pairwise_name_similarity(a, b).to_list()
    edges = sorted({f for f in full if 0.5 < f < 1.0})
    assert len(edges) > 50  # (the names give many distinct values above 0.5)
    for cutoff in edges:
        cut = pairwise_name_similarity(a, b, score_cutoff=cutoff).to_list()
        assert cut == [f if f >= cutoff else 0.0 for f in full]


@_FAST
@given(st.lists(_LATIN, min_size=1, max_size=10))
def test_token_keys_sorted_unique(values: list[str]) -> None:
    for keys in _apply(token_keys_expr, values):
        assert keys == sorted(set(keys))
        assert all(k for k in keys)


def test_scalar_functions_accept_lone_surrogates() -> None:
    assert matching_form("Ali\ud800") == "ali"
    assert same_name("Ali\ud800", "Ali")
