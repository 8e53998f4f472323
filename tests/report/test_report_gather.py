"""registry_link.report.gather: bounded, aggregated facts of a run folder."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from registry_link.errors import InputError
from registry_link.report.evaluation import evaluate_links
from registry_link.report.gather import (
    REVIEW_SAMPLE_SIZE,
    WEIGHT_RANGE,
    check_run_dir,
    gather,
    household_flags,
    household_sizes,
    precision_recall_curve,
    read_truth,
    reason_kinds,
    review_sample,
    weight_histogram,
)
from tests.report.conftest import TRUTH


def test_weight_histogram_counts_every_record_with_a_candidate(run_dir: Path) -> None:
    links = pl.read_parquet(run_dir / "links.parquet")
    hist = weight_histogram(links)
    with_weight = links.filter(pl.col("match_weight").is_finite())
    assert hist["records"].sum() == with_weight.height
    assert hist["bin"].min() >= WEIGHT_RANGE[0]
    assert hist["bin"].max() < WEIGHT_RANGE[1]
    # the bins are bounded whatever the number of records
    sources, decisions = links["source"].n_unique(), links["decision"].n_unique()
    assert hist.height <= sources * decisions * (WEIGHT_RANGE[1] - WEIGHT_RANGE[0])
    per_decision = dict(hist.group_by("decision").agg(pl.col("records").sum()).iter_rows())
    assert per_decision["match"] == links.filter(pl.col("decision") == "match").height


def test_weight_histogram_clips_extreme_weights_into_the_end_bins() -> None:
    links = pl.DataFrame(
        {
            "source": ["a", "a", "a", "a"],
            "decision": ["match", "match", "non_match", "non_match"],
            "match_weight": [1000.0, 12.4, -1000.0, None],
        }
    )
    hist = weight_histogram(links)
    assert dict(zip(hist["bin"], hist["records"], strict=True)) == {
        WEIGHT_RANGE[1] - 1: 1,
        12.0: 1,
        WEIGHT_RANGE[0]: 1,
    }


def test_reason_kinds_group_reasons_that_differ_only_by_their_numbers() -> None:
    links = pl.DataFrame(
        {
            "decision": ["match", "match", "non_match"],
            "reason": [
                "p=1.0 ≥ match threshold 0.9 (weight 40.88 bits)",
                "p=0.9996 ≥ match threshold 0.9 (weight 11.3 bits)",
                "best candidate 2283660635 p=0.0 below review threshold 0.5",
            ],
        }
    )
    kinds = reason_kinds(links)
    assert kinds.height == 2
    top = kinds.row(0, named=True)
    assert top == {
        "decision": "match",
        "reason": "p=… ≥ match threshold … (weight … bits)",
        "records": 2,
    }


def test_review_sample_is_bounded_and_spread_over_the_probabilities(run_dir: Path) -> None:
    review = pl.read_parquet(run_dir / "review.parquet")
    sample = review_sample(review, size=4)
    records = review.select("source", "record_id").n_unique()
    assert sample.height == min(4, records)
    assert sample.select("source", "record_id").n_unique() == sample.height
    probs = sample["match_probability"].to_list()
    assert probs == sorted(probs)
    best = review.filter(pl.col("candidate_rank") == 1)
    assert probs[0] == best["match_probability"].min()
    assert probs[-1] == best["match_probability"].max()
    assert review_sample(review.head(0)).height == 0


def test_household_sizes_and_flags_add_up(run_dir: Path) -> None:
    households = pl.read_parquet(run_dir / "households.parquet")
    sizes = household_sizes(households)
    assert sizes["households"].sum() == households["household_key"].n_unique()
    assert (sizes["members"] * sizes["households"]).sum() == households.height
    flags = household_flags(households, examples=2)
    exploded = households.explode("flags").drop_nulls("flags")
    assert flags["members"].sum() == exploded.height
    for row in flags.iter_rows(named=True):
        with_flag = exploded.filter(pl.col("flags") == row["flag"])
        assert row["households"] == with_flag["household_key"].n_unique()
        assert 1 <= len(row["examples"]) <= 2
        assert set(row["examples"]) <= set(with_flag["household_key"].to_list())


def test_precision_recall_curve_on_a_hand_made_run() -> None:
    links = pl.DataFrame(
        {
            "source": ["a", "a", "a", "a"],
            "record_id": ["1", "2", "3", "4"],
            "person_id": ["P1", "P9", "P3", None],
            "match_weight": [20.2, 5.5, -3.0, None],
            "decision": ["match", "match", "non_match", "non_match"],
        }
    )
    truth = pl.DataFrame(
        {
            "source": ["a", "a", "a", "a"],
            "record_id": ["1", "2", "3", "4"],
            "true_person_uid": ["u1", "u2", "u3", "u4"],
            "person_id": ["P1", "P2", "P3", ""],
            "household_id": ["H1", "H2", "H3", ""],
        }
    )
    curve = precision_recall_curve(links, truth).filter(pl.col("source") == "a")
    rows = {r["threshold"]: r for r in curve.iter_rows(named=True)}
    # 3 records are in the registry; from the top: record 1 right, record 2 wrong, record 3 right
    assert rows[20.0]["matches"] == 1 and rows[20.0]["precision"] == 1.0
    assert math.isclose(rows[20.0]["recall"], 1 / 3)
    assert rows[5.0]["matches"] == 2 and rows[5.0]["precision"] == 0.5
    assert rows[-3.0]["matches"] == 3
    assert math.isclose(rows[-3.0]["precision"], 2 / 3)
    assert math.isclose(rows[-3.0]["recall"], 2 / 3)
    assert set(curve["source"]) == {"a"}


def test_gather_with_truth_scores_every_list_and_some_slices(run_dir: Path) -> None:
    data = gather(run_dir, TRUTH)
    assert data.truth is not None
    sources = set(pl.read_parquet(run_dir / "links.parquet")["source"])
    assert set(data.truth.per_list["source"]) == sources | {"all"}
    assert {"workers", "dependants"} <= set(data.truth.slices["slice"])
    # the workers and dependants slices split each list's records
    split = data.truth.slices.filter(
        pl.col("slice").is_in(["workers", "dependants"]) & (pl.col("source") != "all")
    )
    per_list = dict(data.truth.per_list.select("source", "records").iter_rows())
    for source, n in split.group_by("source").agg(pl.col("records").sum()).iter_rows():
        assert n == per_list[source]
    assert data.review_sample.height <= REVIEW_SAMPLE_SIZE
    assert data.model is not None and data.evaluation is None


def test_a_folder_without_the_run_files_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a folder"):
        check_run_dir(tmp_path / "absent")
    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"lacks links\.parquet, review\.parquet"):
        check_run_dir(tmp_path)


def test_an_unreadable_summary_names_the_file(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"summary\.json: cannot be read"):
        gather(copy)


def test_a_truth_without_its_columns_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "truth.csv"
    bad.write_text("source,record_id\na,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"truth\.csv: the ground truth lacks column"):
        read_truth(bad)


SCORE_COLUMNS = (
    "records",
    "in_registry",
    "matches",
    "correct",
    "reviews",
    "found_with_review",
    "precision",
    "recall",
    "review_share",
    "recall_with_review",
)


def test_scores_per_list_and_slice_are_those_of_evaluate_links(run_dir: Path) -> None:
    data = gather(run_dir, TRUTH)
    assert data.truth is not None
    links = pl.read_parquet(run_dir / "links.parquet")
    truth = read_truth(TRUTH)
    expected = evaluate_links(links, truth)
    assert_frame_equal(
        data.truth.per_list.select("source", *SCORE_COLUMNS),
        expected.select("source", *SCORE_COLUMNS),
        check_dtypes=False,
    )
    roles = pl.read_parquet(run_dir / "households.parquet").select("source", "record_id", "role")
    dependants = links.join(roles, on=["source", "record_id"]).filter(pl.col("role") != "principal")
    got = data.truth.slices.filter(pl.col("slice") == "dependants").drop("slice")
    want = evaluate_links(dependants, truth).filter(pl.col("records") > 0)
    assert_frame_equal(
        got.select("source", *SCORE_COLUMNS),
        want.select("source", *SCORE_COLUMNS),
        check_dtypes=False,
    )


def test_the_run_summary_holds_data_quality_per_list(run_dir: Path) -> None:
    """The linker's summary (summary.json) carries each partner list's quality report."""
    data = gather(run_dir)
    quality = {q["source"]: q for q in data.summary["data_quality"]}
    links = pl.read_parquet(run_dir / "links.parquet")
    assert quality.keys() == set(links["source"])
    for source, rows in links.group_by("source").len().iter_rows():
        q = quality[source]
        assert q["rows"] == rows
        assert q["fill_rate"]["record_id"] == 1.0
        assert sum(q["script_mix"].values()) == rows
    # the Arabic list's names are in Arabic script, the French list's in Latin script
    assert quality["partner_coop_ar"]["script_mix"]["arabic_only"] > 0
    assert quality["partner_chambre_fr"]["script_mix"]["latin_only"] > 0
