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
from registry_link.compare.levels import Comparison, Derived, Level, either_null
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
    earlier=st.lists(st.integers(min_value=0, max_value=10**9), max_size=60),
    warm=st.booleans(),
)
def test_any_few_pairs_give_the_batch_vectors(
    sides: tuple[pl.DataFrame, pl.DataFrame],
    batch: pl.DataFrame,
    picks: list[int],
    earlier: list[int],
    warm: bool,
) -> None:
    left, right = sides
    rows = [p % batch.height for p in picks]  # any pairs, repeats and any order included
    want = batch[rows]
    memo = DerivedMemo() if warm else None
    few = FewPairs(_comparisons(), memo)
    if warm:
        # pairs seen before: some of these (their levels and helper values kept), others
        seen = batch[[p % batch.height for p in earlier] + rows[: len(rows) // 2]]
        few.compare(left, right, seen["l_idx"].to_numpy(), seen["r_idx"].to_numpy())
    got = few.compare(left, right, want["l_idx"].to_numpy(), want["r_idx"].to_numpy())
    assert got.equals(want)


def test_pairs_seen_before_are_read_from_the_kept_levels(
    sides: tuple[pl.DataFrame, pl.DataFrame], batch: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    left, right = sides
    few = FewPairs(_comparisons(), DerivedMemo())
    first = batch.head(40)
    few.compare(left, right, first["l_idx"].to_numpy(), first["r_idx"].to_numpy())
    # the same value pairs again (here the same pairs, reversed): no comparison is evaluated
    evaluated: list[int] = []
    real = FewPairs._evaluate

    def counting(self: FewPairs, *args: np.ndarray) -> pl.DataFrame:
        evaluated.append(len(self.comparisons))
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(FewPairs, "_evaluate", counting)
    again = first.reverse()
    got = few.compare(left, right, again["l_idx"].to_numpy(), again["r_idx"].to_numpy())
    assert got.equals(again)
    assert evaluated == []
    # a new pair: only the comparisons whose value pair is new are evaluated, on it alone
    new = batch.slice(41, 1)
    got = few.compare(left, right, new["l_idx"].to_numpy(), new["r_idx"].to_numpy())
    assert got.equals(new)
    assert len(evaluated) == 1 and 0 < evaluated[0] <= len(few.comparisons)


def test_a_helper_that_does_not_say_what_it_reads_is_always_evaluated(
    sides: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    left, right = sides
    calls: list[int] = []

    def given_length_difference(frame: pl.DataFrame) -> pl.Series:
        calls.append(frame.height)
        return (frame["l_given_lat"].str.len_chars() - frame["r_given_lat"].str.len_chars()).abs()

    comp = Comparison(
        name="given_length",
        kind="custom",
        params={},
        columns=("given_lat",),
        missing=Level("missing", either_null("given_lat"), "a given name is missing"),
        levels=(
            Level("different", pl.lit(True), "given names differ in length"),
            Level("same_length", pl.col("__len_diff") == 0, "given names of one length"),
        ),
        derived={"__len_diff": Derived(given_length_difference)},  # (reads: unknown)
    )
    pairs = _all_pairs(left.head(3), right.head(10))
    want = compare(left, right, pairs, [comp])
    few = FewPairs([comp], DerivedMemo())
    for _ in range(2):
        got = few.compare(left, right, pairs["l_idx"].to_numpy(), pairs["r_idx"].to_numpy())
        assert got.equals(want)
    assert calls[-2:] == [pairs.height, pairs.height]  # both times, every pair


def test_no_pairs_give_the_empty_vectors(sides: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    left, right = sides
    empty = np.empty(0, np.uint32)
    comps = _comparisons()
    got = FewPairs(comps).compare(left, right, empty, empty)
    assert got.height == 0
    assert got.columns == ["l_idx", "r_idx", *(c.output_column for c in comps)]


def test_a_memo_keeps_no_more_than_its_limit(sides: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    left, right = sides
    memo = DerivedMemo(limit=3, levels_limit=3)
    few = FewPairs(_comparisons(), memo)
    pairs = _all_pairs(left.head(5), right)
    few.compare(left, right, pairs["l_idx"].to_numpy(), pairs["r_idx"].to_numpy())
    tables = sum(1 for c in few.comparisons for d in c.derived.values() if d.reads is not None)
    assert 0 < len(memo) <= 3 * (tables + len(few.comparisons))  # helpers and levels


def test_one_elementwise_helper_of_two_comparisons_runs_once_on_their_new_pairs(
    sides: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    left, right = sides
    calls: list[int] = []

    def length_difference(a: pl.Series, b: pl.Series) -> pl.Series:
        calls.append(a.len())
        return (a.str.len_chars().cast(pl.Int64) - b.str.len_chars().cast(pl.Int64)).abs()

    def length_comparison(col: str) -> Comparison:
        def derive(frame: pl.DataFrame) -> pl.Series:
            return length_difference(frame[f"l_{col}"], frame[f"r_{col}"])

        helper = Derived(
            derive, frozenset([f"l_{col}", f"r_{col}"]), pairwise=(length_difference, col)
        )
        return Comparison(
            name=f"{col}_length",
            kind="custom",
            params={},
            columns=(col,),
            missing=Level("missing", either_null(col), f"a {col} is missing"),
            levels=(
                Level("different", pl.lit(True), f"{col} differ in length"),
                Level("same_length", pl.col(f"__len_{col}") == 0, f"{col} of one length"),
            ),
            derived={f"__len_{col}": helper},
        )

    comps = [length_comparison("given_lat"), length_comparison("family_lat")]
    pairs = _all_pairs(left.head(3), right.head(10))
    want = compare(left, right, pairs, comps)
    calls.clear()
    few = FewPairs(comps, DerivedMemo())
    got = few.compare(left, right, pairs["l_idx"].to_numpy(), pairs["r_idx"].to_numpy())
    assert got.equals(want)
    assert len(calls) == 1  # both comparisons' new value pairs in one call
    # ... as many values as the two columns have distinct value pairs
    distinct = [
        pairs.select(l=left[f"{c}"].gather(pairs["l_idx"]), r=right[f"{c}"].gather(pairs["r_idx"]))
        .unique()
        .height
        for c in ("given_lat", "family_lat")
    ]
    assert calls[0] == sum(distinct)


def test_a_helper_column_comes_in_a_stage_after_the_helper_columns_it_reads() -> None:
    comparisons = _comparisons()
    few = FewPairs(comparisons)
    stage_of = {
        (step.comparison.name, step.name): k
        for k, stage in enumerate(few._stages)
        for step in stage
    }
    assert len(stage_of) == sum(len(c.derived) for c in comparisons)  # each helper once
    for comp in comparisons:
        for name, fn in comp.derived.items():
            read = set(fn.reads or ())
            for expr in (fn.expr, comp.derived_when.get(name)):
                read |= set() if expr is None else set(expr.meta.root_names())
            for other in comp.derived:
                if other in read:
                    assert stage_of[comp.name, other] < stage_of[comp.name, name]
    # the names' chains set the stages, not the given names' nine helper columns
    given = next(c for c in comparisons if c.name == "given")
    assert len(few._stages) < len(given.derived)
