"""Expectation-maximisation for the Fellegi–Sunter model, over counts of agreement patterns.

The model: a record pair is a match with probability ``prior`` (λ). Given the match status,
the comparisons' levels are independent, with probabilities ``m[name][level]`` for matches and
``u[name][level]`` for non-matches. A missing level (gamma ``-1``) carries no evidence: it
contributes a factor 1 to both likelihoods (Splink's convention).

:func:`run_em` is a pure function over a frame of distinct agreement patterns and their counts
(``gamma_<name>`` columns + ``count``), so the cost is per *pattern*, not per pair.

``n_total`` (optional) says the patterns were drawn from a larger space of pairs (all
left × right pairs) of which the pairs not listed are known non-matches (pairs blocking did not
propose). Then the prior is the probability that two *random* records match — the quantity that
is coherent with u-probabilities estimated from random pairs — and not the share of matches
among the listed pairs. The E-step gives those pairs a match probability of 0, so EM stays an
exact EM and the log-likelihood still never decreases.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import polars as pl

from registry_link.errors import ModelError

#: Probabilities are kept within [EPS, 1 - EPS] (a level never seen keeps a tiny probability).
EPS = 1e-9


@dataclass(frozen=True)
class FSParams:
    """Fellegi–Sunter parameters.

    Attributes:
        prior: λ, the probability that a pair is a match (see the module docs for which pairs).
        m: per comparison name, P(level | match), indexed by gamma (0 = different .. top).
        u: per comparison name, P(level | non-match), indexed the same way.
    """

    prior: float
    m: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    u: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "m", {k: tuple(map(float, v)) for k, v in self.m.items()})
        object.__setattr__(self, "u", {k: tuple(map(float, v)) for k, v in self.u.items()})
        if set(self.m) != set(self.u):
            raise ModelError(
                f"m and u name different comparisons: {sorted(self.m)} vs {sorted(self.u)}"
            )
        for name in self.m:
            if len(self.m[name]) != len(self.u[name]):
                raise ModelError(
                    f"comparison {name!r}: {len(self.m[name])} m values but "
                    f"{len(self.u[name])} u values; give one of each per level"
                )

    @property
    def names(self) -> tuple[str, ...]:
        """Comparison names, in insertion order."""
        return tuple(self.m)

    def bayes_factors(self, name: str) -> np.ndarray:
        """log2(m/u) per level of one comparison (gamma order)."""
        return np.log2(np.asarray(self.m[name])) - np.log2(np.asarray(self.u[name]))


class EMStep(NamedTuple):
    """One EM iteration: the parameters' prior after it and the log-likelihood before it."""

    prior: float
    loglik: float


@dataclass(frozen=True)
class EMResult:
    """Output of :func:`run_em`.

    ``history[i]`` holds the prior after iteration ``i + 1`` and the log-likelihood of the
    parameters that iteration started from; ``final_loglik`` is that of ``params``.
    """

    params: FSParams
    history: list[EMStep]
    converged: bool
    iterations: int
    final_loglik: float
    #: Expected share of matches among the listed patterns' pairs (Σ count·P(match) / Σ count).
    pattern_match_share: float


def _clip_normalise(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1.0 - EPS)
    return p / p.sum()


def _log_table(values: tuple[float, ...]) -> np.ndarray:
    """log probabilities indexed by gamma + 1 (index 0 = missing → log 1 = 0)."""
    return np.concatenate([[0.0], np.log(np.asarray(values, dtype=np.float64))])


