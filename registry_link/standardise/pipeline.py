"""The standardise step: raw source rows -> the standardised frame (STANDARDISED_SCHEMA).

:func:`standardise` is a pure function over a (lazy) frame of raw string columns named by
canonical field (what :func:`registry_link.io.read_source` returns); rows are never dropped,
problems become reason codes in ``flags``. :func:`load_standardised` reads, standardises and
summarises in one call.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from registry_link.config.loader import SourceSettings, load_source_config
from registry_link.io.readers import READ_FLAGS, ROW_NUMBER, ReadCounts, read_source_counted
from registry_link.schema import (
    CANONICAL_FIELDS,
    FLAG_CODES,
    NAME_FIELDS,
    REGISTRY_FIELDS,
    STANDARDISED_SCHEMA,
)
from registry_link.standardise.codes import (
    principal_missing_expr,
    relation_to_head_expr,
    relationship_code_expr,
    relationship_expr,
)
from registry_link.standardise.dates import parse_birth_dates
from registry_link.standardise.distinct import PerValueRule, with_distinct
from registry_link.standardise.ids import (
    cin_malformed_expr,
    clean_id_columns,
    cnss_malformed_expr,
    registry_id_malformed_expr,
)
from registry_link.standardise.names import (
    add_name_forms,
    fix_scripts,
    latin_form,
    mixed_script_expr,
    split_full_name,
    with_latin_form,
)
from registry_link.standardise.places import add_place_forms
from registry_link.standardise.sex import sex_expr, sex_unknown_expr
from registry_link.standardise.text import (
    CONTROL,
    clean_id_text_expr,
    clean_text_expr,
    has_control_expr,
    has_invisible_expr,
    is_placeholder_expr,
)

if TYPE_CHECKING:
    from registry_link.standardise.quality import QualityReport

_ALL_FIELDS = (*CANONICAL_FIELDS, *REGISTRY_FIELDS)
_DISPLAY_NAMES = (*NAME_FIELDS, "father_given_name")
_ID_FIELDS = ("cin", "cnss_number", "registry_person_id", "person_id", "household_id")
_RAW_TEXT = (*_DISPLAY_NAMES, "birth_place", "residence")
_SPLIT_NAMES = ("family_name", "given_name", "family_name_ar", "given_name_ar")
_MOJIBAKE = r"\uFFFD|Ã[\u0080-\u00BF]|[ØÙ][\u0080-\u00BF]|â€"
#: Identifier fields that are compared as text (the others are cleaned in ``clean_id_columns``).
_RECORD_IDS = ("record_id", "principal_record_id")
_READ_CODES = ("row_short", "row_long", "excel_error", "excel_merged_cell")


def _with_all_fields(frame: pl.LazyFrame) -> pl.LazyFrame:
    names = frame.collect_schema().names()
    missing = [pl.lit(None, dtype=pl.Utf8).alias(f) for f in _ALL_FIELDS if f not in names]
    if "source" not in names:  # a dependants file may carry its own source; else the config's
        missing.append(pl.lit(None, dtype=pl.Utf8).alias("source"))
    if READ_FLAGS not in names:
        missing.append(pl.lit([], dtype=pl.List(pl.Utf8)).alias(READ_FLAGS))
    if ROW_NUMBER not in names:
        frame = frame.with_row_index(ROW_NUMBER, offset=1)
    return frame.with_columns(missing).with_columns(pl.col(ROW_NUMBER).cast(pl.UInt32))


_FLAG_MASK = "_flag_mask"


def flag_mask_expr(conditions: dict[str, pl.Expr]) -> pl.Expr:
    """Bitmask of the codes whose condition holds (bit *i*: the *i*-th code of
    :data:`FLAG_CODES`); :func:`flags_from_mask` turns it into the ``flags`` list."""
    codes = list(FLAG_CODES)
    return pl.sum_horizontal(
        conditions[c].fill_null(False).cast(pl.Int64) * (1 << codes.index(c))
        for c in codes
        if c in conditions
    )


def flags_from_mask(frame: pl.DataFrame, column: str = _FLAG_MASK) -> pl.DataFrame:
    """Replace the bitmask ``column`` by ``flags``, the list of codes in :data:`FLAG_CODES`
    order. Only the (few) distinct masks present are turned into lists, which is far cheaper
    than list operations on every row."""
    codes = list(FLAG_CODES)
    masks = frame.get_column(column).unique().to_list()
    lists = [[c for i, c in enumerate(codes) if m >> i & 1] for m in masks]
    flags = frame.get_column(column).replace_strict(masks, lists, return_dtype=pl.List(pl.Utf8))
    return frame.with_columns(flags.alias("flags")).drop(column)


def _clean_stage(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Every raw field trimmed (empty -> null), control characters (NUL ...) removed; names in
    NFKC (Arabic presentation forms and ligatures as copied from a PDF -> letters); record ids
    without invisible characters; names/places checked for mojibake."""
    checks, cleaned, after = _clean_exprs()
    return frame.with_columns(checks).with_columns(cleaned).with_columns(after)


