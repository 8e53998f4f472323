"""The review queue: candidate pairs of records decided ``review``, both sides side by side.

A reviewer sees, for each partner record sent to review, its best few registry candidates with
the fields of both records (partner fields prefixed ``p_``, registry fields ``r_``), the match
probability, each comparison's contribution and the same in words.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from registry_link.model import TrainedModel
from registry_link.schema import DISPLAY_FIELDS
from registry_link.score.scored_pairs import ScoredPairs
from registry_link.score.scoring import explain

#: Record fields shown to a reviewer, in display order.
REVIEW_FIELDS: Final[tuple[str, ...]] = (
    "record_id",
    *(f for f in DISPLAY_FIELDS if f != "registry_person_id"),
    "relationship",
    "principal_record_id",
    "household_id",
    "relation_to_head",
)

#: Candidates shown per record under review.
MAX_CANDIDATES: Final[int] = 3


def review_pairs(
    links: pl.DataFrame,
    scored: pl.DataFrame,
    left: pl.DataFrame,
    right: pl.DataFrame,
    model: TrainedModel,
    *,
    max_candidates: int = MAX_CANDIDATES,
    fields_from: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """The pairs awaiting a reviewer.

    Args:
        links: decisions, one row per partner record (``source, record_id, decision``).
        scored: scored candidate pairs with ``l_idx, r_idx``, wide (with ``source, record_id,
            person_id, bf_*``) or narrow (those are fetched for the pairs under review, see
            :mod:`registry_link.score.scored_pairs`).
        left: the partner records the ``l_idx`` index into.
        right: the registry records the ``r_idx`` index into.
        model: the model, to describe each contribution in words.
        max_candidates: registry candidates kept per record, best first.
        fields_from: where the registry side's display fields are, row for row with
            ``right`` (default ``right``); a lazy frame is read for the candidates' rows only.

    Returns:
        One row per (record, candidate): ``review_item_id, source, record_id, person_id,
        candidate_rank, match_probability, match_weight, bf_*, explanation, p_*, r_*``.
    """
    wanted = links.filter(pl.col("decision") == "review").select("source", "record_id")
    # the records under review as left row numbers: one integer test per scored pair
    wanted_rows = (
        left.select("source", "record_id")
        .with_row_index("_l")
        .join(wanted, on=["source", "record_id"], how="semi")
        .get_column("_l")
    )
    under_review = scored.filter(pl.col("l_idx").is_in(wanted_rows.implode()))
    under_review = ScoredPairs(under_review, left, right, model).wide()
    bf_cols = [c for c in under_review.columns if c.startswith("bf_")]
    gamma_cols = [c for c in under_review.columns if c.startswith("gamma_")]
    cand = (
        under_review.join(wanted, on=["source", "record_id"], how="semi")
        .sort(["source", "record_id", "match_probability"], descending=[False, False, True])
        .with_columns(
            candidate_rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over(
                "source", "record_id"
            )
        )
        .filter(pl.col("candidate_rank") <= max_candidates)
    )
    explanations = [
        "; ".join(explain(row, model))
        for row in cand.select(
            *gamma_cols, *bf_cols, "match_weight", "match_probability"
        ).iter_rows(named=True)
    ]
    fields = [f for f in REVIEW_FIELDS if f in left.columns]
    p_side = left.select(fields).gather(cand["l_idx"]).rename({f: f"p_{f}" for f in fields})
    r_side = _rows(right if fields_from is None else fields_from, fields, cand["r_idx"])
    r_side = r_side.rename({f: f"r_{f}" for f in fields})
    head = cand.select(
        pl.concat_str(["source", "record_id", "person_id"], separator="|").alias("review_item_id"),
        "source",
        "record_id",
        "person_id",
        "candidate_rank",
        "match_probability",
        "match_weight",
        *bf_cols,
    ).with_columns(pl.Series("explanation", explanations, dtype=pl.Utf8))
    return pl.concat([head, p_side, r_side], how="horizontal")


def _rows(frame: pl.DataFrame | pl.LazyFrame, fields: list[str], rows: pl.Series) -> pl.DataFrame:
    """``fields`` of ``frame`` at ``rows`` (in that order); a lazy frame is read for the
    distinct rows only."""
    if isinstance(frame, pl.DataFrame):
        return frame.select(fields).gather(rows)
    wanted = rows.unique().sort()
    # streamed: the columns are read a morsel at a time and filtered as they come, not read
    # whole first (10 M registry records: 2.9 GB peak whole, 0.8 GB streamed, for 120 k rows)
    found = (
        frame.select(fields)
        .with_row_index("_row")
        .filter(pl.col("_row").is_in(wanted.implode()))
        .collect(engine="streaming")
    )
    if not found["_row"].is_sorted():
        found = found.sort("_row")
    return found.drop("_row").gather(found["_row"].search_sorted(rows))
