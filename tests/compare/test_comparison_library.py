"""Table-driven level tests for every comparison kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.compare import (
    COMPARISON_KINDS,
    build_comparison,
    jaro_winkler_similarity,
    library,
)
from registry_link.compare.similarity import jaro_winkler_each
from registry_link.errors import ConfigError
from registry_link.standardise.places import place_expr

D = dt.date
DATE_SCHEMA = {"birth_date": pl.Date, "birth_year": pl.Int16, "birth_date_precision": pl.Utf8}

# (left (date, year, precision), right (...), expected label)
DATE_CASES = [
    ((D(1980, 5, 12), 1980, "day"), (D(1980, 5, 12), 1980, "day"), "exact"),
    ((None, 1980, "year"), (D(1980, 5, 12), 1980, "day"), "year_compatible"),
    ((D(1980, 1, 1), 1980, "day_or_year"), (D(1980, 5, 12), 1980, "day"), "year_compatible"),
    ((None, 1980, "year"), (None, 1980, "year"), "year_compatible"),
    ((D(1980, 5, 12), 1980, "day"), (D(1980, 12, 5), 1980, "day"), "day_month_swapped"),
    ((D(1980, 5, 5), 1980, "day"), (D(1980, 6, 5), 1980, "day"), "year_within_1"),
    ((D(1980, 5, 12), 1980, "day"), (D(1981, 5, 12), 1981, "day"), "year_within_1"),
    ((None, 1979, "year"), (D(1980, 5, 12), 1980, "day"), "year_within_1"),
    ((D(1980, 5, 12), 1980, "day"), (D(1983, 5, 12), 1983, "day"), "different"),
    ((D(1980, 5, 12), 1980, "day"), (D(1980, 12, 5), 1981, "day"), "year_within_1"),
    ((None, None, None), (D(1980, 5, 12), 1980, "day"), "missing"),
    ((D(1980, 5, 12), 1980, "day"), (None, None, None), "missing"),
]


@pytest.mark.parametrize(("left", "right", "expected"), DATE_CASES)
def test_date_levels(gammas: Any, left: tuple, right: tuple, expected: str) -> None:
    spec = {"name": "dob", "kind": "date"}
    got = gammas(spec, [left], [right], schema=DATE_SCHEMA)
    assert build_comparison(spec).level(got[0]).label == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("19560419", "19560419", "exact"),
        ("19560419", "19561904", "year_within_1"),  # invalid date parses to null -> year null
        ("19560419", "19560904", "year_within_1"),
        ("19560412", "19561204", "day_month_swapped"),
        ("19560419", None, "missing"),
        ("19560419", "19700101", "different"),
    ],
)
def test_date_from_string_with_format(gammas: Any, left: str, right: str, expected: str) -> None:
    spec = {
        "name": "dob",
        "kind": "date",
        "column": "dob",
        "year": None,
        "precision": None,
        "format": "%Y%m%d",
    }
    got = gammas(spec, [{"dob": left}], [{"dob": right}], schema={"dob": pl.Utf8})
    # an unparseable right date counts as missing, not as a wrong year
    if expected == "year_within_1" and right == "19561904":
        expected = "missing"
    assert build_comparison(spec).level(got[0]).label == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("BK123456", "BK123456", "exact"),
        ("BK123456", "BK123465", "edits_le_1"),  # one transposition
        ("BK123456", "BK123457", "edits_le_1"),  # one substitution
        ("BK123456", "BK12345", "edits_le_1"),  # one deletion
        ("BK123456", "BK654321", "different"),
        ("BK123456", "BK123564", "different"),  # two edits (rotation)
        (None, "BK123456", "missing"),
        ("A1", None, "missing"),
    ],
)
def test_id_levels(gammas: Any, left: str, right: str, expected: str) -> None:
    spec = {"name": "cin", "kind": "id", "column": "cin"}
    got = gammas(spec, [{"cin": left}], [{"cin": right}], schema={"cin": pl.Utf8})
    assert build_comparison(spec).level(got[0]).label == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [("F", "F", "exact"), ("F", "M", "different"), (None, "M", "missing"), ("M", None, "missing")],
)
def test_exact_levels(gammas: Any, left: str, right: str, expected: str) -> None:
    spec = {"name": "sex", "kind": "exact", "column": "sex"}
    got = gammas(spec, [{"sex": left}], [{"sex": right}], schema={"sex": pl.Utf8})
    assert build_comparison(spec).level(got[0]).label == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("thompson", "thompson", "exact"),
        ("thompson", "thomspon", "edits_le_1"),
        ("thompson", "thomsn", "edits_le_2"),
        ("katherine", "kathryne", "edits_le_2"),
        ("jonathan", "jonathanson", "jaro_winkler_ge_0.88"),
        ("smith", "brown", "different"),
        (None, "smith", "missing"),
    ],
)
def test_string_levels(gammas: Any, left: str, right: str, expected: str) -> None:
    spec = {
        "name": "surname",
        "kind": "string",
        "column": "surname",
        "edit_distances": [2, 1],
        "jaro_winkler": [0.88],
    }
    got = gammas(spec, [{"surname": left}], [{"surname": right}], schema={"surname": pl.Utf8})
    assert build_comparison(spec).level(got[0]).label == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("martha", "martha", "exact"),
        ("martha", "marhta", "jaro_winkler_ge_0.92"),
        ("dwayne", "duane", "jaro_winkler_ge_0.8"),
        ("dixon", "dickson", "jaro_winkler_ge_0.8"),
        ("smith", "brown", "different"),
        ("smith", None, "missing"),
    ],
)
def test_jaro_winkler_levels(gammas: Any, left: str, right: str, expected: str) -> None:
    spec = {"name": "given", "kind": "jaro_winkler", "column": "g", "thresholds": [0.8, 0.92]}
    got = gammas(spec, [{"g": left}], [{"g": right}], schema={"g": pl.Utf8})
    assert build_comparison(spec).level(got[0]).label == expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [(10, 10, "exact"), (10, 11, "abs_diff_le_1"), (10, 14, "abs_diff_le_5"), (1, 9, "different")],
)
def test_numeric_levels(gammas: Any, left: int, right: int, expected: str) -> None:
    spec = {"name": "n", "kind": "numeric_abs_diff", "column": "n", "thresholds": [5, 0, 1]}
    got = gammas(spec, [{"n": left}], [{"n": right}], schema={"n": pl.Int64})
    assert build_comparison(spec).level(got[0]).label == expected


NAME_SCHEMA = {
    "given_lat": pl.Utf8,
    "given_key": pl.Utf8,
    "given_key_ar": pl.Utf8,
    "name_token_keys": pl.List(pl.Utf8),
}


def _nm(lat: str | None, key: str | None, key_ar: str | None = None, toks: Any = None) -> dict:
    return {"given_lat": lat, "given_key": key, "given_key_ar": key_ar, "name_token_keys": toks}


# keys set by hand: this tests the engine's levels, not the name matcher
NAME_CASES = [
    (_nm("mohamed", "mhmd"), _nm("mohamed", "mhmd"), "exact"),
    (_nm("mohamed", "mhmd"), _nm("mohammed", "mhmd"), "same_key"),
    # Arabic record: Latin form transliterated, Arabic key on key_ar
    (_nm("mhmd", "mhmt", "mhmd"), _nm("mohamed", "mhmd"), "same_key"),
    (_nm("mohamed", "mhmd"), _nm("mhmd", "mhmt", "mhmd"), "same_key"),
    (_nm("fatima", "ftm"), _nm("fatiha", "fth"), "similar_high"),
    (_nm("youssef", "ysf"), _nm("yousra", "ysr"), "similar_low"),
    (_nm("karim", "krm"), _nm("nadia", "nd"), "different"),
    (_nm(None, None), _nm("nadia", "nd"), "missing"),
    # full-name-only record: compared through its token keys
    (_nm(None, None, None, ["lw", "mhmd"]), _nm("mohamed", "mhmd"), "same_key"),
    (_nm("mohamed", "mhmd"), _nm(None, None, None, ["lw", "mhmd"]), "same_key"),
    (_nm(None, None, None, ["lw", "mhmda"]), _nm("mohamed", "mhmd"), "similar_high"),
    (_nm(None, None, None, ["lw", "mhmt"]), _nm("mohamed", "mhmd"), "similar_low"),
    (_nm(None, None, None, ["ftm"]), _nm("karim", "krm"), "different"),
    (_nm(None, None, None, ["lw"]), _nm(None, None, None, ["lw"]), "missing"),
    (_nm(None, None, None, []), _nm("karim", "krm"), "missing"),
]


NAME_SPEC_TOKENS = {"name": "given", "kind": "name", "field": "given", "tokens": "name_token_keys"}


@pytest.fixture
def plain_jaro_winkler(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name similarity = plain Jaro-Winkler, so these cases test the engine, not the matcher
    (its full values: the levels read them only at thresholds at or above the cutoff)."""

    def plain(fn: Callable[[pl.Series, pl.Series], pl.Series]) -> Callable[..., pl.Series]:
        def similarity(
            a: pl.Series, b: pl.Series, *, score_cutoff: float | None = None
        ) -> pl.Series:
            return fn(a, b)

        return similarity

    monkeypatch.setattr(library, "name_similarity", plain(jaro_winkler_similarity))
    monkeypatch.setattr(library, "name_similarity_each", plain(jaro_winkler_each))


