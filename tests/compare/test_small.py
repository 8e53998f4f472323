"""The few-pairs path (:mod:`registry_link.compare.small`) gives the batch ``compare``'s vectors:
for every comparison kind, the model config's comparisons, pairs in any order and number, with
a memo cold or warm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link import load_standardised
from registry_link.compare import COMPARISON_KINDS, build_comparison, compare
from registry_link.compare.levels import Comparison
from registry_link.compare.small import DerivedMemo, FewPairs
from registry_link.model import load_model_config

ROOT = Path(__file__).resolve().parents[2]
_LISTS = {
    "partner_coop_ar": "csv",
    "partner_chambre_fr": "csv",
    "partner_ordre_fullname": "xlsx",
}


@pytest.fixture(scope="module")
def sides() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Partner records of the three layouts (Arabic script; Latin; unsplit full names) and
    registry records, many sharing a family-name key with one of them (close pairs), and a
    few unsplit partner records (pairs of two unsplit names)."""
    registry = load_standardised(ROOT / "sample_data/registry.csv", ROOT / "configs/registry.yaml")
    parts = [
        load_standardised(ROOT / f"sample_data/{n}.{ext}", ROOT / f"configs/{n}.yaml").frame
        for n, ext in _LISTS.items()
    ]
    left = pl.concat([p.head(25) for p in parts])
    close = registry.frame.join(left.select("family_key").unique(), on="family_key", how="semi")
    unsplit = parts[2].slice(25, 15)
    right = pl.concat([close.head(80), registry.frame.head(20), unsplit])
    return left, right


def _comparisons() -> list[Comparison]:
    """Every kind's example, and the shipped model's comparisons."""
    examples = [
        build_comparison({"name": f"ex_{name}", "kind": name, **kind.example})
        for name, kind in sorted(COMPARISON_KINDS.items())
    ]
    model = load_model_config(ROOT / "configs/model.yaml")
    return examples + list(model.comparisons)


def _all_pairs(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    l_idx = np.repeat(np.arange(left.height, dtype=np.uint32), right.height)
    r_idx = np.tile(np.arange(right.height, dtype=np.uint32), left.height)
    return pl.DataFrame({"l_idx": l_idx, "r_idx": r_idx})


@pytest.fixture(scope="module")
def batch(sides: tuple[pl.DataFrame, pl.DataFrame]) -> pl.DataFrame:
    """The batch's vectors of every left x right pair."""
    left, right = sides
    return compare(left, right, _all_pairs(left, right), _comparisons())


def test_every_kind_gives_the_batch_vectors_in_slices_with_a_memo(
    sides: tuple[pl.DataFrame, pl.DataFrame], batch: pl.DataFrame
) -> None:
    left, right = sides
    memo = DerivedMemo()
    few = FewPairs(_comparisons(), memo)
    # one left record's candidates at a time, as a search asks: the memo fills as it goes
    parts = [
        few.compare(left, right, part["l_idx"].to_numpy(), part["r_idx"].to_numpy())
        for part in batch.select("l_idx", "r_idx").partition_by("l_idx", maintain_order=True)
    ]
    got = pl.concat(parts)
    assert got.schema == batch.schema
    assert got.equals(batch)
    assert len(memo) > 0
    # not vacuous: the pairs reach several levels of each comparison of the model
    for name in ("given", "family", "father", "cin", "birth_date", "full_name", "residence"):
        assert got[f"gamma_{name}"].n_unique() >= 2, name
    assert got["gamma_given"].n_unique() >= 5 and got["gamma_family"].n_unique() >= 5


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picks=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60),
    warm=st.booleans(),
)
def test_any_few_pairs_give_the_batch_vectors(
    sides: tuple[pl.DataFrame, pl.DataFrame], batch: pl.DataFrame, picks: list[int], warm: bool
) -> None:
    left, right = sides
    rows = [p % batch.height for p in picks]  # any pairs, repeats and any order included
    want = batch[rows]
    memo = DerivedMemo() if warm else None
    few = FewPairs(_comparisons(), memo)
    if warm:  # the same pairs seen before: every helper value from the memo
        few.compare(left, right, want["l_idx"].to_numpy(), want["r_idx"].to_numpy())
    got = few.compare(left, right, want["l_idx"].to_numpy(), want["r_idx"].to_numpy())
    assert got.equals(want)


def test_no_pairs_give_the_empty_vectors(sides: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    left, right = sides
    empty = np.empty(0, np.uint32)
    comps = _comparisons()
    got = FewPairs(comps).compare(left, right, empty, empty)
    assert got.height == 0
    assert got.columns == ["l_idx", "r_idx", *(c.output_column for c in comps)]


def test_a_memo_keeps_no_more_than_its_limit(sides: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    left, right = sides
    memo = DerivedMemo(limit=3)
    few = FewPairs(_comparisons(), memo)
    pairs = _all_pairs(left.head(5), right)
    few.compare(left, right, pairs["l_idx"].to_numpy(), pairs["r_idx"].to_numpy())
    tables = sum(1 for c in few.comparisons for d in c.derived.values() if d.reads is not None)
    assert 0 < len(memo) <= 3 * tables
