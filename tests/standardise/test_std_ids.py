"""Identifier rules: CIN, CNSS, registry person id."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.standardise.ids import (
    cin_expr,
    cin_malformed_expr,
    clean_id_expr,
    cnss_malformed_expr,
    registry_id_malformed_expr,
)


def run(values: list[str | None], expr_fn, flag_fn) -> list[tuple[str | None, bool]]:  # type: ignore[no-untyped-def]
    df = pl.DataFrame({"x": values}, schema={"x": pl.Utf8})
    out = df.select(v=expr_fn(pl.col("x"))).with_columns(f=flag_fn(pl.col("v")))
    return list(zip(out["v"].to_list(), out["f"].to_list(), strict=True))


@pytest.mark.parametrize(
    ("raw", "value", "malformed"),
    [
        ("BK123456", "BK123456", False),
        (" bk 123-456 ", "BK123456", False),
        ("a.12.34", "A1234", False),
        ("J٤٥٦٧٨", "J45678", False),  # Arabic-Indic digits
        ("AB12345678", "AB12345678", False),
        ("ABC123", "ABC123", True),  # three letters
        ("AB123456789", "AB123456789", True),  # nine digits
        ("123456", "123456", True),  # no letter
        ("BKO12345", "BKO12345", True),  # O for 0 is not guessed
        ("N/A", None, False),
        ("néant", None, False),
        ("-", None, False),
        ("0", None, False),
        ("000000", None, False),
        ("", None, False),
        (None, None, False),
    ],
)
def test_cin(raw: str | None, value: str | None, malformed: bool) -> None:
    assert run([raw], cin_expr, cin_malformed_expr) == [(value, malformed)]


@pytest.mark.parametrize(
    ("raw", "value", "malformed"),
    [
        ("123 456 789", "123456789", False),
        ("123-456-789", "123456789", False),
        ("123456789.0", "123456789", False),  # Excel float
        ("1.23456789E+9", "1234567890", False),  # Excel scientific notation
        ("12A456", "12A456", True),
        ("N/A", None, False),
    ],
)
def test_cnss(raw: str, value: str | None, malformed: bool) -> None:
    assert run([raw], clean_id_expr, cnss_malformed_expr) == [(value, malformed)]


@pytest.mark.parametrize(
    ("raw", "value", "malformed"),
    [
        ("1234567890", "1234567890", False),
        ("12345 67890", "1234567890", False),
        ("123456789", "123456789", True),
        ("12345678901", "12345678901", True),
    ],
)
def test_registry_id(raw: str, value: str, malformed: bool) -> None:
    assert run([raw], clean_id_expr, registry_id_malformed_expr) == [(value, malformed)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=20))
def test_cin_never_raises_and_is_idempotent(values: list[str | None]) -> None:
    df = pl.DataFrame({"x": values}, schema={"x": pl.Utf8})
    once = df.select(v=cin_expr(pl.col("x")))
    twice = once.select(v=cin_expr(pl.col("v")))
    assert once["v"].to_list() == twice["v"].to_list()
    once.select(cin_malformed_expr(pl.col("v")))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.from_regex(r"[A-Za-z]{0,3}[ \-.]?[0-9٠-٩]{0,10}(\.0)?", fullmatch=True), max_size=10
    )
)
def test_id_cleaning_idempotent_on_id_like_text(values: list[str]) -> None:
    df = pl.DataFrame({"x": values}, schema={"x": pl.Utf8})
    once = df.select(v=clean_id_expr(pl.col("x")))
    assert once.select(v=clean_id_expr(pl.col("v")))["v"].to_list() == once["v"].to_list()
