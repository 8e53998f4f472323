"""The swap's other crossing (``compare/library._other_crossing``) read in Python for a few
pairs of strings gives the polars form's values."""

from __future__ import annotations

from functools import partial
from unittest.mock import patch

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.compare import library
from registry_link.compare.similarity import name_similarity_each
from registry_link.names import matching_form

# matching forms of names that share keys, endings and readings (Said/Saad, Lahcen/الحسن),
# and drawn strings
_NAMES = [
    matching_form(n)
    for n in ("Said", "Saad", "Lahcen", "الحسن", "Alaoui", "Ali", "El Alaoui", "Mohamed", "Mhamed")
]
_NAME = st.one_of(st.none(), st.sampled_from(_NAMES), st.text(alphabet="ahlmosu ", max_size=7))
_ROW = st.tuples(_NAME, _NAME, _NAME, _NAME, st.sampled_from([0, 1, None]))


def _frame(
    rows: list[tuple[str | None, str | None, str | None, str | None, int | None]],
) -> pl.DataFrame:
    columns = ("l_given_lat", "l_family_lat", "r_given_lat", "r_family_lat", "__swapdir")
    return pl.DataFrame(
        {c: [r[i] for r in rows] for i, c in enumerate(columns)},
        schema={**dict.fromkeys(columns[:4], pl.String), "__swapdir": pl.Int8},
    )


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(_ROW, min_size=1, max_size=40),
    cutoff=st.sampled_from([None, 0.8, 0.92]),
)
def test_the_python_form_gives_the_polars_forms_values(
    rows: list[tuple[str | None, str | None, str | None, str | None, int | None]],
    cutoff: float | None,
) -> None:
    crossing = partial(
        library._other_crossing,
        lat="given_lat",
        other_lat="family_lat",
        direction="__swapdir",
        similarity=partial(name_similarity_each, score_cutoff=cutoff),
    )
    frame = _frame(rows)
    got = crossing(frame)  # (a few pairs of strings: in Python)
    with patch.object(library, "FEW_CROSSINGS", -1):
        want = crossing(frame)
    assert got.dtype == want.dtype == pl.Float64
    assert got.to_list() == want.to_list()


def test_many_pairs_or_coded_names_take_the_polars_form() -> None:
    rows = [(_NAMES[0], _NAMES[1], _NAMES[1], _NAMES[0], 1)] * (library.FEW_CROSSINGS + 1)
    crossing = partial(
        library._other_crossing,
        lat="given_lat",
        other_lat="family_lat",
        direction="__swapdir",
        similarity=name_similarity_each,
    )
    with patch.object(library, "_other_crossing_in_python") as in_python:
        many = crossing(_frame(rows))
        coded = crossing(_frame(rows[:3]).with_columns(pl.col("^[lr]_.*$").cast(pl.Categorical)))
        in_python.assert_not_called()
    assert many.to_list() == [1.0] * len(rows)
    assert coded.to_list() == [1.0] * 3
