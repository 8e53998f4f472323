"""Tests of registry_link.train.em: EM over agreement-pattern counts."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import polars as pl
import pytest
import recordlinkage as rl
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.errors import ModelError
from registry_link.train.em import EPS, FSParams, pattern_counts, run_em

TRUE = FSParams(
    prior=0.2,
    m={"given": (0.05, 0.15, 0.8), "dob": (0.1, 0.9), "town": (0.2, 0.3, 0.5)},
    u={"given": (0.9, 0.08, 0.02), "dob": (0.95, 0.05), "town": (0.7, 0.2, 0.1)},
)


def sample_gammas(
    params: FSParams, n: int, seed: int, missing: float = 0.1
) -> tuple[pl.DataFrame, np.ndarray]:
    """Pairs drawn from a known model: gamma columns, and the true match flags."""
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < params.prior
    cols: dict[str, np.ndarray] = {}
    for name in params.names:
        m, u = np.asarray(params.m[name]), np.asarray(params.u[name])
        levels = np.arange(len(m))
        g = np.where(
            is_match,
            rng.choice(levels, size=n, p=m),
            rng.choice(levels, size=n, p=u),
        )
        g[rng.random(n) < missing] = -1
        cols[f"gamma_{name}"] = g.astype(np.int8)
    return pl.DataFrame(cols), is_match


def neutral_start(params: FSParams) -> FSParams:
    """A start that only knows the level order (higher level = more likely a match)."""
    m, u = {}, {}
    for name in params.names:
        n = len(params.m[name])
        w = 2.0 ** (3 * np.arange(n))
        m[name] = tuple(w / w.sum())
        u[name] = tuple(w[::-1] / w.sum())
    return FSParams(prior=0.5, m=m, u=u)


def test_recovers_known_parameters_with_free_u() -> None:
    gammas, _ = sample_gammas(TRUE, 200_000, seed=1)
    result = run_em(pattern_counts(gammas), neutral_start(TRUE), fixed_u=False, max_iterations=500)
    assert result.converged
    assert result.params.prior == pytest.approx(TRUE.prior, abs=0.01)
    for name in TRUE.names:
        np.testing.assert_allclose(result.params.m[name], TRUE.m[name], atol=0.015)
        np.testing.assert_allclose(result.params.u[name], TRUE.u[name], atol=0.015)


def test_fixed_u_keeps_u_and_recovers_m_and_prior() -> None:
    gammas, _ = sample_gammas(TRUE, 100_000, seed=2)
    start = FSParams(prior=0.5, m=neutral_start(TRUE).m, u=TRUE.u)
    result = run_em(pattern_counts(gammas), start, fixed_u=True)
    assert result.converged
    for name in TRUE.names:
        np.testing.assert_allclose(result.params.u[name], TRUE.u[name], rtol=1e-12)
    assert result.params.prior == pytest.approx(TRUE.prior, abs=0.01)
    for name in TRUE.names:
        np.testing.assert_allclose(result.params.m[name], TRUE.m[name], atol=0.02)


def test_n_total_gives_the_prior_over_the_whole_pair_space() -> None:
    """Blocked pairs of a big random space, m and u known: the prior is for the whole space."""
    model = FSParams(prior=0.01, m=TRUE.m, u=TRUE.u)
    gammas, is_match = sample_gammas(model, 1_000_000, seed=3)
    blocked = (gammas["gamma_given"] == 2) | (gammas["gamma_dob"] == 1)
    listed = gammas.filter(blocked)
    start = FSParams(prior=0.001, m=TRUE.m, u=TRUE.u)
    result = run_em(pattern_counts(listed), start, n_total=gammas.height, fixed_m=TRUE.names)
    matches_listed = int(is_match[blocked.to_numpy()].sum())
    assert result.params.m == start.m
    assert result.params.prior == pytest.approx(matches_listed / gammas.height, rel=0.05)
    assert result.pattern_match_share == pytest.approx(matches_listed / listed.height, rel=0.05)


def test_session_on_one_blocked_comparison_recovers_the_others() -> None:
    """Splink-style session: pairs agreeing on 'given', EM over the other comparisons."""
    model = FSParams(prior=0.01, m=TRUE.m, u=TRUE.u)
    gammas, is_match = sample_gammas(model, 1_000_000, seed=10)
    blocked = gammas["gamma_given"] == 2
    listed = gammas.filter(blocked).drop("gamma_given")
    others = ("dob", "town")
    start = FSParams(
        prior=0.5,
        m={n: neutral_start(TRUE).m[n] for n in others},
        u={n: TRUE.u[n] for n in others},
    )
    result = run_em(pattern_counts(listed), start)
    assert result.params.prior == pytest.approx(is_match[blocked.to_numpy()].mean(), rel=0.05)
    for n in others:
        np.testing.assert_allclose(result.params.m[n], TRUE.m[n], atol=0.03)


@pytest.mark.parametrize("fixed_u", [True, False])
@pytest.mark.parametrize("seed", [4, 5])
def test_log_likelihood_never_decreases(fixed_u: bool, seed: int) -> None:
    gammas, _ = sample_gammas(TRUE, 20_000, seed=seed, missing=0.3)
    start = FSParams(prior=0.5, m=neutral_start(TRUE).m, u=TRUE.u)
    result = run_em(
        pattern_counts(gammas), start, fixed_u=fixed_u, max_iterations=60, tolerance=0.0
    )
    lls = [step.loglik for step in result.history] + [result.final_loglik]
    diffs = np.diff(lls)
    assert np.all(diffs >= -1e-9 * abs(lls[0]))
    assert lls[-1] > lls[0]


def test_converged_flag_and_iterations() -> None:
    gammas, _ = sample_gammas(TRUE, 5_000, seed=6)
    patterns = pattern_counts(gammas)
    short = run_em(patterns, neutral_start(TRUE), fixed_u=False, max_iterations=2, tolerance=0.0)
    assert not short.converged
    assert short.iterations == 2
    assert len(short.history) == 2
    long = run_em(patterns, neutral_start(TRUE), fixed_u=False, max_iterations=1000)
    assert long.converged
    assert long.iterations < 1000


def test_symmetric_under_relabelling_levels() -> None:
    """Permuting a comparison's level labels (and its start) permutes the estimates alike."""
    gammas, _ = sample_gammas(TRUE, 30_000, seed=7)
    perm = np.array([2, 0, 1])  # old level -> new level for "given"
    relabelled = gammas.with_columns(
        pl.col("gamma_given").replace_strict({0: 2, 1: 0, 2: 1, -1: -1}, return_dtype=pl.Int8)
    )
    start = neutral_start(TRUE)
    start_perm = FSParams(
        prior=start.prior,
        m={**start.m, "given": tuple(np.asarray(start.m["given"])[np.argsort(perm)])},
        u={**start.u, "given": tuple(np.asarray(start.u["given"])[np.argsort(perm)])},
    )
    a = run_em(pattern_counts(gammas), start, fixed_u=False, tolerance=1e-9, max_iterations=2000)
    b = run_em(
        pattern_counts(relabelled), start_perm, fixed_u=False, tolerance=1e-9, max_iterations=2000
    )
    assert a.params.prior == pytest.approx(b.params.prior, abs=1e-7)
    np.testing.assert_allclose(
        np.asarray(a.params.m["given"]), np.asarray(b.params.m["given"])[perm], atol=1e-6
    )
    np.testing.assert_allclose(a.params.m["dob"], b.params.m["dob"], atol=1e-6)


