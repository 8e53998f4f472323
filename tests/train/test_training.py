"""Tests of registry_link.train.training on synthetic records (no real personal data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.block.candidates import BlockingRule, block, in_order
from registry_link.compare import CompareEngine, compare
from registry_link.errors import ConfigError, LinkageError
from registry_link.model import TrainedModel, load_model, save_model, settings_from_dict
from registry_link.score.scoring import score
from registry_link.train.training import (
    coded_keys,
    default_m,
    joined_keys,
    level_shares,
    pair_free_estimates,
    pair_space,
    rule_keys,
    rule_mask,
    sample_pairs,
    smooth_m,
    term_frequencies,
    train,
    train_on,
)

GIVEN = [
    "adam",
    "amina",
    "youssef",
    "fatima",
    "karim",
    "salma",
    "omar",
    "nadia",
    "hassan",
    "leila",
    "rachid",
    "samira",
    "driss",
    "khadija",
    "mehdi",
    "souad",
    "anas",
    "imane",
]
FAMILY = [
    f"{a}{b}"
    for a in ("ben", "el", "al", "bou", "ou")
    for b in (
        "ali",
        "amrani",
        "idrissi",
        "tazi",
        "fassi",
        "berrada",
        "alaoui",
        "chraibi",
        "naciri",
        "bennani",
        "lahlou",
        "kettani",
        "sqalli",
        "zahraoui",
        "mernissi",
    )
]
TOWNS = ["rabat", "sale", "fes", "meknes", "tanger", "agadir", "oujda", "safi", "nador", "taza"]

CONFIG = {
    "blocking_rules": [
        {"name": "family", "columns": ["family"]},
        {"name": "dob", "columns": ["dob"]},
        {"name": "given_town", "columns": ["given", "town"]},
    ],
    "comparisons": [
        {
            "name": "given",
            "kind": "string",
            "column": "given",
            "edit_distances": [1],
            "jaro_winkler": [0.85],
            "tf": True,
        },
        {"name": "family", "kind": "string", "column": "family", "edit_distances": [1], "tf": True},
        {"name": "dob", "kind": "string", "column": "dob", "edit_distances": [1]},
        {"name": "town", "kind": "exact", "column": "town", "tf": True},
    ],
    "training": {"u_sample_size": 200_000, "seed": 7},
}


def _typo(rng: np.random.Generator, s: str) -> str:
    i = int(rng.integers(0, len(s)))
    return s[:i] + "x" + s[i + 1 :]


def people(n: int, rng: np.random.Generator, start: int) -> pl.DataFrame:
    zipf = 1.0 / np.arange(1, len(GIVEN) + 1)
    return pl.DataFrame(
        {
            "entity": np.arange(start, start + n),
            "given": rng.choice(GIVEN, n, p=zipf / zipf.sum()),
            "family": rng.choice(FAMILY, n),
            "dob": [
                f"{y}{m:02d}{d:02d}"
                for y, m, d in zip(
                    rng.integers(1940, 2010, n),
                    rng.integers(1, 13, n),
                    rng.integers(1, 29, n),
                    strict=True,
                )
            ],
            "town": rng.choice(TOWNS, n),
        }
    )


def corrupt(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    rows = []
    for r in frame.iter_rows(named=True):
        for col in ("given", "family", "dob"):
            if rng.random() < 0.15:
                r[col] = _typo(rng, r[col])
        if rng.random() < 0.1:
            r["town"] = None
        rows.append(r)
    return pl.DataFrame(rows, schema=frame.schema)


@pytest.fixture(scope="module")
def linked() -> dict:
    rng = np.random.default_rng(11)
    registry = people(3000, rng, 0)
    known = corrupt(registry.sample(400, seed=3), rng)
    partner = pl.concat([known, people(100, rng, 100_000)]).sample(fraction=1.0, seed=5)
    settings = settings_from_dict(CONFIG)
    pairs = block(partner, registry, settings.blocking_rules)
    gammas = compare(partner, registry, pairs, settings.comparisons)
    with CompareEngine(partner, registry, settings.comparisons) as engine:
        model = train_on(engine, pairs, settings)
        free = pair_free_estimates(engine, settings.training)
    return {
        "left": partner,
        "right": registry,
        "settings": settings,
        "pairs": pairs,
        "gammas": gammas,
        "free": free,
        "model": model,
    }


def test_pair_space() -> None:
    assert pair_space(3, 4) == 12
    assert pair_space(5, None) == 10


def test_sample_pairs_whole_space_when_small() -> None:
    link = sample_pairs(3, 4, 100, seed=1)
    assert link.height == 12
    assert set(zip(link["l_idx"], link["r_idx"], strict=True)) == {
        (i, j) for i in range(3) for j in range(4)
    }
    dedupe = sample_pairs(5, None, 100, seed=1)
    assert dedupe.height == 10
    assert (dedupe["l_idx"] < dedupe["r_idx"]).all()


def test_sample_pairs_seeded_and_in_range() -> None:
    a = sample_pairs(1000, 2000, 5000, seed=3)
    b = sample_pairs(1000, 2000, 5000, seed=3)
    c = sample_pairs(1000, 2000, 5000, seed=4)
    assert a.equals(b)
    assert not a.equals(c)
    assert a.height == 5000
    assert a["l_idx"].max() < 1000
    assert a["r_idx"].max() < 2000
    d = sample_pairs(1000, None, 5000, seed=3)
    assert (d["l_idx"] < d["r_idx"]).all()
    assert d["r_idx"].max() < 1000
    assert a.schema == {"l_idx": pl.UInt32, "r_idx": pl.UInt32}
    for pairs in (a, d):  # in (l_idx, r_idx) order: each chunk compared reads a left slice
        assert pairs.equals(pairs.sort("l_idx", "r_idx"))


def test_level_shares_floor_unseen_levels() -> None:
    shares = level_shares(pl.Series([0, 0, 0, 1, -1, -1], dtype=pl.Int8), 3)
    assert shares == pytest.approx((3 / 4.5, 1 / 4.5, 0.5 / 4.5))


def test_smooth_and_default_m() -> None:
    assert smooth_m((0.0, 1.0), 99.0) == pytest.approx((0.5 / 100, 99.5 / 100))
    m = default_m(4)
    assert sum(m) == pytest.approx(1.0)
    assert list(m) == sorted(m)


def test_term_frequencies() -> None:
    frame = pl.DataFrame({"town": ["a", "a", "b", None, "c"] + ["a"] * 95, "n": list(range(100))})
    tf = term_frequencies(frame, ["town", "n"], minimum_frequency=0.0101)
    assert tf["town"] == pytest.approx({"a": 97 / 99, "b": 1 / 99, "c": 1 / 99})
    assert tf["n"] == {}  # every value (1 %) rarer than the floor
    with pytest.raises(LinkageError, match="not in the records"):
        term_frequencies(frame, ["nope"], 0.01)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.none() | st.sampled_from(["a", "b", "ab", "é", "", "zz"]), max_size=40),
    seen_before=st.lists(st.sampled_from(["zz", "q", "b"]), max_size=3),
    floor=st.sampled_from([0.0, 0.05, 0.2]),
)
def test_term_frequencies_of_a_coded_column_are_its_strings(
    values: list[str | None], seen_before: list[str], floor: float
) -> None:
    """A ``Categorical`` column is counted by its codes: the same table, in the same order,
    as the column of its strings (other values already in the categories included)."""
    pl.Series(seen_before, dtype=pl.Categorical)
    strings = pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
    coded = strings.with_columns(pl.col("v").cast(pl.Categorical))
    expected = term_frequencies(strings, ["v"], floor)["v"]
    got = term_frequencies(coded, ["v"], floor)["v"]
    assert list(got.items()) == list(expected.items())


def test_rule_mask_scalar_and_list_columns() -> None:
    left = pl.DataFrame({"a": ["x", "y", None], "t": [["p", "q"], ["r"], []]})
    right = pl.DataFrame({"a": ["x", "z", None], "t": [["q"], ["s"], None]})
    pairs = pl.DataFrame({"l_idx": [0, 1, 2, 0], "r_idx": [0, 1, 2, 1]}).cast(pl.UInt32)
    assert rule_mask(left, right, pairs, BlockingRule("a", ("a",))).to_list() == [
        True,
        False,
        False,
        False,
    ]
    assert rule_mask(left, right, pairs, BlockingRule("t", ("t",))).to_list() == [
        True,
        False,
        False,
        False,
    ]


def test_rule_mask_list_on_one_side_only() -> None:
    """A list column on one side and a scalar on the other: the scalar is in the list."""
    lists = pl.DataFrame({"t": [["x", "y", "x"], ["y"], None, [], ["z", None]]})
    scalars = pl.DataFrame({"t": ["y", "x", None, "z"]})
    pairs = pl.DataFrame(
        {"l_idx": [0, 0, 1, 1, 2, 3, 4, 4], "r_idx": [0, 1, 0, 1, 0, 3, 3, 2]}
    ).cast(pl.UInt32)
    want = [True, True, True, False, False, False, True, False]
    rule = BlockingRule("t", ("t",))
    assert rule_mask(lists, scalars, pairs, rule).to_list() == want
    swapped = pairs.select(pl.col("r_idx").alias("l_idx"), pl.col("l_idx").alias("r_idx"))
    assert rule_mask(scalars, lists, swapped, rule).to_list() == want


def _mask_by_gathering(
    left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, rule: BlockingRule
) -> list[bool]:
    """Reference: gather both sides' values per pair and compare them column by column."""
    frame = pl.DataFrame(
        [left.get_column(c).gather(pairs["l_idx"]).alias(f"l_{c}") for c in rule.columns]
        + [right.get_column(c).gather(pairs["r_idx"]).alias(f"r_{c}") for c in rule.columns]
    )
    conds = [
        pl.col(f"l_{c}").list.set_intersection(pl.col(f"r_{c}")).list.drop_nulls().list.len() > 0
        if isinstance(left.schema[c], pl.List)
        else pl.col(f"l_{c}") == pl.col(f"r_{c}")
        for c in rule.columns
    ]
    return (
        frame.select(pl.all_horizontal([c.fill_null(False) for c in conds])).to_series().to_list()
    )


