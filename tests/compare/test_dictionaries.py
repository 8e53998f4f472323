"""Which string columns :func:`~registry_link.compare.dictionaries.dictionaries` encodes."""

from __future__ import annotations

from unittest import mock

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.compare import dictionaries as dictionaries_module
from registry_link.compare.dictionaries import dictionaries

_COLUMN = st.lists(st.one_of(st.none(), st.sampled_from("abcdefghij")), min_size=12, max_size=40)


@settings(max_examples=100, deadline=None)
@given(columns=st.lists(_COLUMN, min_size=1, max_size=4), limit=st.integers(1, 8))
def test_encodes_the_columns_of_few_distinct_values(
    columns: list[list[str | None]], limit: int
) -> None:
    """Exactly the columns with at most the limit's distinct values (nulls one of them) are
    encoded, whatever their first rows hold (the head look-up only skips columns that are
    over it), and their codes give back their values."""
    height = min(len(c) for c in columns)
    frame = pl.DataFrame(
        {f"c{i}": c[:height] for i, c in enumerate(columns)},
        schema={f"c{i}": pl.Utf8 for i in range(len(columns))},
    )
    with mock.patch.object(dictionaries_module, "DICTIONARY_MAX_VALUES", limit):
        found = dictionaries(frame)
        bound = max(limit, frame.height // 8)
        expected = {c for c in frame.columns if frame.get_column(c).n_unique() <= bound}
        assert {c for c in frame.columns if c in found} == expected
        for c in expected:
            values, codes = found[c]
            assert values.gather(codes).to_list() == frame.get_column(c).to_list()
