"""Arabic normalisation rules (registry_link.names.arabic)."""

from __future__ import annotations

import polars as pl
import pytest

from registry_link.names import normalise_arabic_expr
from registry_link.names.arabic import contains_arabic_expr, normalise_arabic


def _norm(values: list[str | None]) -> list[str | None]:
    return (
        pl.select(normalise_arabic_expr(pl.lit(pl.Series(values, dtype=pl.Utf8))))
        .to_series()
        .to_list()
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("مُحَمَّد", "محمد"),  # harakat and shadda
        ("عَلِيٌّ", "علي"),  # tanwin
        ("رحمٰن", "رحمن"),  # superscript alef U+0670
        ("مـحـمـد", "محمد"),  # tatweel
        ("أحمد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("آمنة", "امنه"),  # alef madda, ta marbuta
        ("ٱلعلوي", "العلوي"),  # alef wasla
        ("مصطفى", "مصطفي"),  # alef maqsura
        ("فاطمة", "فاطمه"),
        ("فؤاد", "فواد"),
        ("وائل", "وايل"),
        ("أسماء", "اسما"),  # lone hamza dropped
        ("کریم", "كريم"),  # Persian kaf and yeh
        ("ڤاطمة", "فاطمه"),  # veh
        ("گروج", "ڭروج"),  # gaf → Maghrebi gaf
        ("ݣروج", "ڭروج"),
        ("پلال", "بلال"),
        ("١٢٣", "123"),  # Arabic-Indic digits
        ("۴۵۶", "456"),  # Persian digits
        ("محمد\u200b\u200f", "محمد"),  # zero-width space, RLM
        ("\u202bيوسف\u202c", "يوسف"),  # bidi embedding
        ("\u2067علي\u2069", "علي"),  # bidi isolate
        ("\ufeffعلي", "علي"),  # BOM
        ("  فاطمة   الزهراء ", "فاطمه الزهرا"),  # whitespace collapsed
        ("بن-جلون", "بن جلون"),  # punctuation → space
        ("", None),
        ("   ", None),
        ("\u200b", None),
        (None, None),
    ],
)
def test_normalise_arabic_rules(raw: str | None, expected: str | None) -> None:
    assert _norm([raw]) == [expected]
    assert normalise_arabic(raw) == expected


def test_normalise_arabic_keeps_latin_letters() -> None:
    assert _norm(["Ahmed أحمد"]) == ["Ahmed احمد"]


def test_contains_arabic() -> None:
    out = pl.select(contains_arabic_expr(pl.lit(pl.Series(["محمد", "Mohamed", "Med محمد", None]))))
    assert out.to_series().to_list() == [True, False, True, None]
