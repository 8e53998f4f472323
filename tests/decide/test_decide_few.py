"""``rank_few`` + ``decide_few`` (a search's few records) give ``decide``'s links: best and
second candidates, ties, duplicates of one person, relatives' identifiers, every reason."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.decide.decisions import decide, format_number, rank_candidates
from registry_link.decide.few import decide_few, rank_few

#: Weights few enough to tie; NaN: a pair whose probability is NaN (never a candidate).
_WEIGHTS = [-4.0, 0.0, 1.5, 3.2, 6.0, 9.0, 12.0, 25.0, math.nan]

_pair = st.fixed_dictionaries(
    {
        "rec": st.integers(0, 4),
        "person_id": st.sampled_from(["p1", "p2", "p3", "p10", None]),
        "match_weight": st.sampled_from(_WEIGHTS),
        "bf_cin": st.sampled_from([-2.0, 0.0, 8.0]),
        "gamma_given": st.integers(-1, 2),
        "gamma_sex": st.integers(0, 1),
        "gamma_birth_date": st.integers(-1, 1),
    }
)


def _links_both_ways(pairs: list[dict[str, object]], n_records: int) -> tuple[pl.DataFrame, ...]:
    for p in pairs:
        w = float(p["match_weight"])  # type: ignore[arg-type]
        p["match_probability"] = math.nan if math.isnan(w) else 1 / (1 + 2 ** (-w))
        p["bf_given"] = float(p["gamma_given"]) * 2.0  # type: ignore[arg-type]
    left = pl.DataFrame(
        {"source": ["s"] * n_records, "record_id": [f"r{i}" for i in range(n_records)]}
    )
    scored = pl.DataFrame(
        {
            "source": ["s"] * len(pairs),
            "record_id": [f"r{p['rec']}" for p in pairs],
            **{
                c: [p[c] for p in pairs]
                for c in (
                    "person_id",
                    "match_probability",
                    "match_weight",
                    "bf_cin",
                    "bf_given",
                    "gamma_given",
                    "gamma_sex",
                    "gamma_birth_date",
                )
            },
        },
        schema={
            "source": pl.Utf8,
            "record_id": pl.Utf8,
            "person_id": pl.Utf8,
            "match_probability": pl.Float64,
            "match_weight": pl.Float64,
            "bf_cin": pl.Float64,
            "bf_given": pl.Float64,
            "gamma_given": pl.Int8,
            "gamma_sex": pl.Int8,
            "gamma_birth_date": pl.Int8,
        },
    )
    want = decide(scored, left)
    rec = [int(p["rec"]) for p in pairs]  # type: ignore[call-overload]
    person = scored["person_id"].to_list()
    prob = scored["match_probability"].to_list()
    weight = scored["match_weight"].to_list()
    ranked = rank_few(rec, person, prob, weight, n_records)
    columns = {c: scored[c].to_list() for c in scored.columns if c.startswith(("bf_", "gamma_"))}
    got = decide_few(left, ranked, person, prob, weight, columns)
    return want, got, scored, ranked  # type: ignore[return-value]


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(_pair, max_size=25), n_records=st.integers(1, 5))
def test_decide_few_gives_decide_links(pairs: list[dict[str, object]], n_records: int) -> None:
    pairs = [p for p in pairs if int(p["rec"]) < n_records]  # type: ignore[call-overload]
    want, got, scored, ranked = _links_both_ways(pairs, n_records)
    assert got.schema == want.schema
    assert got.equals(want), (want, got)
    # and the candidates in rank_candidates' order
    order = rank_candidates(scored.with_row_index("_pair"))
    for i in range(n_records):
        expected = order.filter(pl.col("record_id") == f"r{i}").sort("rank")["_row"].to_list()
        assert ranked[i] == expected


def test_a_relatives_cin_gives_way_to_the_second_candidate() -> None:
    # the best holds the CIN but differs on given name and sex: a relative's identifier
    pairs = [
        {
            "rec": 0,
            "person_id": "p1",
            "match_weight": 20.0,
            "bf_cin": 8.0,
            "gamma_given": 0,
            "gamma_sex": 0,
            "gamma_birth_date": 1,
        },
        {
            "rec": 0,
            "person_id": "p2",
            "match_weight": 9.0,
            "bf_cin": -2.0,
            "gamma_given": 2,
            "gamma_sex": 1,
            "gamma_birth_date": 1,
        },
    ]
    want, got, _, _ = _links_both_ways(pairs, 1)
    assert got.equals(want)
    # p2's CIN disagreeing is explained by p1 holding it: not counted (-2 bits) in the
    # decision; the links keep the pair's figures
    assert (
        got["person_id"][0] == "p2"
        and "p1 (p=1.0) holds the identifier of a relative" in got["reason"][0]
    )
    assert got["bf_cin"][0] == -2.0 and got["match_weight"][0] == 9.0
    assert got["reason"][0].startswith("p=0.9995 ≥ match threshold 0.9 (weight 11.0 bits)")


def _pair(person: str, weight: float, cin: float, given: int, sex: int, birth: int) -> dict:
    return {
        "rec": 0,
        "person_id": person,
        "match_weight": weight,
        "bf_cin": cin,
        "gamma_given": given,
        "gamma_sex": sex,
        "gamma_birth_date": birth,
    }


@pytest.mark.parametrize(
    ("pairs", "person", "decision"),
    [
        # by comparison: the sister's CIN, the person fits 5 bits (the margin) better without it
        ([_pair("sister", 14.0, 8.0, 0, 1, 1), _pair("self", 9.0, -2.0, 2, 1, 1)], "self", "match"),
        # ... the person weak even so (3 bits without the CIN: p=0.89): review
        ([_pair("sister", 6.0, 8.0, 0, 1, 1), _pair("self", 1.0, -2.0, 2, 1, 1)], "self", "review"),
        # ... the person fits 1 bit worse without it: the CIN decides
        (
            [_pair("sister", 20.0, 8.0, 0, 1, 1), _pair("self", 9.0, -2.0, 2, 1, 1)],
            "sister",
            "match",
        ),
        # the holder's given name similar (1), not different: the CIN alone decides -> review
        (
            [_pair("sister", 14.0, 8.0, 1, 1, 1), _pair("self", 9.0, -2.0, 2, 1, 1)],
            "sister",
            "review",
        ),
        # the person first, a relative's CIN explains its disagreement: 3.0 -> 5.0 bits, a match
        (
            [_pair("self", 3.0, -2.0, 2, 1, 1), _pair("husband", -4.0, 8.0, 0, 0, 0)],
            "self",
            "match",
        ),
    ],
)
def test_a_relatives_identifier_by_comparison_and_explained(
    pairs: list[dict[str, object]], person: str, decision: str
) -> None:
    want, got, _, _ = _links_both_ways(pairs, 1)
    assert got.equals(want), (want, got)
    assert (got["person_id"][0], got["decision"][0]) == (person, decision)


#: Wider pairs: both identifiers, nulls (a comparison not made), more weights near the margins.
_wide_pair = st.fixed_dictionaries(
    {
        "rec": st.integers(0, 3),
        "person_id": st.sampled_from(["p1", "p2", "p3", "p10", None]),
        "match_weight": st.sampled_from([*_WEIGHTS, -1.0, 0.3, 5.0, 6.5, 11.0]),
        "bf_cin": st.sampled_from([-2.0, -0.5, 0.0, 3.0, 8.0, None]),
        "bf_cnss": st.sampled_from([-1.0, 0.0, 4.0, None]),
        "gamma_given": st.sampled_from([-1, 0, 1, 2, None]),
        "gamma_sex": st.sampled_from([0, 1, None]),
        "gamma_birth_date": st.integers(-1, 1),
    }
)

_COLUMNS = {
    "person_id": pl.Utf8,
    "match_probability": pl.Float64,
    "match_weight": pl.Float64,
    "bf_cin": pl.Float64,
    "bf_cnss": pl.Float64,
    "bf_given": pl.Float64,
    "gamma_given": pl.Int8,
    "gamma_sex": pl.Int8,
    "gamma_birth_date": pl.Int8,
}


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(_wide_pair, max_size=12),
    n_records=st.integers(1, 4),
    thresholds=st.sampled_from(
        [
            (0.9, 0.5, 5.0, False),
            (0.95, 0.3, 2.0, True),
            (0.5, 0.5, 0.0, False),
            (1.0, 0.0, 1.0, True),
        ]
    ),
)
def test_decide_few_gives_decide_links_under_any_thresholds(
    pairs: list[dict[str, object]], n_records: int, thresholds: tuple[float, float, float, bool]
) -> None:
    pairs = [p for p in pairs if int(p["rec"]) < n_records]  # type: ignore[call-overload]
    for p in pairs:
        w = float(p["match_weight"])  # type: ignore[arg-type]
        p["match_probability"] = math.nan if math.isnan(w) else 1 / (1 + 2 ** (-w))
        given_ = p["gamma_given"]
        p["bf_given"] = None if given_ is None else float(given_) * 2.0  # type: ignore[arg-type]
    left = pl.DataFrame(
        {"source": ["s"] * n_records, "record_id": [f"r{i}" for i in range(n_records)]}
    )
    scored = pl.DataFrame(
        {
            "source": ["s"] * len(pairs),
            "record_id": [f"r{p['rec']}" for p in pairs],
            **{c: [p[c] for p in pairs] for c in _COLUMNS},
        },
        schema={"source": pl.Utf8, "record_id": pl.Utf8, **_COLUMNS},
    )
    match, review, margin, second_reviews = thresholds
    rules = {
        "match_threshold": match,
        "review_threshold": review,
        "close_second_margin": margin,
        "second_above_match_reviews": second_reviews,
    }
    want = decide(scored, left, **rules)  # type: ignore[arg-type]
    person = scored["person_id"].to_list()
    prob = scored["match_probability"].to_list()
    weight = scored["match_weight"].to_list()
    rec = [int(p["rec"]) for p in pairs]  # type: ignore[call-overload]
    ranked = rank_few(rec, person, prob, weight, n_records)
    columns = {c: scored[c].to_list() for c in scored.columns if c.startswith(("bf_", "gamma_"))}
    got = decide_few(left, ranked, person, prob, weight, columns, **rules)  # type: ignore[arg-type]
    assert got.schema == want.schema
    assert got.equals(want), (want.to_dicts(), got.to_dicts())


@settings(max_examples=2000, deadline=None)
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(-100, 100),
        st.integers(-2_000_000, 2_000_000).map(lambda i: i / 20_000),  # ties at the 5th decimal
        st.none(),
    )
)
def test_format_number_prints_a_number_as_decide_does(value: float | None) -> None:
    # the few-records path prints its figures in reasons as decide's expression does
    expected = (
        pl.Series([value], dtype=pl.Float64).round(4).cast(pl.Utf8).item()
        if value is not None
        else None
    )
    assert format_number(value) == expected
