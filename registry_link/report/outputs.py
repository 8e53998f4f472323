"""Writing a run's outputs into a folder: Parquet for programs, CSV for people, JSON summary.

Files written (each replaced whole: written to a temporary name, then renamed):

* ``links.parquet`` / ``links.csv`` — one row per partner record, decision and reason;
* ``review.parquet`` / ``review.csv`` — the pairs awaiting a reviewer, partner fields ``p_*``
  and registry fields ``r_*`` side by side, probability, contributions and their explanation;
* ``households.parquet`` / ``households.csv`` — one row per household member with its flags;
* ``summary.json`` — the run's summary (counts, timings, versions, inputs) completed with
  counts computed from the frames written and the meaning of each household flag.

CSV files are UTF-8 with a byte-order mark (BOM) so that Excel shows Arabic names correctly;
list columns (``flags``) are joined with ``|``. ``summary.json`` is UTF-8 without BOM, Arabic
kept as is, non-finite numbers written as ``null``.
"""

from __future__ import annotations

import json
import math
import os
import platform
from pathlib import Path
from typing import Any, Final

import polars as pl

from registry_link import __version__
from registry_link.errors import UsageError
from registry_link.households.build import HOUSEHOLD_FLAGS

#: How the CSV files are encoded (stated in summary.json too).
CSV_ENCODING: Final[str] = "UTF-8 with BOM"


#: Column of links and households: the partner record's own reason codes (see
#: :data:`registry_link.schema.FLAG_CODES`), empty when the record was not flagged.
RECORD_FLAGS = "record_flags"


def with_record_flags(frame: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (rows keyed by ``source, record_id``) with ``record_flags``: each partner
    record's reason codes from the standardised ``records`` (its ``flags``), so that the
    outputs say which records were flagged and why. Rows of no partner record get ``[]``."""
    if frame.is_empty() and not {"source", "record_id"} <= set(frame.columns):
        return frame
    flags = records.select("source", "record_id", pl.col("flags").alias(RECORD_FLAGS)).unique(
        ["source", "record_id"], keep="first"
    )
    joined = frame.drop(RECORD_FLAGS, strict=False).join(
        flags, on=["source", "record_id"], how="left", maintain_order="left"
    )
    return joined.with_columns(pl.col(RECORD_FLAGS).fill_null(pl.lit([], dtype=pl.List(pl.Utf8))))


def csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with list columns joined by ``|`` (CSV has no lists)."""
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(c).cast(pl.List(pl.Utf8)).list.join("|") for c in lists)


def write_frame(frame: pl.DataFrame, out_dir: Path, stem: str) -> dict[str, Path]:
    """Write ``<stem>.parquet`` and ``<stem>.csv`` (UTF-8 with BOM) into ``out_dir``.

    Raises:
        UsageError: a file cannot be written.
    """
    parquet, csv = out_dir / f"{stem}.parquet", out_dir / f"{stem}.csv"
    try:
        tmp = parquet.with_suffix(".parquet.tmp")
        frame.write_parquet(tmp)
        os.replace(tmp, parquet)
        tmp = csv.with_suffix(".csv.tmp")
        csv_ready(frame).write_csv(tmp, include_bom=True)
        os.replace(tmp, csv)
    except OSError as exc:
        raise UsageError(f"cannot write {stem} into {out_dir}: {exc}; give another --out") from exc
    return {f"{stem}.parquet": parquet, f"{stem}.csv": csv}


def _json_safe(value: Any) -> Any:
    """Nested dicts/lists with non-finite floats as None and other objects as text."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _counts(frame: pl.DataFrame, *cols: str) -> dict[str, int]:
    if not cols or any(c not in frame.columns for c in cols):
        return {}
    g = frame.group_by(cols).len().sort(list(cols))
    return {
        "|".join("" if v is None else str(v) for v in row[:-1]): int(row[-1])
        for row in g.iter_rows()
    }


def output_counts(
    links: pl.DataFrame, review: pl.DataFrame, households: pl.DataFrame
) -> dict[str, Any]:
    """Counts of the frames written: decisions (overall and per source), review, flags."""
    flags: dict[str, int] = {}
    if "flags" in households.columns:
        exploded = households.select(pl.col("flags").explode().drop_nulls().alias("flag"))
        flags = {k: v for k, v in _counts(exploded, "flag").items() if k}
    return {
        "partner_records": links.height,
        "decisions": _counts(links, "decision"),
        "decisions_by_source": {
            src: _counts(links.filter(pl.col("source") == src), "decision")
            for src in sorted(links["source"].unique().to_list())
        }
        if "source" in links.columns
        else {},
        "review_rows": review.height,
        "review_records": review.select("source", "record_id").n_unique()
        if {"source", "record_id"} <= set(review.columns) and review.height
        else 0,
        "household_members": households.height,
        "households": households["household_key"].n_unique()
        if "household_key" in households.columns
        else 0,
        "household_flags": flags,
    }


def write_outputs(
    out_dir: str | Path,
    links: pl.DataFrame,
    review: pl.DataFrame,
    households: pl.DataFrame,
    summary: dict[str, Any],
) -> dict[str, Path]:
    """Write links, review, households (Parquet + CSV) and ``summary.json`` into ``out_dir``.

    ``summary`` is written as given, plus ``output_counts`` (:func:`output_counts`),
    ``household_flag_descriptions``, ``csv_encoding``, ``files`` and, unless present,
    ``versions`` (registry-link, polars, Python).

    Returns:
        Output file name → path.

    Raises:
        UsageError: ``out_dir`` exists and is not a folder, or a file cannot be written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write outputs into {out}: {exc}; give another --out") from exc
    written: dict[str, Path] = {}
    written |= write_frame(links, out, "links")
    written |= write_frame(review, out, "review")
    written |= write_frame(households, out, "households")
    full = dict(summary)
    full.setdefault(
        "versions",
        {
            "registry_link": __version__,
            "polars": pl.__version__,
            "python": platform.python_version(),
        },
    )
    full["output_counts"] = output_counts(links, review, households)
    full["household_flag_descriptions"] = dict(HOUSEHOLD_FLAGS)
    full["csv_encoding"] = CSV_ENCODING
    summary_path = out / "summary.json"
    full["files"] = sorted([*written, summary_path.name])
    text = json.dumps(_json_safe(full), indent=2, ensure_ascii=False, allow_nan=False)
    try:
        tmp = summary_path.with_suffix(".json.tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, summary_path)
    except OSError as exc:
        raise UsageError(f"cannot write {summary_path}: {exc}; give another --out") from exc
    written["summary.json"] = summary_path
    return written
