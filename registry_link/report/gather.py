"""What the run report shows, gathered from a run folder into small, bounded frames.

Only the files a run folder holds are read (``summary.json``, ``links/review/households``
Parquet, ``model.json`` and ``evaluation.json`` when present), and only the columns needed.
Every frame here is aggregated or sampled: its size depends on the number of lists, fields,
weight bins and comparison levels, never on the number of records or pairs (the report stays
small at national scale).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from registry_link.errors import InputError, UsageError
from registry_link.report.evaluation import prepare_truth

#: Review pairs shown with their waterfall of per-field bits (a bounded sample).
REVIEW_SAMPLE_SIZE: Final[int] = 8
#: Match weights are counted in bins of this many bits, clipped to :data:`WEIGHT_RANGE`.
WEIGHT_BIN_BITS: Final[float] = 1.0
WEIGHT_RANGE: Final[tuple[float, float]] = (-40.0, 80.0)
#: Households shown per flag as examples.
FLAG_EXAMPLES: Final[int] = 3
#: The partner and registry fields shown side by side for a review pair.
REVIEW_FIELDS: Final[tuple[str, ...]] = (
    "given_name",
    "family_name",
    "given_name_ar",
    "family_name_ar",
    "full_name",
    "father_given_name",
    "cin",
    "sex",
    "birth_date_raw",
    "birth_place_raw",
    "residence_raw",
    "relationship",
)
#: Required files of a run folder (written by ``registry-link match`` / ``demo``).
RUN_FILES: Final[tuple[str, ...]] = (
    "summary.json",
    "links.parquet",
    "review.parquet",
    "households.parquet",
)


@dataclass(frozen=True)
class RunData:
    """Everything the report shows, aggregated.

    Attributes:
        run_dir: the run folder.
        summary: ``summary.json`` as written.
        model: ``model.json`` as written, or ``None`` when the folder has none.
        evaluation: ``evaluation.json`` (scores against a truth), or ``None``.
        weights: best-pair match weight histogram, ``{source, decision, bin, records}``.
        decisions: ``{source, decision, records}``.
        reasons: ``{decision, reason, records}``: the reasons with their numbers blanked.
        review_sample: up to :data:`REVIEW_SAMPLE_SIZE` review pairs (best candidate of records
            spread over the probability range), with their ``bf_*`` and side-by-side fields.
        household_sizes: ``{members, households}``.
        household_flags: ``{flag, members, households, examples}``.
        truth: scores against a ground truth given to the report, or ``None``.
    """

    run_dir: Path
    summary: dict[str, Any]
    model: dict[str, Any] | None
    evaluation: dict[str, Any] | None
    weights: pl.DataFrame
    decisions: pl.DataFrame
    reasons: pl.DataFrame
    review_sample: pl.DataFrame
    household_sizes: pl.DataFrame
    household_flags: pl.DataFrame
    truth: TruthScores | None


@dataclass(frozen=True)
class TruthScores:
    """Accuracy against a ground truth, from the links alone.

    Attributes:
        per_list: precision, recall, review share (as
            :func:`~registry_link.report.evaluation.evaluate_links`) per source and ``all``.
        slices: the same scores per ``slice`` and source.
        curve: precision and recall of the best candidate over a match-weight threshold,
            ``{source, threshold, precision, recall}``.
    """

    per_list: pl.DataFrame
    slices: pl.DataFrame
    curve: pl.DataFrame


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            str(path), f"cannot be read: {exc}", expected="the JSON written by registry-link"
        ) from exc
    if not isinstance(data, dict):
        raise InputError(str(path), "is not a JSON object", expected="the JSON of a run")
    return data


def _read_parquet(path: Path, wanted: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The file's ``wanted`` columns that it has (all when ``wanted`` is None)."""
    try:
        schema = pl.read_parquet_schema(path)
        cols = list(schema) if wanted is None else [c for c in schema if c in wanted]
        return pl.read_parquet(path, columns=cols)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(
            str(path), f"cannot be read: {exc}", expected="a Parquet file written by registry-link"
        ) from exc


