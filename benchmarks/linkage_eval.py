"""Accuracy of a linkage against the ground truth, the same way for every system.

A system's output is reduced to at most one registry person per partner record
(``record_id -> person_id``). Against the truth (``record_id -> person_id``, null when the person
is not in the registry):

* true positive: a predicted person equal to the true one;
* false positive: a predicted person that is not the true one (incl. records not in the registry);
* false negative: a record whose true person was not predicted (no link, or a wrong one).

A wrong link therefore counts once as a false positive and once as a false negative.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl


@dataclass(frozen=True)
class Accuracy:
    """Precision, recall and F1 of one system's links, with the counts behind them."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float | int]:
        """The figures as a plain dict (for the JSON result files)."""
        return asdict(self)


def best_per_record(
    pairs: pl.DataFrame, threshold: float, *, id_col: str = "record_id"
) -> pl.DataFrame:
    """Keep, for each partner record, its highest-probability pair at ``p >= threshold``.

    ``pairs`` has ``record_id, person_id, match_probability``; ties are broken by the
    smaller person_id so the result is deterministic. Returns ``record_id, person_id``.
    """
    return (
        pairs.filter(pl.col("match_probability") >= threshold)
        .sort([id_col, "match_probability", "person_id"], descending=[False, True, False])
        .unique(subset=[id_col], keep="first", maintain_order=True)
        .select(id_col, "person_id")
    )


def accuracy(predicted: pl.DataFrame, truth: pl.DataFrame) -> Accuracy:
    """Precision/recall/F1 of ``predicted`` (record_id, person_id) against ``truth``.

    ``truth`` has one row per partner record (``record_id``, ``person_id`` null if the person
    is not in the registry); predicted rows with a null person_id are ignored.
    """
    pred = predicted.filter(pl.col("person_id").is_not_null()).select(
        "record_id", pl.col("person_id").cast(pl.Utf8).alias("pred")
    )
    joined = truth.select("record_id", pl.col("person_id").cast(pl.Utf8).alias("true")).join(
        pred, on="record_id", how="left"
    )
    correct = (pl.col("pred") == pl.col("true")).fill_null(False)
    counts = joined.select(
        tp=correct.sum(),
        fp=(pl.col("pred").is_not_null() & ~correct).sum(),
        fn=(pl.col("true").is_not_null() & ~correct).sum(),
    ).row(0)
    tp, fp, fn = (int(c) for c in counts)
    extra_fp = pred.join(truth.select("record_id"), on="record_id", how="anti").height
    fp += extra_fp  # predictions for records the truth does not know are wrong
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Accuracy(tp, fp, fn, precision, recall, f1)


def accuracy_by_source(predicted: pl.DataFrame, truth: pl.DataFrame) -> dict[str, Accuracy]:
    """:func:`accuracy` per partner source (record ids are ``<source>:<record_id>``)."""
    source = pl.col("record_id").str.split(":").list.first()
    out: dict[str, Accuracy] = {}
    for name in sorted(truth.select(source.unique()).to_series().to_list()):
        out[name] = accuracy(predicted.filter(source == name), truth.filter(source == name))
    return out
