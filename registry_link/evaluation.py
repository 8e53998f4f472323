"""Accuracy against a ground truth: links per source, same-person and same-household pairs.

The ground truth has one row per partner record: ``source, record_id, true_person_uid,
person_id, household_id`` — ``person_id``/``household_id`` of the registry person the record
truly is (empty when the person is not in the registry), ``true_person_uid`` the real person
across all lists.
"""

from __future__ import annotations

import polars as pl


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(None)


def evaluate_links(links: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Precision and recall of ``match`` decisions per source (and ``all``).

    A ``match`` is correct when its person_id is the true one. Recall is over records whose
    person is in the registry. ``review_share`` is the share of records sent to review;
    ``recall_with_review`` counts a reviewed record whose best candidate is right as found.

    Returns:
        ``{source, records, in_registry, matches, correct, precision, recall, f1,
        review_share, recall_with_review}``.
    """
    t = truth.select("source", "record_id", true_person=pl.col("person_id").replace("", None))
    j = links.select("source", "record_id", "person_id", "decision").join(
        t, on=["source", "record_id"], how="left"
    )
    correct = pl.col("person_id") == pl.col("true_person")
    is_match = pl.col("decision") == "match"
    is_review = pl.col("decision") == "review"
    aggs = [
        pl.len().alias("records"),
        pl.col("true_person").is_not_null().sum().alias("in_registry"),
        is_match.sum().alias("matches"),
        (is_match & correct).sum().alias("correct"),
        is_review.sum().alias("reviews"),
        ((is_match | is_review) & correct).sum().alias("found_with_review"),
    ]
    per = j.group_by("source").agg(aggs).sort("source")
    total = j.select(aggs).with_columns(source=pl.lit("all"))
    out = pl.concat([per, total.select(per.columns)])
    return out.with_columns(
        precision=_ratio(pl.col("correct"), pl.col("matches")),
        recall=_ratio(pl.col("correct"), pl.col("in_registry")),
        review_share=_ratio(pl.col("reviews"), pl.col("records")),
        recall_with_review=_ratio(pl.col("found_with_review"), pl.col("in_registry")),
    ).with_columns(
        f1=_ratio(
            2 * pl.col("precision") * pl.col("recall"), pl.col("precision") + pl.col("recall")
        )
    )


def _pairs(frame: pl.DataFrame, group: str) -> pl.DataFrame:
    """All unordered record pairs sharing ``group`` (as ``a``/``b`` record keys)."""
    keyed = frame.select(
        pl.concat_str(["source", "record_id"], separator="|").alias("rec"), pl.col(group)
    ).filter(pl.col(group).is_not_null())
    return (
        keyed.join(keyed, on=group, suffix="_b")
        .filter(pl.col("rec") < pl.col("rec_b"))
        .select(a="rec", b="rec_b")
    )


def pairwise_scores(
    predicted: pl.DataFrame, truth: pl.DataFrame, pred_group: str, true_group: str
) -> dict[str, float | int]:
    """Pairwise precision/recall of "same group" (e.g. same person, same household).

    Args:
        predicted: ``{source, record_id, <pred_group>}``.
        truth: ``{source, record_id, <true_group>}``.
    """
    p = _pairs(predicted, pred_group)
    t = _pairs(truth, true_group)
    tp = p.join(t, on=["a", "b"], how="semi").height
    precision = tp / p.height if p.height else 1.0
    recall = tp / t.height if t.height else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "predicted_pairs": p.height,
        "true_pairs": t.height,
        "true_positives": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def evaluate_clusters(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float | int]:
    """Pairwise precision/recall of "same person" over all partner records."""
    return pairwise_scores(clusters, truth, "beneficiary_key", "true_person_uid")


def evaluate_households(households: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float | int]:
    """Pairwise precision/recall of "same registry household" for records in the registry.

    Only records whose true person is in the registry count (the truth knows no household
    for the others).
    """
    t = truth.with_columns(pl.col("household_id").replace("", None)).filter(
        pl.col("household_id").is_not_null()
    )
    pred = households.join(t.select("source", "record_id"), on=["source", "record_id"], how="semi")
    return pairwise_scores(pred, t, "household_key", "household_id")