@functools.cache
def _clean_exprs() -> tuple[list[pl.Expr], list[pl.Expr], list[pl.Expr]]:
    """:func:`_clean_stage`'s three steps' expressions (built once)."""
    checks = [
        pl.any_horizontal(has_control_expr(pl.col(f)) for f in _ALL_FIELDS).alias("_control"),
        pl.any_horizontal(has_invisible_expr(pl.col(f)) for f in (*_RECORD_IDS, *_ID_FIELDS)).alias(
            "_invisible_id"
        ),
    ]
    cleaned = [
        clean_id_text_expr(pl.col(f)).alias(f)
        if f in _RECORD_IDS
        else clean_text_expr(_nfkc(pl.col(f).str.replace_all(CONTROL, ""), f)).alias(f)
        for f in _ALL_FIELDS
    ]
    after = [
        pl.any_horizontal(
            pl.col(c).str.contains(_MOJIBAKE).fill_null(False) for c in _RAW_TEXT
        ).alias("_encoding_suspect"),
        mixed_script_expr(list(_DISPLAY_NAMES)).alias("_mixed"),
        (
            pl.col("full_name").is_not_null()
            & pl.all_horizontal(pl.col(c).is_null() for c in _SPLIT_NAMES)
        ).alias("_full_only"),
        pl.col("birth_date").alias("birth_date_raw"),
        pl.col("relation_to_head").alias("_rth_raw"),
    ]
    return checks, cleaned, after


def _nfkc(e: pl.Expr, field: str) -> pl.Expr:
    """Names in Unicode NFKC (compatibility forms folded); other fields unchanged."""
    return e.str.normalize("NFKC") if field in _DISPLAY_NAMES else e


@functools.cache
def _has_letter_rule(field: str) -> PerValueRule:
    """``_ok_<field>``: the field's Latin form has a letter (:func:`~.names.with_latin_form`:
    a search standardises one record at a time, and a deep expression costs more to take in
    than to run; the expression built once). A few new values of a search are read in Python
    (:func:`~.names.latin_form`: the same rule tables)."""
    has_letter = pl.col("_ok_lat").str.contains("[a-z]").alias(f"_ok_{field}")

    def rule(lf: pl.LazyFrame) -> pl.LazyFrame:
        return with_latin_form(lf, field, "_ok_lat").with_columns(has_letter).drop("_ok_lat")

    def one(value: str) -> dict[str, bool | None]:
        lat = latin_form(value)
        return {f"_ok_{field}": None if lat is None else _A_LETTER.search(lat) is not None}

    return PerValueRule(f"has_letter_{field}", rule, one)


_A_LETTER = re.compile("[a-z]")


def _usable_names_stage(frame: pl.DataFrame) -> pl.DataFrame:
    """``_no_name`` (no name field gives a matching form with a letter) and ``_name_unusable``
    (some name field has text but no letter to match on: ``---``, digits, emoji, tatweel or
    diacritics only, a script that is neither Arabic nor Latin). Once per distinct value."""
    for f in NAME_FIELDS:
        frame = with_distinct(frame, f, _has_letter_rule(f))
    ok = [pl.col(f"_ok_{f}").fill_null(False) for f in NAME_FIELDS]
    unusable = [pl.col(f).is_not_null() & ~pl.col(f"_ok_{f}").fill_null(False) for f in NAME_FIELDS]
    return frame.with_columns(
        _no_name=~pl.any_horizontal(ok), _name_unusable=pl.any_horizontal(unusable)
    ).drop([f"_ok_{f}" for f in NAME_FIELDS])


