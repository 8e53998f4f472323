"""Writing a run's outputs into a folder: Parquet for programs, CSV for people, JSON summary.

CSV files are UTF-8 with a byte-order mark so that Excel shows Arabic names correctly; list
columns (flags) are joined with ``|``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from registry_link.errors import UsageError


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(c).list.join("|") for c in lists) if lists else frame


def write_frame(frame: pl.DataFrame, out_dir: Path, stem: str) -> dict[str, Path]:
    """Write ``<stem>.parquet`` and ``<stem>.csv`` (UTF-8 with BOM) into ``out_dir``."""
    parquet = out_dir / f"{stem}.parquet"
    csv = out_dir / f"{stem}.csv"
    frame.write_parquet(parquet)
    _csv_ready(frame).write_csv(csv, include_bom=True)
    return {f"{stem}.parquet": parquet, f"{stem}.csv": csv}


def write_outputs(
    out_dir: str | Path,
    links: pl.DataFrame,
    review: pl.DataFrame,
    households: pl.DataFrame,
    summary: dict[str, Any],
) -> dict[str, Path]:
    """Write links, review, households (Parquet + CSV) and ``summary.json`` into ``out_dir``.

    Returns:
        Output name → path.

    Raises:
        UsageError: ``out_dir`` exists and is not a folder, or cannot be created.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError, PermissionError) as exc:
        raise UsageError(f"cannot write outputs into {out}: {exc}; give another --out") from exc
    written: dict[str, Path] = {}
    written |= write_frame(links, out, "links")
    written |= write_frame(review, out, "review")
    written |= write_frame(households, out, "households")
    summary_path = out / "summary.json"
    summary_path.write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    written["summary.json"] = summary_path
    return written