def _records(n: int, rng: np.random.Generator) -> pl.DataFrame:
    def some(values: list, null_share: float = 0.2) -> list:
        return [
            None if rng.random() < null_share else values[i]
            for i in rng.integers(0, len(values), n)
        ]

    return pl.DataFrame(
        {
            "a": some(["x", "y", "z"]),
            "year": pl.Series(some([1970, 1971, 1972]), dtype=pl.Int16),
            "day": pl.Series(some([dt.date(2000, 1, d) for d in (1, 2)]), dtype=pl.Date),
            "f": pl.Series(some([0.5, 1.5]), dtype=pl.Float64),
            "t": some([["p", "q"], ["q"], ["r", None], []]),
        }
    )


@pytest.mark.parametrize("dedupe", [False, True])
def test_rule_mask_equals_gathering_values(dedupe: bool) -> None:
    """Integer keys give the same mask as comparing the gathered values, nulls included."""
    rng = np.random.default_rng(5)
    left = _records(60, rng)
    right = left if dedupe else _records(90, rng)
    pairs = sample_pairs(left.height, None if dedupe else right.height, 10_000, seed=1)
    for columns in [("a",), ("a", "year"), ("year", "day"), ("f",), ("a", "t"), ("t", "f", "day")]:
        rule = BlockingRule("r", columns)
        mask = rule_mask(left, right, pairs, rule)
        assert mask.name == "r"
        assert mask.dtype == pl.Boolean
        assert mask.to_list() == _mask_by_gathering(left, right, pairs, rule), columns


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=40),
    st.sampled_from([("a",), ("a", "year"), ("year", "day"), ("day", "a", "year"), ("b",)]),
    st.sampled_from(["link", "dedupe", "categorical"]),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_coded_keys_match_as_joined_keys_do(
    n_left: int, n_right: int, columns: tuple[str, ...], mode: str, seed: int
) -> None:
    """The columns' codes packed (no join) match a left and a right record exactly when the
    join's combination numbers do: on every pair, nulls and values only one side has
    included; a column without codes (booleans) falls back to the join."""
    rng = np.random.default_rng(seed)
    left = _records(n_left, rng).with_columns(pl.col("a").cast(pl.Utf8), b=pl.col("year") == 1970)
    right = _records(n_right, rng).with_columns(pl.col("a").cast(pl.Utf8), b=pl.col("year") == 1971)
    if mode == "dedupe":
        right = left
    elif mode == "categorical":  # a lazy registry read coded
        right = right.with_columns(pl.col("a").cast(pl.Categorical))
    coded = coded_keys(left, right, columns)
    if coded is None:  # booleans have no codes (unless no left record has one: none matches)
        assert columns == ("b",)
        return
    joined = joined_keys(left, right, columns)
    l_idx, r_idx = np.divmod(np.arange(left.height * right.height), max(1, right.height))
    assert np.array_equal(coded[0][l_idx] == coded[1][r_idx], joined[0][l_idx] == joined[1][r_idx])
    assert ((coded[0] == -1) == (joined[0] == -1)).all()


