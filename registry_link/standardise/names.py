"""Name columns of the standardised frame, built on :mod:`registry_link.names` (H1's rules).

Steps (all vectorised):

1. **Script fix-up** — a Latin name field holding only Arabic letters is moved to its Arabic
   field when that one is empty (and vice versa). A value mixing both scripts stays where it is
   and the row is flagged ``mixed_script_name``.
2. **Full names** — with ``formats.full_name_order: family_first | given_first`` and no split
   name given, the full name is split: the family name is the first (or last) token, with the
   particles before it (el, ben, ait, ould, بن, آيت ...); the given names are the rest.
   With ``auto`` it is not split: given/family forms stay null and only ``name_token_keys`` is
   filled. Either way the row is flagged ``full_name_only``.
3. **Matching forms** — ``*_lat`` from the Latin value when present, else transliterated
   from the Arabic; ``*_ar`` normalised Arabic; ``*_key`` / ``*_key_ar`` cross-script keys of
   the Latin / Arabic forms; ``name_token_keys`` the sorted unique keys of every token of the
   Latin and transliterated Arabic forms (given + family, or the full name).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from registry_link.config.codes import code_key
from registry_link.names import (
    arabic_to_latin_expr,
    name_key_expr,
    normalise_arabic_expr,
    normalise_latin_expr,
    token_keys_expr,
)
from registry_link.standardise.text import clean_text_expr, code_key_expr

ARABIC_LETTERS: Final[str] = r"[\u0620-\u064A\u0671-\u06D3\u06FA-\u06FF]"
LATIN_LETTERS: Final[str] = r"[A-Za-z\u00C0-\u024F]"

#: Tokens that belong with the name after them (family-name particles).
PARTICLES: Final[tuple[str, ...]] = tuple(
    code_key(p)
    for p in (
        "el", "al", "ben", "bent", "ibn", "ait", "aït", "ou", "ould", "oulad", "bou", "bel",
        "bin", "abou", "abu", "ibnou",
        "بن", "بنت", "ابن", "آيت", "أيت", "ايت", "ولد", "أولاد", "اولاد", "أبو", "ابو", "بو",
    )
)  # fmt: skip

LAT_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("family_name", "family_name_ar"),
    ("given_name", "given_name_ar"),
)


def has_arabic_expr(e: pl.Expr) -> pl.Expr:
    """Whether a text contains an Arabic letter (null -> False)."""
    return e.str.contains(ARABIC_LETTERS).fill_null(False)


def has_latin_expr(e: pl.Expr) -> pl.Expr:
    """Whether a text contains a Latin letter (null -> False)."""
    return e.str.contains(LATIN_LETTERS).fill_null(False)


def mixed_script_expr(columns: list[str]) -> pl.Expr:
    """True when any of the given name columns mixes Arabic and Latin letters."""
    return pl.any_horizontal(
        has_arabic_expr(pl.col(c)) & has_latin_expr(pl.col(c)) for c in columns
    ).fill_null(False)


def fix_scripts(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Move pure-Arabic values out of Latin name fields (and vice versa) when the other is empty."""
    exprs: list[pl.Expr] = []
    for lat, ar in LAT_PAIRS:
        lat_v, ar_v = pl.col(lat), pl.col(ar)
        lat_is_ar = has_arabic_expr(lat_v) & ~has_latin_expr(lat_v)
        ar_is_lat = has_latin_expr(ar_v) & ~has_arabic_expr(ar_v)
        swap_to_ar = lat_is_ar & (ar_v.is_null() | ar_is_lat)
        swap_to_lat = ar_is_lat & (lat_v.is_null() | lat_is_ar)
        swap = swap_to_ar | swap_to_lat
        exprs.append(pl.when(swap).then(ar_v).otherwise(lat_v).alias(lat))
        exprs.append(pl.when(swap).then(lat_v).otherwise(ar_v).alias(ar))
    return frame.with_columns(exprs)


def _is_particle(token: pl.Expr) -> pl.Expr:
    return code_key_expr(token).is_in(list(PARTICLES)).fill_null(False)


