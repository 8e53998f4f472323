"""Identifiers: CIN, CNSS number, registry person id.

Rules (each value is first cleaned: Arabic-Indic digits -> ASCII, uppercase, spaces, dashes,
dots, slashes and underscores removed, an Excel float suffix ``.0`` dropped):

* a placeholder (``N/A``, ``néant``, ``-``, ``?``, all zeros ...) is *missing*: null, no flag;
* a CIN is valid when it is 1-2 letters then 1-8 digits; otherwise it is kept as cleaned and the
  row is flagged ``cin_malformed``. A letter O typed for a zero (or the reverse) is not guessed;
* a CNSS number is valid when all digits (else kept + ``cnss_malformed``);
* a registry person id is valid when exactly 10 digits (else kept + ``registry_id_malformed``).
"""

from __future__ import annotations

import functools
from typing import TypeVar

import polars as pl

from registry_link.standardise.text import ascii_digits_expr, clean_text_expr

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

CIN_PATTERN = r"^[A-Z]{1,2}[0-9]{1,8}$"
CNSS_PATTERN = r"^[0-9]+$"
REGISTRY_ID_PATTERN = r"^[0-9]{10}$"

#: Placeholders as they look after cleaning (uppercase, separators removed).
_ID_PLACEHOLDERS = (
    "NA",
    "ND",
    "NAN",
    "NULL",
    "NONE",
    "NEANT",
    "NÉANT",
    "INCONNU",
    "NC",
    "?",
    "??",
    "???",
    "X",
    "XX",
    "XXX",
)
_SCIENTIFIC = r"^[0-9](\.[0-9]+)?E\+?[0-9]{1,2}$"


def clean_id_expr(e: pl.Expr) -> pl.Expr:
    """Cleaned identifier: ASCII digits, uppercase, no separators, Excel artefacts undone;
    null for empty values and placeholders."""
    up = ascii_digits_expr(clean_text_expr(e)).str.to_uppercase()
    # Excel exports: "123456.0" and "1.23456789E+9" for numbers stored as floats
    up = up.str.replace(r"^([0-9]+)\.0+$", "${1}")
    from_sci = (
        up.str.extract(_SCIENTIFIC, 0)
        .cast(pl.Float64, strict=False)
        .cast(pl.Int64, strict=False)
        .cast(pl.Utf8)
    )
    compact = pl.coalesce(from_sci, up).str.replace_all(r"[\s\-./_]+", "")
    missing = compact.is_in(list(_ID_PLACEHOLDERS)) | compact.str.contains(r"^0*$")
    return pl.when(~missing).then(compact)


def is_malformed_expr(cleaned: pl.Expr, pattern: str) -> pl.Expr:
    """True when a cleaned, non-null identifier does not match ``pattern`` (null -> False)."""
    return cleaned.is_not_null() & ~cleaned.str.contains(pattern).fill_null(False)


def cin_expr(e: pl.Expr) -> pl.Expr:
    """Normalised CIN (kept even when malformed; see :func:`cin_malformed_expr`)."""
    return clean_id_expr(e)


def cin_malformed_expr(cin: pl.Expr) -> pl.Expr:
    """Whether a normalised CIN is not 1-2 letters followed by 1-8 digits."""
    return is_malformed_expr(cin, CIN_PATTERN)


def cnss_malformed_expr(cnss: pl.Expr) -> pl.Expr:
    """Whether a cleaned CNSS number is not all digits."""
    return is_malformed_expr(cnss, CNSS_PATTERN)


def registry_id_malformed_expr(person_id: pl.Expr) -> pl.Expr:
    """Whether a cleaned registry person id is not exactly 10 digits."""
    return is_malformed_expr(person_id, REGISTRY_ID_PATTERN)


def clean_id_columns(frame: FrameT, columns: tuple[str, ...]) -> FrameT:
    """:func:`clean_id_expr` applied to several columns, in stages (fast on millions of rows;
    a lazy frame gives a lazy frame)."""
    names = frame.collect_schema().names()
    for stage in _clean_id_stages(tuple(c for c in columns if c in names)):
        frame = frame.with_columns(stage)
    return frame


@functools.cache
def _clean_id_stages(cols: tuple[str, ...]) -> tuple[list[pl.Expr], ...]:
    """:func:`clean_id_columns`' stages' expressions (built once per columns: a search
    standardises one record at a time)."""
    up = [
        ascii_digits_expr(clean_text_expr(pl.col(c)))
        .str.to_uppercase()
        .str.replace(r"^([0-9]+)\.0+$", "${1}")
        .alias(c)
        for c in cols
    ]
    compact = [
        pl.coalesce(
            pl.col(c)
            .str.extract(_SCIENTIFIC, 0)
            .cast(pl.Float64, strict=False)
            .cast(pl.Int64, strict=False)
            .cast(pl.Utf8),
            pl.col(c),
        )
        .str.replace_all(r"[\s\-./_]+", "")
        .alias(c)
        for c in cols
    ]
    placeholders = [
        pl.when(~(pl.col(c).is_in(list(_ID_PLACEHOLDERS)) | pl.col(c).str.contains(r"^0*$")))
        .then(pl.col(c))
        .alias(c)
        for c in cols
    ]
    return up, compact, placeholders