def test_rule_mask_of_a_categorical_right_side_uses_integer_keys() -> None:
    """A ``Categorical`` registry column (a lazy registry read coded) is compared through
    integer keys as its strings are (not gathered pair by pair), with the same mask."""
    from registry_link.train import training as training_module

    rng = np.random.default_rng(7)
    left, right = _records(60, rng), _records(90, rng)
    coded = right.with_columns(pl.col("a").cast(pl.Categorical))
    pairs = sample_pairs(left.height, right.height, 5_000, seed=2)
    rule = BlockingRule("r", ("a", "year"))
    keyed: list[list[str]] = []
    original = training_module.rule_keys

    def noting(lf: pl.DataFrame, rf: pl.DataFrame, columns: list[str]) -> Any:
        keyed.append(list(columns))
        return original(lf, rf, columns)

    with mock.patch.object(training_module, "rule_keys", noting):
        mask = rule_mask(left, coded, pairs, rule)
    assert keyed == [["a", "year"]]
    assert mask.to_list() == _mask_by_gathering(left, right, pairs, rule)


def test_rule_keys_equal_only_on_equal_non_null_values() -> None:
    left = pl.DataFrame({"a": ["x", "x", None, "y"], "b": [1, 1, 1, None]})
    right = pl.DataFrame({"a": ["x", "z", None, "y"], "b": [1, 1, 1, None]})
    lk, rk = rule_keys(left, right, ["a", "b"])
    assert lk[0] == lk[1] == rk[0] >= 0
    assert lk[2] == lk[3] == -1
    assert list(rk[1:]) == [-2, -2, -2]  # unknown on the left, or a null part
    same_l, same_r = rule_keys(left, left, ["a", "b"])
    assert same_l[2] != same_r[2]  # a null never equals a null, also in dedupe mode