def check_run_dir(run_dir: Path) -> None:
    """Raise :class:`InputError` unless ``run_dir`` holds a run's outputs."""
    if not run_dir.is_dir():
        raise InputError(
            str(run_dir), "is not a folder", expected="the --out folder of `registry-link match`"
        )
    missing = [f for f in RUN_FILES if not (run_dir / f).is_file()]
    if missing:
        raise InputError(
            str(run_dir),
            f"lacks {', '.join(missing)}",
            expected="the --out folder of a finished `registry-link match` or `demo` run",
        )


def weight_histogram(links: pl.DataFrame, bin_bits: float = WEIGHT_BIN_BITS) -> pl.DataFrame:
    """Records per source, decision and match-weight bin (best pairs; no candidate: none).

    Weights are clipped to :data:`WEIGHT_RANGE` so that the number of bins is bounded.
    """
    lo, hi = WEIGHT_RANGE
    return (
        links.filter(pl.col("match_weight").is_finite())
        .with_columns(
            bin=(pl.col("match_weight").clip(lo, hi - bin_bits) / bin_bits).floor() * bin_bits
        )
        .group_by("source", "decision", "bin")
        .agg(records=pl.len())
        .sort("source", "decision", "bin")
    )


def decision_counts(links: pl.DataFrame) -> pl.DataFrame:
    """``{source, decision, records}``."""
    return links.group_by("source", "decision").agg(records=pl.len()).sort("source", "decision")


#: Numbers and identifiers in a reason, blanked to group the reasons by kind.
_NUMBER = r"[-+]?\d[\d.]*(?:e-?\d+)?"


def reason_kinds(links: pl.DataFrame) -> pl.DataFrame:
    """``{decision, reason, records}``: reasons grouped with their numbers blanked (``…``)."""
    kind = pl.col("reason").fill_null("").str.split("; ").list.first().str.replace_all(_NUMBER, "…")
    return (
        links.group_by("decision", kind.alias("reason"))
        .agg(records=pl.len())
        .sort("records", descending=True)
    )


def review_sample(review: pl.DataFrame, size: int = REVIEW_SAMPLE_SIZE) -> pl.DataFrame:
    """Up to ``size`` review pairs: the best candidate of records spread evenly over the
    probability range (lowest to highest), in that order."""
    if review.is_empty():
        return review
    best = review
    if "candidate_rank" in review.columns:
        best = review.filter(
            pl.col("candidate_rank") == pl.col("candidate_rank").min().over("source", "record_id")
        )
    best = best.unique(["source", "record_id"], keep="first").sort(
        "match_probability", "source", "record_id"
    )
    if best.height <= size:
        return best
    step = (best.height - 1) / (size - 1)
    return best[[round(i * step) for i in range(size)]]


def household_sizes(households: pl.DataFrame) -> pl.DataFrame:
    """``{members, households}``: how many households have each number of members."""
    return (
        households.group_by("household_key")
        .agg(members=pl.len())
        .group_by("members")
        .agg(households=pl.len())
        .sort("members")
    )


def household_flags(households: pl.DataFrame, examples: int = FLAG_EXAMPLES) -> pl.DataFrame:
    """``{flag, members, households, examples}``: members and households per flag, and the
    first few household keys with it."""
    flagged = households.select("household_key", "flags").explode("flags").drop_nulls("flags")
    return (
        flagged.group_by("flags")
        .agg(
            members=pl.len(),
            households=pl.col("household_key").n_unique(),
            examples=pl.col("household_key").unique().sort().head(examples),
        )
        .rename({"flags": "flag"})
        .sort("members", descending=True)
    )


#: The slices scored with a ground truth: (name, which records).
SLICES: Final[tuple[tuple[str, pl.Expr], ...]] = (
    ("workers", pl.col("role") == "principal"),
    ("dependants", pl.col("role").is_not_null() & (pl.col("role") != "principal")),
    (
        "best pair without CIN",
        pl.col("person_id").is_not_null() & (pl.col("bf_cin").fill_null(0.0) == 0.0),
    ),
    ("household evidence used", pl.col("bf_household").fill_null(0.0) != 0.0),
)


