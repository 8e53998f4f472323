"""Built-in sex and relationship codes, and the key used to compare codes.

Codes are compared case-, accent- and spacing-insensitively: :func:`code_key` (Python, for
config values) and :func:`registry_link.standardise.codes.code_key_expr` (polars, for data)
compute the same key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Final

#: Sex codes, civility (title) columns included: a professional order or a chamber often gives
#: "M." / "Mme" / "Mlle" or "السيد" / "السيدة" instead of a sex column.
BUILTIN_SEX_CODES: Final[dict[str, tuple[str, ...]]] = {
    "M": (
        *("M", "H", "Homme", "Masculin", "Male", "1", "ذكر", "ذ"),
        *("M.", "Mr", "Mr.", "Monsieur", "السيد", "سيد"),
    ),
    "F": (
        *("F", "Femme", "Féminin", "Female", "2", "أنثى", "انثى", "أ"),
        *("Mme", "Mme.", "Madame", "Mlle", "Mlle.", "Mademoiselle", "Melle"),
        *("السيدة", "سيدة", "الآنسة", "آنسة", "الانسة", "انسة"),
    ),
}

BUILTIN_RELATIONSHIP_CODES: Final[dict[str, tuple[str, ...]]] = {
    "principal": ("principal", "adherent", "adhérent", "assuré", "assure", "chef", "worker"),
    "spouse": ("spouse", "conjoint", "conjointe", "épouse", "epoux", "époux", "زوج", "زوجة"),
    "child": ("child", "enfant", "fils", "fille", "ابن", "ابنة", "بنت"),
    "other": ("other", "autre", "أخرى", "اخرى"),
}

_STRIP = re.compile(r"[\s.\-_'’]+")


def code_key(text: str) -> str:
    """Comparison key of a code: NFKD, combining marks removed, lowercase, no spaces/dots/dashes.

    >>> code_key(" Féminin ") == code_key("feminin")
    True
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return _STRIP.sub("", bare.lower())


def merge_codes(
    builtin: Mapping[str, Iterable[str]], extra: Mapping[Any, Iterable[str]]
) -> dict[str, str]:
    """Key -> standard value, from built-in codes overridden by the config's extra codes."""
    merged: dict[str, str] = {}
    for value, codes in builtin.items():
        for code in codes:
            merged[code_key(code)] = value
    for value, codes in extra.items():
        for code in codes:
            merged[code_key(str(code))] = value
    merged.pop("", None)
    return merged