def test_a_pair_can_satisfy_rules_other_than_its_own(linked: dict) -> None:
    """The mask is 'satisfies the rule', not 'was first proposed by it'."""
    left, right, pairs = linked["left"], linked["right"], linked["pairs"]
    for rule in linked["settings"].blocking_rules:
        mask = rule_mask(left, right, pairs, rule)
        assert mask.to_list() == _mask_by_gathering(left, right, pairs, rule)
        assert (mask | (pairs["rule"] != rule.name)).all()
    dob = rule_mask(left, right, pairs, BlockingRule("dob", ("dob",)))
    assert int(dob.sum()) > int((pairs["rule"] == "dob").sum())


def test_records_lacking_a_compared_column_are_refused(linked: dict) -> None:
    with pytest.raises(LinkageError, match="needed by the comparisons"):
        CompareEngine(linked["left"].drop("town"), linked["right"], linked["settings"].comparisons)


def test_u_matches_random_pairs(linked: dict) -> None:
    """u of 'town' ≈ the chance two random records share a town (Σ p_left·p_right)."""
    left, right, model = linked["left"], linked["right"], linked["model"]
    pl_ = left["town"].drop_nulls().value_counts(normalize=True, name="p")
    pr = right["town"].value_counts(normalize=True, name="q")
    agree = pl_.join(pr, on="town").select((pl.col("p") * pl.col("q")).sum()).item()
    assert model.params.u["town"][1] == pytest.approx(agree, rel=0.1)


def test_trained_model_links_well(linked: dict) -> None:
    left, right, model = linked["left"], linked["right"], linked["model"]
    scored = score(linked["gammas"], model, left, right)
    truth = left["entity"].gather(scored["l_idx"]) == right["entity"].gather(scored["r_idx"])
    predicted = scored["match_probability"] >= 0.5
    tp = int((predicted & truth).sum())
    precision = tp / int(predicted.sum())
    recall = tp / 400
    assert precision > 0.97
    assert recall > 0.95
    # m of exact agreement is high, and matches agree far more often than non-matches
    for name in ("given", "family", "dob"):
        assert model.params.m[name][-1] > 0.7
        assert model.params.m[name][-1] > 5 * model.params.u[name][-1]


