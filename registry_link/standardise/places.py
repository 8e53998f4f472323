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
from typing import Final

import polars as pl

from registry_link.config.codes import code_key
from registry_link.names import name_key_expr
from registry_link.names.keys import key_of_form
from registry_link.names.rewrite import Chain, Many, chain_expr, chain_text
from registry_link.standardise.distinct import PerValueRule, Rule, with_distinct
from registry_link.standardise.gazetteer import town_aliases
from registry_link.standardise.names import latin_form, latin_form_expr, with_latin_form
from registry_link.standardise.text import CODE_KEY

_ALIAS_FROM = ["ة", "ى", "ڭ", "گ"]
_ALIAS_TO = ["ه", "ي", "ك", "ك"]
#: :func:`alias_key_expr`'s chain.
_ALIAS_KEY: Final[Chain] = (*CODE_KEY, Many.of(list(zip(_ALIAS_FROM, _ALIAS_TO, strict=True))))


def alias_key(text: str) -> str:
    """Gazetteer lookup key: the code key with ة/ه, ى/ي and ڭ/گ/ك unified."""
    key = code_key(text)
    for a, b in zip(_ALIAS_FROM, _ALIAS_TO, strict=True):
        key = key.replace(a, b)
    return key


def alias_key_expr(e: pl.Expr) -> pl.Expr:
    """Vectorised :func:`alias_key`."""
    return chain_expr(_ALIAS_KEY, e)


def alias_key_of(text: str | None) -> str | None:
    """:func:`alias_key_expr` of one value, in Python (the same chain)."""
    return chain_text(_ALIAS_KEY, text)


def place_expr(e: pl.Expr, aliases: Mapping[str, str] | None = None) -> pl.Expr:
    """Matching form of a (cleaned) place name.

    ``aliases`` maps spellings to a canonical name (default: the built-in gazetteer of
    Moroccan towns, :mod:`registry_link.standardise.gazetteer`); pass ``{}`` to disable.
    """
    return name_key_expr(latin_form_expr(_aliased_expr(e, aliases)))


def _keyed(aliases: Mapping[str, str] | None) -> dict[str, str]:
    """The aliases (default: the gazetteer's) by :func:`alias_key`."""
    table = town_aliases() if aliases is None else aliases
    return {alias_key(k): v for k, v in table.items()}


def _aliased_expr(e: pl.Expr, aliases: Mapping[str, str] | None) -> pl.Expr:
    """A place's canonical name where the aliases know its spelling, else the place."""
    keyed = _keyed(aliases)
    if not keyed:
        return e
    return pl.coalesce(
        alias_key_expr(e).replace_strict(keyed, default=None, return_dtype=pl.Utf8), e
    )


@functools.cache
def _place_rule(column: str) -> PerValueRule:
    """The built-in gazetteer's place rule of ``column``: :func:`place_expr` in three steps
    (the alias, the Latin form, the key: see :func:`~.names.with_latin_form` for why; the same
    values), the alias expression built once; a few new values of a search in Python (the
    same rule tables)."""
    aliased = _aliased_expr(pl.col(column), None).alias("_place_alias")
    keyed = _keyed(None)

    def rule(lf: pl.LazyFrame) -> pl.LazyFrame:
        lf = with_latin_form(lf.with_columns(aliased), "_place_alias", "_place_lat")
        key = name_key_expr(pl.col("_place_lat")).alias("_place")
        return lf.with_columns(key).drop("_place_alias", "_place_lat")

    def one(value: str) -> dict[str, str | None]:
        canonical = keyed.get(chain_text(_ALIAS_KEY, value) or "") if keyed else None
        return {"_place": key_of_form(latin_form(value if canonical is None else canonical))}

    return PerValueRule(f"place_{column}", rule, one)


def add_place_forms(
    frame: pl.DataFrame, columns: tuple[str, ...], aliases: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Replace each (cleaned) place column by its matching form, once per distinct value."""
    for column in columns:
        rule: Rule | dict[str, pl.Expr] = (
            _place_rule(column)
            if aliases is None
            else {"_place": place_expr(pl.col(column), aliases)}
        )
        frame = with_distinct(frame, column, rule)
        frame = frame.with_columns(pl.col("_place").alias(column)).drop("_place")
    return frame
