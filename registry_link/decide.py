"""Decisions: one registry person (or none) per partner record, with the reason in words.

``match`` at or above the match threshold, ``review`` between the review and match thresholds,
``non_match`` below. A partner record links to at most one registry person: its best candidate.
A close second candidate — one at or above the review threshold whose match weight is within
``close_second_margin`` bits of the best's — sends the record to ``review``: near p = 1 two
probabilities both print as 1.000, while their weights still tell 2^20 from 2^21.
Several partner records resolving to the same registry person are within-list duplicates,
not rivals: nothing here demotes them.
"""

from __future__ import annotations

from typing import Final

import polars as pl

DECISIONS: Final[tuple[str, ...]] = ("match", "review", "non_match")

#: Columns every links frame starts with (then the chosen pair's bf_* columns).
LINK_COLUMNS: Final[tuple[str, ...]] = (
    "source",
    "record_id",
    "person_id",
    "match_probability",
    "match_weight",
    "decision",
    "reason",
    "second_person_id",
    "second_probability",
    "candidates",
)


def _ranked(scored: pl.DataFrame, rejected: pl.DataFrame | None) -> pl.DataFrame:
    """Candidates per record, best first, without the pairs a reviewer rejected."""
    if rejected is not None and rejected.height:
        scored = scored.join(rejected, on=["source", "record_id", "person_id"], how="anti")
    return scored.sort(
        ["source", "record_id", "match_probability", "person_id"],
        descending=[False, False, True, False],
    ).with_columns(rank=pl.int_range(1, pl.len() + 1).over("source", "record_id"))


def decide(
    scored: pl.DataFrame,
    left: pl.DataFrame,
    *,
    match_threshold: float,
    review_threshold: float,
    close_second_margin: float,
    prior_decisions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per partner record: the best registry person, decision and reason.

    Args:
        scored: scored pairs ``{source, record_id, person_id, match_probability, match_weight,
            bf_* ...}``.
        left: every partner record (``source, record_id``); those without a candidate get
            ``non_match`` with reason "no candidate pair".
        match_threshold: probability at or above which the best candidate is a match.
        review_threshold: probability at or above which (and below the match threshold) a
            record goes to review.
        close_second_margin: in bits of match weight: a second candidate (at or above the
            review threshold) this close to the best sends the record to review even above the
            match threshold.
        prior_decisions: reviewer decisions ``{source, record_id, person_id, decision}`` with
            decision ``accept`` or ``reject``: a rejected pair is never chosen; an accepted one
            is a match.

    Returns:
        ``LINK_COLUMNS`` + the chosen pair's ``bf_*`` columns, one row per left record, in
        the order of ``left``.
    """
    bf_cols = [c for c in scored.columns if c.startswith("bf_")]
    keep = ["source", "record_id", "person_id", "match_probability", "match_weight", *bf_cols]
    accepted = rejected = None
    if prior_decisions is not None and prior_decisions.height:
        pd_ = prior_decisions.select("source", "record_id", "person_id", "decision")
        accepted = pd_.filter(pl.col("decision") == "accept").drop("decision")
        rejected = pd_.filter(pl.col("decision") == "reject").drop("decision")
    ranked = _ranked(scored.select(keep), rejected)
    counts = ranked.group_by("source", "record_id").agg(candidates=pl.len().cast(pl.UInt32))
    best = ranked.filter(pl.col("rank") == 1).drop("rank")
    second = ranked.filter(pl.col("rank") == 2).select(
        "source",
        "record_id",
        second_person_id=pl.col("person_id"),
        second_probability=pl.col("match_probability"),
        _second_weight=pl.col("match_weight"),
    )
    out = (
        left.select("source", "record_id")
        .with_row_index("_order")
        .join(best, on=["source", "record_id"], how="left")
        .join(second, on=["source", "record_id"], how="left")
        .join(counts, on=["source", "record_id"], how="left")
        .with_columns(pl.col("candidates").fill_null(0))
    )
    if accepted is not None and accepted.height:
        out = out.join(
            accepted.with_columns(_accepted=pl.lit(True)).rename({"person_id": "_acc_person"}),
            on=["source", "record_id"],
            how="left",
        )
    else:
        out = out.with_columns(
            _accepted=pl.lit(None, pl.Boolean), _acc_person=pl.lit(None, pl.Utf8)
        )
    p, p2 = pl.col("match_probability"), pl.col("second_probability")
    gap = pl.col("match_weight") - pl.col("_second_weight")
    close = p2.is_not_null() & (p2 >= review_threshold) & (gap < close_second_margin)
    fmt = lambda e: e.round(4).cast(pl.Utf8)  # noqa: E731
    decision = (
        pl.when(pl.col("_accepted").fill_null(False))
        .then(pl.lit("match"))
        .when(p.is_null())
        .then(pl.lit("non_match"))
        .when(p < review_threshold)
        .then(pl.lit("non_match"))
        .when(close)
        .then(pl.lit("review"))
        .when(p >= match_threshold)
        .then(pl.lit("match"))
        .otherwise(pl.lit("review"))
    )
    reason = (
        pl.when(pl.col("_accepted").fill_null(False))
        .then(pl.lit("accepted by a reviewer"))
        .when(p.is_null())
        .then(pl.lit("no candidate pair"))
        .when(p < review_threshold)
        .then(pl.format("best p={} below review threshold {}", fmt(p), pl.lit(review_threshold)))
        .when(close)
        .then(
            pl.format(
                "close second candidate {} (p={}, weight {} bits below the best, p={})",
                pl.col("second_person_id"),
                fmt(p2),
                fmt(gap),
                fmt(p),
            )
        )
        .when(p >= match_threshold)
        .then(pl.format("p={} ≥ match threshold {}", fmt(p), pl.lit(match_threshold)))
        .otherwise(
            pl.format(
                "p={} between review {} and match {} thresholds",
                fmt(p),
                pl.lit(review_threshold),
                pl.lit(match_threshold),
            )
        )
    )
    out = out.with_columns(
        person_id=pl.when(pl.col("_accepted").fill_null(False))
        .then(pl.col("_acc_person"))
        .otherwise(pl.col("person_id")),
        decision=decision,
        reason=reason,
    )
    return out.sort("_order").select(*LINK_COLUMNS, *bf_cols)
