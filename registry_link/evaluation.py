"""Accuracy against a ground truth: links per source, same-person and same-household pairs.

The ground truth has one row per partner record: ``source, record_id, true_person_uid,
person_id, household_id`` — ``person_id``/``household_id`` of the registry person the record
truly is (empty or null when the person is not in the registry), ``true_person_uid`` the real
person across all lists.

* Links (:func:`evaluate_links`): a ``match`` is correct when its person_id is the true one.
  Precision = correct matches / matches; recall = correct matches / records whose person is in
  the registry; ``review_share`` = records sent to review / records; ``recall_with_review``
  also counts a reviewed record whose best candidate is the true person (what a perfect
  reviewer would reach).
* Pairs (:func:`pairwise_scores`): "same person" or "same household" as a relation on record
  pairs. A pair is predicted when both records share a predicted group, true when they share a
  true group; precision = true predicted pairs / predicted pairs, recall = true predicted pairs
  / true pairs. Counted in closed form (sum of n·(n−1)/2 over groups and group intersections),
  never by listing pairs, and split into pairs within one list and pairs across two lists.

Ratios with a zero denominator are ``None`` (undefined), not 0 or 1.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from registry_link.errors import UsageError

TRUTH_COLUMNS: Final[tuple[str, ...]] = (
    "source",
    "record_id",
    "true_person_uid",
    "person_id",
    "household_id",
)

_KEYS: Final[list[str]] = ["source", "record_id"]


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(None)


def _div(num: int, den: int) -> float | None:
    return num / den if den else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None or precision + recall == 0:
        return None
    return 2 * precision * recall / (precision + recall)


def prepare_truth(truth: pl.DataFrame) -> pl.DataFrame:
    """The ground truth with text columns and empty strings as nulls.

    Raises:
        UsageError: a truth column is missing, or a (source, record_id) repeats.
    """
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise UsageError(
            f"the ground truth lacks column(s) {missing}; it needs {list(TRUTH_COLUMNS)}"
        )
    t = truth.select(
        pl.col(c).cast(pl.Utf8).str.strip_chars().replace("", None) for c in TRUTH_COLUMNS
    )
    dup = t.group_by(_KEYS).len().filter(pl.col("len") > 1)
    if dup.height:
        r = dup.row(0, named=True)
        raise UsageError(
            f"the ground truth has {r['len']} rows for record {r['record_id']!r} of source "
            f"{r['source']!r}; give one row per partner record"
        )
    return t


def evaluate_links(links: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Precision and recall of ``match`` decisions per source, then ``all``.

    Returns:
        ``{source, records, in_registry, matches, correct, reviews, found_with_review,
        precision, recall, f1, review_share, recall_with_review}``; links records absent from
        the truth count as not in the registry.
    """
    t = prepare_truth(truth).select(*_KEYS, true_person="person_id")
    j = links.select(*_KEYS, "person_id", "decision").join(t, on=_KEYS, how="left")
    correct = (pl.col("person_id") == pl.col("true_person")).fill_null(False)
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
    out = pl.concat([per, total.select(per.columns)]).with_columns(
        pl.exclude("source").cast(pl.Int64)
    )
    return (
        out.with_columns(
            precision=_ratio(pl.col("correct"), pl.col("matches")),
            recall=_ratio(pl.col("correct"), pl.col("in_registry")),
            review_share=_ratio(pl.col("reviews"), pl.col("records")),
            recall_with_review=_ratio(pl.col("found_with_review"), pl.col("in_registry")),
        )
        .with_columns(
            f1=_ratio(
                2 * pl.col("precision") * pl.col("recall"), pl.col("precision") + pl.col("recall")
            )
        )
        .select(
            "source",
            "records",
            "in_registry",
            "matches",
            "correct",
            "reviews",
            "found_with_review",
            "precision",
            "recall",
            "f1",
            "review_share",
            "recall_with_review",
        )
    )


def _pair_count(frame: pl.DataFrame, groups: list[str]) -> int:
    """Number of record pairs sharing all ``groups`` (nulls share nothing)."""
    sizes = frame.drop_nulls(groups).group_by(groups).len()
    n = sizes["len"].cast(pl.Int64)
    return int((n * (n - 1) // 2).sum())


def _scores(predicted: int, true: int, tp: int) -> dict[str, Any]:
    precision, recall = _div(tp, predicted), _div(tp, true)
    return {
        "predicted_pairs": predicted,
        "true_pairs": true,
        "true_positives": tp,
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
    }


def pairwise_scores(
    predicted: pl.DataFrame, truth: pl.DataFrame, pred_group: str, true_group: str
) -> dict[str, dict[str, Any]]:
    """Pairwise precision/recall of "same group", for all pairs, within and across lists.

    Args:
        predicted: ``{source, record_id, <pred_group>}``.
        truth: ``{source, record_id, <true_group>}``; only records in both frames count, and a
            null group puts a record in no pair.

    Returns:
        ``{"all" | "within_list" | "across_lists": {predicted_pairs, true_pairs,
        true_positives, precision, recall, f1}}``.
    """
    j = predicted.select(*_KEYS, _pred=pl.col(pred_group).cast(pl.Utf8)).join(
        truth.select(*_KEYS, _true=pl.col(true_group).cast(pl.Utf8)), on=_KEYS
    )
    total = [_pair_count(j, g) for g in (["_pred"], ["_true"], ["_pred", "_true"])]
    within = [_pair_count(j, ["source", *g]) for g in (["_pred"], ["_true"], ["_pred", "_true"])]
    across = [a - w for a, w in zip(total, within, strict=True)]
    return {
        "all": _scores(*total),
        "within_list": _scores(*within),
        "across_lists": _scores(*across),
    }


def evaluate_clusters(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Pairwise scores of "same person" (``beneficiary_key`` against ``true_person_uid``)."""
    return pairwise_scores(clusters, prepare_truth(truth), "beneficiary_key", "true_person_uid")


def evaluate_households(households: pl.DataFrame, truth: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Pairwise scores of "same household" (``household_key`` against the registry household).

    Only records whose true person is in the registry count: the truth knows no household for
    the others.
    """
    t = prepare_truth(truth).filter(pl.col("household_id").is_not_null())
    return pairwise_scores(households, t, "household_key", "household_id")


def evaluate(
    links: pl.DataFrame,
    clusters: pl.DataFrame,
    households: pl.DataFrame,
    truth: pl.DataFrame,
) -> dict[str, Any]:
    """All scores, JSON-safe: ``{"links": [per-source rows], "same_person": ...,
    "same_household": ...}``."""
    return {
        "links": evaluate_links(links, truth).to_dicts(),
        "same_person": evaluate_clusters(clusters, truth),
        "same_household": evaluate_households(households, truth),
    }
