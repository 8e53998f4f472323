"""``rank_few`` + ``decide_few`` (a search's few records) give ``decide``'s links: best and
second candidates, ties, duplicates of one person, relatives' identifiers, every reason."""

from __future__ import annotations

import math

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.decide.decisions import decide, decide_few, rank_candidates, rank_few

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
    assert got["person_id"][0] == "p2" and "no rival" in got["reason"][0]