def test_prior_is_for_random_pairs(linked: dict) -> None:
    model = linked["model"]
    expected = 400 / (500 * 3000)
    assert model.prior == pytest.approx(expected, rel=0.2)
    assert model.training["expected_matches"] == pytest.approx(400, rel=0.1)


def test_training_metadata_and_tf(linked: dict) -> None:
    info = linked["model"].training
    assert info["mode"] == "link"
    assert info["candidate_pairs"] == linked["pairs"].height
    assert info["pair_space"] == 500 * 3000
    assert info["u_sample_pairs"] == 200_000
    assert [s["rule"] for s in info["em_sessions"]] == ["family", "dob", "given_town"]
    assert info["em_sessions"][0]["comparisons"] == ["given", "dob", "town"]
    assert info["em_sessions"][2]["comparisons"] == ["family", "dob"]
    assert info["never_observed"] == []
    assert info["m_estimated_in_final_em"] == []
    assert info["left"]["rows"] == 500
    assert info["right"]["rows"] == 3000
    assert len(info["right"]["sha256"]) == 64
    tf = linked["model"].tf_tables
    assert set(tf) == {"given", "family", "town"}
    assert tf["given"]["adam"] == pytest.approx((linked["right"]["given"] == "adam").mean())


def retrain(linked: dict, **options: Any) -> TrainedModel:
    """train() again on the module's linked data (its pairs and vectors), with ``options``."""
    settings = linked["settings"]
    return train(
        linked["left"],
        linked["right"],
        linked["pairs"],
        linked["gammas"],
        settings.comparisons,
        settings,
        options.get("pair_free", linked["free"]),
        options.get("map_each", in_order),
    )


def test_training_is_deterministic(linked: dict) -> None:
    again = retrain(linked)
    assert again.params == linked["model"].params