def _pattern_arrays(
    patterns: pl.DataFrame, names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    cols = [f"gamma_{n}" for n in names]
    missing = [c for c in [*cols, "count"] if c not in patterns.columns]
    if missing:
        raise ModelError(
            f"agreement patterns lack column(s) {missing}; columns present: {patterns.columns}. "
            f"Fix: give one gamma_<name> column per comparison of the start parameters and 'count'"
        )
    gammas = patterns.select(cols).to_numpy().astype(np.int64).reshape(patterns.height, len(cols))
    counts = patterns["count"].cast(pl.Float64).to_numpy()
    return gammas, counts


def _check_levels(gammas: np.ndarray, start: FSParams) -> None:
    for j, name in enumerate(start.names):
        n = len(start.m[name])
        col = gammas[:, j]
        bad = col[(col < -1) | (col >= n)]
        if bad.size:
            raise ModelError(
                f"gamma_{name} holds level {int(bad[0])}, outside -1..{n - 1}; the patterns and "
                f"the parameters disagree on the comparison's levels"
            )


def _log_likelihoods(gammas: np.ndarray, params: FSParams) -> tuple[np.ndarray, np.ndarray]:
    """Per pattern: log P(γ | match), log P(γ | non-match) (missing levels contribute 0)."""
    lm = np.zeros(gammas.shape[0])
    lu = np.zeros(gammas.shape[0])
    for j, name in enumerate(params.names):
        idx = gammas[:, j] + 1
        lm += _log_table(params.m[name])[idx]
        lu += _log_table(params.u[name])[idx]
    return lm, lu


def _e_step(
    gammas: np.ndarray, counts: np.ndarray, params: FSParams, n_outside: float
) -> tuple[np.ndarray, float]:
    """Posterior match probability per pattern and the observed-data log-likelihood."""
    lm, lu = _log_likelihoods(gammas, params)
    a = np.log(params.prior) + lm
    b = np.log1p(-params.prior) + lu
    top = np.maximum(a, b)
    log_mix = top + np.log(np.exp(a - top) + np.exp(b - top))
    post = np.exp(a - log_mix)
    loglik = float(np.dot(counts, log_mix))
    if n_outside > 0:
        loglik += n_outside * float(np.log1p(-params.prior))
    return post, loglik


def _level_shares(
    col: np.ndarray, weights: np.ndarray, n_levels: int, fallback: tuple[float, ...]
) -> tuple[float, ...]:
    present = col >= 0
    sums = np.bincount(col[present], weights=weights[present], minlength=n_levels)
    total = sums.sum()
    if total <= 0:
        return fallback
    return tuple(_clip_normalise(sums / total))


def _m_step(
    gammas: np.ndarray,
    counts: np.ndarray,
    post: np.ndarray,
    params: FSParams,
    fixed_u: bool,
    n_total: float,
    fixed_m: frozenset[str],
) -> FSParams:
    wm = counts * post
    wu = counts * (1.0 - post)
    prior = float(np.clip(wm.sum() / n_total, EPS, 1.0 - EPS))
    m: dict[str, tuple[float, ...]] = {}
    u: dict[str, tuple[float, ...]] = {}
    for j, name in enumerate(params.names):
        n = len(params.m[name])
        m[name] = (
            params.m[name]
            if name in fixed_m
            else _level_shares(gammas[:, j], wm, n, params.m[name])
        )
        u[name] = params.u[name] if fixed_u else _level_shares(gammas[:, j], wu, n, params.u[name])
    return FSParams(prior=prior, m=m, u=u)


def _max_change(a: FSParams, b: FSParams) -> float:
    diffs = [abs(a.prior - b.prior)]
    for name in a.names:
        diffs.append(float(np.max(np.abs(np.subtract(a.m[name], b.m[name])))))
        diffs.append(float(np.max(np.abs(np.subtract(a.u[name], b.u[name])))))
    return max(diffs)


def _sanitise(start: FSParams) -> FSParams:
    return FSParams(
        prior=float(np.clip(start.prior, EPS, 1.0 - EPS)),
        m={k: tuple(_clip_normalise(np.asarray(v, dtype=np.float64))) for k, v in start.m.items()},
        u={k: tuple(_clip_normalise(np.asarray(v, dtype=np.float64))) for k, v in start.u.items()},
    )


def run_em(
    patterns: pl.DataFrame,
    start: FSParams,
    *,
    fixed_u: bool = True,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
    n_total: float | None = None,
    fixed_m: Collection[str] = (),
) -> EMResult:
    """Estimate m (and u unless fixed) and the prior by EM over agreement-pattern counts.

    Args:
        patterns: one row per distinct pattern: ``gamma_<name>`` (Int, -1 = missing) for every
            comparison named in ``start``, and ``count`` (pairs with that pattern).
        start: starting parameters; they name the comparisons and their number of levels.
        fixed_u: keep ``start.u`` (u estimated elsewhere, from random pairs) — Splink-style.
        max_iterations: stop after this many iterations even if not converged.
        tolerance: converged when no probability (prior, m, u) moves by more than this.
        n_total: size of the pair space the patterns come from; the pairs beyond
            ``Σ count`` are known non-matches. ``None``: the patterns are the whole space.
        fixed_m: comparisons whose m-probabilities stay at their start values.

    Returns:
        The estimated parameters, the iteration history, the convergence flag.

    Raises:
        ModelError: patterns and parameters do not fit (missing column, level out of range),
            or ``n_total`` is smaller than the number of pairs.
    """
    if max_iterations < 1:
        raise ModelError(f"max_iterations must be ≥ 1, got {max_iterations}")
    params = _sanitise(start)
    gammas, counts = _pattern_arrays(patterns, params.names)
    _check_levels(gammas, params)
    n_pairs = float(counts.sum())
    total = n_pairs if n_total is None else float(n_total)
    if total < n_pairs or total <= 0:
        raise ModelError(
            f"n_total={n_total} is smaller than the {n_pairs:.0f} pairs counted in the patterns "
            f"(or not positive); give the size of the whole pair space, or None"
        )
    n_outside = total - n_pairs
    history: list[EMStep] = []
    converged = False
    post = np.zeros(len(counts))
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - used after the loop
        post, loglik = _e_step(gammas, counts, params, n_outside)
        new = _m_step(gammas, counts, post, params, fixed_u, total, frozenset(fixed_m))
        history.append(EMStep(new.prior, loglik))
        change = _max_change(new, params)
        params = new
        if change < tolerance:
            converged = True
            break
    post, final_loglik = _e_step(gammas, counts, params, n_outside)
    share = float(np.dot(counts, post) / n_pairs) if n_pairs > 0 else 0.0
    return EMResult(
        params=params,
        history=history,
        converged=converged,
        iterations=iterations,
        final_loglik=final_loglik,
        pattern_match_share=share,
    )


#: A packed pattern key stays below this (tests lower it to exercise the fallback).
KEY_SPAN = 2**63


def packed_counts(frame: pl.DataFrame) -> pl.DataFrame | None:
    """:func:`pattern_counts` through one integer key per pair; None when it cannot be used.

    Each integer gamma column is shifted to ``0..max-min`` and the columns are packed in
    mixed radix (first column most significant), so sorting the keys sorts the patterns as
    ``sort(cols)`` would. Counting one integer per pair is several times faster than grouping
    by many ``Int8`` columns. None for an empty frame, a null, a non-integer column, or a key
    space too large to pack.
    """
    if frame.height == 0 or not all(t.is_integer() for t in frame.dtypes):
        return None
    stats = frame.select(
        *[pl.col(c).min().alias(f"lo{i}") for i, c in enumerate(frame.columns)],
        *[pl.col(c).max().alias(f"hi{i}") for i, c in enumerate(frame.columns)],
        pl.sum_horizontal(pl.all().null_count()).alias("nulls"),
    ).row(0, named=True)
    if stats["nulls"]:
        return None
    lows = [int(stats[f"lo{i}"]) for i in range(frame.width)]
    radices = [int(stats[f"hi{i}"]) - lo + 1 for i, lo in enumerate(lows)]
    span = math.prod(radices)
    if span > KEY_SPAN:
        return None
    utype = np.uint32 if span <= 2**32 else np.uint64
    # key = Σ (g_j - lo_j)·stride_j, accumulated in place with wrap-around unsigned arithmetic
    # (the result is exact: it lies in [0, span))
    key = np.zeros(frame.height, dtype=utype)
    for col, radix in zip(frame.columns, radices, strict=True):
        np.multiply(key, utype(radix), out=key)
        np.add(key, frame.get_column(col).to_numpy().astype(utype), out=key)
    offset = sum(lo * math.prod(radices[j + 1 :]) for j, lo in enumerate(lows))
    np.subtract(key, utype(offset % 2 ** (8 * key.itemsize)), out=key)
    keys, counts = np.unique(key, return_counts=True)
    columns: dict[str, pl.Series] = {}
    for j, (col, dtype) in enumerate(frame.schema.items()):
        digit = keys // utype(math.prod(radices[j + 1 :])) % utype(radices[j])
        columns[col] = pl.Series(col, digit.astype(np.int64) + lows[j]).cast(dtype)
    columns["count"] = pl.Series("count", counts).cast(pl.get_index_type())
    return pl.DataFrame(columns)


def pattern_counts(gammas: pl.DataFrame) -> pl.DataFrame:
    """Distinct agreement patterns of a comparison-vector frame, with their ``count``.

    One row per distinct pattern, sorted by the ``gamma_`` columns (in frame order).
    """
    cols = [c for c in gammas.columns if c.startswith("gamma_")]
    if not cols:
        return pl.DataFrame({"count": []}, schema={"count": pl.UInt32})
    packed = packed_counts(gammas.select(cols))
    if packed is not None:
        return packed
    return gammas.group_by(cols).agg(pl.len().alias("count")).sort(cols)


def posterior(patterns: pl.DataFrame, params: FSParams) -> np.ndarray:
    """P(match | pattern) per row of an agreement-pattern frame (missing levels neutral)."""
    w = np.full(patterns.height, np.log2(params.prior) - np.log2(1.0 - params.prior))
    for name in params.names:
        g = patterns[f"gamma_{name}"].to_numpy().astype(np.int64)
        table = np.concatenate([[0.0], params.bayes_factors(name)])
        w = w + table[g + 1]
    return 1.0 / (1.0 + np.exp2(-w))
