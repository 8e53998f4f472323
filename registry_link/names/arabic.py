"""Normalisation of Arabic-script names.

Folds the spelling variants that do not distinguish names: Unicode NFKC first (Arabic
presentation forms and ligatures, as text copied from a PDF gives them — ﻣﺤﻤﺪ, ﷲ — become
the letters they draw: محمد, الله), diacritics and tatweel removed,
alef forms unified, ى→ي, ة→ه, ؤ→و, ئ→ي, lone hamza dropped, Persian/Urdu look-alikes folded
(ک→ك, ی→ي, ڤ→ف, پ→ب, چ→ش; the Maghrebi g letters گ ڭ ݣ ڨ → ڭ), Arabic-Indic and Persian
digits → ASCII, zero-width and bidi controls removed, punctuation → space, whitespace collapsed.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from registry_link.names.rewrite import (
    Chain,
    Many,
    NonEmpty,
    Normalize,
    Strip,
    Sub,
    chain_expr,
    chain_text,
)

#: Character folds applied to Arabic text (single characters → replacement, "" deletes).
ARABIC_FOLDS: Final[dict[str, str]] = {
    **{chr(c): "" for c in range(0x064B, 0x0653)},  # harakat, shadda, sukun
    "\u0670": "",  # superscript alef
    "\u0640": "",  # tatweel
    **{c: "ا" for c in "أإآٱٲٳ"},
    "ى": "ي",
    "ة": "ه",
    "ۀ": "ه",
    "ؤ": "و",
    "ئ": "ي",
    "ء": "",
    "ک": "ك",
    "ی": "ي",
    "ې": "ي",
    "ڤ": "ف",
    "ڥ": "ف",
    "پ": "ب",
    "چ": "ش",
    "ژ": "ج",
    "گ": "ڭ",
    "ݣ": "ڭ",
    "ڨ": "ڭ",
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
    **{chr(c): "" for c in range(0x200B, 0x2010)},
    **{chr(c): "" for c in range(0x202A, 0x202F)},
    **{chr(c): "" for c in range(0x2066, 0x206A)},
    "\ufeff": "",
    "\u061c": "",  # Arabic letter mark
}

_TRANSLATE: Final = str.maketrans(ARABIC_FOLDS)

#: Regex (Rust syntax) matching any Arabic letter.
ARABIC_LETTER_RE: Final[str] = (
    r"[\x{0620}-\x{064A}\x{066E}-\x{06D3}\x{06FA}-\x{06FC}\x{0750}-\x{077F}]"
)


def _fold_pattern() -> str:
    deleted = "".join(k for k, v in ARABIC_FOLDS.items() if v == "")
    return "[" + "".join(f"\\x{{{ord(c):04X}}}" for c in deleted) + "]"


_DELETE_RE: Final[str] = _fold_pattern()
_REPLACE: Final[dict[str, str]] = {k: v for k, v in ARABIC_FOLDS.items() if v != ""}


#: :func:`normalise_arabic_expr`'s chain.
NORMALISE: Final[Chain] = (
    Normalize("NFKC"),
    Sub(_DELETE_RE, ""),
    Many.of(_REPLACE),
    Sub(r"[^\p{L}\p{N}]+", " "),
    Strip(),
    NonEmpty(),
)


def normalise_arabic_expr(e: pl.Expr) -> pl.Expr:
    """Normalised Arabic text of an expression of strings (null stays null; empty → null).

    Only letters, digits and single spaces remain; Latin letters are kept as they are.
    """
    return chain_expr(NORMALISE, e)


def normalise_arabic(text: str | None) -> str | None:
    """Scalar :func:`normalise_arabic_expr` (same result, for one value: the same chain run in
    Python)."""
    return chain_text(NORMALISE, text)


def contains_arabic_expr(e: pl.Expr) -> pl.Expr:
    """Boolean: the string contains at least one Arabic letter (null for null)."""
    return e.str.contains(ARABIC_LETTER_RE)