@pytest.mark.usefixtures("plain_jaro_winkler")
@pytest.mark.parametrize(("left", "right", "expected"), NAME_CASES)
def test_name_levels(gammas: Any, left: dict, right: dict, expected: str) -> None:
    spec = NAME_SPEC_TOKENS
    got = gammas(spec, [left], [right], schema=NAME_SCHEMA)
    assert build_comparison(spec).level(got[0]).label == expected


TOKENS_TF_CASES = [
    # the one-sided pairs whose key is among the unsplit name's tokens: a level of their own
    (_nm(None, None, None, ["lw", "mhmd"]), _nm("mohamed", "mhmd"), "same_key_in_unsplit"),
    (_nm("mohamed", "mhmd"), _nm(None, None, None, ["lw", "mhmd"]), "same_key_in_unsplit"),
    # split pairs as without tokens_tf
    (_nm("mohamed", "mhmd"), _nm("mohammed", "mhmd"), "same_key"),
    (_nm("mohamed", "mhmd"), _nm("mohamed", "mhmd"), "exact"),
    (_nm(None, None, None, ["lw", "mhmda"]), _nm("mohamed", "mhmd"), "similar_high"),
    (_nm(None, None, None, ["ftm"]), _nm("karim", "krm"), "different"),
    (_nm(None, None, None, ["lw"]), _nm(None, None, None, ["lw"]), "missing"),
]


