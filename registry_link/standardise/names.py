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

import functools
import re
from collections.abc import Mapping
from typing import Any, Final

import polars as pl

from registry_link.config.codes import code_key
from registry_link.names import (
    arabic_to_latin_expr,
    name_key_expr,
    normalise_arabic_expr,
    normalise_latin_expr,
    token_keys_expr,
)
from registry_link.names.arabic import normalise_arabic
from registry_link.names.keys import key_of_form, token_keys_of_form
from registry_link.names.latin import normalise_latin
from registry_link.names.rewrite import python_pattern
from registry_link.names.translit import arabic_to_latin
from registry_link.standardise.distinct import PerValueRule, with_distinct
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


_HAS_ARABIC = re.compile(python_pattern(ARABIC_LETTERS))
_HAS_LATIN = re.compile(python_pattern(LATIN_LETTERS))


def arabic_only(text: str) -> bool:
    """:func:`arabic_only_expr` of one value."""
    return _HAS_ARABIC.search(text) is not None and _HAS_LATIN.search(text) is None


def latin_form(text: str | None) -> str | None:
    """:func:`latin_form_expr` of one value, in Python (the same rule tables)."""
    if text is None:
        return None
    if arabic_only(text):
        return arabic_to_latin(normalise_arabic(text))
    return normalise_latin(text)


def arabic_form(text: str | None) -> str | None:
    """:func:`arabic_form_expr` of one value, in Python (the same rule tables)."""
    if text is None or _HAS_ARABIC.search(text) is None:
        return None
    return normalise_arabic(text)


def _forms(prefix: str, lat: str | None) -> dict[str, Any]:
    """The key and token keys of a Latin form (the rules' last step), by column."""
    return {
        f"{prefix}_lat": lat,
        f"{prefix}_key": key_of_form(lat),
        f"{prefix}_tok": token_keys_of_form(lat),
    }


def mixed_script_expr(columns: list[str]) -> pl.Expr:
    """True when any of the given name columns mixes Arabic and Latin letters."""
    return pl.any_horizontal(
        has_arabic_expr(pl.col(c)) & has_latin_expr(pl.col(c)) for c in columns
    ).fill_null(False)


def fix_scripts(frame: pl.DataFrame) -> pl.DataFrame:
    """Move pure-Arabic values out of Latin name fields (and vice versa) when the other is empty."""
    fields = [c for pair in LAT_PAIRS for c in pair]
    frame = frame.with_columns(
        *(has_arabic_expr(pl.col(c)).alias(f"_sa_{c}") for c in fields),
        *(has_latin_expr(pl.col(c)).alias(f"_sl_{c}") for c in fields),
    )
    exprs: list[pl.Expr] = []
    for lat, ar in LAT_PAIRS:
        lat_is_ar = pl.col(f"_sa_{lat}") & ~pl.col(f"_sl_{lat}")
        ar_is_lat = pl.col(f"_sl_{ar}") & ~pl.col(f"_sa_{ar}")
        swap_to_ar = lat_is_ar & (pl.col(ar).is_null() | ar_is_lat)
        swap_to_lat = ar_is_lat & (pl.col(lat).is_null() | lat_is_ar)
        exprs.append((swap_to_ar | swap_to_lat).alias(f"_swap_{lat}"))
    frame = frame.with_columns(exprs)
    frame = frame.with_columns(
        e
        for lat, ar in LAT_PAIRS
        for e in (
            pl.when(pl.col(f"_swap_{lat}")).then(pl.col(ar)).otherwise(pl.col(lat)).alias(lat),
            pl.when(pl.col(f"_swap_{lat}")).then(pl.col(lat)).otherwise(pl.col(ar)).alias(ar),
        )
    )
    return frame.drop([c for c in frame.columns if c.startswith(("_sa_", "_sl_", "_swap_"))])


def _is_particle(token: pl.Expr) -> pl.Expr:
    return code_key_expr(token).is_in(list(PARTICLES)).fill_null(False)


def _split_exprs(order: str) -> tuple[pl.Expr, pl.Expr]:
    """(family, given) expressions splitting ``full_name`` in the given order."""
    tokens = pl.col("full_name").str.split(" ")
    n = tokens.list.len()
    if order == "family_first":
        t0, t1 = tokens.list.get(0, null_on_oob=True), tokens.list.get(1, null_on_oob=True)
    else:
        t0, t1 = tokens.list.get(-2, null_on_oob=True), tokens.list.get(-3, null_on_oob=True)
    k = 1 + _is_particle(t0).cast(pl.Int32) + (_is_particle(t0) & _is_particle(t1)).cast(pl.Int32)
    k = pl.min_horizontal(k, n)
    if order == "family_first":
        return tokens.list.head(k).list.join(" "), tokens.list.slice(k).list.join(" ")
    return tokens.list.tail(k).list.join(" "), tokens.list.head(n - k).list.join(" ")


