"""The per-value rules evaluated in steps (``with_latin_form``, the place and usable-name rules)
give exactly the values of their one-expression definitions, on odd text of both scripts; and
their Python readings (a search's few new values) give exactly their frames' rows."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.standardise.distinct import (
    PerValueRule,
    ValueMemo,
    remembered_values,
    with_distinct,
)
from registry_link.standardise.names import (
    _arabic_rule,
    _either_rule,
    _latin_rule,
    latin_form_expr,
    with_latin_form,
)
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


def _per_value_rules() -> dict[str, tuple[PerValueRule, str]]:
    """Every rule with a Python reading, by name, with the column it reads."""
    rules = [
        (_latin_rule("x", "_fl"), "x"),
        (_arabic_rule("x", "_fa"), "x"),
        (_either_rule("x", "_pa"), "x"),
        (_has_letter_rule("x"), "x"),
        (_place_rule("x"), "x"),
    ]
    return {rule.name: (rule, column) for rule, column in rules}


@pytest.mark.parametrize("name", list(_per_value_rules()))
@_SETTINGS
@given(_VALUES)
def test_a_rules_python_reading_is_its_frame(name: str, values: list[str | None]) -> None:
    rule, column = _per_value_rules()[name]
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    if not distinct:
        return
    by_polars = rule(_frame(distinct)).collect()
    by_python = rule.rows(column, distinct, by_polars.schema)
    assert by_python.schema == by_polars.schema
    assert by_python.rows() == by_polars.rows()


def test_a_search_reads_a_few_new_values_in_python() -> None:
    """Under a memo that knows a rule's columns, a few new values are computed by the rule's
    Python reading (here the frame would fail) and give the frame's rows."""
    real = _latin_rule("x", "_fl")
    no_frame = PerValueRule(real.name, _fails, real.one)
    memo = ValueMemo()
    seen = pl.DataFrame({"x": ["Bennani"]})
    new = pl.DataFrame({"x": ["Abd El Kader", "Bennani", None, "بناني", "Ben Jelloun"]})
    with remembered_values(memo):
        with_distinct(seen, "x", real)  # (learns the rule's columns)
        got = with_distinct(new, "x", no_frame)
    assert got.rows() == with_distinct(new, "x", real).rows()
    with pytest.raises(RuntimeError):  # (without a memo: the frame, as the batch)
        with_distinct(new, "x", no_frame)


def _fails(lf: pl.LazyFrame) -> pl.LazyFrame:
    raise RuntimeError("the frame rule ran")
