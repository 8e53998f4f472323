"""Birth-date rules: forms, precision, flags, declared formats."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.standardise.dates import BIRTH_DATE_COLUMNS, parse_birth_dates

REF = 2026
D = dt.date


def parse(values: list[str | None], fmt: str = "auto") -> list[dict[str, object] | None]:
    df = pl.DataFrame({"x": values}, schema={"x": pl.Utf8})
    out = parse_birth_dates(df, "x", reference_year=REF, declared_format=fmt)
    assert out.columns == ["x", *BIRTH_DATE_COLUMNS]
    assert out.select(list(BIRTH_DATE_COLUMNS)).schema == pl.Schema(BIRTH_DATE_COLUMNS)
    return out.drop("x").to_dicts()


def row(date: dt.date | None, year: int | None, precision: str | None, **flags: bool):  # type: ignore[no-untyped-def]
    return {
        "birth_date": date,
        "birth_year": year,
        "birth_date_precision": precision,
        "birth_date_unparseable": flags.get("unparseable", False),
        "birth_date_out_of_range": flags.get("out_of_range", False),
        "birth_date_day_or_year": precision == "day_or_year",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05/03/1980", row(D(1980, 3, 5), 1980, "day")),
        ("5/3/1980", row(D(1980, 3, 5), 1980, "day")),
        ("05-03-1980", row(D(1980, 3, 5), 1980, "day")),
        ("05.03.1980", row(D(1980, 3, 5), 1980, "day")),
        ("1980-03-05", row(D(1980, 3, 5), 1980, "day")),
        ("19800305", row(D(1980, 3, 5), 1980, "day")),
        ("1980-03-05 00:00:00", row(D(1980, 3, 5), 1980, "day")),  # Excel date cell
        ("٠٥/٠٣/١٩٨٠", row(D(1980, 3, 5), 1980, "day")),  # Arabic-Indic digits
        ("5-3-07", row(D(2007, 3, 5), 2007, "day")),  # 20yy not after the reference year
        ("5-3-56", row(D(1956, 3, 5), 1956, "day")),  # 2056 would be in the future -> 19yy
        ("29285", row(D(1980, 3, 5), 1980, "day")),  # Excel serial
        ("29285.0", row(D(1980, 3, 5), 1980, "day")),
        ("1956", row(None, 1956, "year")),
        ("00/00/1956", row(None, 1956, "year")),
        ("0/0/1956", row(None, 1956, "year")),
        ("xx/xx/1956", row(None, 1956, "year")),
        ("1956-00-00", row(None, 1956, "year")),
        ("00/07/1956", row(None, 1956, "year")),
        ("01/01/1956", row(D(1956, 1, 1), 1956, "day_or_year")),
        ("29/02/1984", row(D(1984, 2, 29), 1984, "day")),  # leap year
        ("29/02/1983", row(None, None, None, unparseable=True)),
        ("31/02/1980", row(None, None, None, unparseable=True)),
        ("31/04/1980", row(None, None, None, unparseable=True)),
        ("13/13/1980", row(None, None, None, unparseable=True)),
        ("??", row(None, None, None, unparseable=True)),
        ("né vers 1950", row(None, None, None, unparseable=True)),
        ("1850", row(None, 1850, "year", out_of_range=True)),
        ("12/06/1899", row(D(1899, 6, 12), 1899, "day", out_of_range=True)),
        ("12/06/2030", row(D(2030, 6, 12), 2030, "day", out_of_range=True)),
        (None, None),
        ("", None),
        ("  ", None),
        ("-", None),
        ("N/A", None),
        ("néant", None),
        # zeros are not a date: unparseable (flagged), not silently missing (issue 19)
        ("00/00/0000", row(None, None, None, unparseable=True)),
        ("0", row(None, None, None, unparseable=True)),
        ("0000-00-00", row(None, None, None, unparseable=True)),
    ],
)
def test_forms(raw: str | None, expected: dict[str, object] | None) -> None:
    assert parse([raw]) == [expected or row(None, None, None)]


def test_many_rows_at_once() -> None:
    raws = ["05/03/1980", "1956", "31/02/1980", None]
    out = parse(raws)
    assert [r["birth_date_precision"] for r in out] == ["day", "year", None, None]


def test_declared_format_tried_first() -> None:
    # 03/05/1980 is 5 March with %m/%d/%Y; values it cannot read fall back to auto
    out = parse(["03/05/1980", "1975", "25/12/1990"], fmt="%m/%d/%Y")
    assert [r["birth_date"] for r in out] == [D(1980, 3, 5), None, D(1990, 12, 25)]  # type: ignore[index]
    assert out[1]["birth_year"] == 1975  # type: ignore[index]


def test_declared_year_only_format() -> None:
    assert parse(["1975"], fmt="%Y")[0]["birth_date_precision"] == "year"  # type: ignore[index]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=25)), max_size=20))
def test_never_raises_on_arbitrary_text(values: list[str | None]) -> None:
    out = parse(values)
    assert len(out) == len(values)


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2026, 12, 31)))
def test_day_dates_round_trip(date: dt.date) -> None:
    """A parsed date written back as dd/mm/yyyy or ISO parses to itself (idempotence)."""
    for text in (date.strftime("%d/%m/%Y"), date.isoformat()):
        r = parse([text])[0]
        assert r["birth_date"] == date and r["birth_year"] == date.year
