"""Arabic script → Latin matching form.

Works on normalised Arabic (the input is normalised again, which is idempotent). First the
name rules that mirror :mod:`registry_link.names.latin`:

* ``عبد`` glued to the next token (``عبد القادر`` → ``عبدالقادر``);
* honorifics dropped when another token follows (مولاي، سيدي، سي، لالة، (ال)حاج(ة));
* the article ``ال`` dropped as a separate token or at the start of a token of ≥ 3 letters
  after it (``العلوي`` → ``علوي``), except in إلياس، إلهام، اليسع whose ``ال`` is not an article;
* particles glued to the next token (بن، ابن، بنت، ايت، اولاد، ولد، بو، ابو).

Then a letter-by-letter transliteration in Moroccan French style: ش → ch, خ → kh, غ → gh,
ج → j, ق/ك → k, ڭ → g, emphatics to their plain letters (ص → s, ط → t, ض/ظ/ذ → d, ث → t),
ح/ه → h, ا → a, ع and a word-initial ا → e (the wildcard vowel: Arabic does not write
which short vowel goes with them; a final ع → a), و → w at the start of a word and ou
elsewhere, ي → y at the start of a word or after a long vowel and i elsewhere, a final
ه (ة) → a, ``الله`` → llah. Short vowels are not written in Arabic and are not invented
here: the key ignores vowels, and the vowel-gap check treats a missing vowel as unknown.
Last, Moroccan short forms are made full as on the Latin side (فاطنة → fatna → fatma).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from registry_link.names.arabic import NORMALISE
from registry_link.names.latin import FOLD_SHORT_FORMS
from registry_link.names.rewrite import Chain, Many, NonEmpty, Strip, Sub, chain_expr, chain_text

_AR_HONORIFICS: Final[tuple[str, ...]] = (
    "مولاي",
    "سيدي",
    "سي",
    "لاله",
    "للا",
    "الحاج",
    "الحاجه",
    "حاج",
)
_AR_PARTICLES: Final[tuple[str, ...]] = ("بن", "ابن", "بنت", "ايت", "اولاد", "ولد", "بو", "ابو")
#: Words starting with ال that is not the article (after alef folding).
_AR_NOT_ARTICLE: Final[tuple[str, ...]] = ("ياس", "هام", "يسع", "ياسين")

_LETTERS: Final[dict[str, str]] = {
    "ا": "a",
    "ب": "b",
    "ت": "t",
    "ث": "t",
    "ج": "j",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "ch",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "d",
    "ع": "e",  # its vowel is not written: e is the key's wildcard vowel
    "غ": "gh",
    "ف": "f",
    "ق": "k",
    "ك": "k",
    "ڭ": "g",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ة": "a",
    "و": "ou",
    "ي": "i",
    "إ": "i",  # marker left by the not-an-article rule
}


_TWINS: Final[list[str]] = [c + c for c in "بتثجحخدذرزسشصضطظعغفقكمنهويڭ"]  # not ل: ال + ل...
#: Two different adjacent Arabic consonants that the transliteration writes with one Latin
#: letter (ت ط → t t, ق ك → k k): two consonants, never one doubled (التطواني = Tetouani).
_SAME_LETTER_PAIRS: Final[list[str]] = [
    x + y for x in "تثدذسصضطظقكحه" for y in "تثدذسصضطظقكحه" if x != y and _LETTERS[x] == _LETTERS[y]
]


def _alt(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


#: :func:`apply_arabic_name_rules_expr`'s chain.
NAME_RULES: Final[Chain] = (
    Sub(r"\bعبد ", "عبد"),
    Sub(r"\b" + _alt(_AR_HONORIFICS) + " ", ""),
    Sub(r"\bال ", ""),
    Sub(r"\bال(" + _alt(_AR_NOT_ARTICLE) + r")\b", "إل${1}"),
    Sub(r"\bال(\p{L}{3,})", "${1}"),
    Sub(r"\b(" + _alt(_AR_PARTICLES) + ") ", "${1}"),
    Sub(" +", " "),
    Strip(),
)

#: :func:`arabic_to_latin_expr`'s chain (after :data:`~.arabic.NORMALISE`).
TO_LATIN: Final[Chain] = (
    Sub(r"[^\p{Arabic} ]+", ""),
    # within a word only (before particles are glued: آيت طالب = Ait Taleb = aittaleb)
    Many.of([(p, f"{p[0]}e{p[1]}") for p in _SAME_LETTER_PAIRS]),
    *NAME_RULES,
    Sub(r"لله\b", "llah"),
    Sub(r"الاله\b", "alilah"),
    Sub(r"\bطه\b", "taha"),
    Sub(r"اه\b", "at"),
    # keep letters apart that would read as a Latin digraph (س+ه is not ch, ر+ه is not gh)
    Sub(r"([سصكقدضذڭشخغ])([هح])", "${1}e${2}"),
    Sub(r"\b([رتط])([هح])", "${1}e${2}"),
    Sub(r"([دت])([جش])", "${1}e${2}"),
    # Arabic writes a geminate once (shadda): two equal letters are two consonants (ممدوح)
    Many.of([(t, f"{t[0]}e{t[0]}") for t in _TWINS]),
    Sub(r"\bعبدال", "abdel"),
    Sub(r"\bعبد", "abd"),
    Sub(r"\bو", "w"),
    Sub(r"\bي", "y"),
    Sub(r"([او])ي", "${1}y"),
    Sub(r"ه\b", "a"),
    Sub(r"ع\b", "a"),
    Sub(r"\bا", "e"),
    Many.of(_LETTERS),
    Sub(r"[^a-z ]+", ""),
    Sub(" +", " "),
    Strip(),
    *FOLD_SHORT_FORMS,
    NonEmpty(),
)


def apply_arabic_name_rules_expr(e: pl.Expr) -> pl.Expr:
    """Abd-compound, honorific, article and particle rules on normalised Arabic text."""
    return chain_expr(NAME_RULES, e)


def arabic_to_latin_expr(e: pl.Expr) -> pl.Expr:
    """Latin matching form transliterated from Arabic text (null stays null; empty → null).

    Non-Arabic characters are dropped. The result follows the same conventions as
    :func:`registry_link.names.latin.normalise_latin_expr` (lowercase a-z, single spaces).
    """
    return chain_expr(NORMALISE + TO_LATIN, e)


def arabic_to_latin(text: str | None) -> str | None:
    """:func:`arabic_to_latin_expr` of one value, in Python (the same chains)."""
    return chain_text(NORMALISE + TO_LATIN, text)
