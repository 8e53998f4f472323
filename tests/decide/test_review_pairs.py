"""Tests of registry_link.decide.review_pairs: the review queue, both records side by side."""

from __future__ import annotations

import math

import polars as pl
import pytest

from registry_link.compare import build_comparison
from registry_link.decide.review_pairs import MAX_CANDIDATES, review_pairs
from registry_link.model import TrainedModel
from registry_link.score.scoring import score
from registry_link.train.em import FSParams


def make_model() -> TrainedModel:
    """Two comparisons, no term frequencies: weights are worked out from m/u only."""
    comps = (
        build_comparison({"name": "family", "kind": "exact", "column": "family_name"}),
        build_comparison({"name": "given", "kind": "exact", "column": "given_name"}),
    )
    return TrainedModel(
        comparisons=comps,
        params=FSParams(
            prior=0.01,
            m={"family": (0.1, 0.9), "given": (0.2, 0.8)},
            u={"family": (0.99, 0.01), "given": (0.95, 0.05)},
        ),
        tf_tables={},
        tf_minimum_frequency=1e-3,
    )


MODEL = make_model()

LEFT = pl.DataFrame(
    {
        "source": ["s1", "s1", "s1", "s2", "s1"],
        "record_id": ["a1", "a2", "a3", "a1", "a4"],
        "cin": ["AB1", None, "C3", "D4", "E5"],
        "family_name": ["alaoui", "bennani", "tazi", "idrissi", "fassi"],
        "given_name": ["mohamed", "fatima", "said", "amina", "karim"],
        "not_a_review_field": ["x"] * 5,
    }
)
RIGHT = pl.DataFrame(
    {
        "record_id": [f"P{i}" for i in range(7)],
        "cin": [f"R{i}" for i in range(7)],
        "family_name": ["alaoui", "alaoui", "alawi", "alaoui", "other", "bennani", "fassi"],
        "given_name": ["mohamed", "mhamed", "mohamed", "x", "mohamed", "fatima", "karim"],
        "not_a_review_field": ["y"] * 7,
    }
)
# (l_idx, r_idx): a1 (s1) has five candidates; a2 one; a3 one; a1 of s2 one; a4 one.
PAIRS = [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 5), (2, 4), (3, 0), (4, 6), (4, 0)]
DECISIONS = ["review", "match", "non_match", "match", "review"]


def scored_pairs() -> pl.DataFrame:
    """The pairs scored by the real scoring stage, with the keys the Linker adds."""
    l_idx = pl.Series("l_idx", [p[0] for p in PAIRS], dtype=pl.UInt32)
    r_idx = pl.Series("r_idx", [p[1] for p in PAIRS], dtype=pl.UInt32)
    gammas = pl.DataFrame([l_idx, r_idx]).with_columns(
        gamma_family=(LEFT["family_name"].gather(l_idx) == RIGHT["family_name"].gather(r_idx)).cast(
            pl.Int8
        ),
        gamma_given=(LEFT["given_name"].gather(l_idx) == RIGHT["given_name"].gather(r_idx)).cast(
            pl.Int8
        ),
    )
    scored = score(gammas, MODEL, LEFT, RIGHT)
    return scored.with_columns(
        source=LEFT["source"].gather(scored["l_idx"]),
        record_id=LEFT["record_id"].gather(scored["l_idx"]),
        person_id=RIGHT["record_id"].gather(scored["r_idx"]),
    )


LINKS = LEFT.select("source", "record_id").with_columns(decision=pl.Series(DECISIONS))


@pytest.fixture(scope="module")
def queue() -> pl.DataFrame:
    return review_pairs(LINKS, scored_pairs(), LEFT, RIGHT, MODEL)


def test_only_records_decided_review(queue: pl.DataFrame) -> None:
    keys = set(queue.select("source", "record_id").unique().iter_rows())
    # s2/a1 shares a record_id with s1/a1 but was matched: the key is (source, record_id)
    assert keys == {("s1", "a1"), ("s1", "a4")}


def test_at_most_three_candidates_best_first(queue: pl.DataFrame) -> None:
    a1 = queue.filter(pl.col("record_id") == "a1")
    assert MAX_CANDIDATES == 3
    assert a1["candidate_rank"].to_list() == [1, 2, 3]
    probs = a1["match_probability"].to_list()
    assert probs == sorted(probs, reverse=True)
    # P0 agrees on both names; P1, P3 agree on the family name only; P2, P4 on the given name
    # only (P4 also agrees on the given name). Family agreement weighs more (0.9/0.01 > 0.8/0.05).
    assert a1["person_id"][0] == "P0"
    assert set(a1["person_id"][1:].to_list()) == {"P1", "P3"}
    a4 = queue.filter(pl.col("record_id") == "a4")
    assert a4["person_id"].to_list() == ["P6", "P0"]
    assert a4["candidate_rank"].to_list() == [1, 2]


def test_max_candidates_parameter() -> None:
    one = review_pairs(LINKS, scored_pairs(), LEFT, RIGHT, MODEL, max_candidates=1)
    assert one.select("record_id", "person_id").rows() == [("a1", "P0"), ("a4", "P6")]


def test_fields_side_by_side(queue: pl.DataFrame) -> None:
    for field in ("record_id", "cin", "family_name", "given_name"):
        assert f"p_{field}" in queue.columns and f"r_{field}" in queue.columns
    assert "p_not_a_review_field" not in queue.columns
    assert "r_not_a_review_field" not in queue.columns
    for r in queue.iter_rows(named=True):
        left = LEFT.filter(
            (pl.col("source") == r["source"]) & (pl.col("record_id") == r["record_id"])
        ).row(0, named=True)
        right = RIGHT.filter(pl.col("record_id") == r["person_id"]).row(0, named=True)
        assert (r["p_record_id"], r["p_cin"], r["p_family_name"]) == (
            left["record_id"],
            left["cin"],
            left["family_name"],
        )
        assert (r["r_record_id"], r["r_cin"], r["r_given_name"]) == (
            right["record_id"],
            right["cin"],
            right["given_name"],
        )


def test_ids_weights_and_explanation_in_words(queue: pl.DataFrame) -> None:
    top = queue.row(0, named=True)
    assert top["review_item_id"] == "s1|a1|P0"
    assert {"bf_family", "bf_given", "match_weight"} <= set(queue.columns)
    assert top["match_weight"] == pytest.approx(top["bf_family"] + top["bf_given"] + _prior_w())
    text = top["explanation"]
    assert isinstance(text, str) and "; " in text
    assert "prior (chance two records match)" in text
    assert f"match probability {top['match_probability']:.3f}" in text
    level_words = MODEL.comparisons[0].levels[-1].describe()
    assert level_words and level_words in text


def test_no_review_gives_an_empty_queue_with_its_columns() -> None:
    links = LINKS.with_columns(decision=pl.lit("match"))
    empty = review_pairs(links, scored_pairs(), LEFT, RIGHT, MODEL)
    assert empty.height == 0
    assert {"review_item_id", "candidate_rank", "explanation", "p_cin", "r_cin"} <= set(
        empty.columns
    )


def _prior_w() -> float:
    return math.log2(0.01 / 0.99)


def test_registry_fields_from_a_lazy_frame_are_the_same(queue: pl.DataFrame) -> None:
    # the lazy frame is read for the candidates' rows only, and put back in candidate order
    lazy = review_pairs(
        LINKS, scored_pairs(), LEFT, RIGHT.select("record_id"), MODEL, fields_from=RIGHT.lazy()
    )
    assert lazy.equals(queue)
