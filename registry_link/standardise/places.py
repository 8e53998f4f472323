"""Places (birth place, commune of residence): one matching form for either script.

The matching form is the cross-script key (:func:`registry_link.names.name_key_expr`) of the
Latin form of the name (Latin normalised, or Arabic normalised and transliterated), so
"Kénitra", "KENITRA" and "القنيطرة" can meet. Places with different names in the two scripts
(Casablanca / الدار البيضاء) only meet through a gazetteer: pass ``aliases`` (any spelling ->
canonical Latin name) to map them first.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from registry_link.config.codes import code_key
from registry_link.names import name_key_expr
from registry_link.standardise.distinct import with_distinct
from registry_link.standardise.names import latin_form_expr
from registry_link.standardise.text import code_key_expr


def place_expr(e: pl.Expr, aliases: Mapping[str, str] | None = None) -> pl.Expr:
    """Matching form of a (cleaned) place name; ``aliases`` maps spellings to a canonical name."""
    if aliases:
        table = {code_key(k): v for k, v in aliases.items()}
        e = pl.coalesce(
            code_key_expr(e).replace_strict(table, default=None, return_dtype=pl.Utf8), e
        )
    return name_key_expr(latin_form_expr(e))


def add_place_forms(
    frame: pl.DataFrame, columns: tuple[str, ...], aliases: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Replace each (cleaned) place column by its matching form, once per distinct value."""
    for column in columns:
        frame = with_distinct(frame, column, {"_place": place_expr(pl.col(column), aliases)})
        frame = frame.with_columns(pl.col("_place").alias(column)).drop("_place")
    return frame
