"""``score_arrays`` (a search's few pairs, numpy and dicts) gives ``score``'s Bayes factors,
weights and probabilities, term-frequency adjustments included."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.errors import ModelError
from registry_link.score.scoring import score, score_arrays
from tests.score.test_scoring import gammas, make_model

_SURNAMES = ["smith", "martin", "rare", None]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(-1, 1), st.integers(-1, 2), st.sampled_from(_SURNAMES)),
        min_size=1,
        max_size=40,
    ),
    tables=st.booleans(),
)
def test_score_arrays_equals_score(rows: list[tuple[int, int, str | None]], tables: bool) -> None:
    model = make_model(tables=None if tables else {})
    surname, dob, values = (list(c) for c in zip(*rows, strict=True))
    right = pl.DataFrame({"surname": values}, schema={"surname": pl.Utf8})
    want = score(gammas(surname, dob), model, right=right)
    bfs, weight, prob = score_arrays(
        {"gamma_surname": np.array(surname, np.int8), "gamma_dob": np.array(dob, np.int8)},
        model,
        lambda column: right[column].to_list(),
    )
    for name, values_ in bfs.items():
        np.testing.assert_allclose(values_, want[name].to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(weight, want["match_weight"].to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(prob, want["match_probability"].to_numpy(), rtol=0, atol=1e-12)
    # without the right records: no adjustment, as score without right
    bare = score(gammas(surname, dob), model)
    _, weight, _ = score_arrays(
        {"gamma_surname": np.array(surname, np.int8), "gamma_dob": np.array(dob, np.int8)}, model
    )
    np.testing.assert_allclose(weight, bare["match_weight"].to_numpy(), rtol=0, atol=1e-12)


def test_score_arrays_rejects_vectors_of_other_comparisons() -> None:
    model = make_model()
    with pytest.raises(ModelError, match="lack"):
        score_arrays({"gamma_surname": np.array([1], np.int8)}, model)
    with pytest.raises(ModelError, match="outside"):
        score_arrays(
            {"gamma_surname": np.array([5], np.int8), "gamma_dob": np.array([0], np.int8)}, model
        )
