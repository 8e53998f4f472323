"""Our side of the linkage benchmark: the registry-link engine, timed stage by stage.

Reads the same standardised Parquet files as Splink — through the Linker, the registry as a lazy
scan of which the Linker reads the columns the link needs (``Linker.registry_columns``), as
Splink loads only the columns its model needs — then runs ``Linker.link`` (block → compare
→ train (u by random sampling, m by EM) → score → decide, then within-list dedupe → clusters →
households → review pairs) with ``configs/model.yaml``. The Linker's ``on_stage`` callback
records each stage's time and the process's peak RSS after it, so the part comparable with
Splink (read … decide) is measured apart from the steps Splink does not do.

What-if knobs (off by default, reported when used): ``compare_chunk`` changes
``compare``'s chunk size; ``keep_p`` scores in slices and keeps only pairs at p ≥ keep_p
before ``decide`` (lossless for decisions when keep_p is far enough below the review
threshold and the close-second margin).

``via="engine"`` (the default) runs the same linkage stages the Linker runs (block, compare,
train, score, ``decide``) straight from the engine modules, without the steps Splink does not
do; ``via="linker"`` runs the full ``Linker.link``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
from linkage_measure import progress, self_max_rss_bytes

#: Stages comparable with Splink's read + train + predict. The household-context pass is one of
#: them: our decisions (and the scored pairs evaluated at p >= 0.5) come after it.
LINK_STAGES: tuple[str, ...] = (
    "read",
    "block",
    "compare",
    "train",
    "score",
    "decide",
    "household_context",
)


def _keys(frame: pl.DataFrame) -> pl.Expr:
    """Evaluation key ``<source>:<record_id>`` (record ids repeat across partner lists)."""
    return (pl.col("source") + ":" + pl.col("record_id")).alias("record_id")


def _with_linker(
    left: pl.DataFrame, right: pl.DataFrame | pl.LazyFrame, model_config: Path
) -> dict[str, Any]:
    from registry_link.linker import Linker

    stages: dict[str, float] = {}
    rss: dict[str, int] = {}

    def on_stage(name: str, seconds: float) -> None:
        stages[name] = stages.get(name, 0.0) + seconds
        rss[name] = self_max_rss_bytes()
        progress(name, seconds)

    linker = Linker.from_config(model_config, on_stage=on_stage)
    result = linker.link(right, [left])
    pairs = result.pairs  # narrow: fetch who the pairs are for those at p >= 0.5 only
    high = pairs.frame.with_row_index("_i").filter(pl.col("match_probability") >= 0.5)["_i"]
    scored = pairs.wide(high)
    return {
        "stages": stages,
        "peak_rss_after_stage": rss,
        "links_05": scored.filter(pl.col("match_probability") >= 0.5).select(
            _keys(scored), "person_id", "match_probability"
        ),
        "decisions": result.links.select(_keys(result.links), "person_id", "decision"),
        "decided_by": "registry_link.linker.Linker.link",
        "match_threshold": linker.settings.match_threshold,
        "candidate_pairs": int(result.summary["candidate_pairs"]),
        "prior": float(result.model.prior),
    }


def _score_kept(
    gammas: pl.DataFrame, model: Any, left: pl.DataFrame, right: pl.DataFrame, keep_p: float
) -> pl.DataFrame:
    """Score ``gammas`` in slices of :data:`SCORE_SLICE` rows, keeping pairs at p ≥ ``keep_p``."""
    from registry_link.score.scoring import score

    parts = []
    for offset in range(0, gammas.height, SCORE_SLICE):
        part = score(gammas.slice(offset, SCORE_SLICE), model, left, right)
        parts.append(part.filter(pl.col("match_probability") >= keep_p))
    return pl.concat(parts) if parts else score(gammas, model, left, right)


#: Rows per scoring slice in the ``keep_p`` what-if.
SCORE_SLICE = 5_000_000


def _with_engine(
    left: pl.DataFrame, right: pl.DataFrame, model_config: Path, keep_p: float | None = None
) -> dict[str, Any]:
    from registry_link.block.candidates import block
    from registry_link.compare import CompareEngine
    from registry_link.model import load_model_config
    from registry_link.score.scoring import score
    from registry_link.train.training import pair_free_estimates, train

    stages: dict[str, float] = {}
    rss: dict[str, int] = {}
    settings = load_model_config(model_config)
    t = time.perf_counter()
    pairs = block(left, right, settings.blocking_rules)
    stages["block"], rss["block"] = time.perf_counter() - t, self_max_rss_bytes()
    progress("block", stages["block"])
    t = time.perf_counter()
    comps = settings.comparisons
    with CompareEngine(left, right, comps) as engine:
        gammas = engine.compare(pairs)
        stages["compare"], rss["compare"] = time.perf_counter() - t, self_max_rss_bytes()
        progress("compare", stages["compare"])
        t = time.perf_counter()
        free = pair_free_estimates(engine, settings.training)
    model = train(left, right, pairs, gammas, comps, settings, free)
    stages["train"], rss["train"] = time.perf_counter() - t, self_max_rss_bytes()
    progress("train", stages["train"])
    t = time.perf_counter()
    if keep_p is None:
        scored = score(gammas, model, left, right)
    else:
        scored = _score_kept(gammas, model, left, right, keep_p)
    del gammas
    scored = scored.with_columns(
        source=left["source"].gather(scored["l_idx"]),
        record_id=left["record_id"].gather(scored["l_idx"]),
        person_id=right["person_id"].gather(scored["r_idx"]),
    )
    stages["score"], rss["score"] = time.perf_counter() - t, self_max_rss_bytes()
    progress("score", stages["score"])
    t = time.perf_counter()
    decisions, decided_by = _decide(scored, left, settings)
    stages["decide"], rss["decide"] = time.perf_counter() - t, self_max_rss_bytes()
    progress("decide", stages["decide"])
    return {
        "stages": stages,
        "peak_rss_after_stage": rss,
        "links_05": scored.filter(pl.col("match_probability") >= 0.5).select(
            _keys(scored), "person_id", "match_probability"
        ),
        "decisions": decisions,
        "decided_by": decided_by,
        "match_threshold": settings.match_threshold,
        "candidate_pairs": pairs.height,
        "prior": float(model.prior),
    }


def _decide(scored: pl.DataFrame, left: pl.DataFrame, settings: Any) -> tuple[pl.DataFrame, str]:
    """Decisions keyed ``record_id`` (evaluation key), ``person_id, decision``; and by what.

    ``registry_link.decide.decisions.decide`` when it exists, else the best pair at p ≥ the match
    threshold is a ``match`` (reported as a fallback).
    """
    try:
        from registry_link.decide.decisions import decide
    except ImportError:
        best = (
            scored.sort(
                ["source", "record_id", "match_probability"], descending=[False, False, True]
            )
            .unique(subset=["source", "record_id"], keep="first", maintain_order=True)
            .filter(pl.col("match_probability") >= settings.match_threshold)
        )
        out = best.select(_keys(best), "person_id", decision=pl.lit("match"))
        return (
            out,
            "fallback: best pair at p >= match threshold (registry_link.decide.decisions absent)",
        )
    links = decide(
        scored,
        left,
        match_threshold=settings.match_threshold,
        review_threshold=settings.review_threshold,
        close_second_margin=settings.close_second_margin,
    )
    return links.select(
        _keys(links), "person_id", "decision"
    ), "registry_link.decide.decisions.decide"


def set_compare_chunk_size(chunk_size: int) -> None:
    """What-if knob: change the compare engine's default ``chunk_size`` in-process (a call
    alone; half of it while training's random pairs are compared beside, a quarter for those,
    see :mod:`registry_link.compare.engine`). Used only with ``--ours-compare-chunk``.
    """
    from registry_link.compare import CompareEngine, compute

    for fn in (CompareEngine.__init__, compute.compare):
        defaults = dict(fn.__kwdefaults__ or {})
        defaults["chunk_size"] = chunk_size
        fn.__kwdefaults__ = defaults


def run_ours(
    partner_path: Path,
    registry_path: Path,
    model_config: Path,
    *,
    via: str = "engine",
    compare_chunk: int | None = None,
    keep_p: float | None = None,
) -> dict[str, Any]:
    """Read the standardised files and link; returns timings, peak RSS, counts and links.

    The dict has ``stages`` (seconds, incl. ``read``), ``peak_rss_after_stage`` (bytes),
    ``end_to_end_s`` (the :data:`LINK_STAGES`, comparable with Splink), ``total_s`` (every
    stage), ``candidate_pairs``, ``links_05`` (``record_id, person_id, match_probability`` of
    the scored pairs at p ≥ 0.5), ``decisions`` (``record_id, person_id, decision``),
    ``decided_by``, ``match_threshold`` and ``versions``.
    """
    import registry_link

    if compare_chunk is not None:
        set_compare_chunk_size(compare_chunk)
    t = time.perf_counter()
    left = pl.read_parquet(partner_path)
    # through the Linker the registry is scanned: it reads the columns the link needs (as
    # Splink reads only the columns its model needs), in its own "read" stage, added below
    registry = pl.scan_parquet(registry_path) if via == "linker" else None
    right = pl.read_parquet(registry_path) if registry is None else registry
    read_s, read_rss = time.perf_counter() - t, self_max_rss_bytes()
    progress("read", read_s)
    if via == "linker":
        res = _with_linker(left, right, model_config)
    else:
        res = _with_engine(left, right, model_config, keep_p)
    read_s += res["stages"].pop("read", 0.0)
    read_rss = max(read_rss, res["peak_rss_after_stage"].pop("read", 0))
    res["stages"] = {"read": read_s, **res["stages"]}
    res["peak_rss_after_stage"] = {"read": read_rss, **res["peak_rss_after_stage"]}
    res["end_to_end_s"] = sum(v for k, v in res["stages"].items() if k in LINK_STAGES)
    res["total_s"] = sum(res["stages"].values())
    res["versions"] = {"registry-link": getattr(registry_link, "__version__", "?")}
    res["compare_chunk"] = compare_chunk
    res["keep_p"] = keep_p
    return res