def split_full_name(frame: pl.DataFrame, order: str) -> pl.DataFrame:
    """Fill given/family display fields from ``full_name`` on rows that have no split name.

    The family name is the first (``family_first``) or last (``given_first``) token with the
    particles just before it; the given names are the rest. Arabic full names fill the
    Arabic fields. ``auto`` leaves the frame unchanged.
    """
    if order not in ("family_first", "given_first"):
        return frame
    family, given = _split_exprs(order)
    full = pl.col("full_name")
    frame = with_distinct(
        frame,
        "full_name",
        {
            "_split_family": clean_text_expr(family),
            "_split_given": clean_text_expr(given),
            "_split_ar": has_arabic_expr(full) & ~has_latin_expr(full),
        },
    )
    todo = pl.col("full_name").is_not_null() & pl.all_horizontal(
        pl.col(c).is_null() for c in SPLIT_FIELDS
    )
    lat, ar = todo & ~pl.col("_split_ar"), todo & pl.col("_split_ar")
    return frame.with_columns(
        family_name=pl.when(lat).then(pl.col("_split_family")).otherwise(pl.col("family_name")),
        given_name=pl.when(lat).then(pl.col("_split_given")).otherwise(pl.col("given_name")),
        family_name_ar=pl.when(ar)
        .then(pl.col("_split_family"))
        .otherwise(pl.col("family_name_ar")),
        given_name_ar=pl.when(ar).then(pl.col("_split_given")).otherwise(pl.col("given_name_ar")),
    ).drop("_split_family", "_split_given", "_split_ar")


SPLIT_FIELDS: Final[tuple[str, ...]] = (
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
)
_EMPTY_LIST = pl.lit([], dtype=pl.List(pl.Utf8))


def latin_form_expr(e: pl.Expr) -> pl.Expr:
    """Latin matching form of a name in either script (Arabic is normalised and transliterated)."""
    return _pick_latin_form(e, *_latin_readings(e))


