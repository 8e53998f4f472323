"""The run summary (``summary.json``): counts, limits, model and timings, JSON-safe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from registry_link import __version__
from registry_link.decide.decisions import CUT_OFF_REASON
from registry_link.model import ModelSettings, TrainedModel
from registry_link.standardise.quality import quality_report


def build_summary(
    *,
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    links: pl.DataFrame,
    clusters: pl.DataFrame,
    households: pl.DataFrame,
    review: pl.DataFrame,
    model: TrainedModel,
    skipped: Mapping[str, pl.Series],
    largest_blocks: Sequence[Mapping[str, Any]] = (),
    settings: ModelSettings,
    timings: Mapping[str, float],
) -> dict[str, Any]:
    """The summary of one link run from its inputs and results.

    ``skipped``: per blocking rule, the partner records in blocks its size limits skipped (see
    :func:`~registry_link.block.candidates.block`); ``timings``: seconds per stage.
    """
    per_source = links.group_by("source", "decision").len().sort("source", "decision").to_dicts()
    flags = (
        households.select(pl.col("flags").explode().drop_nulls().alias("flag"))
        .group_by("flag")
        .len()
        .sort("flag")
    )
    return {
        "registry_link_version": __version__,
        "records": {"partner": left.height, "registry": right.height},
        "candidate_pairs": pairs.height,
        "candidate_pairs_by_rule": dict(pairs.group_by("rule").len().sort("rule").iter_rows()),
        # partner records in blocks the rules' size limits skipped, per rule, and those
        # left without any candidate by it
        "records_in_skipped_blocks": {name: rows.len() for name, rows in skipped.items()},
        # each rule's largest kept blocks: {rule, pairs, key} with the key's shape, not values
        "largest_blocks": [dict(b) for b in largest_blocks],
        "records_cut_off_by_blocking_limits": links.filter(
            pl.col("reason").str.starts_with(CUT_OFF_REASON)
        ).height,
        "decisions": dict(links.group_by("decision").len().sort("decision").iter_rows()),
        "decisions_by_source": per_source,
        "review_pairs": review.height,
        "beneficiaries": clusters["beneficiary_key"].n_unique(),
        "households": households["household_key"].n_unique(),
        "household_flags": dict(flags.iter_rows()),
        "model": {
            "prior": model.prior,
            "training": dict(model.training),
        },
        "thresholds": {
            "match": settings.match_threshold,
            "review": settings.review_threshold,
            "close_second_margin": settings.close_second_margin,
        },
        "timings_s": dict(timings),
        # per partner list: rows, fill rate per field, flags by reason, script mix (the run
        # report's data-quality section)
        "data_quality": [
            quality_report(left.filter(pl.col("source") == src)).to_dict()
            for src in sorted(left["source"].unique().to_list())
        ],
    }