def _codes_stage(frame: pl.DataFrame, settings: SourceSettings) -> pl.DataFrame:
    """Identifiers (per row), sex, relationships and places (per distinct value)."""
    frame = clean_id_columns(frame, _ID_FIELDS)
    sex = pl.col("sex")
    frame = with_distinct(
        frame,
        "sex",
        {
            "_sex_std": sex_expr(sex, settings.sex_codes),
            "_sex_unknown": sex_unknown_expr(sex, settings.sex_codes),
        },
    )
    frame = with_distinct(
        frame,
        "relationship",
        {"_rel_code": relationship_code_expr(pl.col("relationship"), settings.relationship_codes)},
    )
    frame = with_distinct(
        frame,
        "relation_to_head",
        {
            "_rth_std": relation_to_head_expr(
                pl.col("relation_to_head"), settings.relationship_codes
            )
        },
    )
    has_dependants = settings.dependants_mode != "none"
    code = pl.col("_rel_code")
    if settings.kind == "registry" and not has_dependants:
        relationship: pl.Expr = pl.when(pl.col("relationship").is_not_null()).then(
            relationship_expr(code, None)
        )
    else:
        pid = pl.col("principal_record_id") if has_dependants else None
        relationship = relationship_expr(code, pid)
    frame = frame.with_columns(
        sex=pl.col("_sex_std"),
        _sex_unknown=pl.col("_sex_unknown").fill_null(False),
        relationship=relationship,
        relation_to_head=pl.col("_rth_std"),
        birth_place=pl.when(~is_placeholder_expr(pl.col("birth_place"))).then(
            pl.col("birth_place")
        ),
        residence=pl.when(~is_placeholder_expr(pl.col("residence"))).then(pl.col("residence")),
    ).drop("_sex_std", "_rel_code", "_rth_std")
    frame = frame.with_columns(
        birth_place_raw=pl.col("birth_place"), residence_raw=pl.col("residence")
    )
    return add_place_forms(frame, ("birth_place", "residence"))


def _dates_stage(frame: pl.DataFrame, settings: SourceSettings) -> pl.DataFrame:
    """Birth dates parsed once per distinct raw value."""

    def rule(lf: pl.LazyFrame) -> pl.LazyFrame:
        parsed = parse_birth_dates(
            lf.with_columns(_raw_date=pl.col("birth_date_raw")),
            "_raw_date",
            reference_year=settings.reference_year,
            declared_format=settings.birth_date_format,
        )
        return parsed.drop("_raw_date")

    frame = with_distinct(frame.drop("birth_date"), "birth_date_raw", rule)
    flags = ("birth_date_unparseable", "birth_date_out_of_range", "birth_date_day_or_year")
    return frame.with_columns(pl.col(f).fill_null(False) for f in flags)


def _flags_stage(frame: pl.LazyFrame, settings: SourceSettings) -> pl.LazyFrame:
    """Assemble ``flags`` (in :data:`FLAG_CODES` order) from the rule columns."""
    return frame.with_columns(
        **source_columns(settings), **{_FLAG_MASK: flag_mask_expr(flag_conditions(settings))}
    )


def source_columns(settings: SourceSettings) -> dict[str, pl.Expr]:
    """``source`` (the row's own, else the config's) and ``principal_source``."""
    return {
        "source": pl.coalesce(pl.col("source"), pl.lit(settings.source)),
        "principal_source": pl.when(pl.col("principal_record_id").is_not_null()).then(
            pl.lit(settings.source)
        ),
    }


