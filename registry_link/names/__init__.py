"""Name standardisation and the cross-script (Arabic ↔ Latin) name matcher.

Vectorised expressions for standardisation, scalar helpers accepting either script, and
element-wise pairwise functions on Latin matching forms for the comparison engine.
"""

from __future__ import annotations

from registry_link.names.arabic import contains_arabic_expr, normalise_arabic_expr
from registry_link.names.keys import name_key_expr, token_keys_expr
from registry_link.names.latin import normalise_latin_expr
from registry_link.names.matcher import (
    matching_form,
    matching_form_expr,
    name_key,
    name_similarity,
    pairwise_name_similarity,
    pairwise_name_variant,
    pairwise_same_name,
    same_name,
)
from registry_link.names.translit import arabic_to_latin_expr

__all__ = [
    "arabic_to_latin_expr",
    "contains_arabic_expr",
    "matching_form",
    "matching_form_expr",
    "name_key",
    "name_key_expr",
    "name_similarity",
    "normalise_arabic_expr",
    "normalise_latin_expr",
    "pairwise_name_similarity",
    "pairwise_name_variant",
    "pairwise_same_name",
    "same_name",
    "token_keys_expr",
]
