"""The trained model as small frames for the report: level weights, term-frequency effect, EM.

Read from the run folder's ``model.json`` (:func:`registry_link.model.load_model`) and the
training metadata in ``summary.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import polars as pl

from registry_link.model import TrainedModel, load_model

#: Most frequent values shown per term-frequency column.
TF_TOP_VALUES: Final[int] = 5


def read_model(run_dir: Path) -> TrainedModel | None:
    """The run's ``model.json``, or ``None`` when the folder has none.

    Raises:
        ModelError: the file is not a model registry-link can read.
    """
    path = run_dir / "model.json"
    return load_model(path) if path.is_file() else None


def _bits(m: float, u: float) -> float | None:
    if m <= 0 or u <= 0 or not (math.isfinite(m) and math.isfinite(u)):
        return None
    return math.log2(m / u)


def level_weights(model: TrainedModel) -> pl.DataFrame:
    """One row per comparison level (missing levels are neutral and left out).

    Returns:
        ``{comparison, gamma, level, description, m, u, weight}``; ``weight`` = log2(m/u),
        levels ordered from closest (highest gamma) down.
    """
    rows = []
    for c in model.comparisons:
        m, u = model.params.m[c.name], model.params.u[c.name]
        for gamma, level in enumerate(c.levels):
            rows.append(
                {
                    "comparison": c.name,
                    "gamma": gamma,
                    "level": level.label,
                    "description": level.describe(),
                    "m": float(m[gamma]),
                    "u": float(u[gamma]),
                    "weight": _bits(float(m[gamma]), float(u[gamma])),
                }
            )
    schema = {
        "comparison": pl.Utf8,
        "gamma": pl.Int64,
        "level": pl.Utf8,
        "description": pl.Utf8,
        "m": pl.Float64,
        "u": pl.Float64,
        "weight": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema).sort(
        "comparison", "gamma", descending=[False, True], maintain_order=True
    )


def tf_effect(model: TrainedModel, top: int = TF_TOP_VALUES) -> pl.DataFrame:
    """The term-frequency adjustment of the most frequent values of each adjusted column.

    An exact agreement on a value weighs ``log2(u_level / max(tf(value), floor))`` instead of
    the level's average: common names count less (see :mod:`registry_link.score.scoring`).

    Returns:
        ``{comparison, column, value, frequency, adjustment}`` (``adjustment`` in bits), the
        ``top`` most frequent values per comparison and column.
    """
    rows: list[dict[str, Any]] = []
    floor = model.tf_minimum_frequency
    for c in model.comparisons:
        for gamma, level in enumerate(c.levels):
            column = level.tf_column
            table: Mapping[str, float] = model.tf_tables.get(column, {}) if column else {}
            if not table:
                continue
            u_level = float(model.params.u[c.name][gamma])
            common = sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            rows.extend(
                {
                    "comparison": c.name,
                    "column": column,
                    "value": value,
                    "frequency": float(freq),
                    "adjustment": math.log2(u_level / max(float(freq), floor)),
                }
                for value, freq in common
            )
    schema = {
        "comparison": pl.Utf8,
        "column": pl.Utf8,
        "value": pl.Utf8,
        "frequency": pl.Float64,
        "adjustment": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def em_sessions(training: Mapping[str, Any]) -> pl.DataFrame:
    """EM convergence per pass: each blocking-rule session, the final EM and the household
    pass, from the training metadata (``summary.json``'s ``model.training``).

    Returns:
        ``{pass, pairs, iterations, converged, match_share}``.
    """
    rows = [
        {
            "pass": f"session on rule {s.get('rule')}",
            "pairs": s.get("pairs"),
            "iterations": s.get("iterations"),
            "converged": s.get("converged"),
            "match_share": s.get("match_share"),
        }
        for s in training.get("em_sessions", [])
    ]
    if "iterations" in training:
        rows.append(
            {
                "pass": "final EM on the candidate pairs",
                "pairs": training.get("candidate_pairs"),
                "iterations": training.get("iterations"),
                "converged": training.get("converged"),
                "match_share": training.get("candidate_match_share"),
            }
        )
    hc = training.get("household_context")
    if isinstance(hc, Mapping) and "iterations" in hc:
        rows.append(
            {
                "pass": "household pass",
                "pairs": hc.get("hinted_pairs"),
                "iterations": hc.get("iterations"),
                "converged": hc.get("converged"),
                "match_share": None,
            }
        )
    schema = {
        "pass": pl.Utf8,
        "pairs": pl.Int64,
        "iterations": pl.Int64,
        "converged": pl.Boolean,
        "match_share": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)
