"""Tests of registry_link.report.outputs: files, encodings, CSV list columns, summary."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from registry_link.errors import UsageError
from registry_link.households.build import HOUSEHOLD_FLAGS
from registry_link.report.outputs import csv_ready, output_counts, write_outputs

LINKS = pl.DataFrame(
    {
        "source": ["coop", "coop", "chambre"],
        "record_id": ["1", "2", "1"],
        "person_id": ["1234567890", None, "2222222222"],
        "match_probability": [0.99, None, 0.7],
        "decision": ["match", "non_match", "review"],
        "reason": ["p=0.99 ≥ match threshold 0.9", "no candidate pair", "p=0.7 between"],
    }
)
REVIEW = pl.DataFrame(
    {
        "source": ["chambre", "chambre"],
        "record_id": ["1", "1"],
        "person_id": ["2222222222", "3333333333"],
        "match_probability": [0.7, 0.4],
        "explanation": ["given names agree", "family names differ"],
        "p_family_name_ar": ["العلوي", "العلوي"],
        "r_family_name_ar": ["العلوي", "الإدريسي"],
    }
)
HOUSEHOLDS = pl.DataFrame(
    {
        "household_key": ["H1", "H1", "HB1"],
        "source": ["coop", "coop", "chambre"],
        "record_id": ["1", "2", "1"],
        "flags": [[], ["member_not_in_registry", "principal_missing"], ["member_awaiting_review"]],
    }
)


@pytest.fixture()
def written(tmp_path: Path) -> dict[str, Path]:
    summary = {"timings_s": {"block": 1.5}, "inputs": {"registry": "r.csv"}, "bad": float("nan")}
    return write_outputs(tmp_path / "out", LINKS, REVIEW, HOUSEHOLDS, summary)


def test_all_files_written(written) -> None:
    assert sorted(written) == sorted(
        [f"{s}.{e}" for s in ("links", "review", "households") for e in ("parquet", "csv")]
        + ["summary.json"]
    )
    assert all(p.exists() for p in written.values())
    assert not list(written["links.csv"].parent.glob("*.tmp"))


def test_parquet_round_trips(written) -> None:
    assert pl.read_parquet(written["links.parquet"]).equals(LINKS)
    assert pl.read_parquet(written["households.parquet"]).equals(HOUSEHOLDS)


def test_csv_is_utf8_with_bom_and_keeps_arabic(written) -> None:
    raw = written["review.csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "الإدريسي" in text
    assert text.splitlines()[0].startswith("source,record_id")


def test_households_csv_joins_flags_with_bar(written) -> None:
    back = pl.read_csv(written["households.csv"], infer_schema=False)
    assert back["flags"].to_list() == [
        "",
        "member_not_in_registry|principal_missing",
        "member_awaiting_review",
    ]


def test_summary_json_keeps_given_keys_and_adds_counts(written) -> None:
    s = json.loads(written["summary.json"].read_text(encoding="utf-8"))
    assert s["timings_s"] == {"block": 1.5}
    assert s["inputs"] == {"registry": "r.csv"}
    assert s["bad"] is None  # NaN is not JSON
    c = s["output_counts"]
    assert c["decisions"] == {"match": 1, "non_match": 1, "review": 1}
    assert c["decisions_by_source"] == {
        "chambre": {"review": 1},
        "coop": {"match": 1, "non_match": 1},
    }
    assert (c["review_rows"], c["review_records"], c["households"]) == (2, 1, 2)
    assert c["household_flags"] == {
        "member_awaiting_review": 1,
        "member_not_in_registry": 1,
        "principal_missing": 1,
    }
    assert s["household_flag_descriptions"] == HOUSEHOLD_FLAGS
    assert s["csv_encoding"] == "UTF-8 with BOM"
    assert set(s["versions"]) == {"registry_link", "polars", "python"}


def test_csv_ready_only_touches_list_columns() -> None:
    f = pl.DataFrame({"a": [1], "l": [[1, 2]]})
    assert csv_ready(f).to_dicts() == [{"a": 1, "l": "1|2"}]


def test_counts_of_empty_frames() -> None:
    c = output_counts(LINKS.clear(), REVIEW.clear(), HOUSEHOLDS.clear())
    assert (c["partner_records"], c["review_records"], c["households"]) == (0, 0, 0)


def test_out_dir_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(UsageError, match="give another --out"):
        write_outputs(f, LINKS, REVIEW, HOUSEHOLDS, {})