def test_training_on_threads_trains_the_same_model(linked: dict) -> None:
    """The sessions' masks and patterns and all pairs' patterns through a map of two threads,
    or run last one first: the same model and the same session log, in the rules' order."""

    def on_threads(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(fn, items))

    def backwards(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        work = list(items)
        return [fn(item) for item in reversed(work)][::-1]

    keep = ("trained_at",)
    for map_each in (on_threads, backwards):
        again = retrain(linked, map_each=map_each)
        assert again.params == linked["model"].params
        assert {k: v for k, v in again.training.items() if k not in keep} == {
            k: v for k, v in linked["model"].training.items() if k not in keep
        }


def test_pair_free_estimates_made_beforehand_train_the_same_model(linked: dict) -> None:
    """The linker makes them while the candidate pairs are compared; train() takes them."""
    settings = linked["settings"]
    with CompareEngine(linked["left"], linked["right"], settings.comparisons, workers=1) as eng:
        free = pair_free_estimates(eng, settings.training)
    assert free.comparisons == tuple(c.name for c in settings.comparisons)
    assert free.u == linked["model"].params.u
    assert free.u_sample_pairs == 200_000
    again = retrain(linked, pair_free=free)
    assert again.params == linked["model"].params
    assert again.tf_tables == linked["model"].tf_tables
    keep = ("trained_at",)
    assert {k: v for k, v in again.training.items() if k not in keep} == {
        k: v for k, v in linked["model"].training.items() if k not in keep
    }


def test_pair_free_estimates_of_other_comparisons_are_refused(linked: dict) -> None:
    settings = linked["settings"]
    with CompareEngine(linked["left"], linked["right"], settings.comparisons[:2]) as engine:
        free = pair_free_estimates(engine, settings.training)
    with pytest.raises(LinkageError, match="pair-free estimates were made for comparisons"):
        retrain(linked, pair_free=free)


def test_saved_model_scores_identically(linked: dict, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    save_model(linked["model"], path)
    back = load_model(path)
    a = score(linked["gammas"], linked["model"], linked["left"], linked["right"])
    b = score(linked["gammas"], back, linked["left"], linked["right"])
    np.testing.assert_allclose(a["match_weight"], b["match_weight"], rtol=1e-12)


def test_dedupe_mode() -> None:
    rng = np.random.default_rng(2)
    base = people(600, rng, 0)
    frame = pl.concat([base, corrupt(base.head(150), rng)])
    settings = settings_from_dict({**CONFIG, "training": {"u_sample_size": 50_000}})
    pairs = block(frame, None, settings.blocking_rules)
    with CompareEngine(frame, frame, settings.comparisons) as engine:
        model = train_on(engine, pairs, settings)
        gammas = engine.compare(pairs)
        free = pair_free_estimates(engine, settings.training)
    assert model.training["mode"] == "dedupe"
    same = train(frame, None, pairs, gammas, settings.comparisons, settings, free)
    assert same.params == model.params
    assert model.training["pair_space"] == 750 * 749 // 2
    assert model.training["right"] is None
    scored = score(compare(frame, frame, pairs, settings.comparisons), model, frame, frame)
    truth = frame["entity"].gather(scored["l_idx"]) == frame["entity"].gather(scored["r_idx"])
    predicted = scored["match_probability"] >= 0.5
    assert int((predicted & truth).sum()) >= 140
    assert int((predicted & ~truth).sum()) <= 5


def test_no_candidate_pairs_raises() -> None:
    settings = settings_from_dict(CONFIG)
    frame = people(10, np.random.default_rng(0), 0)
    empty = pl.DataFrame(schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32, "rule": pl.Utf8})
    with CompareEngine(frame, frame, settings.comparisons) as engine:
        free = pair_free_estimates(engine, settings.training)
        gammas = engine.compare(empty)
    with pytest.raises(LinkageError, match="no candidate pairs"):
        train(frame, frame, empty, gammas, settings.comparisons, settings, free)


def test_em_rules_select_sessions_and_final_em_fills_the_rest(linked: dict) -> None:
    """With one session on 'family', family's m comes from the final EM over all pairs."""
    settings = settings_from_dict(
        {**CONFIG, "training": {**CONFIG["training"], "em_rules": ["family"]}}
    )
    model = train(
        linked["left"],
        linked["right"],
        linked["pairs"],
        linked["gammas"],
        settings.comparisons,
        settings,
        linked["free"],
    )
    info = model.training
    assert [s["rule"] for s in info["em_sessions"]] == ["family"]
    assert info["m_estimated_in_final_em"] == ["family"]
    assert model.params.m["family"][-1] > 0.7
    assert model.prior == pytest.approx(400 / (500 * 3000), rel=0.25)


def test_gammas_must_fit_the_pairs(linked: dict) -> None:
    with pytest.raises(LinkageError, match="same pairs"):
        train(
            linked["left"],
            linked["right"],
            linked["pairs"],
            linked["gammas"].head(10),
            linked["settings"].comparisons,
            linked["settings"],
            linked["free"],
        )


def test_weights_are_monotone_down_ordered_levels_but_not_ordered_ones(linked: dict) -> None:
    model = linked["model"]
    for c in model.comparisons:
        assert np.all(np.diff(model.params.bayes_factors(c.name)) >= -1e-9), c.name
    pooled = model.training["monotone_levels"]["pooled"]
    assert model.training["monotone_levels"]["not_ordered"] == []
    assert pooled, "the fixture's EM orders every level: nothing tested below"
    for name, blocks in pooled.items():
        labels = [lvl.label for lvl in model.comparison(name).levels]
        for entry in blocks:
            gammas = [labels.index(level) for level in entry["levels"]]
            assert gammas == list(range(gammas[0], gammas[-1] + 1))
            assert entry["bits"] == pytest.approx(
                model.params.bayes_factors(name)[gammas[0]], abs=1e-4
            )
    # exempting every comparison gives back the EM estimates, ordered or not
    names = [c["name"] for c in CONFIG["comparisons"]]
    settings = settings_from_dict(
        {**CONFIG, "training": {**CONFIG["training"], "levels_not_ordered": names}}
    )
    free = train(
        linked["left"],
        linked["right"],
        linked["pairs"],
        linked["gammas"],
        settings.comparisons,
        settings,
        linked["free"],
    )
    assert free.training["monotone_levels"] == {"not_ordered": names, "pooled": {}}
    for name, blocks in pooled.items():
        for entry in blocks:
            labels = [lvl.label for lvl in free.comparison(name).levels]
            gammas = [labels.index(level) for level in entry["levels"]]
            assert [free.params.bayes_factors(name)[g] for g in gammas] == pytest.approx(
                entry["bits_before"], abs=1e-3
            )


def test_levels_not_ordered_must_name_comparisons() -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict({**CONFIG, "training": {"levels_not_ordered": ["given", "nope"]}})
    assert [p.key_path for p in info.value.problems] == ["training.levels_not_ordered.1"]
    assert "no comparison named 'nope'" in info.value.problems[0].message
