"""Tests of registry_link.evaluation on tiny cases whose answers are computed by hand."""

from __future__ import annotations

import itertools

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.errors import UsageError
from registry_link.evaluation import (
    evaluate,
    evaluate_households,
    evaluate_links,
    pairwise_scores,
)

S = pl.Utf8

TRUTH = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "b", "b"],
        "record_id": ["1", "2", "3", "4", "1", "2"],
        "true_person_uid": ["R1", "R2", "R4", "N1", "R1", "N2"],
        "person_id": ["P1", "P2", "P4", "", "P1", ""],
        "household_id": ["H1", "H1", "H2", "", "H1", ""],
    }
)

LINKS = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "b", "b"],
        "record_id": ["1", "2", "3", "4", "1", "2"],
        "person_id": ["P1", "P3", "P4", None, "P1", "P9"],
        "decision": ["match", "match", "review", "non_match", "match", "match"],
    },
    schema_overrides={"person_id": S},
)


def test_links_per_source_and_all() -> None:
    out = evaluate_links(LINKS, TRUTH)
    rows = {r["source"]: r for r in out.to_dicts()}
    assert list(rows) == ["a", "b", "all"]
    a, b, total = rows["a"], rows["b"], rows["all"]
    assert (a["records"], a["in_registry"], a["matches"], a["correct"]) == (4, 3, 2, 1)
    assert a["precision"] == pytest.approx(0.5)
    assert a["recall"] == pytest.approx(1 / 3)
    assert a["f1"] == pytest.approx(0.4)
    assert a["review_share"] == pytest.approx(0.25)
    assert a["recall_with_review"] == pytest.approx(2 / 3)
    assert (b["precision"], b["recall"], b["review_share"]) == (0.5, 1.0, 0.0)
    assert b["f1"] == pytest.approx(2 / 3)
    assert (total["records"], total["matches"], total["correct"]) == (6, 4, 2)
    assert (total["precision"], total["recall"], total["f1"]) == (0.5, 0.5, 0.5)
    assert total["recall_with_review"] == pytest.approx(0.75)


def test_no_matches_gives_undefined_precision() -> None:
    out = evaluate_links(LINKS.with_columns(decision=pl.lit("non_match")), TRUTH)
    assert out.filter(pl.col("source") == "all")["precision"][0] is None
    assert out.filter(pl.col("source") == "all")["recall"][0] == 0.0


def test_pairwise_all_within_across() -> None:
    pred = pl.DataFrame(
        {
            "source": ["a", "a", "b", "a", "b"],
            "record_id": ["1", "2", "1", "3", "2"],
            "key": ["K1", "K1", "K1", "K2", "K2"],
        }
    )
    true = pl.DataFrame(
        {
            "source": ["a", "a", "b", "a", "b"],
            "record_id": ["1", "2", "1", "3", "2"],
            "uid": ["T1", "T1", "T2", "T2", None],
        },
        schema_overrides={"uid": S},
    )
    s = pairwise_scores(pred, true, "key", "uid")
    assert (s["all"]["predicted_pairs"], s["all"]["true_pairs"], s["all"]["true_positives"]) == (
        4,
        2,
        1,
    )
    assert s["all"]["precision"] == 0.25
    assert s["all"]["recall"] == 0.5
    assert s["all"]["f1"] == pytest.approx(1 / 3)
    assert (s["within_list"]["precision"], s["within_list"]["recall"]) == (1.0, 1.0)
    assert s["across_lists"] == {
        "predicted_pairs": 3,
        "true_pairs": 1,
        "true_positives": 0,
        "precision": 0.0,
        "recall": 0.0,
        "f1": None,
    }


def test_households_only_count_registry_persons() -> None:
    hh = LINKS.select("source", "record_id").with_columns(
        household_key=pl.Series(["X", "X", "Y", "X", "X", "Y"])
    )
    s = evaluate_households(hh, TRUTH)["all"]
    # registry persons a1,a2,a3,b1 (H1,H1,H2,H1); predicted X,X,Y,X
    assert (s["predicted_pairs"], s["true_pairs"], s["true_positives"]) == (3, 3, 3)


def test_evaluate_bundles_everything() -> None:
    clusters = LINKS.select("source", "record_id").with_columns(
        beneficiary_key=pl.Series(["P1", "P3", "P4", "B1", "P1", "P9"])
    )
    hh = clusters.select("source", "record_id", household_key=pl.lit("H"))
    out = evaluate(LINKS, clusters, hh, TRUTH)
    assert out["same_person"]["all"]["precision"] == 1.0
    assert out["same_person"]["across_lists"]["true_positives"] == 1
    assert out["links"][-1]["source"] == "all"


def test_truth_problems_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="true_person_uid"):
        evaluate_links(LINKS, TRUTH.drop("true_person_uid"))
    with pytest.raises(UsageError, match="one row per partner record"):
        evaluate_links(LINKS, pl.concat([TRUTH, TRUTH.head(1)]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3), st.integers(0, 3)),
        min_size=1,
        max_size=12,
    )
)
def test_property_closed_form_equals_brute_force(rows) -> None:
    frame = pl.DataFrame(
        {
            "source": [r[0] for r in rows],
            "record_id": [str(i) for i in range(len(rows))],
            "p": [str(r[1]) for r in rows],
            "t": [str(r[2]) for r in rows],
        }
    )
    s = pairwise_scores(frame, frame, "p", "t")
    recs = frame.to_dicts()
    for scope, keep in (("all", lambda x, y: True), ("within_list", lambda x, y: x == y)):
        pairs = [
            (x, y) for x, y in itertools.combinations(recs, 2) if keep(x["source"], y["source"])
        ]
        assert s[scope]["predicted_pairs"] == sum(x["p"] == y["p"] for x, y in pairs)
        assert s[scope]["true_pairs"] == sum(x["t"] == y["t"] for x, y in pairs)
        assert s[scope]["true_positives"] == sum(
            x["p"] == y["p"] and x["t"] == y["t"] for x, y in pairs
        )
