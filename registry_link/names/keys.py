"""The cross-script phonetic key of a Latin matching form.

The key keeps what both scripts write: consonants. Steps on the matching form:

1. doubled letters collapsed (Mohammed → mohamed, Youssef → yousef);
2. Maghrebi French spellings folded to one symbol per Arabic sound: ch/sh/tch → S (ش),
   kh → X (خ), gh and word-initial rh → G (غ), dj → j, ph → f, th → t, dh → d, q/ck/g → k,
   c before e/i/y → s else k, x → ks, v → f, p → b;
3. consonantal w/y kept only at the start of a word (Ouafae/Wafae/وفاء → W..., Youssef/يوسف → Y...);
4. every vowel (a e i o u y and any other w) dropped, spaces removed.

So محمد, Mohamed, Mohammed, Mhamed, Muhammad → ``mhmd``; يوسف, Youssef, Youcef, Yousef → ``Ysf``;
العلوي, Alaoui, El Alaoui → ``l``. The key is deliberately coarse:
:mod:`registry_link.names.matcher` confirms equal keys with the vowels (see there).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

import polars as pl

from registry_link.names.rewrite import Chain, Many, Sub, chain_expr, chain_text, python_pattern

_DOUBLES: Final[list[str]] = [c + c for c in "abcdefghijklmnopqrstuvwxyz"]
_SINGLES: Final[list[str]] = list("abcdefghijklmnopqrstuvwxyz")

#: Ordered regex rewrites (pattern, replacement) applied to a collapsed matching form.
_REWRITES: Final[tuple[tuple[str, str], ...]] = (
    (r"tch|tsh|sch|ch|sh", "S"),
    (r"kh", "X"),
    (r"gh", "G"),
    (r"\brh", "G"),
    (r"dj", "j"),
    (r"ph", "f"),
    (r"th", "t"),
    (r"dh", "d"),
    (r"ck", "k"),
    (r"qu([aeiy])", "k${1}"),
    (r"q", "k"),
    (r"gu([eiy])", "g${1}"),
    (r"c([eiy])", "s${1}"),
    (r"c", "k"),
    (r"g", "k"),
    (r"x", "ks"),
    (r"v", "f"),
    (r"p", "b"),
    (r"\bou([aeiy])", "W${1}"),
    (r"\bw", "W"),
    (r"\by", "Y"),
    (r"h$", ""),
    (r" +", ""),
)

#: Vowel letters of the key alphabet (everything else in a rewritten form is a consonant).
_VOWELS: Final[str] = "aeiouyw"

#: Bits of a gap code (see :func:`vowel_codes_expr`).
MUST_I: Final[int] = 1
MUST_U: Final[int] = 2
CAN_I: Final[int] = 4
CAN_U: Final[int] = 8
NONEMPTY: Final[int] = 16


#: Doubled letters written once (twice over, so that triples also collapse).
COLLAPSE_DOUBLES: Final[Chain] = (
    Many.of(list(zip(_DOUBLES, _SINGLES, strict=True))),
    Many.of(list(zip(_DOUBLES, _SINGLES, strict=True))),
)
#: The rewrites of a matching form before its vowels are read or dropped.
REWRITTEN: Final[Chain] = COLLAPSE_DOUBLES + tuple(Sub(p, r) for p, r in _REWRITES)
#: The key chain of a Latin matching form (:func:`name_key_expr`).
KEY: Final[Chain] = (*REWRITTEN, Sub(f"[{_VOWELS}]+", ""))


def collapse_doubles_expr(e: pl.Expr) -> pl.Expr:
    """Doubled letters written once (applied twice so that triples also collapse)."""
    return chain_expr(COLLAPSE_DOUBLES, e)


def name_key_expr(e: pl.Expr) -> pl.Expr:
    """Cross-script phonetic key of a Latin matching form (null stays null).

    A name of vowels only (Aya) has the empty key ``""``.
    """
    column = _plain_column(e)
    if column is not None:  # (the name matcher asks for these thousands of times a link)
        return _column_key_expr(column)
    return _key_expr(e)


def _plain_column(e: pl.Expr) -> str | None:
    """The column ``e`` is when it is just ``pl.col(name)``, else None."""
    return e.meta.output_name() if e.meta.is_column() else None


@lru_cache(maxsize=256)
def _column_key_expr(column: str) -> pl.Expr:
    """:func:`name_key_expr` of ``pl.col(column)``, built once: building the expression (some
    thirty regex rewrites) costs more than running it on a few thousand distinct names."""
    return _key_expr(pl.col(column))


def _key_expr(e: pl.Expr) -> pl.Expr:
    return chain_expr(KEY, e)


def _rewritten_expr(e: pl.Expr) -> pl.Expr:
    return chain_expr(REWRITTEN, e)


def key_of_form(form: str | None) -> str | None:
    """:func:`name_key_expr` of one Latin matching form, in Python (the same chain)."""
    return chain_text(KEY, form)


def vowel_codes_expr(e: pl.Expr) -> pl.Expr:
    """List of vowel-gap codes of a Latin matching form, one more than the key has letters.

    Gap *k* is the vowel run before key letter *k* (the last gap follows the last letter).
    Each code is a bit set: :data:`MUST_I` (i or y: a written long i), :data:`MUST_U` (ou, u
    or w: a written long u), :data:`CAN_I` (i, y or e), :data:`CAN_U` (o, u, w or e) and
    :data:`NONEMPTY`. ``e`` is a wildcard: French mute/short e, and the transliteration's
    stand-in for ع and for an initial alef, whose vowel Arabic does not write.
    """
    column = _plain_column(e)
    if column is not None:
        return _column_vowel_codes_expr(column)
    return _vowel_codes_expr(e)


@lru_cache(maxsize=256)
def _column_vowel_codes_expr(column: str) -> pl.Expr:
    """:func:`vowel_codes_expr` of ``pl.col(column)``, built once (see :func:`_column_key_expr`)."""
    return _vowel_codes_expr(pl.col(column))


def _vowel_codes_expr(e: pl.Expr) -> pl.Expr:
    gaps = _rewritten_expr(e).str.replace_all(f"[^{_VOWELS}]", "|").str.split("|")
    x = pl.element()
    code = sum(
        (x.str.contains(pattern).cast(pl.UInt8) * bit for pattern, bit in _GAP_BITS),
        (x.str.len_bytes() > 0).cast(pl.UInt8) * NONEMPTY,
    )
    return gaps.list.eval(code)


#: The bits of a gap code a gap has when it holds a match of the pattern (with
#: :data:`NONEMPTY` when it is not empty): :func:`vowel_codes_expr`.
_GAP_BITS: Final[tuple[tuple[str, int], ...]] = (
    ("[iy]", MUST_I),
    ("ou|u|w", MUST_U),
    ("[iye]", CAN_I),
    ("[ouwe]", CAN_U),
)
#: A gap's end: any letter but a vowel.
_GAP_END: Final[Sub] = Sub(f"[^{_VOWELS}]", "|")


def vowel_codes_of_form(form: str | None) -> list[int] | None:
    """:func:`vowel_codes_expr` of one Latin matching form, in Python (the same chains and
    patterns)."""
    rewritten = chain_text(REWRITTEN, form)
    if rewritten is None:
        return None
    gaps = _GAP_END.text(rewritten).split("|")
    return [
        sum(bit for pattern, bit in _GAP_BITS if _gap_pattern(pattern).search(gap))
        + (NONEMPTY if gap else 0)
        for gap in gaps
    ]


@lru_cache(maxsize=8)
def _gap_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(python_pattern(pattern))


def token_keys_expr(e: pl.Expr) -> pl.Expr:
    """List of the sorted unique non-empty keys of each token of a Latin matching form.

    Null input gives an empty list.
    """
    keys = e.str.split(" ").list.eval(name_key_expr(pl.element()))
    keys = keys.list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
    keys = keys.list.unique().list.sort()
    return pl.when(e.is_null()).then(pl.lit([], dtype=pl.List(pl.Utf8))).otherwise(keys)


def token_keys_of_form(form: str | None) -> list[str]:
    """:func:`token_keys_expr` of one Latin matching form, in Python (the same chain)."""
    if form is None:
        return []
    return sorted({k for k in (chain_text(KEY, t) for t in form.split(" ")) if k})
