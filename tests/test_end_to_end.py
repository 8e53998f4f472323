"""End to end: ``registry-link demo`` on the shipped ``sample_data/``, scored against its truth.

The run (standardise three partner lists and the 50,000-person registry, train, link, dedupe,
build households, write the outputs) takes about 15 s and is done once per module. The floors
below catch regressions; the figures themselves are computed from the outputs, never written in.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from registry_link.cli import main
from registry_link.decide.decisions import DECISIONS
from registry_link.jobs import SAMPLE_PARTNERS
from registry_link.report.evaluation import evaluate_links

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"

MIN_PRECISION = 0.99  # per source, on match decisions
MIN_RECALL = 0.90  # all sources together
MAX_REVIEW_SHARE = 0.06  # all sources together

pytestmark = pytest.mark.skipif(
    not (SAMPLE / "ground_truth.csv").is_file(), reason="sample_data/ is not shipped here"
)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo") / "out"
    main(["demo", "--out", str(target)])
    return target


@pytest.fixture(scope="module")
def links(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "links.parquet")


@pytest.fixture(scope="module")
def truth() -> pl.DataFrame:
    return pl.read_csv(SAMPLE / "ground_truth.csv", infer_schema=False)


@pytest.fixture(scope="module")
def scores(links: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    return evaluate_links(links, truth)


def input_rows() -> dict[str, int]:
    """Data rows per source as read from the shipped files themselves (dependants included)."""
    rows = {
        "partner_coop_ar": pl.read_csv(SAMPLE / "partner_coop_ar.csv", infer_schema=False).height,
        "partner_chambre_fr": sum(
            pl.read_csv(SAMPLE / name, separator=";", encoding="cp1256", infer_schema=False).height
            for name in ("partner_chambre_fr.csv", "partner_chambre_fr_ayants_droit.csv")
        ),
        "partner_ordre_fullname": pl.read_excel(SAMPLE / "partner_ordre_fullname.xlsx").height,
    }
    assert set(rows) == {Path(f).stem for f, _ in SAMPLE_PARTNERS}
    return rows


def test_no_partner_record_lost(links: pl.DataFrame, truth: pl.DataFrame) -> None:
    expected = input_rows()
    got = dict(links.group_by("source").len().iter_rows())
    assert got == expected
    assert links.select("source", "record_id").n_unique() == links.height
    # the ground truth lists the same records
    assert sorted(links.select("source", "record_id").rows()) == sorted(
        truth.select("source", "record_id").rows()
    )
    assert set(links["decision"].unique().to_list()) <= set(DECISIONS)


@pytest.mark.parametrize("source", [Path(f).stem for f, _ in SAMPLE_PARTNERS])
def test_precision_per_source(scores: pl.DataFrame, source: str) -> None:
    row = scores.filter(pl.col("source") == source).row(0, named=True)
    assert row["matches"] > 0
    assert row["precision"] >= MIN_PRECISION, row


def test_overall_recall_and_review_share(scores: pl.DataFrame) -> None:
    overall = scores.filter(pl.col("source") == "all").row(0, named=True)
    assert overall["recall"] >= MIN_RECALL, overall
    assert overall["review_share"] <= MAX_REVIEW_SHARE, overall
    assert overall["precision"] >= MIN_PRECISION, overall


def test_figures_match_a_count_by_hand(links: pl.DataFrame, truth: pl.DataFrame, scores) -> None:
    """The evaluation's overall figures, recounted directly from links and truth."""
    joined = links.join(truth, on=["source", "record_id"], suffix="_true")
    matches = joined.filter(pl.col("decision") == "match")
    correct = matches.filter(pl.col("person_id") == pl.col("person_id_true")).height
    in_registry = joined.filter(
        pl.col("person_id_true").is_not_null() & (pl.col("person_id_true") != "")
    ).height
    overall = scores.filter(pl.col("source") == "all").row(0, named=True)
    assert overall["precision"] == pytest.approx(correct / matches.height)
    assert overall["recall"] == pytest.approx(correct / in_registry)
    review = joined.filter(pl.col("decision") == "review").height
    assert overall["review_share"] == pytest.approx(review / joined.height)


def test_outputs_written_and_consistent(out: Path, links: pl.DataFrame) -> None:
    for stem in ("links", "review", "households"):
        assert (out / f"{stem}.parquet").is_file() and (out / f"{stem}.csv").is_file()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["records"]["partner"] == links.height
    assert summary["records"]["registry"] == 50_000
    assert summary["decisions"] == dict(links.group_by("decision").len().iter_rows())
    review = pl.read_parquet(out / "review.parquet")
    reviewed = links.filter(pl.col("decision") == "review").select("source", "record_id")
    assert sorted(review.select("source", "record_id").unique().rows()) == sorted(reviewed.rows())
    assert review["candidate_rank"].max() <= 3
    households = pl.read_parquet(out / "households.parquet")
    assert households.height == links.height
