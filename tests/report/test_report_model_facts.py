"""registry_link.report.model_facts: the model's levels, term frequencies and EM passes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl

from registry_link.report.model_facts import em_sessions, level_weights, read_model, tf_effect


def test_level_weights_are_log2_m_over_u_of_every_level(run_dir: Path) -> None:
    model = read_model(run_dir)
    assert model is not None
    levels = level_weights(model)
    assert levels.height == sum(c.n_levels for c in model.comparisons)
    for c in model.comparisons:
        part = levels.filter(pl.col("comparison") == c.name)
        assert part["gamma"].to_list() == list(range(c.n_levels - 1, -1, -1))  # closest first
        for row in part.iter_rows(named=True):
            m, u = model.params.m[c.name][row["gamma"]], model.params.u[c.name][row["gamma"]]
            assert row["level"] == c.levels[row["gamma"]].label
            assert math.isclose(row["weight"], math.log2(m / u))
    cin_exact = levels.filter((pl.col("comparison") == "cin") & (pl.col("level") == "exact"))
    assert cin_exact["weight"].item() > 5  # agreeing on a CIN is strong evidence


def test_tf_effect_weighs_common_values_less(run_dir: Path) -> None:
    model = read_model(run_dir)
    assert model is not None
    tf = tf_effect(model, top=3)
    assert tf.height and tf.group_by("comparison", "column").len()["len"].max() == 3
    for (column,), part in tf.group_by("column"):
        table = model.tf_tables[str(column)]
        freqs = sorted(table.values(), reverse=True)[:3]
        assert part["frequency"].to_list() == freqs
        # the commoner the value, the fewer bits an agreement on it is worth
        assert part["adjustment"].to_list() == sorted(part["adjustment"].to_list())


def test_em_sessions_list_every_pass_of_the_training(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    training = summary["model"]["training"]
    passes = em_sessions(training)
    assert passes.height == len(training["em_sessions"]) + 1 + ("household_context" in training)
    assert passes["iterations"].to_list()[: len(training["em_sessions"])] == [
        s["iterations"] for s in training["em_sessions"]
    ]
    assert em_sessions({}).height == 0


def test_a_folder_without_a_model_has_none(tmp_path: Path) -> None:
    assert read_model(tmp_path) is None