@pytest.mark.usefixtures("plain_jaro_winkler")
@pytest.mark.parametrize(("left", "right", "expected"), TOKENS_TF_CASES)
def test_name_tokens_tf_levels(gammas: Any, left: dict, right: dict, expected: str) -> None:
    spec = {**NAME_SPEC_TOKENS, "tokens_tf": True}
    got = gammas(spec, [left], [right], schema=NAME_SCHEMA)
    comp = build_comparison(spec)
    assert comp.level(got[0]).label == expected
    assert comp.tf_columns()[comp.n_levels - 3] == "given_key"
    assert "unsplit full name" in comp.level(comp.n_levels - 3).describe()


def test_tokens_tf_off_keeps_the_levels_of_older_models() -> None:
    assert [lv.label for lv in build_comparison(NAME_SPEC_TOKENS).levels] == [
        "different",
        "similar_low",
        "similar_high",
        "same_key",
        "exact",
    ]


def test_name_tokens_tf_adjusts_same_tokens_on_the_whole_name_key() -> None:
    comp = build_comparison({"name": "full_name", "kind": "name_tokens", "tf": "name_tokens_key"})
    assert comp.tf_columns() == {comp.n_levels - 1: "name_tokens_key"}
    assert "name_tokens_key" in comp.columns


def test_name_without_tokens_treats_unsplit_as_missing(gammas: Any) -> None:
    spec = {"name": "given", "kind": "name", "field": "given"}
    got = gammas(
        spec, [_nm(None, None, None, ["mhmd"])], [_nm("mohamed", "mhmd")], schema=NAME_SCHEMA
    )
    assert got == [-1]


TOKEN_SCHEMA = {"name_token_keys": pl.List(pl.Utf8), "given_lat": pl.Utf8, "family_lat": pl.Utf8}


