"""Pair frames shared by the comparison tests (imported by name, as ``tests/db`` does)."""

from __future__ import annotations

import polars as pl


def all_pairs(n: int, m: int) -> pl.DataFrame:
    """Every pair of ``n`` left and ``m`` right records, left-major."""
    return pl.DataFrame(
        {"l_idx": [i for i in range(n) for _ in range(m)], "r_idx": list(range(m)) * n},
        schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32},
    )