def test_column_order_of_patterns_does_not_matter() -> None:
    gammas, _ = sample_gammas(TRUE, 10_000, seed=8)
    patterns = pattern_counts(gammas)
    shuffled = patterns.select(list(reversed(patterns.columns))).sample(fraction=1.0, seed=1)
    a = run_em(patterns, neutral_start(TRUE), fixed_u=False)
    b = run_em(shuffled, neutral_start(TRUE), fixed_u=False)
    assert a.params.prior == pytest.approx(b.params.prior, abs=1e-9)


def test_matches_recordlinkage_ecm_on_binary_patterns() -> None:
    binary = FSParams(
        prior=0.15,
        m={"a": (0.1, 0.9), "b": (0.2, 0.8), "c": (0.05, 0.95), "d": (0.3, 0.7)},
        u={"a": (0.9, 0.1), "b": (0.7, 0.3), "c": (0.95, 0.05), "d": (0.6, 0.4)},
    )
    gammas, _ = sample_gammas(binary, 20_000, seed=9, missing=0.0)
    ecm = rl.ECMClassifier(init="jaro", binarize=None, max_iter=1000, atol=1e-9)
    features = pd.DataFrame({n: gammas[f"gamma_{n}"].to_numpy() for n in binary.names})
    ecm_labels = ecm.fit_predict(features)
    # The same start as recordlinkage's 'jaro' initialisation.
    start = FSParams(
        prior=0.1,
        m={n: (0.1, 0.9) for n in binary.names},
        u={n: (0.9, 0.1) for n in binary.names},
    )
    ours = run_em(
        pattern_counts(gammas), start, fixed_u=False, tolerance=1e-10, max_iterations=1000
    )
    assert ours.params.prior == pytest.approx(ecm.p, abs=1e-4)
    for n in binary.names:
        assert ours.params.m[n][1] == pytest.approx(ecm.m_probs[n][1], abs=1e-4)
        assert ours.params.u[n][1] == pytest.approx(ecm.u_probs[n][1], abs=1e-4)
    # Same classifications at p >= 0.5.
    lm = sum(np.log(np.asarray(ours.params.m[n]))[gammas[f"gamma_{n}"]] for n in binary.names)
    lu = sum(np.log(np.asarray(ours.params.u[n]))[gammas[f"gamma_{n}"]] for n in binary.names)
    prior = ours.params.prior
    ours_match = np.log(prior) + lm >= np.log1p(-prior) + lu
    assert set(np.flatnonzero(ours_match)) == set(ecm_labels.tolist())