def _tk(toks: Any, given: str | None = None, family: str | None = None) -> dict:
    return {"name_token_keys": toks, "given_lat": given, "family_lat": family}


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (_tk(["lw", "mhmd"]), _tk(["lw", "mhmd"], "mohamed", "alaoui"), "same_tokens"),
        (_tk(["lw", "mhmd", "ysf"]), _tk(["lw", "mhmd"], "mohamed", "alaoui"), "contained"),
        (_tk(["lw", "mhmd", "ysf"]), _tk(["lw", "mhmd", "krm"]), "two_shared"),
        (_tk(["lw", "mhmd"]), _tk(["lw", "krm"]), "one_shared"),
        (_tk(["lw"]), _tk(["lw"]), "same_tokens"),
        (_tk(["bnn", "krm"]), _tk(["lw", "mhmd"]), "different"),
        # both sides split: counted by the name comparisons, not here
        (_tk(["lw", "mhmd"], "m", "a"), _tk(["lw", "mhmd"], "m", "a"), "missing"),
        (_tk(None), _tk(["lw"]), "missing"),
        (_tk([]), _tk(["lw"]), "missing"),
    ],
)
def test_name_tokens_levels(gammas: Any, left: dict, right: dict, expected: str) -> None:
    spec = {"name": "full_name", "kind": "name_tokens", "when": "either_unsplit"}
    got = gammas(spec, [left], [right], schema=TOKEN_SCHEMA)
    assert build_comparison(spec).level(got[0]).label == expected


def test_name_tokens_default_scores_only_pairs_without_any_split_name(gammas: Any) -> None:
    spec = {"name": "full_name", "kind": "name_tokens"}
    left = [_tk(["lw", "mhmd"]), _tk(["lw", "mhmd"])]
    right = [_tk(["lw", "mhmd"], "mohamed", "alaoui"), _tk(["mhmd", "lw"])]
    assert gammas(spec, left, right, schema=TOKEN_SCHEMA) == [-1, 4]


PLACE_SCHEMA = {"residence": pl.Utf8, "residence_raw": pl.Utf8}
PLACE_SPEC = {
    "name": "residence",
    "kind": "place",
    "column": "residence",
    "spelling": "residence_raw",
}


def _pl(raw: str | None) -> dict:
    """A place as the standardised frame has it: its matching form and its spelling."""
    key = None if raw is None else pl.select(place_expr(pl.lit(raw))).item()
    return {"residence": key, "residence_raw": raw}


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("Kénitra", "القنيطرة", "exact"),  # the gazetteer
        ("Ait Amira", "Aït Amera", "exact"),  # same key
        # outside the gazetteer, a vowel changes the key (lkl / kl): the spelled consonants agree
        ("Leqliaa", "Lqliaa", "spelled_alike"),
        ("Lakhyayta", "Lkhyayta", "spelled_alike"),
        ("Lmnasra", "Lamnasra", "jaro_winkler_ge_0.92"),  # keys mnsr / lmnsr are close
        ("Lahraouyine", "Lhraouyine", "spelled_alike"),
        ("Sebt Gzoula", "Sebt Guezoula", "exact"),
        ("Tit Mellil", "Tit Melil", "exact"),
        ("Ouled Berhil", "Oulad Birhil", "exact"),
        ("Ain Harrouda", "Ain Aouda", "different"),  # shared prefix, different places
        ("Sidi Bibi", "Sidi Bennour", "different"),
        ("Had Kourt", "Had Soualem", "different"),
        ("Sale", "Safi", "different"),
        ("Agadir", "Nador", "different"),  # gazetteer towns: never "alike" (kdr / ndr)
        ("Tamesna", "Tamensa", "jaro_winkler_ge_0.92"),  # keys tmsn / tmns are close
        ("Ait Ourir", "Ait Amir", "different"),  # short consonants (trr / tmr): equal or not
        ("Leqliaa", None, "missing"),
    ],
)
def test_place_levels(gammas: Any, left: str, right: str, expected: str) -> None:
    got = gammas(PLACE_SPEC, [_pl(left)], [_pl(right)], schema=PLACE_SCHEMA)
    assert build_comparison(PLACE_SPEC).level(got[0]).label == expected