def split_full_name(frame: pl.LazyFrame, order: str) -> pl.LazyFrame:
    """Fill given/family display fields from ``full_name`` on rows that have no split name."""
    if order not in ("family_first", "given_first"):
        return frame
    tokens = pl.col("full_name").str.split(" ")
    n = tokens.list.len()
    if order == "family_first":
        t0, t1 = tokens.list.get(0, null_on_oob=True), tokens.list.get(1, null_on_oob=True)
        k = (
            1
            + _is_particle(t0).cast(pl.Int32)
            + (_is_particle(t0) & _is_particle(t1)).cast(pl.Int32)
        )
        k = pl.min_horizontal(k, n)
        family = tokens.list.head(k).list.join(" ")
        given = tokens.list.slice(k).list.join(" ")
    else:
        t_last = tokens.list.get(-2, null_on_oob=True)
        t_prev = tokens.list.get(-3, null_on_oob=True)
        k = (
            1
            + _is_particle(t_last).cast(pl.Int32)
            + (_is_particle(t_last) & _is_particle(t_prev)).cast(pl.Int32)
        )
        k = pl.min_horizontal(k, n)
        family = tokens.list.tail(k).list.join(" ")
        given = tokens.list.head(n - k).list.join(" ")
    no_split = pl.all_horizontal(pl.col(c).is_null() for c in _SPLIT_FIELDS)
    todo = no_split & pl.col("full_name").is_not_null()
    arabic = has_arabic_expr(pl.col("full_name")) & ~has_latin_expr(pl.col("full_name"))
    given = clean_text_expr(given)
    family = clean_text_expr(family)
    return frame.with_columns(
        pl.when(todo & ~arabic).then(family).otherwise(pl.col("family_name")).alias("family_name"),
        pl.when(todo & ~arabic).then(given).otherwise(pl.col("given_name")).alias("given_name"),
        pl.when(todo & arabic)
        .then(family)
        .otherwise(pl.col("family_name_ar"))
        .alias("family_name_ar"),
        pl.when(todo & arabic)
        .then(given)
        .otherwise(pl.col("given_name_ar"))
        .alias("given_name_ar"),
    )


_SPLIT_FIELDS: Final[tuple[str, ...]] = (
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
)


def latin_form_expr(e: pl.Expr) -> pl.Expr:
    """Latin matching form of a name in either script (Arabic is normalised and transliterated)."""
    arabic = has_arabic_expr(e) & ~has_latin_expr(e)
    return (
        pl.when(arabic)
        .then(arabic_to_latin_expr(normalise_arabic_expr(e)))
        .otherwise(normalise_latin_expr(e))
    )


def arabic_form_expr(e: pl.Expr) -> pl.Expr:
    """Normalised Arabic form of a name when it is written in Arabic, else null."""
    return pl.when(has_arabic_expr(e)).then(normalise_arabic_expr(e))


def add_name_forms(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Add the ``*_lat``, ``*_ar``, ``*_key``, ``*_key_ar`` and ``name_token_keys`` columns."""
    latin_only = {
        c: pl.when(~(has_arabic_expr(pl.col(c)) & ~has_latin_expr(pl.col(c)))).then(pl.col(c))
        for c in ("family_name", "given_name")
    }
    frame = frame.with_columns(
        family_ar=arabic_form_expr(pl.col("family_name_ar")),
        given_ar=arabic_form_expr(pl.col("given_name_ar")),
        father_ar=arabic_form_expr(pl.col("father_given_name")),
        _family_lat_own=normalise_latin_expr(latin_only["family_name"]),
        _given_lat_own=normalise_latin_expr(latin_only["given_name"]),
        _full_lat=latin_form_expr(pl.col("full_name")),
        father_lat=latin_form_expr(pl.col("father_given_name")),
    )
    frame = frame.with_columns(
        _family_tr=arabic_to_latin_expr(pl.col("family_ar")),
        _given_tr=arabic_to_latin_expr(pl.col("given_ar")),
    )
    frame = frame.with_columns(
        family_lat=pl.coalesce("_family_lat_own", "_family_tr"),
        given_lat=pl.coalesce("_given_lat_own", "_given_tr"),
        family_key_ar=name_key_expr(pl.col("_family_tr")),
        given_key_ar=name_key_expr(pl.col("_given_tr")),
        father_key=name_key_expr(pl.col("father_lat")),
    )
    frame = frame.with_columns(
        family_key=name_key_expr(pl.col("family_lat")),
        given_key=name_key_expr(pl.col("given_lat")),
    )
    lat_text = pl.concat_str(["given_lat", "family_lat"], separator=" ", ignore_nulls=True)
    tr_text = pl.concat_str(["_given_tr", "_family_tr"], separator=" ", ignore_nulls=True)
    has_split = pl.col("given_lat").is_not_null() | pl.col("family_lat").is_not_null()
    text = pl.when(has_split).then(lat_text).otherwise(pl.col("_full_lat"))
    tr_text = pl.when(has_split).then(tr_text)
    keys = pl.concat_list(
        token_keys_expr(clean_text_expr(text)).fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
        token_keys_expr(clean_text_expr(tr_text)).fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
    )
    frame = frame.with_columns(name_token_keys=keys.list.unique().list.sort())
    return frame.drop("_family_lat_own", "_given_lat_own", "_full_lat", "_family_tr", "_given_tr")
