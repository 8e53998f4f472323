"""The Latin matching form of a name.

Steps (all vectorised polars expressions):

1. text cleaning: NFKD with combining marks removed (Aït → ait, Chérif → cherif), a few
   letters without decomposition folded (œ → oe, ß → ss, ø → o, ł → l, đ → d, ı → i),
   lowercase, anything that is not ``a-z``/``0-9`` (apostrophes, hyphens, dots, other
   scripts) → space, spaces collapsed;
2. name rules, the same ones :mod:`registry_link.names.translit` applies to Arabic:

   * abbreviations expanded: ``med``/``mohd``/``mhd`` → mohamed;
   * ``Abd`` compounds glued into one token and the article spelled ``el``:
     ``Abd El Kader`` / ``Abdel Kader`` / ``Abdelkader``; ``Abderrahim`` → ``abdelrrahim``;
     ``Abdeslam`` → ``abdelslam`` (the key collapses the doubled letter);
   * honorifics dropped when another token follows: moulay, my, mly, sidi, si, lalla,
     (el) hadj/hajj/haj/hadja/hajja, lhaj;
   * the article dropped: a separate ``el``/``al``/``l``/assimilated ``es``, ``er``, ``ez`` ...
     token, or glued at the start of a token (``Elalaoui`` → ``alaoui``, ``Alfassi`` →
     ``fassi``, ``Ettazi`` → ``ttazi``), so El Alaoui = Elalaoui = Alaoui = العلوي;
   * particles glued to the following token: ben, bin, ibn, bent, bint, ait, ou, ould,
     oulad, ouled, bou, abou, abu (``Ben Jelloun`` → ``benjelloun``, ``Aït Taleb`` →
     ``aittaleb``); they are part of the name, not dropped;
   * Moroccan short forms made full (:data:`SHORT_FORMS`: Fatna, Fadma → fatma).

Compound given names (Fatima Zahra / Fatimazahra) keep their spaces here; the key ignores
spaces, so they meet there.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from registry_link.names.rewrite import (
    Chain,
    Literal_,
    Lower,
    Many,
    NonEmpty,
    Normalize,
    Pad,
    Strip,
    Sub,
    chain_expr,
    chain_text,
)

_LETTER_FOLDS: Final[dict[str, str]] = {
    "ç": "s",
    "Ç": "s",
    "œ": "oe",
    "Œ": "oe",
    "æ": "ae",
    "Æ": "ae",
    "ß": "ss",
    "ø": "o",
    "Ø": "o",
    "ł": "l",
    "Ł": "l",
    "đ": "d",
    "Đ": "d",
    "ı": "i",
    "ħ": "h",
}

#: Honorific tokens dropped from the matching form (when another token follows).
HONORIFICS: Final[tuple[str, ...]] = (
    "moulay",
    "mly",
    "my",
    "sidi",
    "si",
    "lalla",
    "hadj",
    "hajj",
    "haj",
    "lhaj",
    "lhadj",
    "hadja",
    "hajja",
    "lhajja",
)

#: Particles glued to the following token.
PARTICLES: Final[tuple[str, ...]] = (
    "ben",
    "bel",
    "bin",
    "ibn",
    "bent",
    "bint",
    "ait",
    "ou",
    "ould",
    "oulad",
    "ouled",
    "bou",
    "abou",
    "abu",
)

#: Separate article tokens dropped (el, al, l and the sun-letter assimilated forms).
ARTICLES: Final[tuple[str, ...]] = (
    "el",
    "al",
    "l",
    "ul",
    "ed",
    "er",
    "es",
    "et",
    "en",
    "ez",
    "ech",
    "ad",
    "ar",
    "as",
    "at",
    "az",
)

#: Sun letters the article assimilates to (Ettazi, Abderrahim) - single-letter spellings.
_SUN: Final[str] = "tdrzsn"

_ABBREVIATIONS: Final[dict[str, str]] = {
    "med": "mohamed",
    "mohd": "mohamed",
    "mhd": "mohamed",
    "fz": "fatima zahra",
    "larbi": "arbi",
}


#: Moroccan short forms of a name token, folded to the full name they stand for (both scripts:
#: فاطنة is transliterated to fatna first). Fatna and Fadma are the Moroccan forms of فاطمة.
SHORT_FORMS: Final[dict[str, str]] = {
    "fatna": "fatma",
    "fadma": "fatma",
}


#: :data:`SHORT_FORMS` as rewrites.
FOLD_SHORT_FORMS: Final[Chain] = tuple(
    Sub(rf"\b{short}\b", full) for short, full in SHORT_FORMS.items()
)


def fold_short_forms_expr(e: pl.Expr) -> pl.Expr:
    """Matching form with each Moroccan short-form token (:data:`SHORT_FORMS`) made full."""
    return chain_expr(FOLD_SHORT_FORMS, e)


def _alt(words: tuple[str, ...] | list[str]) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


#: :func:`clean_latin_expr`'s chain.
CLEAN: Final[Chain] = (
    Many.of(_LETTER_FOLDS),
    Normalize("NFKD"),
    Sub(r"\p{M}+", ""),
    Lower(),
    Sub(r"[^a-z0-9]+", " "),
    Strip(),
    NonEmpty(),
)

#: :func:`apply_latin_name_rules_expr`'s chain (the comments say what each rewrite does).
NAME_RULES: Final[Chain] = (
    Pad(),
    *(Literal_(f" {short} ", f" {full} ") for short, full in _ABBREVIATIONS.items()),
    Strip(),
    # Abd compounds: "abd el kader", "abdel kader", "abd elkader" -> "abdelkader"
    Sub(r"\babd(?:el|al|ul|oul)? (?:(?:el|al|ul|l|e|a) )?", "abdel"),
    # assimilated article inside Abd compounds: abderrahim -> abdelrrahim, abdeslam -> abdelslam
    *(Sub(rf"\babd(?:e|a|ou|u|o){c}{c}?([a-z]{{2,}})", f"abdel{c}${{1}}") for c in _SUN),
    # the article vowel of an Abd compound is not a choice: Abdul/Abdal/Abdoul Aziz = Abdelaziz
    Sub(r"\babd(?:al|ul|oul|il)([a-z]{2,})", "abdel${1}"),
    # honorifics (only when followed by another token)
    Sub(r"\b(?:(?:el|al|l) )?" + _alt(HONORIFICS) + " ", ""),
    # separate article tokens followed by another token
    Sub(r"\b" + _alt(ARTICLES) + " ", ""),
    # article glued at the start of a token
    Sub(r"\bel([a-z]{4,})", "${1}"),
    Sub(r"\bal([b-df-hj-kmnp-tv-z][a-z]{3,})", "${1}"),
    # Moroccan article written as a bare l: Lkbir, Lmaati, Lhoussaine, Lyoussi (never l + vowel)
    Sub(r"\bl([b-df-hj-kmnp-tv-z][a-z]{3,})", "${1}"),
    *(Sub(rf"\be{c}{c}([a-z]{{2,}})", f"{c}${{1}}") for c in _SUN),
    Sub(r"\bechch?([a-z]{2,})", "ch${1}"),
    # particles glued to the following token
    Sub(r"\b(" + _alt(PARTICLES) + ") ", "${1}"),
    Sub(r" +", " "),
    Strip(),
    *FOLD_SHORT_FORMS,
    NonEmpty(),
)


def clean_latin_expr(e: pl.Expr) -> pl.Expr:
    """Lowercase ASCII text with accents removed and non-alphanumerics as single spaces.

    Empty results are null. No name rules are applied (see :func:`normalise_latin_expr`).
    """
    return chain_expr(CLEAN, e)


def apply_latin_name_rules_expr(e: pl.Expr) -> pl.Expr:
    """Apply the abbreviation, Abd-compound, honorific, article and particle rules.

    Input must already be cleaned (:func:`clean_latin_expr`); output is null when empty.
    """
    return chain_expr(NAME_RULES, e)


def normalise_latin_expr(e: pl.Expr) -> pl.Expr:
    """Latin matching form of a Latin-script name (null stays null; empty → null).

    Lowercase ASCII, accents removed, punctuation → space, honorifics and articles
    dropped, particles glued to the following token (see the module docstring).
    """
    return chain_expr(CLEAN + NAME_RULES, e)


def normalise_latin(text: str | None) -> str | None:
    """:func:`normalise_latin_expr` of one value, in Python (the same chains)."""
    return chain_text(CLEAN + NAME_RULES, text)
