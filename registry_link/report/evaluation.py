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
* Slices (:func:`evaluate_slices`): the link scores again on the records of each slice — no
  CIN, birth year only, mistyped birth date, Arabic script, cross-script, unsplit name,
  dependants, women, a relative's CIN, a name variant, not in the registry, all — per source
  and for all sources, with the share of people absent from the registry who were matched. A
  slice that the data given cannot tell (a truth without its label column, no partner
  records, no registry) is reported as not measurable (null), never guessed.
* Pairs (:func:`pairwise_scores`): "same person" or "same household" as a relation on record
  pairs. A pair is predicted when both records share a predicted group, true when they share a
  true group; precision = true predicted pairs / predicted pairs, recall = true predicted pairs
  / true pairs. Counted in closed form (sum of n·(n−1)/2 over groups and group intersections),
  never by listing pairs, and split into pairs within one list and pairs across two lists.
* Households reproduced exactly (:func:`households_reproduced`): of the true households with
  at least two partner records, the share the run gives as one output household holding
  exactly their records.

A *true household* is the beneficiary household when the truth gives one (the optional column
``beneficiary_household_id``: the person's registry household, except for a declared spouse
whom the registry still places in another household — a marriage it has not caught up with —
who belongs to the declaring worker's, as a dependant of an insured worker does), else the
registry household (``household_id``). The exact share is also given against the registry's
households alone (``registry_households_reproduced``), so the two readings can be compared.

Ratios with a zero denominator are ``None`` (undefined), not 0 or 1.
"""

from __future__ import annotations

import json
from pathlib import Path
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

#: Optional truth column: the beneficiary household (see the module's docstring).
BENEFICIARY_HOUSEHOLD: Final[str] = "beneficiary_household_id"

_KEYS: Final[list[str]] = ["source", "record_id"]

#: The slices of :func:`evaluate_slices`, in report order, with what puts a record in each.
SLICES: Final[dict[str, str]] = {
    "no_cin": "the record gives no CIN",
    "birth_year_only": "the record gives only the birth year",
    "mistyped_birth_date": "the record's birth date is not its person's (truth: birth_date_error)",
    "arabic_script": "the record's names are in Arabic script only",
    "cross_script": "the record's names share no script with its registry person's",
    "unsplit_name": "the record's name came as one unsplit full name",
    "dependants": "a spouse, child or other dependant declared by a worker",
    "women": "the record says the person is a woman",
    "relative_cin": "the record carries the CIN of a relative (truth: cin_of_relative)",
    "lookalike_cin": "the record carries the CIN of a relative who resembles its person: same "
    "family name and sex, close age (truth: cin_of_lookalike)",
    "name_variant": "a name is a variant of its person's: no Ben/Bel, one part of a compound "
    "given name (truth: name_variant)",
    "place_spelling": "a commune outside the gazetteer is spelled otherwise than in the registry "
    "(truth: place_spelling)",
    "not_in_registry": "the record's person is not in the registry",
    "all": "every record",
}

#: Truth columns of true/false words and the slice each puts a record in.
_FLAG_SLICES: Final[dict[str, str]] = {
    "cin_of_relative": "relative_cin",
    "cin_of_lookalike": "lookalike_cin",
    "name_variant": "name_variant",
    "place_spelling": "place_spelling",
}
#: The optional truth columns that label slices.
_SLICE_TRUTH: Final[tuple[str, ...]] = ("birth_date_error", *_FLAG_SLICES)

_ARABIC_LETTER: Final[str] = r"[\u0620-\u064A\u0671-\u06D3]"
_LATIN_LETTER: Final[str] = r"[A-Za-z\u00C0-\u024F]"
_NAME_COLUMNS: Final[tuple[str, ...]] = (
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
    "full_name",
)
_TRUE_TEXT: Final[list[str]] = ["true", "1", "yes", "t", "y"]
_FALSE_TEXT: Final[list[str]] = ["false", "0", "no", "f", "n"]


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
    kept = [
        *TRUTH_COLUMNS,
        *([BENEFICIARY_HOUSEHOLD] if BENEFICIARY_HOUSEHOLD in truth.columns else []),
    ]
    t = truth.select(pl.col(c).cast(pl.Utf8).str.strip_chars().replace("", None) for c in kept)
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


def _has_names(frame: pl.DataFrame) -> bool:
    return all(c in frame.columns for c in _NAME_COLUMNS)


def _name_scripts(frame: pl.DataFrame) -> pl.DataFrame:
    """``has_arabic``, ``has_latin``: whether each standardised record's names (as given)
    hold Arabic / Latin letters (the frame must have :data:`_NAME_COLUMNS`)."""
    full = pl.col("full_name")
    return frame.select(
        has_arabic=pl.col("family_name_ar").is_not_null()
        | pl.col("given_name_ar").is_not_null()
        | full.str.contains(_ARABIC_LETTER).fill_null(False),
        has_latin=pl.col("family_name").is_not_null()
        | pl.col("given_name").is_not_null()
        | full.str.contains(_LATIN_LETTER).fill_null(False),
    )


def _record_slices(partners: pl.DataFrame) -> pl.DataFrame:
    """``source, record_id`` and one Boolean column per slice the standardised partner records
    tell (and the scripts of their names, ``_ar``/``_lat``); a slice whose columns the frame
    lacks is left out (not measurable)."""
    cols = set(partners.columns)
    exprs: dict[str, pl.Expr] = {}
    if "cin" in cols:
        exprs["no_cin"] = pl.col("cin").is_null()
    if "birth_date_precision" in cols:
        exprs["birth_year_only"] = (pl.col("birth_date_precision") == "year").fill_null(False)
    if "flags" in cols:
        exprs["unsplit_name"] = pl.col("flags").list.contains("full_name_only").fill_null(False)
    if "relationship" in cols:
        exprs["dependants"] = pl.col("relationship").is_in(["spouse", "child", "other"])
    if "sex" in cols:
        exprs["women"] = (pl.col("sex") == "F").fill_null(False)
    out = partners.select(*_KEYS, **exprs)
    if not _has_names(partners):
        return out
    scripts = _name_scripts(partners)
    return out.with_columns(
        arabic_script=scripts["has_arabic"] & ~scripts["has_latin"],
        _ar=scripts["has_arabic"],
        _lat=scripts["has_latin"],
    )


def _truth_flag(column: str) -> pl.Expr:
    """A truth column of true/false words as Booleans (empty: null)."""
    text = pl.col(column).cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    return pl.when(text.is_in(_TRUE_TEXT)).then(True).when(text.is_in(_FALSE_TEXT)).then(False)


def slice_membership(
    partners: pl.DataFrame | None,
    truth: pl.DataFrame,
    registry: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Which slices (:data:`SLICES`) each record of the truth is in.

    Args:
        partners: the standardised partner records (``source, record_id, cin,
            birth_date_precision, flags, relationship, sex`` and the name columns), or None.
        truth: the ground truth (:data:`TRUTH_COLUMNS`, optionally ``birth_date_error``,
            ``cin_of_relative``, ``cin_of_lookalike``, ``name_variant``, ``place_spelling``).
        registry: the standardised registry (``person_id`` and the name columns), or None;
            needed for ``cross_script``.

    Returns:
        ``source, record_id`` of every truth record and one Boolean column per measurable
        slice (a slice not measurable from what was given has no column); a record the
        partner records lack is null in their slices.
    """
    t = prepare_truth(truth)
    extra = truth.select(
        *(pl.col(c).cast(pl.Utf8) for c in _KEYS),
        *(c for c in _SLICE_TRUTH if c in truth.columns),
    ).with_columns(pl.col(c).str.strip_chars() for c in _KEYS)
    out = t.select(*_KEYS, "person_id").join(extra, on=_KEYS, how="left")
    labels: dict[str, pl.Expr] = {
        "not_in_registry": pl.col("person_id").is_null(),
        "all": pl.lit(True),
    }
    if "birth_date_error" in out.columns:
        labels["mistyped_birth_date"] = (
            pl.col("birth_date_error").cast(pl.Utf8).str.strip_chars().fill_null("") != ""
        )
    for column, label in _FLAG_SLICES.items():
        if column in out.columns:
            labels[label] = _truth_flag(column)
    out = out.with_columns(**labels)
    if partners is not None:
        records = _record_slices(
            partners.with_columns(pl.col(c).cast(pl.Utf8) for c in _KEYS)
        ).unique(_KEYS, keep="first")
        out = out.join(records, on=_KEYS, how="left")
        if registry is not None and "_ar" in out.columns and _has_names(registry):
            persons = pl.concat(
                [registry.select(pl.col("person_id").cast(pl.Utf8)), _name_scripts(registry)],
                how="horizontal",
            ).unique("person_id", keep="first")
            out = out.join(persons, on="person_id", how="left").with_columns(
                cross_script=pl.when(pl.col("person_id").is_null())
                .then(False)
                .otherwise(
                    (pl.col("_ar") | pl.col("_lat"))
                    & ~(
                        (pl.col("_ar") & pl.col("has_arabic"))
                        | (pl.col("_lat") & pl.col("has_latin"))
                    )
                )
            )
    present = [name for name in SLICES if name in out.columns]
    return out.select(*_KEYS, *present)


def evaluate_slices(
    links: pl.DataFrame,
    partners: pl.DataFrame | None,
    truth: pl.DataFrame,
    registry: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The link scores of :func:`evaluate_links` on the records of each slice, per source
    and for all sources, with the people absent from the registry who were matched.

    Args:
        links: ``source, record_id, person_id, decision`` of every partner record.
        partners, truth, registry: as for :func:`slice_membership`.

    Returns:
        One row per (slice, source), slices in :data:`SLICES` order, each slice's sources in
        order then ``all``: ``slice, source, measurable``, the columns of
        :func:`evaluate_links`, then ``not_in_registry`` (records whose person is not in the
        registry), ``absent_matched`` (those with a ``match``), ``absent_matched_share`` and
        ``unlabelled`` (records whose membership is unknown — absent from the partner records
        or with an empty truth label — counted here, in no slice). A slice not measurable from
        what was given has ``measurable`` false and nulls; a slice with no records of a source
        has zero counts and null ratios.
    """
    member = slice_membership(partners, truth, registry)
    keyed = (
        links.select(*_KEYS, "person_id", "decision")
        .join(member, on=_KEYS, how="left")
        .with_columns(
            # as in evaluate_links: a record the truth lacks counts as not in the registry
            not_in_registry=pl.col("not_in_registry").fill_null(True),
            all=pl.lit(True),
        )
    )
    sources = [*sorted(keyed["source"].unique().to_list()), "all"]
    frames = []
    for name in SLICES:
        frame = pl.DataFrame({"slice": [name] * len(sources), "source": sources})
        if name not in member.columns:
            frames.append(frame.with_columns(measurable=pl.lit(False)))
            continue
        inside = keyed.filter(pl.col(name))
        scores = evaluate_links(inside, truth)
        absent = evaluate_links(inside.filter(pl.col("not_in_registry")), truth).select(
            "source", not_in_registry="records", absent_matched="matches"
        )
        unknown = pl.col(name).is_null().sum().alias("unlabelled")
        unlabelled = pl.concat(
            [
                keyed.group_by("source").agg(unknown),
                keyed.select(unknown).select(pl.lit("all").alias("source"), "unlabelled"),
            ]
        )
        frames.append(
            frame.join(scores, on="source", how="left")
            .join(absent, on="source", how="left")
            .join(unlabelled, on="source", how="left")
            .with_columns(measurable=pl.lit(True))
        )
    out = pl.concat(frames, how="diagonal_relaxed")
    counts = [
        "records",
        "in_registry",
        "matches",
        "correct",
        "reviews",
        "found_with_review",
        "not_in_registry",
        "absent_matched",
        "unlabelled",
    ]
    measured = pl.col("measurable")
    return out.with_columns(
        pl.when(measured).then(pl.col(c).fill_null(0)).cast(pl.Int64) for c in counts
    ).select(
        "slice",
        "source",
        "measurable",
        *counts[:6],
        "precision",
        "recall",
        "f1",
        "review_share",
        "recall_with_review",
        *counts[6:8],
        absent_matched_share=_ratio(pl.col("absent_matched"), pl.col("not_in_registry")),
        unlabelled=pl.col("unlabelled"),
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


def true_household_column(truth: pl.DataFrame) -> str:
    """The truth's household column: ``beneficiary_household_id`` when the truth has it, else
    the registry's ``household_id``."""
    return BENEFICIARY_HOUSEHOLD if BENEFICIARY_HOUSEHOLD in truth.columns else "household_id"


def evaluate_households(households: pl.DataFrame, truth: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Pairwise scores of "same household" (``household_key`` against the true household:
    :func:`true_household_column`).

    Only records whose true person is in the registry count: the truth knows no household for
    the others.
    """
    t = prepare_truth(truth)
    column = true_household_column(t)
    return pairwise_scores(
        households, t.filter(pl.col(column).is_not_null()), "household_key", column
    )


#: A true household counts in :func:`households_reproduced` from this many partner records.
HOUSEHOLD_MIN_RECORDS: Final[int] = 2


def households_reproduced(
    households: pl.DataFrame,
    truth: pl.DataFrame,
    min_records: int = HOUSEHOLD_MIN_RECORDS,
    *,
    registry_only: bool = False,
) -> dict[str, Any]:
    """How many true households the run reproduces exactly.

    A *true household* is a household of the truth (:func:`true_household_column`, or the
    registry's ``household_id`` with ``registry_only``) with the partner records whose true
    person is in it; only records whose true person is in the registry
    count, on both sides, as in :func:`evaluate_households` (the truth knows no household for
    the others, so an output household may also hold such records). A true household of at
    least ``min_records`` records is *reproduced* when all its records have the same output
    ``household_key`` and that output household holds no record of another true household. It
    is *split* when its records are in two or more output households (or one has none), and
    *merged* when an output household holding some of its records also holds records of
    another true household (it can be both).

    Args:
        households: ``{source, record_id, household_key}`` (the run's households output).
        truth: the ground truth (:data:`TRUTH_COLUMNS`); records in only one frame are left
            out.
        min_records: the fewest records a true household needs to count.

    Returns:
        ``{min_records, true_household, true_households, reproduced, share, split, merged}``;
        ``true_household`` names the truth column used; ``share`` = reproduced /
        true_households (``None`` when there is none).
    """
    t = prepare_truth(truth)
    column = "household_id" if registry_only else true_household_column(t)
    t = t.filter(pl.col(column).is_not_null())
    j = households.select(
        *(pl.col(c).cast(pl.Utf8) for c in _KEYS), _pred=pl.col("household_key").cast(pl.Utf8)
    ).join(t.select(*_KEYS, _true=column), on=_KEYS)
    # an output household holding records of two or more true households merges them
    merging = (
        j.drop_nulls("_pred")
        .group_by("_pred")
        .agg(pl.col("_true").n_unique().alias("_trues"))
        .filter(pl.col("_trues") > 1)
    )
    merged = pl.col("_pred").is_in(merging["_pred"].implode())
    per_true = (
        j.group_by("_true")
        .agg(
            records=pl.len(),
            split=(pl.col("_pred").n_unique() > 1) | pl.col("_pred").is_null().any(),
            merged=merged.any(),
        )
        .filter(pl.col("records") >= min_records)
    )
    counts = per_true.select(
        true_households=pl.len(),
        reproduced=(~pl.col("split") & ~pl.col("merged")).sum(),
        split=pl.col("split").sum(),
        merged=pl.col("merged").sum(),
    ).row(0, named=True)
    n, k = int(counts["true_households"]), int(counts["reproduced"] or 0)
    return {
        "min_records": min_records,
        "true_household": column,
        "true_households": n,
        "reproduced": k,
        "share": _div(k, n),
        "split": int(counts["split"] or 0),
        "merged": int(counts["merged"] or 0),
    }


def evaluate(
    links: pl.DataFrame,
    clusters: pl.DataFrame,
    households: pl.DataFrame,
    truth: pl.DataFrame,
    partners: pl.DataFrame | None = None,
    registry: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """All scores, JSON-safe: ``{"links": [per-source rows], "same_person": ...,
    "same_household": ..., "households_reproduced": ..., "registry_households_reproduced":
    ..., "slices": [per (slice, source) rows]}`` (:func:`households_reproduced` on
    ``households``, against the true households, then against the registry's alone).

    ``partners`` (the standardised partner records) and ``registry`` (the standardised
    registry) make the slices they tell measurable (:func:`evaluate_slices`).
    """
    return {
        "links": evaluate_links(links, truth).to_dicts(),
        "same_person": evaluate_clusters(clusters, truth),
        "same_household": evaluate_households(households, truth),
        "households_reproduced": households_reproduced(households, truth),
        "registry_households_reproduced": households_reproduced(
            households, truth, registry_only=True
        ),
        "slices": evaluate_slices(links, partners, truth, registry).to_dicts(),
    }


def write_evaluation(scores: dict[str, Any], folder: Path) -> Path:
    """Write :func:`evaluate`'s scores as ``evaluation.json`` into a run folder; its path."""
    path = folder / "evaluation.json"
    path.write_text(json.dumps(scores, indent=2, default=str), encoding="utf-8")
    return path
