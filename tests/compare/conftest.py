"""Shared helpers for the comparison tests: compare aligned rows pairwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
import pytest

from registry_link.compare import build_comparison, compare


def pair_gammas(
    spec: Mapping[str, Any],
    left_rows: Sequence[Mapping[str, Any]],
    right_rows: Sequence[Mapping[str, Any]],
    schema: Mapping[str, Any] | None = None,
) -> list[int]:
    """Gamma of comparison ``spec`` for each aligned (left_rows[i], right_rows[i]) pair."""
    comp = build_comparison(spec)
    left = pl.DataFrame(list(left_rows), schema=schema, orient="row")
    right = pl.DataFrame(list(right_rows), schema=schema, orient="row")
    n = len(left_rows)
    pairs = pl.DataFrame(
        {"l_idx": range(n), "r_idx": range(n)}, schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32}
    )
    return compare(left, right, pairs, [comp])[comp.output_column].to_list()


def label_of(spec: Mapping[str, Any], gamma: int) -> str:
    """The label of a gamma value of comparison ``spec``."""
    return build_comparison(spec).level(gamma).label


@pytest.fixture
def gammas() -> Any:
    """The :func:`pair_gammas` helper."""
    return pair_gammas
