"""registry_link.schema: the type of the values a column holds."""

from __future__ import annotations

import polars as pl
import pytest

from registry_link.schema import values_type


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (pl.Categorical(), pl.String()),
        (pl.String(), pl.String()),
        (pl.Int64(), pl.Int64()),
        (pl.Date(), pl.Date()),
        (pl.Boolean(), pl.Boolean()),
    ],
)
def test_a_coded_column_holds_strings_and_the_others_their_own_type(
    dtype: pl.DataType, expected: pl.DataType
) -> None:
    assert values_type(dtype) == expected
