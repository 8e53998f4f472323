"""Per-value results kept across calls (``remembered_values``) change no standardised row."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from registry_link.config.loader import load_source_config
from registry_link.io.readers import read_source
from registry_link.standardise.distinct import ValueMemo, remembered_values, with_distinct
from registry_link.standardise.pipeline import standardise

ROOT = Path(__file__).resolve().parents[2]


def test_remembered_values_give_the_same_frame_in_any_order_of_calls() -> None:
    settings = load_source_config(ROOT / "configs" / "partner_chambre_fr.yaml")
    raw = read_source(ROOT / "sample_data" / "partner_chambre_fr.csv", settings).head(600)
    expected = standardise(raw, settings)
    memo = ValueMemo()
    with remembered_values(memo):
        # first a part (its values are kept), then the whole (old and new values mixed),
        # then rows one by one (every value known)
        part = standardise(raw.slice(100, 200), settings)
        whole = standardise(raw, settings)
        ones = pl.concat([standardise(raw.slice(i, 1), settings) for i in range(0, 600, 97)])
    assert len(memo) > 0
    assert_frame_equal(part, expected.slice(100, 200).with_columns(part["row_number"]))
    assert_frame_equal(whole, expected)
    # (row numbers restart, and a lone dependant's principal is not in its frame: flagged)
    singles = expected.gather(list(range(0, 600, 97))).drop("row_number", "flags")
    assert_frame_equal(ones.drop("row_number", "flags"), singles)


def test_a_full_memo_computes_what_it_cannot_keep() -> None:
    frame = pl.DataFrame({"name": ["a", "b", "c", None, "a"]})
    rule = {"_upper": pl.col("name").str.to_uppercase()}
    memo = ValueMemo(limit=1)
    with remembered_values(memo):
        first = with_distinct(frame, "name", rule)
        again = with_distinct(frame, "name", rule)
    assert len(memo) == 1
    assert first["_upper"].to_list() == ["A", "B", "C", None, "A"]
    assert_frame_equal(again, first)