def _with_truth(links: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """The links' keys, person, decision, weight (and ``bf_cin``/``bf_household`` where
    present) with the true person (``true_person``) and whether the best candidate is that
    person (``correct``); ``truth`` prepared."""
    keys = ["source", "record_id"]
    extra = [c for c in ("bf_cin", "bf_household") if c in links.columns]
    return (
        links.select(*keys, "person_id", "decision", "match_weight", *extra)
        .join(truth.select(*keys, true_person="person_id"), on=keys, how="left")
        .with_columns(correct=(pl.col("person_id") == pl.col("true_person")).fill_null(False))
    )


def _link_scores(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Precision, recall and review share per ``by``, as
    :func:`~registry_link.report.evaluation.evaluate_links` defines them (a test holds them equal),
    from :func:`_with_truth` rows: the truth is joined once for every table of the report."""
    is_match, is_review = pl.col("decision") == "match", pl.col("decision") == "review"
    return (
        frame.group_by(by)
        .agg(
            records=pl.len(),
            in_registry=pl.col("true_person").is_not_null().sum(),
            matches=is_match.sum(),
            correct=(is_match & pl.col("correct")).sum(),
            reviews=is_review.sum(),
            found_with_review=((is_match | is_review) & pl.col("correct")).sum(),
        )
        .with_columns(
            precision=pl.when(pl.col("matches") > 0).then(pl.col("correct") / pl.col("matches")),
            recall=pl.when(pl.col("in_registry") > 0).then(
                pl.col("correct") / pl.col("in_registry")
            ),
            review_share=pl.col("reviews") / pl.col("records"),
            recall_with_review=pl.when(pl.col("in_registry") > 0).then(
                pl.col("found_with_review") / pl.col("in_registry")
            ),
        )
        .sort(by)
    )


def list_scores(joined: pl.DataFrame) -> pl.DataFrame:
    """:func:`_link_scores` per source, then for ``all``."""
    per_source = _link_scores(joined, ["source"])
    overall = _link_scores(joined.with_columns(source=pl.lit("all")), ["source"])
    return pl.concat([per_source, overall], how="vertical")


def slice_scores(joined: pl.DataFrame) -> pl.DataFrame:
    """Scores per slice (:data:`SLICES`) and source, then per slice for all sources.

    Args:
        joined: :func:`_with_truth` of the links, with ``role`` (from the households) and the
            links' ``bf_cin``/``bf_household`` where they exist.

    Returns:
        ``{slice, source, records, in_registry, matches, correct, reviews, precision, recall,
        review_share}``; a record in several slices counts in each.
    """
    present = [
        (name, rule) for name, rule in SLICES if set(rule.meta.root_names()) <= set(joined.columns)
    ]
    if not present:
        return pl.DataFrame(schema={"slice": pl.Utf8, "source": pl.Utf8})
    parts = []
    for name, rule in present:
        members = joined.filter(rule.fill_null(False))
        parts.append(list_scores(members).with_columns(slice=pl.lit(name)))
    scores = pl.concat(parts, how="vertical")
    return scores.select("slice", *(c for c in scores.columns if c != "slice"))


def _curve(joined: pl.DataFrame, bin_bits: float) -> pl.DataFrame:
    lo, hi = WEIGHT_RANGE
    j = joined.with_columns(
        bin=(pl.col("match_weight").clip(lo, hi - bin_bits) / bin_bits).floor() * bin_bits,
        candidate=pl.col("person_id").is_not_null() & pl.col("match_weight").is_finite(),
    )
    both = pl.concat([j, j.with_columns(source=pl.lit("all"))])
    in_registry = both.group_by("source").agg(in_registry=pl.col("true_person").is_not_null().sum())
    per_bin = (
        both.filter(pl.col("candidate"))
        .group_by("source", "bin")
        .agg(matches=pl.len(), correct=pl.col("correct").sum())
        .sort("source", pl.col("bin"), descending=[False, True])
        .with_columns(
            matches=pl.col("matches").cum_sum().over("source"),
            correct=pl.col("correct").cum_sum().over("source"),
        )
        .join(in_registry, on="source")
    )
    return per_bin.select(
        "source",
        threshold=pl.col("bin"),
        matches="matches",
        precision=pl.col("correct") / pl.col("matches"),
        recall=pl.when(pl.col("in_registry") > 0).then(pl.col("correct") / pl.col("in_registry")),
    ).sort("source", "threshold")


def precision_recall_curve(
    links: pl.DataFrame, truth: pl.DataFrame, bin_bits: float = WEIGHT_BIN_BITS
) -> pl.DataFrame:
    """Precision and recall of "the best candidate is the person" over a weight threshold.

    At threshold ``t`` a record is matched to its best candidate when its weight is at least
    ``t`` (ignoring the close-second rule). Counted per weight bin and summed from the top, so
    the work is linear in the records and the result has one row per bin and source.

    Returns:
        ``{source, threshold, matches, precision, recall}`` (``source`` = ``all`` included).
    """
    return _curve(_with_truth(links, prepare_truth(truth)), bin_bits)


def truth_scores(links: pl.DataFrame, households: pl.DataFrame, truth: pl.DataFrame) -> TruthScores:
    """Scores per list, per slice and the precision–recall curve (see :class:`TruthScores`).

    The truth is prepared and joined to the links once, for every table.
    """
    keys = ["source", "record_id"]
    t = prepare_truth(truth)
    joined = _with_truth(links, t).join(
        households.select(*keys, "role").unique(keys), on=keys, how="left"
    )
    return TruthScores(
        per_list=list_scores(joined),
        slices=slice_scores(joined),
        curve=_curve(joined, WEIGHT_BIN_BITS),
    )


def read_truth(path: Path) -> pl.DataFrame:
    """A ground-truth CSV (``source, record_id, true_person_uid, person_id, household_id``)."""
    try:
        truth = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(
            str(path), f"cannot be read: {exc}", expected="a ground-truth CSV file"
        ) from exc
    try:
        prepare_truth(truth)  # checks the columns and duplicates
    except UsageError as exc:
        raise InputError(str(path), str(exc), expected="one row per partner record") from exc
    return truth


_LINK_COLUMNS: Final[tuple[str, ...]] = (
    "source",
    "record_id",
    "person_id",
    "match_probability",
    "match_weight",
    "decision",
    "reason",
)


def gather(run_dir: Path, truth: Path | None = None) -> RunData:
    """Read a run folder (and a ground truth, if given) into :class:`RunData`.

    Raises:
        InputError: the folder is not a run's output folder, or a file cannot be read.
        UsageError: the ground truth lacks a column or repeats a record.
    """
    check_run_dir(run_dir)
    summary = _read_json(run_dir / "summary.json")
    model = _read_json(run_dir / "model.json") if (run_dir / "model.json").is_file() else None
    evaluation = (
        _read_json(run_dir / "evaluation.json") if (run_dir / "evaluation.json").is_file() else None
    )
    link_schema = pl.read_parquet_schema(run_dir / "links.parquet")
    wanted = (*_LINK_COLUMNS, *(c for c in link_schema if c.startswith("bf_")))
    links = _read_parquet(run_dir / "links.parquet", wanted)
    review = _read_parquet(run_dir / "review.parquet")
    households = _read_parquet(
        run_dir / "households.parquet", ("household_key", "source", "record_id", "role", "flags")
    )
    return RunData(
        run_dir=run_dir,
        summary=summary,
        model=model,
        evaluation=evaluation,
        weights=weight_histogram(links),
        decisions=decision_counts(links),
        reasons=reason_kinds(links),
        review_sample=review_sample(review),
        household_sizes=household_sizes(households),
        household_flags=household_flags(households),
        truth=truth_scores(links, households, read_truth(truth)) if truth else None,
    )
