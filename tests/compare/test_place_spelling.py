"""The places' spelling and its distance (registry_link.compare.similarity): read in Python for
a few pairs and with polars for many, from the same rewrite chains — the same values, on place
names of both scripts (rural communes, gazetteer towns, their variants), missing values and any
text."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.compare import similarity
from registry_link.compare.similarity import (
    place_spelling,
    place_spelling_distance,
    place_spelling_of,
    spelling_distance_of,
)
from registry_link.standardise.gazetteer import town_aliases
from registry_link.synth.name_pool import RURAL_COMMUNES
from tests.standardise.test_std_properties import _TEXT

#: Place names as lists give them: rural communes outside the gazetteer in both scripts and
#: their Latin spellings, the gazetteer's towns and aliases.
_NAMED = st.sampled_from(
    sorted(
        {
            *(r.arabic for r in RURAL_COMMUNES),
            *(s for r in RURAL_COMMUNES for s in r.latin),
            *town_aliases(),
            *town_aliases().values(),
        }
    )
)


@st.composite
def _variant(draw: st.DrawFn) -> str:
    """A place name misspelled: a letter dropped, doubled, upper-cased, or a vowel added."""
    name = draw(_NAMED)
    if not name:
        return name
    i = draw(st.integers(min_value=0, max_value=len(name) - 1))
    edit = draw(st.sampled_from(["drop", "double", "upper", "vowel", "hyphen"]))
    if edit == "drop":
        return name[:i] + name[i + 1 :]
    if edit == "double":
        return name[: i + 1] + name[i:]
    if edit == "upper":
        return name.upper()
    if edit == "vowel":
        return name[:i] + draw(st.sampled_from("aeiouéÀ")) + name[i:]
    return name[:i] + "-" + name[i:]


_PLACE = st.one_of(_NAMED, _variant(), _TEXT)
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(values=st.lists(_PLACE, min_size=1, max_size=20))
def test_a_place_spelled_in_python_is_spelled_as_by_polars(values: list[str | None]) -> None:
    by_polars = place_spelling(pl.Series(values, dtype=pl.Utf8)).to_list()
    assert [place_spelling_of(v) for v in values] == by_polars


@_SETTINGS
@given(pairs=st.lists(st.tuples(_PLACE, _PLACE), min_size=1, max_size=20))
def test_a_few_pairs_get_the_distance_many_get(
    pairs: list[tuple[str | None, str | None]],
) -> None:
    a = pl.Series([x for x, _ in pairs], dtype=pl.Utf8)
    b = pl.Series([y for _, y in pairs], dtype=pl.Utf8)
    few = place_spelling_distance(a, b)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(similarity, "FEW_PLACE_PAIRS", 0)  # (every call through polars)
        many = place_spelling_distance(a, b)
    assert few.dtype == many.dtype == pl.Int32
    assert few.name == many.name == "distance"
    assert few.to_list() == many.to_list()


@_SETTINGS
@given(
    a=st.one_of(st.none(), st.text(st.sampled_from("bdklmnrstxyz"), max_size=9)),
    b=st.one_of(st.none(), st.text(st.sampled_from("bdklmnrstxyz"), max_size=9)),
)
def test_spellings_distance_is_the_capped_osa_distance(a: str | None, b: str | None) -> None:
    """Consonant spellings of any length, one pair: the polars path's value (its OSA with
    the one-edit prefilter, and the short spellings' rule)."""
    expected = _polars_distance_of_spellings(a, b)
    assert spelling_distance_of(a, b) == expected


def _polars_distance_of_spellings(a: str | None, b: str | None) -> int | None:
    sa, sb = pl.Series([a], dtype=pl.Utf8), pl.Series([b], dtype=pl.Utf8)
    distance = similarity.osa_distance(sa, sb, cutoff=1)
    short = (sa.str.len_chars() < similarity.PLACE_MIN_FUZZY_LENGTH) | (
        sb.str.len_chars() < similarity.PLACE_MIN_FUZZY_LENGTH
    )
    return pl.select(pl.when(short & (sa != sb)).then(pl.lit(2)).otherwise(distance)).item()


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Leqliaa", "Lqliaa", 0),
        ("Lakhyayta", "Lkhyayta", 0),
        ("Lahraouyine", "Lhraouyine", 0),
        ("Ain Harrouda", "Ain Aouda", 2),
        ("Ait Ourir", "Ait Amir", 2),  # short consonants: equal or not
        ("Agadir", "Nador", None),  # gazetteer towns: no spelling
        ("Leqliaa", None, None),
    ],
)
def test_known_places(a: str, b: str | None, expected: int | None) -> None:
    got = place_spelling_distance(pl.Series([a]), pl.Series([b], dtype=pl.Utf8)).item()
    assert got == expected
    assert spelling_distance_of(place_spelling_of(a), place_spelling_of(b)) == expected


def test_the_empty_call() -> None:
    empty = pl.Series([], dtype=pl.Utf8)
    assert place_spelling_distance(empty, empty).dtype == pl.Int32
    assert place_spelling_distance(empty, empty).len() == 0


@_SETTINGS
@given(calls=st.lists(st.lists(st.tuples(_PLACE, _PLACE), max_size=12), min_size=1, max_size=4))
def test_places_spelled_once_per_link_get_the_same_distances(
    calls: list[list[tuple[str | None, str | None]]],
) -> None:
    """Within an engine's link, each place is spelled once for all its calls (the link memo):
    every call's distances are those of a call outside one."""
    from registry_link.compare.engine import CompareEngine, active_link_memo

    records = pl.DataFrame({"place": ["x"]})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(similarity, "FEW_PLACE_PAIRS", 0)  # (every call through polars)
        alone = []
        for pairs in calls:
            a = pl.Series([x for x, _ in pairs], dtype=pl.Utf8)
            b = pl.Series([y for _, y in pairs], dtype=pl.Utf8)
            alone.append(place_spelling_distance(a, b).to_list())
        with CompareEngine(records, records, [], workers=1):
            linked = []
            for pairs in calls:
                a = pl.Series([x for x, _ in pairs], dtype=pl.Utf8)
                b = pl.Series([y for _, y in pairs], dtype=pl.Utf8)
                linked.append(place_spelling_distance(a, b).to_list())
            memo = active_link_memo()
            assert memo is not None
            spelled = memo.get(similarity._PLACE_SPELLINGS, {})
            places = {p for pairs in calls for pair in pairs for p in pair if p is not None}
            assert set(spelled) == places
    assert linked == alone