def _latin_readings(e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The two readings :func:`latin_form_expr` picks from: transliterated, Latin."""
    return arabic_to_latin_expr(normalise_arabic_expr(e)), normalise_latin_expr(e)


def arabic_only_expr(e: pl.Expr) -> pl.Expr:
    """Whether ``e`` is written in Arabic only (its Latin form is transliterated)."""
    return has_arabic_expr(e) & ~has_latin_expr(e)


def _pick_latin_form(e: pl.Expr, from_arabic: pl.Expr, from_latin: pl.Expr) -> pl.Expr:
    """The reading of ``e`` its script calls for (Arabic only: transliterated)."""
    return pl.when(arabic_only_expr(e)).then(from_arabic).otherwise(from_latin)


def with_latin_form(lf: pl.LazyFrame, column: str, out: str) -> pl.LazyFrame:
    """``lf`` with ``out`` = :func:`latin_form_expr` of ``column``, its two readings computed
    in steps of their own (the same expressions, the same values).

    Why: polars' cost of taking in one expression grows with the square of its depth (about
    8 ms for a chain of a hundred string rewrites, whatever the number of rows). A search
    standardises a new value or two at a time, so that fixed cost is its whole cost. Measured
    on one value: the place rule 43 → 14 ms (its key no longer taken over the whole Latin
    form), the Latin form itself 12.5 → 11 ms.

    A reading no row picks is not computed: which rows are Arabic only is looked up first
    (one small query), so a Latin name (or an Arabic one) pays for one reading only.
    """
    a, b = f"{out}__from_arabic", f"{out}__from_latin"
    src = pl.col(column)
    from_arabic, from_latin = _latin_readings(src)
    arabic = lf.select(arabic_only_expr(src)).collect().to_series()
    if not arabic.any():  # (every row false or null: the pick is the Latin reading)
        return lf.with_columns(from_latin.alias(out))
    if arabic.null_count() == 0 and arabic.all():
        return lf.with_columns(from_arabic.alias(out))
    return (
        lf.with_columns(from_arabic.alias(a))
        .with_columns(from_latin.alias(b))
        .with_columns(_pick_latin_form(src, pl.col(a), pl.col(b)).alias(out))
        .drop(a, b)
    )


def arabic_form_expr(e: pl.Expr) -> pl.Expr:
    """Normalised Arabic form of a name when it is written in Arabic, else null."""
    return pl.when(has_arabic_expr(e)).then(normalise_arabic_expr(e))


@functools.cache
def _latin_rule(column: str, prefix: str) -> PerValueRule:
    """Forms of a Latin name field: own Latin form, its key and token keys."""
    c = pl.col(column)
    latin_only = pl.when(~(has_arabic_expr(c) & ~has_latin_expr(c))).then(c)

    def rule(lf: pl.LazyFrame) -> pl.LazyFrame:
        lf = lf.with_columns(normalise_latin_expr(latin_only).alias(f"{prefix}_lat"))
        lat = pl.col(f"{prefix}_lat")
        return lf.with_columns(
            name_key_expr(lat).alias(f"{prefix}_key"), token_keys_expr(lat).alias(f"{prefix}_tok")
        )

    def one(value: str) -> Mapping[str, Any]:
        return _forms(prefix, None if arabic_only(value) else normalise_latin(value))

    return PerValueRule(f"latin{prefix}", rule, one)


@functools.cache
def _arabic_rule(column: str, prefix: str) -> PerValueRule:
    """Forms of an Arabic name field: normalised Arabic, transliteration, key, token keys."""

    def rule(lf: pl.LazyFrame) -> pl.LazyFrame:
        lf = lf.with_columns(arabic_form_expr(pl.col(column)).alias(f"{prefix}_ar"))
        lf = lf.with_columns(arabic_to_latin_expr(pl.col(f"{prefix}_ar")).alias(f"{prefix}_tr"))
        tr = pl.col(f"{prefix}_tr")
        return lf.with_columns(
            name_key_expr(tr).alias(f"{prefix}_key"), token_keys_expr(tr).alias(f"{prefix}_tok")
        )

    def one(value: str) -> Mapping[str, Any]:
        ar = arabic_form(value)
        tr = arabic_to_latin(ar)
        forms = _forms(prefix, tr)
        return {f"{prefix}_ar": ar, f"{prefix}_tr": tr, **forms}

    return PerValueRule(f"arabic{prefix}", rule, one)


@functools.cache
def _either_rule(column: str, prefix: str) -> PerValueRule:
    """Forms of a field in either script: Latin form, Arabic form, key, token keys."""

    def rule(lf: pl.LazyFrame) -> pl.LazyFrame:
        lf = with_latin_form(lf, column, f"{prefix}_lat").with_columns(
            arabic_form_expr(pl.col(column)).alias(f"{prefix}_ar"),
        )
        lat = pl.col(f"{prefix}_lat")
        return lf.with_columns(
            name_key_expr(lat).alias(f"{prefix}_key"), token_keys_expr(lat).alias(f"{prefix}_tok")
        )

    def one(value: str) -> Mapping[str, Any]:
        return {**_forms(prefix, latin_form(value)), f"{prefix}_ar": arabic_form(value)}

    return PerValueRule(f"either{prefix}", rule, one)


@functools.cache
def _name_form_columns() -> dict[str, pl.Expr]:
    """The name columns :func:`add_name_forms` makes of its rules' parts (built once)."""
    has_split = pl.any_horizontal(
        pl.col(c).is_not_null() for c in ("_fl_lat", "_gl_lat", "_fa_tr", "_ga_tr")
    )
    split_tokens = pl.concat_list(
        pl.col(c).fill_null(_EMPTY_LIST) for c in ("_gl_tok", "_fl_tok", "_ga_tok", "_fa_tok")
    )
    tokens = (
        pl.when(has_split).then(split_tokens).otherwise(pl.col("_fn_tok").fill_null(_EMPTY_LIST))
    )
    # one script per part (Latin where given, else Arabic): the order-free key of the whole name
    primary_tokens = pl.concat_list(
        pl.coalesce("_gl_tok", "_ga_tok").fill_null(_EMPTY_LIST),
        pl.coalesce("_fl_tok", "_fa_tok").fill_null(_EMPTY_LIST),
    )
    primary = (
        pl.when(has_split).then(primary_tokens).otherwise(pl.col("_fn_tok").fill_null(_EMPTY_LIST))
    )
    return dict(
        family_lat=pl.coalesce("_fl_lat", "_fa_tr"),
        given_lat=pl.coalesce("_gl_lat", "_ga_tr"),
        father_lat=pl.col("_pa_lat"),
        family_ar=pl.col("_fa_ar"),
        given_ar=pl.col("_ga_ar"),
        father_ar=pl.col("_pa_ar"),
        family_key=pl.coalesce("_fl_key", "_fa_key"),
        given_key=pl.coalesce("_gl_key", "_ga_key"),
        father_key=pl.col("_pa_key"),
        family_key_ar=pl.col("_fa_key"),
        given_key_ar=pl.col("_ga_key"),
        name_token_keys=tokens.list.unique().list.eval(pl.element().sort()),
        name_tokens_key=pl.when(primary.list.len() > 0).then(
            primary.list.unique().list.eval(pl.element().sort()).list.join(" ")
        ),
    )


def add_name_forms(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the ``*_lat``, ``*_ar``, ``*_key``, ``*_key_ar`` and ``name_token_keys`` columns.

    Every rule runs once per distinct value of its source column.
    """
    frame = with_distinct(frame, "family_name", _latin_rule("family_name", "_fl"))
    frame = with_distinct(frame, "given_name", _latin_rule("given_name", "_gl"))
    frame = with_distinct(frame, "family_name_ar", _arabic_rule("family_name_ar", "_fa"))
    frame = with_distinct(frame, "given_name_ar", _arabic_rule("given_name_ar", "_ga"))
    frame = with_distinct(frame, "father_given_name", _either_rule("father_given_name", "_pa"))
    frame = with_distinct(frame, "full_name", _either_rule("full_name", "_fn"))
    frame = frame.with_columns(**_name_form_columns())
    return frame.drop(
        [c for c in frame.columns if c[:4] in {"_fl_", "_gl_", "_fa_", "_ga_", "_pa_", "_fn_"}]
    )
