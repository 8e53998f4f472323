"""benchmarks/same_outputs.py's fingerprints: blind to a float's last bits, not to a change."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from same_outputs import fingerprint, fingerprint_differences

LINKS = pl.DataFrame(
    {
        "record_id": ["A1", "A2", "A3"],
        "person_id": ["P1", None, "P3"],
        "match_probability": [0.999999, 0.42, None],
        "decision": ["match", "review", "non_match"],
    }
)


def _written(folder: Path, links: pl.DataFrame, model: dict[str, object]) -> Path:
    folder.mkdir()
    links.write_parquet(folder / "links.parquet")
    links.write_csv(folder / "links.csv")
    (folder / "model.json").write_text(json.dumps(model))
    return folder


def _differences(tmp_path: Path, links: pl.DataFrame, model: dict[str, object]) -> list[str]:
    before = fingerprint(_written(tmp_path / "a", LINKS, {"prior": 1e-4, "m": [0.9, 0.1]}))
    return fingerprint_differences(fingerprint(_written(tmp_path / "b", links, model)), before)


def test_last_bit_differences_are_the_same_outputs(tmp_path: Path) -> None:
    nudged = LINKS.with_columns(pl.col("match_probability") * (1 + 2**-52))
    model = {"prior": math.nextafter(1e-4, 1.0), "m": [0.9, 0.1]}
    assert _differences(tmp_path, nudged, model) == []


@pytest.mark.parametrize(
    ("links", "model", "expected"),
    [
        (
            LINKS.with_columns(pl.col("match_probability").fill_null(0.5)),
            {"prior": 1e-4, "m": [0.9, 0.1]},
            {"links.csv", "links.parquet"},
        ),
        (LINKS.reverse(), {"prior": 1e-4, "m": [0.9, 0.1]}, {"links.csv", "links.parquet"}),
        (
            LINKS.with_columns(pl.lit("match").alias("decision")),
            {"prior": 1e-4, "m": [0.9, 0.1]},
            {"links.csv", "links.parquet"},
        ),
        (LINKS, {"prior": 1e-4, "m": [0.9, 0.1000001]}, {"model.json"}),
        (LINKS, {"prior": 1e-4, "m": [0.1, 0.9]}, {"model.json"}),
    ],
    ids=["a missing value filled", "rows reordered", "a decision", "a float", "floats swapped"],
)
def test_a_change_is_a_difference(
    tmp_path: Path, links: pl.DataFrame, model: dict[str, object], expected: set[str]
) -> None:
    found = _differences(tmp_path, links, model)
    assert {line.split(":")[0] for line in found} == expected, found
