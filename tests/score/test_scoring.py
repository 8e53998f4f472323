"""Tests of registry_link.score.scoring: Bayes factors, TF adjustment, weights, explanations."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.compare import build_comparison
from registry_link.errors import ModelError
from registry_link.model import TrainedModel
from registry_link.score.scoring import explain, extend_scores, score
from registry_link.train.em import FSParams

M = {"surname": (0.1, 0.9), "dob": (0.05, 0.15, 0.8)}
U = {"surname": (0.98, 0.02), "dob": (0.9, 0.09, 0.01)}


def make_model(prior: float = 0.001, tables: dict | None = None) -> TrainedModel:
    comps = (
        build_comparison({"name": "surname", "kind": "exact", "column": "surname", "tf": True}),
        build_comparison({"name": "dob", "kind": "string", "column": "dob", "edit_distances": [1]}),
    )
    return TrainedModel(
        comparisons=comps,
        params=FSParams(prior=prior, m=M, u=U),
        tf_tables={"surname": {"smith": 0.05, "martin": 0.01}} if tables is None else tables,
        tf_minimum_frequency=1e-3,
    )


def gammas(surname: list[int], dob: list[int], r_idx: list[int] | None = None) -> pl.DataFrame:
    n = len(surname)
    return pl.DataFrame(
        {
            "l_idx": list(range(n)),
            "r_idx": r_idx if r_idx is not None else list(range(n)),
            "gamma_surname": surname,
            "gamma_dob": dob,
        },
        schema={
            "l_idx": pl.UInt32,
            "r_idx": pl.UInt32,
            "gamma_surname": pl.Int8,
            "gamma_dob": pl.Int8,
        },
    )


PRIOR_W = math.log2(0.001 / 0.999)


@pytest.mark.parametrize(
    ("g_surname", "g_dob", "bf_surname", "bf_dob"),
    [
        (1, 2, math.log2(0.9 / 0.02), math.log2(0.8 / 0.01)),
        (0, 0, math.log2(0.1 / 0.98), math.log2(0.05 / 0.9)),
        (-1, 1, 0.0, math.log2(0.15 / 0.09)),
        (-1, -1, 0.0, 0.0),
    ],
)
def test_bayes_factors_and_weights_without_tf(
    g_surname: int, g_dob: int, bf_surname: float, bf_dob: float
) -> None:
    out = score(gammas([g_surname], [g_dob]), make_model())
    row = out.row(0, named=True)
    assert row["bf_surname"] == pytest.approx(bf_surname)
    assert row["bf_dob"] == pytest.approx(bf_dob)
    w = PRIOR_W + bf_surname + bf_dob
    assert row["match_weight"] == pytest.approx(w)
    assert row["match_probability"] == pytest.approx(2**w / (1 + 2**w))


def test_term_frequency_adjustment_on_exact_level() -> None:
    right = pl.DataFrame({"surname": ["smith", "martin", "zzyzx", None], "dob": ["1"] * 4})
    # pairs agreeing exactly on surname with right rows 0..2; a different-level pair on row 3
    out = score(gammas([1, 1, 1, 0], [2, 2, 2, 2], r_idx=[0, 1, 2, 3]), make_model(), None, right)
    bf = out["bf_surname"].to_list()
    assert bf[0] == pytest.approx(math.log2(0.9 / 0.05))  # common name: less evidence
    assert bf[1] == pytest.approx(math.log2(0.9 / 0.01))
    assert bf[2] == pytest.approx(math.log2(0.9 / 1e-3))  # unseen value: the floor
    assert bf[3] == pytest.approx(math.log2(0.1 / 0.98))  # non-exact level: no adjustment
    assert bf[0] < bf[1] < bf[2]


def test_no_right_frame_means_no_tf_adjustment() -> None:
    out = score(gammas([1], [2]), make_model())
    assert out["bf_surname"][0] == pytest.approx(math.log2(0.9 / 0.02))


def test_empty_tf_table_uses_floor() -> None:
    right = pl.DataFrame({"surname": ["smith"], "dob": ["1"]})
    out = score(gammas([1], [2]), make_model(tables={}), None, right)
    assert out["bf_surname"][0] == pytest.approx(math.log2(0.9 / 1e-3))


def test_output_columns_and_order_kept() -> None:
    g = gammas([1, 0, -1], [2, 1, 0])
    out = score(g, make_model())
    assert out.columns == [*g.columns, "bf_surname", "bf_dob", "match_weight", "match_probability"]
    assert out.select(g.columns).equals(g)
    assert out.schema["match_probability"] == pl.Float64


def test_empty_input() -> None:
    out = score(gammas([], []), make_model())
    assert out.height == 0
    assert "match_probability" in out.columns


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (gammas([1], [2]).drop("gamma_dob"), "lack"),
        (gammas([2], [2]), "outside"),
    ],
)
def test_bad_vectors_raise(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        score(frame, make_model())


def test_missing_tf_column_in_right_raises() -> None:
    with pytest.raises(ModelError, match="surname"):
        score(gammas([1], [2]), make_model(), None, pl.DataFrame({"dob": ["1"]}))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-1, 1), st.integers(-1, 2)), min_size=1, max_size=30),
    st.floats(1e-6, 0.5),
)
def test_property_probability_is_monotone_in_weight(
    rows: list[tuple[int, int]], prior: float
) -> None:
    out = score(gammas([r[0] for r in rows], [r[1] for r in rows]), make_model(prior=prior))
    w = out["match_weight"].to_numpy()
    p = out["match_probability"].to_numpy()
    assert np.all((p >= 0) & (p <= 1))
    order = np.argsort(w)
    assert np.all(np.diff(p[order]) >= 0)
    expected = math.log2(prior / (1 - prior)) + out["bf_surname"] + out["bf_dob"]
    np.testing.assert_allclose(w, expected.to_numpy(), rtol=1e-12, atol=1e-12)


def test_explain_lists_each_comparison_in_words() -> None:
    model = make_model()
    right = pl.DataFrame({"surname": ["martin"], "dob": ["1"]})
    row = score(gammas([1], [1]), model, None, right).row(0, named=True)
    lines = explain(row, model)
    assert lines[0].startswith("surname are identical (value frequency taken into account): +")
    assert f"{math.log2(0.9 / 0.01):+.1f}" in lines[0]
    assert (
        lines[1]
        == f"dob differ by at most 1 edit(s) or transposition(s): {math.log2(0.15 / 0.09):+.1f}"
    )
    assert lines[-2].startswith("prior")
    assert lines[-1].startswith("total match weight")


def test_explain_missing_and_gamma_only_rows() -> None:
    model = make_model()
    lines = explain({"gamma_surname": -1, "gamma_dob": 0}, model)
    assert any(
        line.startswith("surname missing on one side") and line.endswith("+0.0") for line in lines
    )
    assert any(line.startswith("dob are different") for line in lines)


def test_explain_keeps_each_models_own_words_and_factors() -> None:
    """The words and Bayes factors are computed once per model: explaining two models in turn
    (another prior and another m) gives each its own figures, as a fresh model would."""
    base = make_model()
    other = _with_household(base, prior=0.2)
    row = {"gamma_surname": 0, "gamma_dob": 0}
    for _ in range(3):
        assert (
            explain(row, base)[-1]
            == f"prior (chance two records match): {math.log2(0.001 / 0.999):+.1f}"
        )
        assert (
            explain(row, other)[-1]
            == f"prior (chance two records match): {math.log2(0.2 / 0.8):+.1f}"
        )
    assert explain({"bf_dob": 2.5}, base)[0] == "dob: level unknown: +2.5"


def _with_household(base: TrainedModel, prior: float) -> TrainedModel:
    """``base`` plus an exact comparison on a TF-adjusted column, with another prior."""
    hh = build_comparison({"name": "hh", "kind": "exact", "column": "hh", "tf": True})
    return TrainedModel(
        comparisons=(*base.comparisons, hh),
        params=FSParams(
            prior=prior,
            m={**base.params.m, "hh": (0.2, 0.8)},
            u={**base.params.u, "hh": (0.99, 0.01)},
        ),
        tf_tables={**base.tf_tables, "hh": {"h1": 0.3}},
        tf_minimum_frequency=base.tf_minimum_frequency,
    )


#: Pairs to extend: (gamma_surname, gamma_dob, gamma_hh, r_idx) each.
_EXTENDED_ROWS = st.lists(
    st.tuples(st.integers(-1, 1), st.integers(-1, 2), st.integers(-1, 1), st.integers(0, 3)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None)
@given(rows=_EXTENDED_ROWS, prior=st.floats(1e-6, 0.5))
def test_extend_scores_equals_scoring_with_the_extended_model(
    rows: list[tuple[int, int, int, int]], prior: float
) -> None:
    right = pl.DataFrame(
        {
            "surname": ["smith", "martin", "zzyzx", None],
            "dob": ["1"] * 4,
            "hh": ["h1", "h2", None, "h1"],
        }
    )
    base = make_model()
    extended = _with_household(base, prior)
    g = gammas([r[0] for r in rows], [r[1] for r in rows], r_idx=[r[3] for r in rows])
    hh = pl.DataFrame({"gamma_hh": [r[2] for r in rows]}, schema={"gamma_hh": pl.Int8})
    scored = score(g, base, None, right).with_columns(pl.lit("kept").alias("extra"))
    got = extend_scores(scored, hh, base, extended, right)
    want = score(pl.concat([g, hh], how="horizontal"), extended, None, right)
    assert got["extra"].to_list() == ["kept"] * len(rows)
    for col in ("bf_surname", "bf_dob", "bf_hh", "match_weight", "match_probability"):
        np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=1e-9, atol=1e-9)
    assert got["gamma_hh"].to_list() == want["gamma_hh"].to_list()


@settings(max_examples=40, deadline=None)
@given(rows=_EXTENDED_ROWS, prior=st.floats(1e-6, 0.5))
def test_extend_scores_of_narrow_pairs_are_the_old_weight_plus_the_added_factors_exactly(
    rows: list[tuple[int, int, int, int]], prior: float
) -> None:
    """Narrow scored pairs (no bf_*) stay narrow; the new weight is, to the bit, the old one
    less the old prior plus the new, plus the added comparison's weight less the new prior,
    and the probability 1 / (1 + 2^-w) of it (the in-place arithmetic changes no float)."""
    from registry_link.score.scoring import _prior_weight

    right = pl.DataFrame({"surname": ["smith", "martin", "zzyzx", None], "dob": ["1"] * 4})
    right = right.with_columns(hh=pl.Series(["h1", "h2", None, "h1"]))
    base = make_model()
    extended = _with_household(base, prior)
    g = gammas([r[0] for r in rows], [r[1] for r in rows], r_idx=[r[3] for r in rows])
    hh = pl.DataFrame({"gamma_hh": [r[2] for r in rows]}, schema={"gamma_hh": pl.Int8})
    scored = score(g, base, None, right, contributions=False)
    got = extend_scores(scored, hh, base, extended, right)
    assert got.columns == [*scored.columns, "gamma_hh"]
    added = TrainedModel(
        comparisons=(extended.comparisons[-1],),
        params=FSParams(prior=prior, m={"hh": (0.2, 0.8)}, u={"hh": (0.99, 0.01)}),
        tf_tables=extended.tf_tables,
        tf_minimum_frequency=extended.tf_minimum_frequency,
    )
    extra = score(pl.concat([g.select("l_idx", "r_idx"), hh], how="horizontal"), added, None, right)
    old = scored["match_weight"].to_numpy()
    want = (old - _prior_weight(base) + _prior_weight(extended)) + (
        extra["match_weight"].to_numpy() - _prior_weight(extended)
    )
    assert got["match_weight"].to_list() == want.tolist()
    assert got["match_probability"].to_list() == (1.0 / (1.0 + np.exp2(-want))).tolist()


def test_extend_scores_refuses_a_model_that_changes_a_base_comparison() -> None:
    base = make_model()
    changed = TrainedModel(
        comparisons=base.comparisons,
        params=FSParams(prior=0.01, m={**M, "dob": (0.1, 0.1, 0.8)}, u=U),
        tf_tables=base.tf_tables,
        tf_minimum_frequency=base.tf_minimum_frequency,
    )
    scored = score(gammas([1], [2]), base)
    with pytest.raises(ModelError, match="unchanged"):
        extend_scores(scored, pl.DataFrame(), base, changed)


def test_extend_scores_refuses_vectors_of_another_length() -> None:
    base = make_model()
    scored = score(gammas([1, 0], [2, 1]), base)
    hh = pl.DataFrame({"gamma_hh": [1]}, schema={"gamma_hh": pl.Int8})
    with pytest.raises(ModelError, match="rows"):
        extend_scores(scored, hh, base, _with_household(base, 0.01))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 1), st.integers(-1, 2), st.integers(0, 3)),
        min_size=1,
        max_size=30,
    ),
    st.integers(1, 7),
)
def test_scoring_in_slices_gives_the_same_frame(
    rows: list[tuple[int, int, int]], chunk: int
) -> None:
    """``score`` works through ``SCORE_CHUNK`` pairs at a time; the slices change nothing."""
    import registry_link.score.scoring as scoring

    right = pl.DataFrame({"surname": ["smith", "martin", "zzyzx", None], "dob": ["1"] * 4})
    frame = gammas([r[0] for r in rows], [r[1] for r in rows], r_idx=[r[2] for r in rows])
    whole = score(frame, make_model(), None, right)
    old = scoring.SCORE_CHUNK
    scoring.SCORE_CHUNK = chunk
    try:
        sliced = score(frame, make_model(), None, right)
        narrow = score(frame, make_model(), None, right, contributions=False)
    finally:
        scoring.SCORE_CHUNK = old
    assert sliced.equals(whole)
    assert narrow.equals(whole.drop("bf_surname", "bf_dob"))


def test_a_level_adjusted_on_a_value_the_right_record_lacks_is_not_adjusted() -> None:
    # e.g. a split name's key found among an unsplit name's tokens, the registry side unsplit
    right = pl.DataFrame({"surname": [None, "martin"], "dob": ["1"] * 2})
    out = score(gammas([1, 1], [2, 2], r_idx=[0, 1]), make_model(), None, right)
    assert out["bf_surname"][0] == pytest.approx(math.log2(0.9 / 0.02))  # the level's own u
    assert out["bf_surname"][1] == pytest.approx(math.log2(0.9 / 0.01))


GIVEN_TOKENS = {
    "name": "given",
    "kind": "name",
    "field": "given",
    "key_ar": None,
    "tokens": "name_token_keys",
    "tokens_tf": True,
}


def test_unsplit_names_get_more_bits_for_rare_tokens() -> None:
    """Token-level frequency: an unsplit "Alaoui Mohamed" against a registry "Mohamed" adds
    fewer bits than an unsplit name whose token is a rare given name (issue 16, point 2)."""
    comp = build_comparison(GIVEN_TOKENS)
    level = comp.n_levels - 3  # exact, same_key, same_key_in_unsplit, ...
    assert comp.level(level).label == "same_key_in_unsplit"
    assert comp.tf_columns() == {comp.n_levels - 1: "given_lat", level: "given_key"}
    m = tuple([0.02] * (comp.n_levels - 3) + [0.3, 0.2, 0.48 - 0.02 * (comp.n_levels - 4)])
    u = tuple([0.9] + [0.02] * (comp.n_levels - 4) + [0.01, 0.005, 0.005])
    model = TrainedModel(
        comparisons=(comp,),
        params=FSParams(prior=0.001, m={"given": m}, u={"given": u}),
        tf_tables={"given_key": {"mhmd": 0.08, "ntr": 0.0004}},
        tf_minimum_frequency=1e-5,
    )
    right = pl.DataFrame(
        {"given_key": ["mhmd", "ntr", None], "given_lat": ["mohamed", "antar", None]}
    )
    frame = pl.DataFrame(
        {"l_idx": [0, 1, 2], "r_idx": [0, 1, 2], "gamma_given": [level] * 3},
        schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32, "gamma_given": pl.Int8},
    )
    bf = score(frame, model, None, right)["bf_given"].to_list()
    assert bf[0] == pytest.approx(math.log2(m[level] / 0.08))
    assert bf[1] == pytest.approx(math.log2(m[level] / 0.0004))
    assert bf[2] == pytest.approx(math.log2(m[level] / u[level]))  # right side unsplit
    assert bf[0] < bf[2] < bf[1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 1), st.integers(-1, 2), st.integers(0, 5)),
        min_size=1,
        max_size=20,
    ),
    st.lists(st.sampled_from(["smith", "martin", "zzyzx", None]), min_size=6, max_size=6),
)
def test_scoring_in_a_link_looks_each_record_up_once_and_gives_the_same_frame(
    rows: list[tuple[int, int, int]], surnames: list[str | None]
) -> None:
    """Within an entered compare engine each right record's term frequency is looked up once
    per column and TF table, for all the score calls (in the engine's link memo); the
    weights are those of a call outside one, whether the pairs are fewer or more than the
    records, with null and unknown values."""
    import registry_link.score.scoring as scoring
    from registry_link.compare import CompareEngine
    from registry_link.compare.engine import active_link_memo

    right = pl.DataFrame({"surname": surnames, "dob": ["1"] * 6})
    frame = gammas([r[0] for r in rows], [r[1] for r in rows], r_idx=[r[2] for r in rows])
    model = make_model()
    alone = score(frame, model, None, right)
    looked_up: list[int] = []
    original = scoring._log_frequency_codes

    def counted(model: TrainedModel, column: str, values: pl.Series) -> Any:
        looked_up.append(values.len())
        return original(model, column, values)

    comps = [model.comparisons[1]]
    with CompareEngine(right, right, comps, workers=1) as engine:
        scoring._log_frequency_codes = counted  # type: ignore[assignment]
        try:
            first = score(frame, model, None, engine.right)
            again = score(frame, model, None, engine.right, contributions=False)
        finally:
            scoring._log_frequency_codes = original
        memo = active_link_memo()
        assert memo is not None
    assert first.equals(alone)
    assert again.equals(alone.drop("bf_surname", "bf_dob"))
    hit = any(r[0] == 1 for r in rows)
    assert looked_up == ([right.height] if hit else [])  # once, every record, for both calls
    assert len(memo) == int(hit)
    assert active_link_memo() is None  # (let go with the engine)


def test_the_link_memo_keeps_no_records_alive_and_is_not_fooled_by_a_reused_id() -> None:
    """A memo entry names its records by a weak reference: records scored once and dropped
    are freed, their entry goes, and records made later (perhaps at the same address, with
    the same id) get their own frequencies."""
    import gc
    import weakref

    from registry_link.compare import CompareEngine
    from registry_link.compare.engine import active_link_memo

    model = make_model()
    pairs = gammas([1], [2])
    records = pl.DataFrame({"surname": ["x"], "dob": ["1"]})
    with CompareEngine(records, records, [model.comparisons[1]], workers=1):
        memo = active_link_memo()
        assert memo is not None
        first = pl.DataFrame({"surname": ["smith"], "dob": ["1"]})
        alive = weakref.ref(first)
        assert score(pairs, model, None, first)["bf_surname"][0] == pytest.approx(
            math.log2(0.9 / 0.05)
        )
        assert len(memo) == 1
        del first
        gc.collect()
        assert alive() is None
        second = pl.DataFrame({"surname": ["martin"], "dob": ["1"]})
        assert score(pairs, model, None, second)["bf_surname"][0] == pytest.approx(
            math.log2(0.9 / 0.01)
        )
        assert len(memo) == 1  # (the first records' entry dropped)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 1), st.integers(-1, 2), st.integers(0, 7)),
        min_size=1,
        max_size=20,
    ),
    st.lists(st.sampled_from(["smith", "martin", "zzyzx", None]), min_size=8, max_size=8),
)
def test_scoring_in_a_link_looks_each_distinct_value_up_once_from_the_engines_dictionary(
    rows: list[tuple[int, int, int]], surnames: list[str | None]
) -> None:
    """When the engine has prepared the right records whole, their term frequencies are looked
    up once per distinct value of its dictionary (not per record) and gathered: the weights
    are those of a call outside the engine."""
    import registry_link.score.scoring as scoring
    from registry_link.compare import CompareEngine
    from registry_link.compare.engine import record_dictionary

    right = pl.DataFrame({"surname": surnames, "dob": ["1"] * 8})
    frame = gammas([r[0] for r in rows], [r[1] for r in rows], r_idx=[r[2] for r in rows])
    model = make_model()
    alone = score(frame, model, None, right)
    looked_up: list[int] = []
    original = scoring._log_frequency_codes

    def counted(model: TrainedModel, column: str, values: pl.Series) -> Any:
        looked_up.append(values.len())
        return original(model, column, values)

    pairs = pl.DataFrame({"l_idx": [0, 1], "r_idx": [2, 3]})
    with CompareEngine(right, right, model.comparisons, workers=1, random_pairs=100) as engine:
        assert record_dictionary(right, "surname") is None  # (not prepared yet)
        engine.compare(pairs)  # prepares the records whole
        found = record_dictionary(right, "surname")
        assert found is not None
        assert record_dictionary(right.clone(), "surname") is None  # other records
        scoring._log_frequency_codes = counted  # type: ignore[assignment]
        try:
            in_link = score(frame, model, None, right)
        finally:
            scoring._log_frequency_codes = original
    assert record_dictionary(right, "surname") is None  # (let go with the engine)
    assert in_link.equals(alone)
    hit = any(r[0] == 1 for r in rows)
    assert looked_up == ([found[0].len()] if hit else [])
    assert found[0].len() == len(set(surnames))


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.floats(1e-9, 1.0, allow_nan=False),
        max_size=5,
    ),
    st.lists(st.sampled_from(["a", "b", "c", "d", "e", "z", None]), max_size=30),
    st.floats(1e-6, 1e-2),
    st.booleans(),
)
def test_record_frequencies_as_codes_are_the_same_floats(
    table: dict[str, float], values: list[str | None], floor: float, categorical: bool
) -> None:
    """The link memo keeps each record's log-frequency as a code into the distinct ones:
    gathered back, the very floats :func:`_log_frequency` gives (values absent from the
    table: the floor's; frequencies under the floor: the floor's), NaN for a null — from
    strings or from a ``Categorical`` column (a registry read with its values coded)."""
    import registry_link.score.scoring as scoring

    model = dataclasses.replace(make_model(), tf_tables={"k": table}, tf_minimum_frequency=floor)
    series = pl.Series("k", values, dtype=pl.Utf8)
    given = series.cast(pl.Categorical) if categorical else series
    made = scoring._log_frequency_codes(model, "k", given)
    assert made.codes.dtype == np.uint16
    got = made.at(np.arange(len(values), dtype=np.int64))
    expected = scoring._log_frequency(model, "k", series)
    expected[series.is_null().to_numpy()] = np.nan
    assert np.array_equal(got, expected, equal_nan=True)
