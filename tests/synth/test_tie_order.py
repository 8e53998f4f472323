"""``unstable_sort_order``: polars <= 2.1's unstable sort order, on any polars version."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.synth.tie_order import _Quicksort, unstable_sort_order

POLARS_BEFORE_2_2 = tuple(int(p) for p in pl.__version__.split(".")[:2]) < (2, 2)

#: Keys with many ties, as the synthetic lists' (worker, -age): a from [0, n/4), b from [0, 6).
#: (rows, seed, shape of a) -> the first 16 hex digits of the sha256 of the row order (int64)
#: that polars 2.1.0's ``DataFrame.sort("a", "b", descending=[False, True])`` gave.
POLARS_2_1_ORDERS = {
    (30, 1, "random"): "6918710a6ee4c5cc",  # insertion sort only
    (400, 2, "random"): "c00f389f651ed4dd",
    (3000, 3, "random"): "4f63e062633bef80",  # past 2,000: the halves that rayon sorts apart
    (20000, 4, "random"): "1634129b4e989edf",
    (5000, 5, "sorted"): "39c98362f8ffabaa",  # partial insertion sort
    (5000, 6, "reversed"): "95b8824371e2ac90",  # choose_pivot reverses the slice
}


def _keys(rows: int, seed: int, shape: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, max(1, rows // 4), rows)
    b = rng.integers(0, 6, rows)
    if shape == "sorted":
        a = np.sort(a)
    elif shape == "reversed":
        a = np.sort(a)[::-1].copy()
    return a, b


def _digest(order: list[int]) -> str:
    return hashlib.sha256(np.asarray(order, np.int64).tobytes()).hexdigest()[:16]


@pytest.mark.parametrize(("rows", "seed", "shape"), list(POLARS_2_1_ORDERS))
def test_the_order_is_polars_2_1s(rows: int, seed: int, shape: str) -> None:
    a, b = _keys(rows, seed, shape)
    order = unstable_sort_order(list(zip(a.tolist(), (-b).tolist(), strict=True)))
    assert _digest(order) == POLARS_2_1_ORDERS[rows, seed, shape]


@pytest.mark.skipif(not POLARS_BEFORE_2_2, reason="polars 2.2 sorts ties in another order")
@pytest.mark.parametrize(("rows", "seed", "shape"), list(POLARS_2_1_ORDERS))
def test_the_golden_orders_are_the_installed_polars(rows: int, seed: int, shape: str) -> None:
    a, b = _keys(rows, seed, shape)
    frame = pl.DataFrame({"a": a, "b": b}).with_row_index()
    order = frame.sort("a", "b", descending=[False, True])["index"].to_list()
    assert _digest(order) == POLARS_2_1_ORDERS[rows, seed, shape]


keys = st.lists(st.tuples(st.integers(0, 40), st.integers(-5, 0)), max_size=400)


@settings(max_examples=200, deadline=None)
@given(keys)
def test_a_sort(keys: list[tuple[int, int]]) -> None:
    order = unstable_sort_order(keys)
    assert sorted(order) == list(range(len(keys)))
    ordered = [keys[i] for i in order]
    assert ordered == sorted(keys)


@settings(max_examples=200, deadline=None)
@given(keys)
def test_as_polars_before_2_2(keys: list[tuple[int, int]]) -> None:
    if not POLARS_BEFORE_2_2:
        pytest.skip("polars 2.2 sorts ties in another order")
    frame = pl.DataFrame(
        {"a": [a for a, _ in keys], "b": [-b for _, b in keys]},
        schema={"a": pl.Int64, "b": pl.Int64},
    ).with_row_index()
    order = frame.sort("a", "b", descending=[False, True])["index"].to_list()
    assert unstable_sort_order(keys) == order


@settings(max_examples=100, deadline=None)
@given(keys)
def test_the_heapsort_fallback_sorts(keys: list[tuple[int, int]]) -> None:
    """The fallback after too many imbalanced partitions (rare: tested on its own)."""
    rows = list(range(len(keys)))
    _Quicksort(rows, lambda a, b: keys[a] < keys[b]).heapsort(0, len(rows))
    assert [keys[i] for i in rows] == sorted(keys)