def flag_conditions(settings: SourceSettings) -> dict[str, pl.Expr]:
    """Per flag code, its condition over the rule columns of the stages (``_flags_stage``)."""
    if settings.kind == "partner":
        relationship_unknown = pl.col("relationship").is_null()
    else:
        relationship_unknown = (
            pl.col("relation_to_head").is_null() & pl.col("_rth_raw").is_not_null()
        )
    read = pl.col(READ_FLAGS)
    flags = {
        # no name field with a letter, or nothing to match on at all (a vowel-only full name)
        "no_name": pl.col("_no_name")
        | (
            (pl.col("name_token_keys").list.len() == 0)
            & pl.col("family_lat").is_null()
            & pl.col("given_lat").is_null()
        ),
        "name_unusable": pl.col("_name_unusable"),
        "birth_date_unparseable": pl.col("birth_date_unparseable"),
        "birth_date_out_of_range": pl.col("birth_date_out_of_range"),
        "birth_date_day_or_year": pl.col("birth_date_day_or_year"),
        "cin_malformed": cin_malformed_expr(pl.col("cin")),
        "cnss_malformed": cnss_malformed_expr(pl.col("cnss_number")),
        "registry_id_malformed": registry_id_malformed_expr(pl.col("registry_person_id"))
        | registry_id_malformed_expr(pl.col("person_id")),
        "sex_unknown": pl.col("_sex_unknown"),
        "relationship_unknown": relationship_unknown,
        "principal_missing": pl.col("_principal_missing"),
        "full_name_only": pl.col("_full_only"),
        "mixed_script_name": pl.col("_mixed"),
        "encoding_suspect": pl.col("_encoding_suspect"),
        "id_invisible_characters": pl.col("_invisible_id"),
        "control_characters": pl.col("_control"),
        **{code: read.list.contains(code) for code in _READ_CODES},
    }
    return flags


#: Rows standardised at a time: bounds the memory taken by intermediate columns.
BATCH_ROWS = 500_000


def standardise(
    raw: pl.LazyFrame | pl.DataFrame, settings: SourceSettings, *, batch_rows: int = BATCH_ROWS
) -> pl.DataFrame:
    """Standardise raw source rows into exactly :data:`STANDARDISED_SCHEMA` (order and dtypes).

    ``raw`` holds string columns named by canonical field (missing fields are treated as
    empty) and optionally ``row_number``. Rows are never dropped; see ``flags``. Rows are
    processed ``batch_rows`` at a time (each rule is row-local; the principal check uses the
    record ids of the whole input).
    """
    # needs every record id of the source; a file of dependants only ("only") has its
    # principals in another list, so they are not looked for here
    if settings.dependants_mode in ("rows", "file"):
        missing = principal_missing_expr(pl.col("principal_record_id"), pl.col("record_id"))
    else:
        missing = pl.lit(False)
    frame = _with_all_fields(raw.lazy()).with_columns(_principal_missing=missing).collect()
    parts = [
        _standardise_batch(frame.slice(offset, batch_rows), settings)
        for offset in range(0, max(frame.height, 1), batch_rows)
    ]
    return pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]


def _standardise_batch(raw: pl.DataFrame, settings: SourceSettings) -> pl.DataFrame:
    frame = _clean_stage(raw.lazy()).collect()
    frame = _usable_names_stage(frame)
    frame = _codes_stage(frame, settings)
    frame = _dates_stage(frame, settings)
    frame = fix_scripts(frame)
    frame = split_full_name(frame, settings.full_name_order)
    frame = add_name_forms(frame)
    out = flags_from_mask(_flags_stage(frame.lazy(), settings).collect())
    return out.select(pl.col(c).cast(t) for c, t in STANDARDISED_SCHEMA.items())


@dataclass(frozen=True)
class StandardisedList:
    """A standardised source: the frame, the settings it was read with, its quality report and
    the rows read (``counts.rows`` kept = ``frame.height``; ``counts.blank_rows`` skipped)."""

    frame: pl.DataFrame
    settings: SourceSettings
    report: QualityReport
    counts: ReadCounts | None = None


def load_standardised(path: str | Path, config_path: str | Path) -> StandardisedList:
    """Load a config, read its file, standardise it and summarise its quality, in one call."""
    from registry_link.standardise.quality import quality_report

    settings = load_source_config(config_path)
    raw, counts = read_source_counted(path, settings)
    frame = standardise(raw, settings)
    report = quality_report(frame, blank_rows=counts.blank_rows)
    return StandardisedList(frame=frame, settings=settings, report=report, counts=counts)