def test_probabilities_stay_inside_the_unit_interval() -> None:
    """A level that never occurs keeps a small positive probability; all sums are 1."""
    gammas = pl.DataFrame(
        {"gamma_x": [1] * 50 + [0] * 50, "gamma_y": [1] * 50 + [0] * 50}, schema_overrides={}
    ).cast(pl.Int8)
    start = FSParams(
        prior=0.5,
        m={"x": (0.2, 0.3, 0.5), "y": (0.3, 0.7)},
        u={"x": (0.5, 0.3, 0.2), "y": (0.7, 0.3)},
    )
    res = run_em(pattern_counts(gammas), start, fixed_u=False)
    for table in (res.params.m, res.params.u):
        for values in table.values():
            assert all(EPS / 2 <= v <= 1 - EPS / 2 for v in values)
            assert sum(values) == pytest.approx(1.0)
    assert 0 < res.params.prior < 1


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.integers(1, 500), min_size=4, max_size=4),
    prior=st.floats(0.01, 0.99),
)
def test_property_loglik_monotone_on_any_counts(counts: list[int], prior: float) -> None:
    patterns = pl.DataFrame(
        {"gamma_a": [0, 0, 1, 1], "gamma_b": [0, 1, 0, 1], "count": counts}
    ).with_columns(pl.col("gamma_a", "gamma_b").cast(pl.Int8))
    start = FSParams(
        prior=prior, m={"a": (0.3, 0.7), "b": (0.4, 0.6)}, u={"a": (0.6, 0.4), "b": (0.8, 0.2)}
    )
    res = run_em(patterns, start, fixed_u=False, max_iterations=30, tolerance=0.0)
    lls = [s.loglik for s in res.history] + [res.final_loglik]
    assert all(b >= a - 1e-7 * abs(a) for a, b in itertools.pairwise(lls))


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        (pl.DataFrame({"gamma_a": [0], "count": [1]}), "lack column"),
        (pl.DataFrame({"gamma_a": [5], "gamma_b": [0], "count": [1]}), "outside -1..1"),
    ],
)
def test_bad_patterns_raise_model_error(patterns: pl.DataFrame, message: str) -> None:
    start = FSParams(
        prior=0.5, m={"a": (0.3, 0.7), "b": (0.4, 0.6)}, u={"a": (0.6, 0.4), "b": (0.8, 0.2)}
    )
    with pytest.raises(ModelError, match=message):
        run_em(patterns, start)


def test_mismatched_m_and_u_raise() -> None:
    with pytest.raises(ModelError, match="m values"):
        FSParams(prior=0.1, m={"a": (0.5, 0.5)}, u={"a": (0.2, 0.3, 0.5)})


def _grouped(gammas: pl.DataFrame) -> pl.DataFrame:
    """pattern_counts the plain way: group by every gamma column, sorted."""
    cols = [c for c in gammas.columns if c.startswith("gamma_")]
    return gammas.group_by(cols).agg(pl.len().alias("count")).sort(cols)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pattern_counts_packed_equals_grouped(seed: int) -> None:
    """The packed-key counting gives the very frame a multi-column group_by gives."""
    gammas, _ = sample_gammas(TRUE, 5_000, seed=seed, missing=0.3)
    gammas = gammas.with_columns(
        pl.Series("gamma_wide", np.random.default_rng(seed).integers(-1, 40, 5_000)).cast(pl.Int16),
        pl.lit(3, pl.Int8).alias("gamma_constant"),
    )
    packed = pattern_counts(gammas)
    assert packed.equals(_grouped(gammas))
    assert packed.schema == _grouped(gammas).schema
    assert int(packed["count"].sum()) == 5_000


def test_pattern_counts_falls_back_when_the_key_does_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import registry_link.train.em as em

    gammas, _ = sample_gammas(TRUE, 2_000, seed=4)
    monkeypatch.setattr(em, "KEY_SPAN", 10)
    assert em.packed_counts(gammas) is None
    assert pattern_counts(gammas).equals(_grouped(gammas))


def test_pattern_counts_with_nulls_empty_or_one_column() -> None:
    with_null = pl.DataFrame({"gamma_a": [0, 1, None, 1], "gamma_b": [1, 1, 0, 1]}).cast(pl.Int8)
    assert pattern_counts(with_null).equals(_grouped(with_null))
    empty = with_null.clear()
    assert pattern_counts(empty).equals(_grouped(empty))
    one = pl.DataFrame({"gamma_a": [2, -1, 2, 0], "other": [1, 2, 3, 4]}).cast(pl.Int8)
    assert pattern_counts(one).to_dict(as_series=False) == {
        "gamma_a": [-1, 0, 2],
        "count": [1, 1, 2],
    }
