"""Tests of registry_link.score.scored_pairs: narrow scored pairs read exactly like wide ones.

The engine keeps scored pairs narrow (no keys, no ``bf_*``) and fetches both for the rows that
need them; every stage after scoring must give the same result from either form.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from registry_link.compare import build_comparison
from registry_link.decide.decisions import decide
from registry_link.decide.review_pairs import review_pairs
from registry_link.errors import UsageError
from registry_link.model import TrainedModel
from registry_link.score.scored_pairs import ScoredPairs
from registry_link.score.scoring import contributions, score
from registry_link.train.em import FSParams

MODEL = TrainedModel(
    comparisons=(
        build_comparison({"name": "family", "kind": "exact", "column": "family", "tf": True}),
        build_comparison({"name": "dob", "kind": "string", "column": "dob", "edit_distances": [1]}),
    ),
    params=FSParams(
        prior=0.01,
        m={"family": (0.1, 0.9), "dob": (0.05, 0.15, 0.8)},
        u={"family": (0.98, 0.02), "dob": (0.9, 0.09, 0.01)},
    ),
    tf_tables={"family": {"alaoui": 0.05, "tazi": 0.001}},
    tf_minimum_frequency=1e-3,
)

LEFT = pl.DataFrame(
    {
        "source": ["s1", "s1", "s2", "s1"],
        "record_id": ["a", "b", "a", "c"],
        "family": ["alaoui", "tazi", "alaoui", "fassi"],
    }
)
RIGHT = pl.DataFrame(
    {
        "record_id": ["r0", "r1", "r2", "r3", "r4"],
        "person_id": ["P0", "P1", None, "P3", "P4"],
        "family": ["alaoui", "tazi", "alaoui", "fassi", "alaoui"],
    }
)


def narrow_pairs(
    l_idx: list[int], r_idx: list[int], fam: list[int], dob: list[int]
) -> pl.DataFrame:
    """Narrow scored pairs, as the engine keeps them."""
    gammas = pl.DataFrame(
        {"l_idx": l_idx, "r_idx": r_idx, "gamma_family": fam, "gamma_dob": dob},
        schema={
            "l_idx": pl.UInt32,
            "r_idx": pl.UInt32,
            "gamma_family": pl.Int8,
            "gamma_dob": pl.Int8,
        },
    )
    return score(gammas, MODEL, right=RIGHT, contributions=False)


def wide(narrow: pl.DataFrame) -> pl.DataFrame:
    """The same pairs wide, built the old way: scored with contributions, keys gathered."""
    scored = score(narrow.select("l_idx", "r_idx", "gamma_family", "gamma_dob"), MODEL, right=RIGHT)
    return scored.with_columns(
        source=LEFT["source"].gather(scored["l_idx"]),
        record_id=LEFT["record_id"].gather(scored["l_idx"]),
        person_id=RIGHT["person_id"].gather(scored["r_idx"]),
    )


PAIRS = narrow_pairs(
    [0, 0, 0, 1, 1, 2, 3, 3],
    [0, 2, 4, 1, 3, 0, 3, 4],
    [1, 1, 1, 1, 0, 1, 1, 0],
    [2, 2, 1, 0, -1, 2, 2, 1],
)


def test_narrow_scores_have_the_wide_weights_without_contributions() -> None:
    full = wide(PAIRS)
    assert not [c for c in PAIRS.columns if c.startswith("bf_")]
    assert PAIRS["match_weight"].to_list() == full["match_weight"].to_list()
    assert PAIRS["match_probability"].to_list() == full["match_probability"].to_list()


def test_contributions_equal_the_ones_score_keeps() -> None:
    full = wide(PAIRS)
    again = contributions(PAIRS, MODEL, RIGHT)
    assert again.columns == ["bf_family", "bf_dob"]
    assert_frame_equal(again, full.select("bf_family", "bf_dob"))
    # the TF adjustment is in: a shared rare name weighs more than a shared common one
    tazi, alaoui = again["bf_family"][3], again["bf_family"][0]
    assert tazi > alaoui


def test_wide_view_of_narrow_pairs_equals_the_old_wide_frame() -> None:
    view = ScoredPairs(PAIRS, LEFT, RIGHT, MODEL)
    assert view.narrow
    got = view.wide()
    expected = wide(PAIRS)
    assert_frame_equal(got.select(expected.columns), expected)
    rows = pl.Series([5, 1], dtype=pl.UInt32)
    assert_frame_equal(view.wide(rows).select(expected.columns), expected[rows])


def test_contributions_are_null_where_the_row_is() -> None:
    view = ScoredPairs(PAIRS, LEFT, RIGHT, MODEL)
    bf = view.contributions(pl.Series([0, None, 3], dtype=pl.UInt32))
    assert bf["bf_family"].is_null().to_list() == [False, True, False]
    assert bf["bf_family"][0] == wide(PAIRS)["bf_family"][0]


def test_narrow_pairs_without_records_or_model_are_refused() -> None:
    with pytest.raises(UsageError, match="partner records, registry records and model"):
        ScoredPairs(PAIRS, LEFT, None, MODEL)
    with pytest.raises(UsageError, match="lack 'person_id'"):
        ScoredPairs(PAIRS, LEFT, RIGHT.drop("person_id"), MODEL)
    with pytest.raises(UsageError, match="partner records, registry records and model"):
        decide(PAIRS, LEFT)


def test_wide_pairs_need_nothing_else() -> None:
    view = ScoredPairs(wide(PAIRS))
    assert not view.narrow
    assert view.bf_columns == ["bf_family", "bf_dob"]


def _decisions(
    scored: pl.DataFrame,
    right: pl.DataFrame | None = None,
    model: TrainedModel | None = None,
    prior_decisions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    return decide(
        scored,
        LEFT,
        match_threshold=0.9,
        review_threshold=0.3,
        close_second_margin=2.0,
        prior_decisions=prior_decisions,
        right=right,
        model=model,
    )


def test_decide_on_narrow_pairs_equals_decide_on_wide_pairs() -> None:
    expected = _decisions(wide(PAIRS))
    got = _decisions(PAIRS, right=RIGHT, model=MODEL)
    assert_frame_equal(got, expected)
    # the pair whose registry side has no person (r_idx 2) is never a candidate
    assert got.filter(pl.col("record_id") == "a", pl.col("source") == "s1")["candidates"][0] == 2


def test_decide_with_reviewer_decisions_on_narrow_pairs() -> None:
    prior = pl.DataFrame(
        {
            "source": ["s1", "s1"],
            "record_id": ["c", "a"],
            "person_id": ["P4", "P0"],
            "decision": ["accept", "reject"],
        }
    )
    expected = _decisions(wide(PAIRS), prior_decisions=prior)
    got = _decisions(PAIRS, right=RIGHT, model=MODEL, prior_decisions=prior)
    assert_frame_equal(got, expected)
    accepted = got.filter(pl.col("record_id") == "c", pl.col("source") == "s1")
    assert accepted["person_id"][0] == "P4" and accepted["decision"][0] == "match"
    assert accepted["bf_family"][0] == wide(PAIRS)["bf_family"][7]


def test_review_pairs_on_narrow_pairs_equal_those_on_wide_pairs() -> None:
    links = _decisions(wide(PAIRS)).with_columns(decision=pl.lit("review"))
    expected = review_pairs(links, wide(PAIRS), LEFT, RIGHT, MODEL)
    got = review_pairs(links, PAIRS, LEFT, RIGHT, MODEL)
    assert got.height > 0
    assert_frame_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(-1, 1), st.integers(-1, 2)),
        min_size=1,
        max_size=25,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_decide_is_the_same_from_either_form(rows: list[tuple[int, int, int, int]]) -> None:
    rows = sorted(rows)
    pairs = narrow_pairs(*(list(col) for col in zip(*rows, strict=True)))
    assert_frame_equal(
        _decisions(pairs, right=RIGHT, model=MODEL),
        _decisions(wide(pairs)),
    )
