"""Tests of registry_link.train.monotone: ordered levels weigh in order after EM."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.train.em import FSParams, run_em
from registry_link.train.monotone import monotone_m, monotone_params


def bits(m: tuple[float, ...] | list[float], u: tuple[float, ...] | list[float]) -> np.ndarray:
    return np.log2(np.asarray(m)) - np.log2(np.asarray(u))


@pytest.mark.parametrize(
    ("m", "u", "want_m", "blocks"),
    [
        # already in order: untouched
        ([0.1, 0.2, 0.7], [0.8, 0.15, 0.05], [0.1, 0.2, 0.7], ()),
        # the middle level weighs less than "different": pooled with it (Σm/Σu = 0.25/0.8)
        ([0.2, 0.05, 0.75], [0.6, 0.2, 0.2], [0.1875, 0.0625, 0.75], ((0, 1),)),
        # the top level weighs less than the one below it
        ([0.1, 0.6, 0.3], [0.8, 0.1, 0.1], [0.1, 0.45, 0.45], ((1, 2),)),
        # a violation that spreads: pooling 2-3 makes the pool fall below level 1
        (
            [0.05, 0.35, 0.5, 0.1],
            [0.7, 0.1, 0.1, 0.1],
            [0.05, 0.95 / 3, 0.95 / 3, 0.95 / 3],
            ((1, 2, 3),),
        ),
        # equal ratios are in order (not pooled); two separate blocks
        ([0.1, 0.3, 0.5, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.3, 0.3, 0.3], ((2, 3),)),
        (
            [0.3, 0.1, 0.5, 0.1],
            [0.5, 0.4, 0.05, 0.05],
            [0.4 / 0.9 * 0.5, 0.4 / 0.9 * 0.4, 0.3, 0.3],
            ((0, 1), (2, 3)),
        ),
    ],
)
def test_pooling_table(
    m: list[float], u: list[float], want_m: list[float], blocks: tuple[tuple[int, ...], ...]
) -> None:
    got = monotone_m(m, u)
    np.testing.assert_allclose(got.m, want_m, rtol=1e-12)
    assert got.blocks == blocks
    assert sum(got.m) == pytest.approx(1.0)


def _probabilities(n: int) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(1e-6, 1.0), min_size=n, max_size=n).map(
        lambda xs: [x / sum(xs) for x in xs]
    )


@st.composite
def m_and_u(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    n = draw(st.integers(1, 9))
    return draw(_probabilities(n)), draw(_probabilities(n))


@settings(max_examples=300, deadline=None)
@given(m_and_u())
def test_bits_never_increase_down_the_levels(mu: tuple[list[float], list[float]]) -> None:
    m, u = mu
    got = monotone_m(m, u)
    weights = bits(got.m, u)
    assert np.all(np.diff(weights) >= -1e-9)  # gamma order: never lower at a closer level
    assert sum(got.m) == pytest.approx(1.0)
    # levels outside the pooled blocks keep their estimate; each block its total m
    pooled = {g for block in got.blocks for g in block}
    for g in set(range(len(m))) - pooled:
        assert got.m[g] == m[g]
    for block in got.blocks:
        assert sum(got.m[g] for g in block) == pytest.approx(sum(m[g] for g in block))
    # idempotent
    assert monotone_m(got.m, u).blocks == ()


@settings(max_examples=100, deadline=None)
@given(m_and_u(), st.integers(0, 2**31 - 1))
def test_it_is_the_constrained_maximum_likelihood(
    mu: tuple[list[float], list[float]], seed: int
) -> None:
    """No other m with monotone ratios has a higher Σ m̂ log m (random monotone rivals)."""
    m, u = mu
    best = np.asarray(monotone_m(m, u).m)
    objective = float(np.dot(m, np.log(best)))
    rng = np.random.default_rng(seed)
    for _ in range(20):
        ratios = np.sort(rng.exponential(size=len(m)))
        rival = np.asarray(u) * ratios
        rival /= rival.sum()
        assert float(np.dot(m, np.log(rival))) <= objective + 1e-9


def _patterns(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"gamma_name": pl.Int8, "gamma_date": pl.Int8, "count": pl.Int64}, orient="row"
    )


# EM outputs: a "name" comparison (different / similar / variant / exact) whose "variant"
# level holds almost no matches but many non-matches, and a "date" (different / exact)
EM_CASES = [
    pytest.param(
        [(0, 0, 9000), (0, 1, 40), (1, 0, 300), (1, 1, 60), (2, 0, 500), (2, 1, 1), (3, 1, 900)],
        [("similar", "variant")],
        id="a variant level with one match pooled with the level below",
    ),
    pytest.param(
        [(0, 0, 9000), (0, 1, 40), (1, 0, 300), (1, 1, 60), (2, 0, 50), (2, 1, 80), (3, 1, 900)],
        [],
        id="a variant level learnt from its matches stays as estimated",
    ),
    pytest.param(
        [(0, 0, 9000), (0, 1, 400), (1, 0, 300), (1, 1, 3), (2, 0, 50), (2, 1, 80), (3, 1, 900)],
        [("different", "similar")],
        id="a similar level with fewer matches than 'different' pooled with it",
    ),
]


@pytest.mark.parametrize(("rows", "pooled"), EM_CASES)
def test_em_outputs_made_monotone(rows: list[tuple[int, int, int]], pooled: list) -> None:
    start = FSParams(
        prior=0.2,
        m={"name": (0.1, 0.1, 0.1, 0.7), "date": (0.2, 0.8)},
        u={"name": (0.9, 0.05, 0.049, 0.001), "date": (0.95, 0.05)},
    )
    estimated = run_em(_patterns(rows), start, max_iterations=200, tolerance=1e-8).params
    labels = {"name": ["different", "similar", "variant", "exact"], "date": ["no", "yes"]}
    params, log = monotone_params(estimated, labels, ["name", "date"])
    assert np.all(np.diff(params.bayes_factors("name")) >= -1e-9)
    assert [tuple(block["levels"]) for block in log.get("name", [])] == pooled
    assert params.m["date"] == estimated.m["date"] and params.u == estimated.u
    for block in log.get("name", []):
        gammas = [labels["name"].index(level) for level in block["levels"]]
        assert block["bits"] == pytest.approx(params.bayes_factors("name")[gammas[0]], abs=1e-4)
        assert block["bits_before"] == pytest.approx(
            [estimated.bayes_factors("name")[g] for g in gammas], abs=1e-4
        )
    # a comparison not named is left as estimated, however its levels weigh
    kept, log = monotone_params(estimated, labels, ["date"])
    assert kept.m["name"] == estimated.m["name"] and "name" not in log


def test_mismatched_or_bad_u_is_refused() -> None:
    with pytest.raises(ValueError, match="2 m values but 3 u values"):
        monotone_m([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="u must be positive"):
        monotone_m([0.5, 0.5], [0.0, 1.0])
