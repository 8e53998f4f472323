"""Data-quality summary of a standardised list."""

from __future__ import annotations

import io
import json

import polars as pl
from rich.console import Console

from registry_link.config import settings_from_dict
from registry_link.schema import FLAG_CODES
from registry_link.standardise import standardise
from registry_link.standardise.quality import quality_report


def frame() -> pl.DataFrame:
    raw = pl.DataFrame(
        {
            "record_id": ["1", "2", "3", "4"],
            "family_name": ["Alaoui", None, "Idrissi", None],
            "family_name_ar": ["العلوي", "بناني", None, None],
            "cin": ["BK1", None, "XYZ", None],
            "birth_date": ["1956", "05/03/1980", "01/01/1970", "??"],
        }
    )
    s = settings_from_dict(
        {"version": 1, "source": "q", "kind": "partner", "columns": {c: c for c in raw.columns}}
    )
    return standardise(raw, s)


def test_report_figures() -> None:
    report = quality_report(frame())
    assert report.source == "q" and report.rows == 4
    assert report.fill_rate["cin"] == 0.5
    assert report.fill_rate["family_name"] == 0.5
    assert report.fill_rate["record_id"] == 1.0
    assert report.flags["no_name"] == 1
    assert report.flags["cin_malformed"] == 1
    assert report.flags["birth_date_unparseable"] == 1
    assert report.flags["birth_date_day_or_year"] == 1
    assert set(report.flags) == set(FLAG_CODES)
    assert report.flagged_rows == 2  # rows 1 and 2 have no flag
    assert report.script_mix == {"arabic_only": 1, "latin_only": 1, "both": 1, "none": 1}
    assert report.birth_date_precision == {"day": 1, "year": 1, "day_or_year": 1, "unknown": 1}


def test_to_dict_is_json() -> None:
    d = quality_report(frame()).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["rows"] == 4


def test_render() -> None:
    buf = io.StringIO()
    quality_report(frame()).print(Console(file=buf, width=120))
    text = buf.getvalue()
    assert "cin_malformed" in text and "4 rows" in text and "Fill rate" in text


def test_empty_frame() -> None:
    report = quality_report(frame().head(0))
    assert report.rows == 0 and report.flagged_rows == 0
