"""The per-value rules evaluated in steps (``with_latin_form``, the place and usable-name rules)
give exactly the values of their one-expression definitions, on odd text of both scripts."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.standardise.names import latin_form_expr, with_latin_form
from registry_link.standardise.pipeline import _has_letter_rule
from registry_link.standardise.places import _place_rule, place_expr
from tests.standardise.test_std_properties import _TEXT

_PLACES = st.sampled_from(
    ["Casablanca", "Casa", "الدار البيضاء", "Dar el Beida", "Fès", "FES", "فاس", "Tanger", "طنجة"]
)
_VALUES = st.lists(st.one_of(_TEXT, _PLACES), min_size=1, max_size=12)
_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frame(values: list[str | None]) -> pl.LazyFrame:
    return pl.DataFrame({"x": values}, schema={"x": pl.Utf8}).lazy()


@_SETTINGS
@given(_VALUES)
def test_latin_form_in_steps_is_latin_form_expr(values: list[str | None]) -> None:
    steps = with_latin_form(_frame(values), "x", "out").collect()
    whole = _frame(values).select(latin_form_expr(pl.col("x")).alias("out")).collect()
    assert steps.columns == ["x", "out"]  # (the readings' columns dropped)
    assert steps["out"].to_list() == whole["out"].to_list()


@_SETTINGS
@given(_VALUES)
def test_place_rule_in_steps_is_place_expr(values: list[str | None]) -> None:
    steps = _place_rule("x")(_frame(values)).collect()
    whole = _frame(values).select(place_expr(pl.col("x")).alias("_place")).collect()
    assert steps.columns == ["x", "_place"]
    assert steps["_place"].to_list() == whole["_place"].to_list()


@_SETTINGS
@given(_VALUES)
def test_usable_name_rule_in_steps_is_its_definition(values: list[str | None]) -> None:
    steps = _has_letter_rule("x")(_frame(values)).collect()
    definition = latin_form_expr(pl.col("x")).str.contains("[a-z]").alias("_ok_x")
    whole = _frame(values).select(definition).collect()
    assert steps.columns == ["x", "_ok_x"]
    assert steps["_ok_x"].to_list() == whole["_ok_x"].to_list()


@pytest.mark.parametrize(
    "values",
    [
        ["Bennani"],
        ["بناني"],
        ["بناني", "Bennani"],
        [None],
        ["بناني", None],
        ["Bennani", None, "---"],
        ["ﻣﺤﻤﺪ"],
        ["محمد Mohamed"],
    ],
)
def test_latin_form_of_one_script_or_both_is_latin_form_expr(values: list[str | None]) -> None:
    # (one reading only when every row picks it: Latin, Arabic, nulls among them)
    steps = with_latin_form(_frame(values), "x", "out").collect()
    whole = _frame(values).select(latin_form_expr(pl.col("x")).alias("out")).collect()
    assert steps.columns == ["x", "out"]
    assert steps["out"].to_list() == whole["out"].to_list()
