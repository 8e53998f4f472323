"""Sex codes -> 'M' / 'F'.

Built-in codes (M/H/Homme/Masculin/1/ذكر, F/Femme/Féminin/2/أنثى ...) plus the config's
``formats.sex`` codes, compared case-, accent- and spacing-insensitively. Empty values and
placeholders are missing (null, no flag); any other unknown value -> null + ``sex_unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from registry_link.config.codes import BUILTIN_SEX_CODES, merge_codes
from registry_link.standardise.text import clean_text_expr, code_key_expr, is_placeholder_expr

DEFAULT_SEX_CODES: Mapping[str, str] = merge_codes(BUILTIN_SEX_CODES, {})


def sex_expr(e: pl.Expr, codes: Mapping[str, str] = DEFAULT_SEX_CODES) -> pl.Expr:
    """Standard sex ('M' | 'F' | null) from a raw code column; ``codes`` maps code keys."""
    return code_key_expr(clean_text_expr(e)).replace_strict(
        dict(codes), default=None, return_dtype=pl.Utf8
    )


def sex_unknown_expr(e: pl.Expr, codes: Mapping[str, str] = DEFAULT_SEX_CODES) -> pl.Expr:
    """True when a raw sex value is present, not a placeholder, and not a known code."""
    text = clean_text_expr(e)
    return (
        text.is_not_null() & ~is_placeholder_expr(text) & sex_expr(e, codes).is_null()
    ).fill_null(False)
