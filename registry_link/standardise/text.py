"""Small text expressions shared by the standardisers (all vectorised polars)."""

from __future__ import annotations

from typing import Final

import polars as pl

from registry_link.names.rewrite import Chain, Lower, Normalize, Sub, chain_expr

#: Arabic-Indic (U+0660..) and Persian (U+06F0..) digits, and their ASCII equivalents.
_NATIVE_DIGITS: Final[list[str]] = [chr(0x660 + i) for i in range(10)] + [
    chr(0x6F0 + i) for i in range(10)
]
_ASCII_DIGITS: Final[list[str]] = [str(i) for i in range(10)] * 2

#: Code keys (see :func:`code_key_expr`) that mean "no value".
PLACEHOLDER_KEYS: Final[tuple[str, ...]] = (
    "",
    "na",
    "n/a",
    "n/d",
    "nd",
    "nan",
    "null",
    "none",
    "neant",
    "inconnu",
    "nc",
    "?",
    "??",
    "???",
    "/",
    "//",
    "x",
    "xx",
    "xxx",
    "0",
)

_SPACES = r"[\s\u00a0\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+"

#: Characters that show nothing: byte-order mark, zero-width and bidi controls, soft hyphen,
#: word joiner, Arabic letter mark. In an identifier they are removed (and the row flagged).
INVISIBLE: Final[str] = r"[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"

#: Control characters (C0 and C1 except tab, line feed and carriage return, which are
#: whitespace): a NUL byte or a stray escape inside a value. Removed and flagged.
CONTROL: Final[str] = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"


def clean_text_expr(e: pl.Expr) -> pl.Expr:
    """Trim, collapse inner whitespace (incl. NBSP, zero-width and bidi marks); ``""`` -> null."""
    return e.cast(pl.Utf8).str.replace_all(_SPACES, " ").str.strip_chars().replace("", None)


def clean_id_text_expr(e: pl.Expr) -> pl.Expr:
    """An identifier as text: invisible and control characters removed (not turned into
    spaces), then trimmed with inner whitespace collapsed; ``""`` -> null."""
    return clean_text_expr(
        e.cast(pl.Utf8).str.replace_all(INVISIBLE, "").str.replace_all(CONTROL, "")
    )


def has_invisible_expr(e: pl.Expr) -> pl.Expr:
    """Whether a raw value holds an invisible character (null -> False)."""
    return e.cast(pl.Utf8).str.contains(INVISIBLE).fill_null(False)


def has_control_expr(e: pl.Expr) -> pl.Expr:
    """Whether a raw value holds a control character such as NUL (null -> False)."""
    return e.cast(pl.Utf8).str.contains(CONTROL).fill_null(False)


def ascii_digits_expr(e: pl.Expr) -> pl.Expr:
    """Arabic-Indic and Persian digits -> ASCII digits."""
    return e.str.replace_many(_NATIVE_DIGITS, _ASCII_DIGITS)


#: :func:`code_key_expr`'s chain.
CODE_KEY: Final[Chain] = (
    Normalize("NFKD"),
    Sub(r"\p{M}", ""),
    Lower(),
    Sub(r"[\s.\-_'’]+", ""),
)


def code_key_expr(e: pl.Expr) -> pl.Expr:
    """Comparison key of a code; same as :func:`registry_link.config.codes.code_key`."""
    return chain_expr(CODE_KEY, e)


#: Placeholders of free-text/date fields: words only ("?" there is an unreadable value).
WORD_PLACEHOLDER_KEYS: Final[tuple[str, ...]] = (
    "",
    "na",
    "n/a",
    "n/d",
    "nd",
    "nan",
    "null",
    "none",
    "neant",
    "inconnu",
    "nc",
)


def is_placeholder_expr(e: pl.Expr, keys: tuple[str, ...] = PLACEHOLDER_KEYS) -> pl.Expr:
    """Whether a (raw) value is a placeholder meaning "no value" (N/A, néant, -, ?, 0 ...)."""
    return code_key_expr(e).is_in(list(keys))
