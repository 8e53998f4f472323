"""Relationship codes -> principal | spouse | child | other, and registry relation to head.

Partner lists: a row without ``principal_record_id`` is a principal (a worker); a dependant's
``relationship`` code is mapped with the built-in codes plus ``dependants.relationship_codes``;
a present but unknown code (or a dependant with no code) -> null + ``relationship_unknown``.
Registry extracts: ``relation_to_head`` is mapped to head | spouse | child | other with the same
codes plus head codes (chef de ménage, رب الأسرة ...); principal codes mean head.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import polars as pl

from registry_link.config.codes import BUILTIN_RELATIONSHIP_CODES, code_key, merge_codes
from registry_link.standardise.text import clean_id_text_expr, clean_text_expr, code_key_expr

DEFAULT_RELATIONSHIP_CODES: Mapping[str, str] = merge_codes(BUILTIN_RELATIONSHIP_CODES, {})

#: Extra codes for the registry's relation to the household head.
HEAD_CODES: Final[tuple[str, ...]] = (
    "head",
    "chef",
    "chef de menage",
    "chef de famille",
    "cm",
    "رب الأسرة",
    "رب الاسرة",
    "رب الأسرة",
    "رئيس الأسرة",
)
OTHER_RELATIVE_CODES: Final[tuple[str, ...]] = (
    "parent",
    "pere",
    "mere",
    "pere/mere",
    "ascendant",
    "frere",
    "soeur",
    "sœur",
    "frere/soeur",
    "sibling",
    "petit-fils",
    "petite-fille",
    "petit-enfant",
    "grandchild",
    "autre parent",
    "أب",
    "أم",
    "أخ",
    "أخت",
    "حفيد",
    "حفيدة",
)


def relationship_code_expr(
    e: pl.Expr, codes: Mapping[str, str] = DEFAULT_RELATIONSHIP_CODES
) -> pl.Expr:
    """Relationship code -> principal | spouse | child | other (null when unknown or empty)."""
    return code_key_expr(clean_text_expr(e)).replace_strict(
        dict(codes), default=None, return_dtype=pl.Utf8
    )


def relationship_expr(code: pl.Expr, principal_record_id: pl.Expr | None) -> pl.Expr:
    """Standard relationship of a partner record from its mapped code (see
    :func:`relationship_code_expr`): 'principal' when the record points at no principal
    (or when there is no principal column at all), else the code (null when unknown)."""
    if principal_record_id is None:
        return pl.coalesce(code, pl.lit("principal"))
    is_principal = clean_text_expr(principal_record_id).is_null()
    return (
        pl.when(is_principal & (code.is_null() | (code == "principal")))
        .then(pl.lit("principal"))
        .otherwise(code)
    )


def relation_to_head_codes(codes: Mapping[str, str]) -> dict[str, str]:
    """Key -> head | spouse | child | other for the registry's relation to the head."""
    out = {key: ("head" if value == "principal" else value) for key, value in codes.items()}
    for code in OTHER_RELATIVE_CODES:
        out.setdefault(code_key(code), "other")
    for code in HEAD_CODES:
        out[code_key(code)] = "head"
    return out


def relation_to_head_expr(
    e: pl.Expr, codes: Mapping[str, str] = DEFAULT_RELATIONSHIP_CODES
) -> pl.Expr:
    """Standard relation to the household head (head | spouse | child | other | null)."""
    return code_key_expr(clean_text_expr(e)).replace_strict(
        relation_to_head_codes(codes), default=None, return_dtype=pl.Utf8
    )


def principal_missing_expr(
    principal_record_id: pl.Expr, record_ids: pl.Expr | pl.Series
) -> pl.Expr:
    """True for a dependant whose principal_record_id is not among ``record_ids``.

    ``record_ids`` is the record_id column of the same frame (an expression) or the record
    ids of the whole source (a Series), compared as the standardiser keeps ids (trimmed,
    invisible characters removed).
    """
    pid = clean_id_text_expr(principal_record_id)
    if isinstance(record_ids, pl.Series):
        cleaned = record_ids.to_frame("r").select(clean_id_text_expr(pl.col("r"))).to_series()
        ids = pl.lit(cleaned.implode())
    else:
        ids = clean_id_text_expr(record_ids).implode()
    return (pid.is_not_null() & ~pid.is_in(ids)).fill_null(False)
