"""Tests of registry_link.model: model config YAML and trained-model JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry_link.compare import build_comparison
from registry_link.errors import ConfigError, ModelError
from registry_link.model import (
    MODEL_FORMAT,
    TrainedModel,
    load_model,
    load_model_config,
    model_from_dict,
    model_to_dict,
    save_model,
    settings_from_dict,
)
from registry_link.train.em import FSParams

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def minimal_config() -> dict[str, Any]:
    return {
        "blocking_rules": [{"name": "surname", "columns": ["surname"]}],
        "comparisons": [
            {"name": "surname", "kind": "exact", "column": "surname", "tf": True},
            {"name": "dob", "kind": "string", "column": "dob", "edit_distances": [1]},
        ],
    }


def small_model() -> TrainedModel:
    comps = (
        build_comparison({"name": "surname", "kind": "exact", "column": "surname", "tf": True}),
        build_comparison({"name": "dob", "kind": "string", "column": "dob", "edit_distances": [1]}),
    )
    params = FSParams(
        prior=0.001,
        m={"surname": (0.1, 0.9), "dob": (0.05, 0.15, 0.8)},
        u={"surname": (0.99, 0.01), "dob": (0.9, 0.09, 0.01)},
    )
    return TrainedModel(
        comparisons=comps,
        params=params,
        tf_tables={"surname": {"smith": 0.02, "élie": 0.001}},
        tf_minimum_frequency=1e-4,
        training={"candidate_pairs": 10, "iterations": 3, "converged": True},
        settings=minimal_config(),
    )


@pytest.mark.parametrize("name", ["model.yaml", "febrl4_model.yaml"])
def test_shipped_configs_load(name: str) -> None:
    settings = load_model_config(ROOT / "configs" / name)
    assert settings.blocking_rules
    assert settings.comparisons
    assert 0 < settings.review_threshold <= settings.match_threshold < 1
    assert settings.tf_columns()


def test_minimal_config_defaults() -> None:
    s = settings_from_dict(minimal_config())
    assert s.match_threshold == 0.9
    assert s.review_threshold == 0.5
    assert s.close_second_margin == 5.0
    assert s.training.u_sample_size == 1_000_000
    assert s.tf_columns() == ("surname",)
    assert [r.name for r in s.em_rules()] == ["surname"]
    assert [c.output_column for c in s.comparisons] == ["gamma_surname", "gamma_dob"]


def test_all_problems_reported_at_once_with_key_paths(tmp_path: Path) -> None:
    data = minimal_config()
    data["blocking_rules"].append({"name": "surname", "columns": []})
    data["comparisons"].append({"name": "x", "kind": "no_such_kind"})
    data["comparisons"].append({"name": "dob", "kind": "exact", "column": "dob", "colour": 1})
    data["thresholds"] = {"match": 0.4, "review": 0.6}
    data["training"] = {"seed": 1, "em_rules": ["nope"], "bogus": True}
    data["extra_top"] = 1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_model_config(path)
    paths = {p.key_path for p in info.value.problems}
    assert {
        "blocking_rules.1.columns",
        "blocking_rules.1.name",
        "comparisons.2.kind",
        "comparisons.3.colour",
        "comparisons.3.name",
        "thresholds",
        "training.bogus",
        "extra_top",
    } <= paths
    assert str(path) in str(info.value)


def test_unknown_em_rule_is_reported() -> None:
    data = minimal_config()
    data["training"] = {"em_rules": ["nope"]}
    with pytest.raises(ConfigError) as info:
        settings_from_dict(data)
    assert [p.key_path for p in info.value.problems] == ["training.em_rules.0"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("[1, 2", "not valid YAML"), ("- a\n- b\n", "expected a mapping")],
)
def test_unreadable_config(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_model_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_model_config(tmp_path / "absent.yaml")


def test_model_round_trip(tmp_path: Path) -> None:
    model = small_model()
    path = tmp_path / "m.json"
    save_model(model, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == MODEL_FORMAT
    assert data["version"] == 1
    assert data["comparisons"][0]["comparison"]["levels"] == ["different", "exact"]
    back = load_model(path)
    assert back.params == model.params
    # smith (20 of 1,000 persons) is kept; élie (1 person) is left out of the file, and a
    # left-out value is scored as held by at most TF_MIN_PERSONS - 1 persons (issue 19)
    assert back.tf_tables == {"surname": {"smith": 0.02}}
    assert "élie" not in path.read_text(encoding="utf-8")
    assert back.tf_minimum_frequency == pytest.approx(9 / 1000)
    assert "personal_data" in data
    assert [c.to_dict() for c in back.comparisons] == [c.to_dict() for c in model.comparisons]
    assert back.training == model.training
    assert back.settings == model.settings


def test_loads_the_stored_v1_file() -> None:
    """A v1 file written earlier keeps loading (version dispatch)."""
    model = load_model(DATA / "model_v1.json")
    assert model.params.prior == pytest.approx(0.001)
    assert [c.name for c in model.comparisons] == ["surname", "dob"]
    assert model.params.m["dob"] == (0.05, 0.15, 0.8)
    assert model.tf_tables["surname"]["élie"] == pytest.approx(0.001)


def test_a_model_written_before_the_engine_redesign_loads_and_saves_the_same(
    tmp_path: Path,
) -> None:
    """``model_before_issue14.json``: written by ``match`` on the sample before the compare
    engine and the typed comparison kinds; it loads with the shipped config's comparisons (those
    issue 16 changed keep the kinds and levels the file was trained with) and saves back to the
    same JSON."""
    old = DATA / "model_before_issue14.json"
    model = load_model(old)
    config = load_model_config(ROOT / "configs" / "model.yaml")
    shipped = {c.name: c for c in config.comparisons}
    assert [c.name for c in model.comparisons] == [*shipped, "household"]
    # issue 16: token-level term frequencies (given, family, full_name), places by the place
    # kind, a variant level on the name comparisons (given, family, father), a level for
    # birth dates one character apart
    changed = {"given", "family", "father", "full_name", "birth_place", "residence", "birth_date"}
    assert all(c == shipped[c.name] for c in model.comparisons if c.name in set(shipped) - changed)
    loaded = {c.name: c for c in model.comparisons}
    assert loaded["residence"].kind == "jaro_winkler"
    assert [lv.label for lv in loaded["given"].levels] == [
        "different",
        "similar_low",
        "similar_high",
        "swapped",
        "same_key",
        "exact",
    ]
    save_model(model, tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    before = json.loads(old.read_text(encoding="utf-8"))
    # the same JSON but for what issue 19 changed on saving: term frequencies keep only the
    # values at least TF_MIN_PERSONS registry persons share, and a personal_data header
    kept = {"term_frequencies", "personal_data"}
    # ... and the parameters issue 16 added, written at their defaults (the same levels)
    added = {
        ("name", "tokens_tf", False),
        ("name_tokens", "tf", None),
        ("name", "variants", False),
        ("date", "one_character", False),
        ("name", "unsplit", None),
    }
    for entry in again["comparisons"]:
        spec = entry["comparison"]
        for kind, param, default in added:
            if spec["kind"] == kind:
                assert spec.pop(param) == default
    assert {k: v for k, v in again.items() if k not in kept} == {
        k: v for k, v in before.items() if k not in kept
    }
    tables, old_tables = again["term_frequencies"]["tables"], before["term_frequencies"]["tables"]
    assert tables.keys() == old_tables.keys()
    for column, table in tables.items():
        assert table and table.items() <= old_tables[column].items(), column


def _v1() -> dict[str, Any]:
    return model_to_dict(small_model())


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("format",), "something-else", "not a registry-link model"),
        (("version",), 99, "newer than this registry-link reads"),
        (("version",), 0, "unknown model format version 0"),
        (("version",), "1", "not an integer"),
        (("prior",), _DELETE, "field 'prior' is missing"),
        (("prior",), 1.5, "strictly between 0 and 1"),
        (("prior",), "high", "expected"),
        (("comparisons", 0, "m"), [0.5], "must be 2 probabilities"),
        (("comparisons", 1, "u"), [0.5, 0.5, 0.0], "must be 3 probabilities"),
        (("comparisons", 0, "comparison", "kind"), "zzz", "cannot be rebuilt"),
        (("comparisons", 0, "comparison"), _DELETE, "field 'comparison' is missing"),
        (("term_frequencies", "tables"), {"surname": 3}, "value tables"),
    ],
)
def test_bad_model_data_raises_model_error(path: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        model_from_dict(_set(_v1(), path, value))


def test_bad_model_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_model(bad)
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "absent.json")


def test_model_checks_parameters_fit_comparisons() -> None:
    model = small_model()
    with pytest.raises(ModelError, match="levels"):
        TrainedModel(
            comparisons=model.comparisons,
            params=FSParams(
                prior=0.1,
                m={"surname": (0.2, 0.3, 0.5), "dob": (0.05, 0.15, 0.8)},
                u={"surname": (0.5, 0.3, 0.2), "dob": (0.9, 0.09, 0.01)},
            ),
        )
    with pytest.raises(ModelError, match="differ"):
        TrainedModel(comparisons=model.comparisons[:1], params=model.params)


def test_default_model_reads_only_standardised_columns() -> None:
    from registry_link.compare import needed_columns
    from registry_link.schema import STANDARDISED_SCHEMA

    settings = load_model_config(ROOT / "configs" / "model.yaml")
    for rule in settings.blocking_rules:
        assert set(rule.columns) <= set(STANDARDISED_SCHEMA), rule.name
    assert set(needed_columns(settings.comparisons)) <= set(STANDARDISED_SCHEMA)
    assert set(settings.tf_columns()) <= set(STANDARDISED_SCHEMA)
    # EM sessions run on rules that do not block on a given name (see the config's comment)
    assert {r.name for r in settings.em_rules()} == {"cin", "family_residence_birth_year"}
    assert all("given_key" not in r.columns for r in settings.em_rules())


def test_a_model_written_before_issue_19_still_loads(tmp_path: Path) -> None:
    """tests/data/model_written_before_issue19.json was written by save_model before model.json
    left rare term frequencies out (trained on a 2,000-person synthetic registry)."""
    old = load_model(DATA / "model_written_before_issue19.json")
    assert old.tf_tables["given_lat"] and old.tf_minimum_frequency == 1e-5
    assert len(old.comparisons) == len(old.params.names)
    path = tmp_path / "again.json"
    save_model(old, path)  # saved again: the rare values go, the parameters stay
    again = load_model(path)
    assert again.params == old.params
    assert set(again.tf_tables["given_lat"]) < set(old.tf_tables["given_lat"])
    assert again.tf_minimum_frequency > old.tf_minimum_frequency


def test_near_blocking_columns_load_and_must_be_rule_columns() -> None:
    data = minimal_config()
    data["blocking_rules"][0] = {**data["blocking_rules"][0], "near": []}
    data["blocking_rules"].append(
        {"name": "year_window", "columns": ["surname", "dob"], "near": ["dob"]}
    )
    rule = settings_from_dict(data).blocking_rules[-1]
    assert rule.near == ("dob",) and rule.key_columns == ("surname", "dob~1")
    data["blocking_rules"][-1] = {"name": "year_window", "columns": ["surname"], "near": ["dob"]}
    with pytest.raises(ConfigError) as info:
        settings_from_dict(data)
    assert any(
        p.key_path.startswith("blocking_rules.1") and "near names ['dob']" in p.message
        for p in info.value.problems
    )