def test_place_level_describes_itself_in_words() -> None:
    comp = build_comparison({**PLACE_SPEC, "label": "communes of residence"})
    assert [lv.label for lv in comp.levels] == [
        "different",
        "spelled_alike",
        "jaro_winkler_ge_0.92",
        "exact",
    ]
    assert comp.level(1).describe() == (
        "communes of residence are spelled alike: the consonants of the names as given are at "
        "most one edit apart (vowels, doubled letters and spaces aside)"
    )


PLACES = st.sampled_from(
    [
        *("Leqliaa", "Lqliaa", "القليعة", "Lakhyayta", "Lkhyayta", "Ain Aouda", "Ain Harrouda"),
        *("Tamesna", "Tamensa", "Sale", "Safi", "Oulad Berhil", "Ouled Birhil", "Kénitra", None),
    ]
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(PLACES, PLACES), min_size=1, max_size=8))
def test_place_comparison_is_symmetric(
    gammas: Any, pairs: list[tuple[str | None, str | None]]
) -> None:
    left = [_pl(a) for a, _ in pairs]
    right = [_pl(b) for _, b in pairs]
    there = gammas(PLACE_SPEC, left, right, schema=PLACE_SCHEMA)
    back = gammas(PLACE_SPEC, right, left, schema=PLACE_SCHEMA)
    assert there == back


# ------------------------------------------------------------------ specs, dict round trip

ALL_SPECS: list[dict[str, Any]] = [
    {"name": "given", "kind": "name", "field": "given", "tokens": "name_token_keys"},
    {"name": "father", "kind": "name", "field": "father", "key_ar": None, "tf": False},
    {"name": "full_name", "kind": "name_tokens", "when": "both_unsplit"},
    {"name": "dob", "kind": "date"},
    {"name": "cin", "kind": "id", "column": "cin", "label": "CIN numbers"},
    {"name": "sex", "kind": "exact", "column": "sex"},
    {"name": "addr", "kind": "string", "column": "a", "edit_distances": [1], "jaro_winkler": [0.9]},
    {"name": "sn", "kind": "jaro_winkler", "column": "surname", "tf": True},
    {"name": "pc", "kind": "numeric_abs_diff", "column": "pc", "thresholds": [0, 2]},
    PLACE_SPEC,
]


def test_every_kind_is_covered_by_a_spec() -> None:
    assert {s["kind"] for s in ALL_SPECS} == set(COMPARISON_KINDS)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s["kind"])
def test_to_dict_from_dict_round_trip(spec: dict[str, Any]) -> None:
    comp = build_comparison(spec)
    again = build_comparison(comp.to_dict())
    assert again == comp and hash(again) == hash(comp)
    assert again.to_dict() == comp.to_dict()
    assert [lv.label for lv in again.levels] == comp.to_dict()["levels"]
    assert again.output_column == f"gamma_{spec['name']}"
    assert comp.levels[0].label == "different"
    assert comp.describe().startswith(spec["name"])
    assert all(lv.describe() for lv in comp.levels)


def test_tf_column_on_exact_levels_only() -> None:
    given = build_comparison(ALL_SPECS[0])
    assert given.tf_columns() == {given.n_levels - 1: "given_lat"}
    assert build_comparison(ALL_SPECS[1]).tf_columns() == {}
    assert build_comparison(ALL_SPECS[7]).tf_columns() == {3: "surname"}


@pytest.mark.parametrize(
    ("spec", "key_paths"),
    [
        ({"name": "x", "kind": "nope"}, ["kind"]),
        ({"kind": "exact", "column": "c"}, ["name"]),
        ({"name": "x", "kind": "exact"}, ["column"]),
        ({"name": "x", "kind": "exact", "column": "c", "bogus": 1}, ["bogus"]),
        (
            {"name": "x", "kind": "jaro_winkler", "column": "c", "thresholds": [1.5], "tf": "z"},
            ["thresholds", "tf"],
        ),
        ({"name": "x", "kind": "id", "column": "c", "max_edits": 0}, ["max_edits"]),
        ({"name": "bad name", "kind": "exact", "column": "c"}, ["name"]),
    ],
)
def test_invalid_specs_raise_config_error_with_key_paths(
    spec: dict[str, Any], key_paths: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        build_comparison(spec)
    assert sorted(p.key_path for p in info.value.problems) == sorted(key_paths)
