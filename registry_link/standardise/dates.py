"""Birth dates: many written forms -> date, year and precision, vectorised.

Accepted (after trimming, Arabic-Indic digits -> ASCII, a trailing time ``00:00:00`` dropped):

==========================================  ==========================================
``dd/mm/yyyy``, ``d/m/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy``  a day
``yyyy-mm-dd``, ``yyyy/mm/dd``, ``yyyymmdd``   a day
``d/m/yy`` (any of ``/ - .``)              a day; ``yy`` -> ``20yy`` when that is not after the
                                           reference year, else ``19yy``
Excel serial days ``29221``, ``29221.0``   a day (5 digits, origin 1899-12-30)
``1956``, ``00/00/1956``, ``0/0/1956``,    year only (a zero or ``x`` day or month means unknown)
``xx/xx/1956``, ``1956-00-00``
==========================================  ==========================================

A declared format (``formats.birth_date``, strftime) is tried first; values it cannot read fall
back to the automatic forms. ``01/01/YYYY`` keeps its date with precision ``day_or_year``
(flag ``birth_date_day_or_year``). An impossible date (31/02/1980) or an unknown form is
*unparseable* (parsed columns null, flag ``birth_date_unparseable``). A year before 1900 or
after the reference year is kept and flagged ``birth_date_out_of_range``. Empty values and
word placeholders (``-``, ``N/A``, ``néant``) are missing: all null, no flag. ``?``, ``??``
and zeros (``0``, ``00/00/0000``) are unparseable: someone typed something that is not a date.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from registry_link.standardise.text import (
    WORD_PLACEHOLDER_KEYS,
    ascii_digits_expr,
    clean_text_expr,
    is_placeholder_expr,
)

#: Columns added by :func:`parse_birth_dates`, with their dtypes.
BIRTH_DATE_COLUMNS: dict[str, pl.DataType] = {
    "birth_date": pl.Date(),
    "birth_year": pl.Int16(),
    "birth_date_precision": pl.Utf8(),
    "birth_date_unparseable": pl.Boolean(),
    "birth_date_out_of_range": pl.Boolean(),
    "birth_date_day_or_year": pl.Boolean(),
}

F = TypeVar("F", pl.DataFrame, pl.LazyFrame)

_SEP = r"[/.\-]"
_UNK = r"(?:0{1,2}|[xX?]{1,2})"
_DMY4 = rf"^(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}})$"
_YMD = rf"^(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})$"
_DMY2 = rf"^(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{2}})$"
_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_YEAR_ONLY = (
    rf"^(?:{_UNK}{_SEP}{_UNK}{_SEP})?(\d{{4}})$"
    rf"|^(\d{{4}}){_SEP}{_UNK}{_SEP}{_UNK}$"
    rf"|^{_UNK}{_SEP}\d{{1,2}}{_SEP}(\d{{4}})$"
)
_SERIAL = r"^(\d{5})(?:\.\d+)?$"
_TIME_SUFFIX = r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$"
_EXCEL_EPOCH = pl.date(1899, 12, 30)


def _int(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.Int32, strict=False)


def _days_in_month(y: pl.Expr, m: pl.Expr) -> pl.Expr:
    leap = ((y % 4) == 0) & (((y % 100) != 0) | ((y % 400) == 0))
    return (
        pl.when(m == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(m.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )


def _pivot(yy: pl.Expr, reference_year: int) -> pl.Expr:
    return pl.when(2000 + yy <= reference_year).then(2000 + yy).otherwise(1900 + yy)


def parse_birth_dates(
    frame: F, column: str, *, reference_year: int, declared_format: str = "auto"
) -> F:
    """Parse the raw dates of ``column`` and add the :data:`BIRTH_DATE_COLUMNS`.

    ``birth_date`` (Date; null when year-only or unparseable), ``birth_year`` (Int16),
    ``birth_date_precision`` (day | year | day_or_year | null), and three Boolean flag
    columns (``birth_date_unparseable``, ``birth_date_out_of_range``,
    ``birth_date_day_or_year``), all False for a missing value. Built in stages of small
    expressions (one big expression tree would take seconds to plan).
    """
    text = clean_text_expr(pl.col(column))
    out = frame.with_columns(
        _bd_s=ascii_digits_expr(text).str.replace(_TIME_SUFFIX, ""),
        _bd_missing=text.is_null()
        | is_placeholder_expr(text, WORD_PLACEHOLDER_KEYS)
        | text.str.contains(r"^[\s/.\-]+$").fill_null(False),
    )
    s = pl.col("_bd_s")
    out = out.with_columns(
        _bd_dmy4=s.str.extract_groups(_DMY4),
        _bd_ymd=s.str.extract_groups(_YMD),
        _bd_dmy2=s.str.extract_groups(_DMY2),
        _bd_compact=s.str.extract_groups(_COMPACT),
        _bd_yo=s.str.extract_groups(_YEAR_ONLY),
        _bd_serial=_int(s.str.extract(_SERIAL, 1)),
        _bd_declared=(
            s.str.strptime(pl.Date, declared_format, strict=False)
            if declared_format != "auto"
            else pl.lit(None, dtype=pl.Date)
        ),
    )
    dmy4, ymd, dmy2, compact, yo = (
        pl.col(f"_bd_{n}") for n in ("dmy4", "ymd", "dmy2", "compact", "yo")
    )
    out = out.with_columns(
        _bd_y=pl.coalesce(
            _int(dmy4.struct[2]),
            _int(ymd.struct[0]),
            _pivot(_int(dmy2.struct[2]), reference_year),
            _int(compact.struct[0]),
        ),
        _bd_m=pl.coalesce(
            _int(dmy4.struct[1]), _int(ymd.struct[1]), _int(dmy2.struct[1]), _int(compact.struct[1])
        ),
        _bd_d=pl.coalesce(
            _int(dmy4.struct[0]), _int(ymd.struct[2]), _int(dmy2.struct[0]), _int(compact.struct[2])
        ),
        _bd_year_only=pl.coalesce(_int(yo.struct[0]), _int(yo.struct[1]), _int(yo.struct[2])),
    )
    y, m, d = pl.col("_bd_y"), pl.col("_bd_m"), pl.col("_bd_d")
    out = out.with_columns(
        _bd_valid=(
            m.is_between(1, 12) & d.is_between(1, 31) & (d <= _days_in_month(y, m)) & (y > 0)
        ).fill_null(False)
    )
    valid = pl.col("_bd_valid")
    day_date = pl.date(pl.when(valid).then(y), pl.when(valid).then(m), pl.when(valid).then(d))
    serial_date = _EXCEL_EPOCH + pl.duration(days=pl.col("_bd_serial"))
    year_only: pl.Expr = pl.when(pl.col("_bd_year_only") > 0).then(pl.col("_bd_year_only"))
    declared = pl.col("_bd_declared")
    if declared_format != "auto" and "%d" not in declared_format and "%j" not in declared_format:
        year_only = pl.coalesce(declared.dt.year(), year_only)
        declared = pl.lit(None, dtype=pl.Date)
    out = out.with_columns(
        _bd_date=pl.coalesce(declared, day_date, serial_date), _bd_yonly=year_only
    )
    date: pl.Expr = pl.when(~pl.col("_bd_missing")).then(pl.col("_bd_date"))
    year: pl.Expr = pl.when(~pl.col("_bd_missing")).then(
        pl.coalesce(pl.col("_bd_date").dt.year(), pl.col("_bd_yonly"))
    )
    out = out.with_columns(birth_date=date, birth_year=year.cast(pl.Int16, strict=False))
    date, year = pl.col("birth_date"), pl.col("birth_year")
    jan_first = (date.dt.month() == 1) & (date.dt.day() == 1)
    precision = (
        pl.when(date.is_not_null() & jan_first)
        .then(pl.lit("day_or_year"))
        .when(date.is_not_null())
        .then(pl.lit("day"))
        .when(year.is_not_null())
        .then(pl.lit("year"))
    )
    out = out.with_columns(
        birth_date_precision=precision,
        birth_date_unparseable=~pl.col("_bd_missing") & year.is_null(),
        birth_date_out_of_range=((year < 1900) | (year > reference_year)).fill_null(False),
    ).with_columns(
        birth_date_day_or_year=(pl.col("birth_date_precision") == "day_or_year").fill_null(False)
    )
    temp = [c for c in out.collect_schema().names() if c.startswith("_bd_")]
    return out.drop(temp)
