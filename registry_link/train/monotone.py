"""Ordered levels weigh in order: no level's Bayes factor above that of a closer level.

A comparison's levels are ordered from "different" (gamma 0) to the closest agreement (the
top gamma), and a record-linkage model should not say that a closer agreement is *less*
evidence of a match than a looser one: "variant of the father's name" weighing less than
"different father's name" is an estimate made from too few matches, not a fact of the data.

:func:`monotone_m` enforces it as a constrained maximum-likelihood estimate. With u fixed
(estimated from random pairs) and ``m̂`` the m estimated by EM (the expected share of matches
per level), it returns the m that maximises ``Σ m̂_k log m_k`` under ``Σ m_k = 1`` and
``m_k / u_k`` non-decreasing in k. The solution is the pool-adjacent-violators algorithm on
the ratios ``m̂_k / u_k`` with weights ``u_k`` (Robertson, Wright & Dykstra, *Order Restricted
Statistical Inference*, 1988, §1.5), computed by SciPy's ``isotonic_regression``: adjacent
levels whose ratios are out of order are pooled into a block, and every level of a block
gets the block's Bayes factor ``Σ m̂ / Σ u`` (its own u kept, its m = u_k · Σ m̂ / Σ u).
Levels already in order are left exactly as they were; the pooled m still sum to 1.

A comparison whose levels are exclusive alternatives rather than an order of closeness
(a birth date's "day and month swapped" and "same year, one side year-only") is left out
through the model config (``training.levels_not_ordered``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import isotonic_regression

from registry_link.train.em import FSParams

#: Relative difference of two ratios below which they count as equal (in order).
_ROUNDING = 1e-12


@dataclass(frozen=True)
class MonotoneM:
    """The output of :func:`monotone_m`.

    Attributes:
        m: the constrained m, one per level (gamma order); equal to the input where no level
            was pooled.
        blocks: the pooled blocks of two or more adjacent levels, each as its gamma values.
    """

    m: tuple[float, ...]
    blocks: tuple[tuple[int, ...], ...]


def monotone_m(m: Sequence[float], u: Sequence[float]) -> MonotoneM:
    """The m closest to ``m`` whose Bayes factors ``m_k / u_k`` do not decrease with gamma.

    Args:
        m: P(level | match) per level, gamma order (0 = different .. top = closest).
        u: P(level | non-match), same order; every value > 0.

    Returns:
        The constrained m and the pooled blocks (see the module docs).

    Raises:
        ValueError: ``m`` and ``u`` differ in length, or a u is not positive.
    """
    mm = np.asarray(m, dtype=np.float64)
    uu = np.asarray(u, dtype=np.float64)
    if mm.shape != uu.shape:
        raise ValueError(f"{len(mm)} m values but {len(uu)} u values")
    if (uu <= 0).any():
        raise ValueError(f"u must be positive at every level, got {list(uu)}")
    # the weighted isotonic regression of the ratios (SciPy's pool-adjacent-violators). It
    # also joins equal neighbours into its blocks: a level whose ratio the fit leaves as it
    # was (up to rounding) at either end of a block is in order, not pooled
    ratio = mm / uu
    fit = isotonic_regression(ratio, weights=uu, increasing=True)
    moved = np.abs(fit.x - ratio) > _ROUNDING * np.maximum(np.abs(ratio), np.abs(fit.x))
    out = mm.copy()
    blocks = []
    for lo, end in zip(fit.blocks[:-1], fit.blocks[1:], strict=True):
        first, last = int(lo), int(end) - 1
        while first < last and not moved[first]:
            first += 1
        while last > first and not moved[last]:
            last -= 1
        if last > first:
            span = slice(first, last + 1)
            out[span] = uu[span] * (mm[span].sum() / uu[span].sum())
            blocks.append(tuple(range(first, last + 1)))
    return MonotoneM(m=tuple(float(x) for x in out), blocks=tuple(blocks))


def monotone_params(
    params: FSParams, labels: Mapping[str, Sequence[str]], names: Collection[str]
) -> tuple[FSParams, dict[str, list[dict[str, Any]]]]:
    """``params`` with the m of each comparison of ``names`` made monotone
    (:func:`monotone_m`), the others' left as they are; and what was pooled.

    Args:
        params: the estimated parameters.
        labels: per comparison name, its level labels in gamma order (for the log).
        names: the comparisons to constrain (those whose levels are an order of closeness).

    Returns:
        (the parameters, the pooled blocks): per comparison with a pooled block, one entry per
        block with its ``levels`` (labels, loosest first), ``bits_before`` (log2 m/u of each
        as estimated) and ``bits`` (the block's, after).
    """
    m = dict(params.m)
    pooled: dict[str, list[dict[str, Any]]] = {}
    for name in params.names:
        if name not in names:
            continue
        result = monotone_m(params.m[name], params.u[name])
        if not result.blocks:
            continue
        before = params.bayes_factors(name)
        m[name] = result.m
        after = np.log2(np.asarray(result.m)) - np.log2(np.asarray(params.u[name]))
        pooled[name] = [
            {
                "levels": [labels[name][g] for g in block],
                "bits_before": [round(float(before[g]), 4) for g in block],
                "bits": round(float(after[block[0]]), 4),
            }
            for block in result.blocks
        ]
    return FSParams(prior=params.prior, m=m, u=params.u), pooled
