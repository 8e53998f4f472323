"""Our side of the linkage benchmark: the registry-link engine, timed stage by stage.

Reads the same standardised Parquet files as Splink, then block → compare → train (u by random
sampling, m by EM) → score → decide, with the model config ``configs/model.yaml``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl


def _decide(
    scored_links: pl.DataFrame, left: pl.DataFrame, settings: Any
) -> tuple[pl.DataFrame, str]:
    """``record_id, person_id, decision`` per partner record, with how it was decided.

    Uses ``registry_link.decide.decide`` when it exists; otherwise (engine not complete yet)
    the best pair per record at p ≥ the match threshold is a ``match``.
    """
    try:
        from registry_link.decide import decide
    except ImportError:
        best = (
            scored_links.sort(["record_id", "match_probability"], descending=[False, True])
            .unique(subset=["record_id"], keep="first", maintain_order=True)
            .filter(pl.col("match_probability") >= settings.match_threshold)
        )
        out = best.select("record_id", "person_id", decision=pl.lit("match"))
        return out, "fallback: best pair at p >= match threshold (registry_link.decide absent)"
    links = decide(scored_links, left, settings)
    return links.select("record_id", "person_id", "decision"), "registry_link.decide.decide"


def run_ours(
    partner_path: Path,
    registry_path: Path,
    model_config: Path,
) -> dict[str, Any]:
    """Read, block, compare, train, score and decide; returns timings, counts and links.

    The dict has ``stages`` (seconds), ``end_to_end_s``, ``candidate_pairs``, ``links_05``
    (``record_id, person_id, match_probability`` of every scored pair at p ≥ 0.5),
    ``decisions`` (``record_id, person_id, decision``), ``match_threshold`` and ``versions``.
    """
    import registry_link
    from registry_link.blocking import block
    from registry_link.comparison import compare
    from registry_link.model import load_model_config
    from registry_link.scoring import score
    from registry_link.training import train

    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    settings = load_model_config(model_config)
    left = pl.read_parquet(partner_path)
    right = pl.read_parquet(registry_path)
    stages["read"] = time.perf_counter() - t0

    t = time.perf_counter()
    pairs = block(left, right, settings.blocking_rules)
    stages["block"] = time.perf_counter() - t
    t = time.perf_counter()
    gammas = compare(left, right, pairs, settings.comparisons)
    stages["compare"] = time.perf_counter() - t
    t = time.perf_counter()
    model = train(left, right, pairs, settings.comparisons, settings, gammas=gammas)
    stages["train"] = time.perf_counter() - t
    t = time.perf_counter()
    scored = score(gammas, model, left, right)
    stages["score"] = time.perf_counter() - t
    t = time.perf_counter()
    scored_links = scored.with_columns(
        source=left.get_column("source").gather(scored.get_column("l_idx")),
        record_id=left.get_column("record_id").gather(scored.get_column("l_idx")),
        person_id=right.get_column("person_id").gather(scored.get_column("r_idx")),
    )
    decisions, decided_by = _decide(scored_links, left, settings)
    stages["decide"] = time.perf_counter() - t
    end_to_end = time.perf_counter() - t0

    links_05 = scored_links.filter(pl.col("match_probability") >= 0.5).select(
        "record_id", "person_id", "match_probability"
    )
    return {
        "stages": stages,
        "end_to_end_s": end_to_end,
        "candidate_pairs": pairs.height,
        "links_05": links_05,
        "decisions": decisions,
        "decided_by": decided_by,
        "match_threshold": settings.match_threshold,
        "versions": {"registry-link": getattr(registry_link, "__version__", "0.1.0")},
    }
