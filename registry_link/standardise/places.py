"""Places (birth place, commune of residence): one matching form for either script.

The matching form is the cross-script key (:func:`registry_link.names.name_key_expr`) of the
Latin form of the name (Latin normalised, or Arabic normalised and transliterated), so
"Kénitra", "KENITRA" and "القنيطرة" can meet. Places with different names in the two scripts
(Casablanca / الدار البيضاء) meet through a gazetteer: known spellings of Moroccan towns are
first replaced by the usual French name (see :mod:`registry_link.standardise.gazetteer`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import polars as pl

from registry_link.config.codes import code_key
from registry_link.names import name_key_expr
from registry_link.standardise.distinct import with_distinct
from registry_link.standardise.gazetteer import town_aliases
from registry_link.standardise.names import latin_form_expr
from registry_link.standardise.text import code_key_expr

_ALIAS_FROM = ["ة", "ى", "ڭ", "گ"]
_ALIAS_TO = ["ه", "ي", "ك", "ك"]


def alias_key(text: str) -> str:
    """Gazetteer lookup key: the code key with ة/ه, ى/ي and ڭ/گ/ك unified."""
    key = code_key(text)
    for a, b in zip(_ALIAS_FROM, _ALIAS_TO, strict=True):
        key = key.replace(a, b)
    return key


def alias_key_expr(e: pl.Expr) -> pl.Expr:
    """Vectorised :func:`alias_key`."""
    return code_key_expr(e).str.replace_many(_ALIAS_FROM, _ALIAS_TO)


def place_expr(e: pl.Expr, aliases: Mapping[str, str] | None = None) -> pl.Expr:
    """Matching form of a (cleaned) place name.

    ``aliases`` maps spellings to a canonical name (default: the built-in gazetteer of
    Moroccan towns, :mod:`registry_link.standardise.gazetteer`); pass ``{}`` to disable.
    """
    table = town_aliases() if aliases is None else aliases
    if table:
        keyed = {alias_key(k): v for k, v in table.items()}
        e = pl.coalesce(
            alias_key_expr(e).replace_strict(keyed, default=None, return_dtype=pl.Utf8), e
        )
    return name_key_expr(latin_form_expr(e))


@functools.cache
def _place_rule(column: str) -> dict[str, pl.Expr]:
    """The built-in gazetteer's place rule of ``column`` (the expression built once)."""
    return {"_place": place_expr(pl.col(column))}


def add_place_forms(
    frame: pl.DataFrame, columns: tuple[str, ...], aliases: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Replace each (cleaned) place column by its matching form, once per distinct value."""
    for column in columns:
        rule = (
            _place_rule(column)
            if aliases is None
            else {"_place": place_expr(pl.col(column), aliases)}
        )
        frame = with_distinct(frame, column, rule)
        frame = frame.with_columns(pl.col("_place").alias(column)).drop("_place")
    return frame
