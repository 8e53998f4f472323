"""Data-quality summary of a standardised list: fill rates, flags, script mix, date precision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
from rich.console import Console, Group
from rich.table import Table

from registry_link.schema import DATE_PRECISIONS, FLAG_CODES, STANDARDISED_SCHEMA

#: Columns whose fill rate is reported (the ones a user maps or that matching relies on).
FILL_FIELDS: tuple[str, ...] = (
    "record_id",
    "cin",
    "cnss_number",
    "registry_person_id",
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
    "full_name",
    "father_given_name",
    "family_lat",
    "given_lat",
    "name_token_keys",
    "sex",
    "birth_year",
    "birth_date",
    "birth_place",
    "residence",
    "principal_record_id",
    "relationship",
    "person_id",
    "household_id",
    "relation_to_head",
)
SCRIPT_MIX: tuple[str, ...] = ("arabic_only", "latin_only", "both", "none")
_ARABIC = r"[\u0620-\u064A\u0671-\u06D3]"
_LATIN = r"[A-Za-z\u00C0-\u024F]"


@dataclass(frozen=True)
class QualityReport:
    """Summary of one standardised list. ``rows`` are the records kept (every row of the file
    with text in some column); ``blank_rows`` the rows blank in every column, skipped."""

    source: str
    rows: int
    fill_rate: dict[str, float] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    flagged_rows: int = 0
    script_mix: dict[str, int] = field(default_factory=dict)
    birth_date_precision: dict[str, int] = field(default_factory=dict)
    blank_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the report."""
        return {
            "source": self.source,
            "rows": self.rows,
            "fill_rate": dict(self.fill_rate),
            "flags": dict(self.flags),
            "flagged_rows": self.flagged_rows,
            "script_mix": dict(self.script_mix),
            "birth_date_precision": dict(self.birth_date_precision),
            "blank_rows": self.blank_rows,
        }

    def render(self) -> Group:
        """Rich renderable: a summary line and three tables."""
        fills = Table(title="Fill rate", show_edge=False)
        fills.add_column("field")
        fills.add_column("filled", justify="right")
        for name, rate in self.fill_rate.items():
            if rate > 0:
                fills.add_row(name, f"{rate:6.1%}")
        flags = Table(title=f"Flags ({self.flagged_rows} flagged rows)", show_edge=False)
        flags.add_column("reason")
        flags.add_column("rows", justify="right")
        flags.add_column("meaning")
        for code, count in self.flags.items():
            if count:
                flags.add_row(code, str(count), FLAG_CODES[code])
        mix = Table(title="Names and birth dates", show_edge=False)
        mix.add_column("measure")
        mix.add_column("rows", justify="right")
        for key, count in self.script_mix.items():
            mix.add_row(f"names: {key.replace('_', ' ')}", str(count))
        for key, count in self.birth_date_precision.items():
            mix.add_row(f"birth date: {key.replace('_', ' ')}", str(count))
        head = f"[bold]{self.source}[/bold]: {self.rows} rows, none dropped"
        if self.blank_rows:
            head += f" ({self.blank_rows} blank row(s) skipped: no text in any column)"
        return Group(head, fills, flags, mix)

    def print(self, console: Console | None = None) -> None:
        """Print the report with rich."""
        (console or Console()).print(self.render())


def quality_report(frame: pl.DataFrame, *, blank_rows: int = 0) -> QualityReport:
    """Summarise a standardised frame (see :data:`registry_link.schema.STANDARDISED_SCHEMA`);
    ``blank_rows``: rows of its file skipped as blank (see :class:`registry_link.io.ReadCounts`)."""
    rows = frame.height
    fill_exprs = []
    for name in FILL_FIELDS:
        if name not in frame.columns:
            continue
        filled = pl.col(name).is_not_null()
        if STANDARDISED_SCHEMA.get(name) == pl.List(pl.Utf8):
            filled = filled & (pl.col(name).list.len() > 0)
        fill_exprs.append(filled.mean().fill_null(0.0).alias(name))
    fill = frame.select(fill_exprs).row(0, named=True) if rows else {}
    flag_counts = frame.select(pl.col("flags").explode().value_counts()).unnest("flags")
    counted = dict(flag_counts.drop_nulls("flags").iter_rows()) if rows else {}
    full = pl.col("full_name")
    has_ar = (
        pl.col("family_name_ar").is_not_null()
        | pl.col("given_name_ar").is_not_null()
        | full.str.contains(_ARABIC).fill_null(False)
    )
    has_lat = (
        pl.col("family_name").is_not_null()
        | pl.col("given_name").is_not_null()
        | full.str.contains(_LATIN).fill_null(False)
    )
    mix = frame.select(
        arabic_only=(has_ar & ~has_lat).sum(),
        latin_only=(~has_ar & has_lat).sum(),
        both=(has_ar & has_lat).sum(),
        none=(~has_ar & ~has_lat).sum(),
    ).row(0, named=True)
    precision = dict(
        frame.select(pl.col("birth_date_precision").fill_null("unknown").value_counts())
        .unnest("birth_date_precision")
        .iter_rows()
    )
    source = frame["source"][0] if rows else ""
    return QualityReport(
        source=source,
        rows=rows,
        fill_rate={k: round(float(v), 4) for k, v in fill.items()},
        flags={code: int(counted.get(code, 0)) for code in FLAG_CODES},
        flagged_rows=int(frame.select((pl.col("flags").list.len() > 0).sum()).item()),
        script_mix={k: int(mix[k] or 0) for k in SCRIPT_MIX},
        birth_date_precision={k: int(precision.get(k, 0)) for k in (*DATE_PRECISIONS, "unknown")},
        blank_rows=blank_rows,
    )
