"""Tests of registry_link.households.context and of the Linker's household-context pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link import load_standardised
from registry_link.block.candidates import PAIR_SCHEMA, BlockingRule, block, pack_pair
from registry_link.compare import build_comparison
from registry_link.errors import ConfigError
from registry_link.households.context import (
    base_model,
    extra_pairs,
    gate_household,
    hint_keys,
    household_comparison,
    household_gammas_of,
    household_name,
    household_pairs,
    household_rule,
    household_u,
    partner_hints,
    principal_rows,
    with_hints,
)
from registry_link.linker import Linker
from registry_link.model import (
    HouseholdContextSettings,
    TrainedModel,
    TrainingSettings,
    load_model,
    save_model,
    settings_from_dict,
)
from registry_link.report.evaluation import evaluate_links
from registry_link.train.em import FSParams
from registry_link.train.training import extend_model

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
HC = HouseholdContextSettings()

# ------------------------------------------------------------------ small frames

LEFT = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "a", "a", "b"],
        "record_id": ["W1", "D1", "D2", "W2", "D3", "X", "D1"],
        "principal_record_id": [None, "W1", "W1", None, "W2", "NOPE", "W1"],
        "relationship": ["principal", "child", "spouse", "principal", "child", "child", "child"],
    }
)
RIGHT = pl.DataFrame(
    {
        "person_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "household_id": ["H1", "H1", "H1", "H2", "H2", None],
    }
)
LINKS = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "a", "a", "b"],
        "record_id": ["W1", "D1", "D2", "W2", "D3", "X", "D1"],
        "person_id": ["P1", None, None, "P4", None, None, None],
        "decision": ["match", "non_match", "review", "review", "non_match", "non_match", "match"],
    }
)


def test_dependants_get_their_matched_workers_household() -> None:
    hints = partner_hints(LEFT, LINKS, RIGHT).to_list()
    # W1 itself: null (its match is the evidence); D1, D2: W1's household H1;
    # W2 only in review → D3 no hint; X's principal does not exist; source b has no W1
    assert hints == [None, "H1", "H1", None, None, None, None]


def test_principal_rows_are_the_records_their_source_names_as_principal() -> None:
    # W1 and W2 are named by dependants of source a; X names a missing record; source b's D1
    # names a W1 that source b does not have
    assert principal_rows(LEFT).to_list() == [True, False, False, True, False, False, False]


def test_worker_matched_to_a_person_without_household_gives_no_hint() -> None:
    links = LINKS.with_columns(
        person_id=pl.when(pl.col("record_id") == "W1").then(pl.lit("P6")).otherwise("person_id")
    )
    assert partner_hints(LEFT, links, RIGHT).null_count() == LEFT.height


def test_with_hints_adds_the_column_on_both_sides() -> None:
    left_h, right_h = with_hints(LEFT, RIGHT, LINKS, "hh")
    assert left_h["hh"].to_list()[1] == "H1"
    assert right_h["hh"].to_list() == RIGHT["household_id"].to_list()


def test_the_household_rule_adds_every_member_of_the_workers_household() -> None:
    left_h, right_h = with_hints(LEFT, RIGHT, LINKS, HC.hint_column)
    existing = pl.DataFrame(
        {"l_idx": [1], "r_idx": [0], "rule": ["names"]},
        schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32, "rule": pl.Categorical},
    )
    new = extra_pairs(left_h, right_h, existing, household_rule(HC))
    got = sorted(zip(new["l_idx"].to_list(), new["r_idx"].to_list(), strict=True))
    # D1 (row 1) and D2 (row 2) × H1 members P1..P3 (rows 0..2), minus the existing (1, 0)
    assert got == [(1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    assert set(new["rule"].to_list()) == {HC.comparison}
    assert new.schema == existing.schema


def _partner_hints(max_size: int) -> st.SearchStrategy[list[str | None]]:
    """Partner records' household hints (some none)."""
    return st.lists(
        st.one_of(st.none(), st.sampled_from(["H1", "H2", "H3"])), min_size=1, max_size=max_size
    )


def _registry_households(max_size: int) -> st.SearchStrategy[list[str | None]]:
    """Registry persons' households (one no hint names, some none)."""
    return st.lists(
        st.one_of(st.none(), st.sampled_from(["H1", "H2", "H3", "H4"])), max_size=max_size
    )


def _hinted_frames(
    lh: list[str | None], rh: list[str | None], data: st.DataObject
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The partner and registry frames of these hints, and first-pass pairs drawn among them."""
    hint = HC.hint_column
    left = pl.DataFrame({hint: lh}, schema={hint: pl.Utf8})
    right = pl.DataFrame({hint: rh}, schema={hint: pl.Utf8})
    every = [(i, j) for i in range(len(lh)) for j in range(len(rh))]
    old = data.draw(st.lists(st.sampled_from(every), unique=True) if every else st.just([]))
    existing = pl.DataFrame(
        {"l_idx": [p[0] for p in old], "r_idx": [p[1] for p in old], "rule": ["x"] * len(old)},
        schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32, "rule": pl.Categorical},
    )
    return left, right, existing


@settings(max_examples=60, deadline=None)
@given(
    _partner_hints(max_size=8),
    _registry_households(max_size=12),
    st.data(),
)
def test_extra_pairs_are_the_household_rules_pairs_not_proposed_yet(
    lh: list[str | None], rh: list[str | None], data: st.DataObject
) -> None:
    """Blocking only the registry rows whose household a hint names gives the rule's pairs on
    the whole registry (row numbers mapped back), minus the pairs the first pass has."""
    left, right, existing = _hinted_frames(lh, rh, data)
    new = extra_pairs(left, right, existing, household_rule(HC))
    got = sorted(zip(new["l_idx"].to_list(), new["r_idx"].to_list(), strict=True))
    old = set(zip(existing["l_idx"].to_list(), existing["r_idx"].to_list(), strict=True))
    expected = sorted(
        (i, j)
        for i in range(len(lh))
        for j in range(len(rh))
        if lh[i] is not None and lh[i] == rh[j] and (i, j) not in old
    )
    assert got == expected


def _extra_pairs_against_every_pair(
    left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, rule: BlockingRule
) -> pl.DataFrame:
    """extra_pairs as first written: the anti-join against every proposed pair of a keyed
    partner record (the reference of the shortcut: only pairs with equal keys can be the
    rule's)."""
    keys = list(rule.columns)
    rows = (
        right.select(keys)
        .with_row_index("_r")
        .join(left.select(keys).drop_nulls().unique(), on=keys, how="semi", maintain_order="left")
        .get_column("_r")
    )
    new = block(left, right.select(keys).gather(rows), [rule])
    new = new.with_columns(r_idx=rows.gather(new.get_column("r_idx")))
    if new.height == 0 or pairs.height == 0:
        return new.select(list(PAIR_SCHEMA)).cast(PAIR_SCHEMA)  # type: ignore[arg-type]
    packed = pack_pair("l_idx", "r_idx")
    keyed = left.select(pl.all_horizontal(pl.col(keys).is_not_null())).to_series()
    existing = pairs.filter(keyed.gather(pairs.get_column("l_idx")))
    return (
        new.with_columns(packed)
        .join(existing.select(packed), on="pair", how="anti")
        .select(list(PAIR_SCHEMA))
        .cast(PAIR_SCHEMA)  # type: ignore[arg-type]
    )


@settings(max_examples=100, deadline=None)
@given(
    _partner_hints(max_size=10),
    _registry_households(max_size=14),
    st.data(),
)
def test_extra_pairs_equal_the_anti_join_against_every_proposed_pair(
    lh: list[str | None], rh: list[str | None], data: st.DataObject
) -> None:
    """The same pairs in the same order as anti-joining against every pair proposed (those
    with different keys included), whatever the proposed pairs' order."""
    left, right, existing = _hinted_frames(lh, rh, data)
    rule = household_rule(HC)
    got = extra_pairs(left, right, existing, rule)
    assert got.equals(_extra_pairs_against_every_pair(left, right, existing, rule))


@settings(max_examples=60, deadline=None)
@given(
    _partner_hints(max_size=10),
    _registry_households(max_size=14),
    st.data(),
)
def test_household_pairs_are_the_extra_pairs_and_both_frames_gammas(
    lh: list[str | None], rh: list[str | None], data: st.DataObject
) -> None:
    """The hints encoded once: the same extra pairs and household levels as extra_pairs and
    household_gammas_of, each encoding them on its own."""
    left, right, existing = _hinted_frames(lh, rh, data)
    keys = hint_keys(left, right, HC.hint_column)
    new, old_gamma, new_gamma = household_pairs(left, right, existing, HC, keys)
    assert new.equals(extra_pairs(left, right, existing, household_rule(HC)))
    want = household_gammas_of(left, right, [existing, new], household_comparison(HC))
    assert old_gamma.equals(want[0]) and new_gamma.equals(want[1])


def test_household_comparison_levels() -> None:
    left_h, right_h = with_hints(LEFT, RIGHT, LINKS, HC.hint_column)
    from registry_link.compare import compare

    comp = household_comparison(HC)
    pairs = pl.DataFrame(
        {"l_idx": [1, 1, 0, 1], "r_idx": [0, 3, 0, 5]},
        schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32},
    )
    gammas = compare(left_h, right_h, pairs, [comp])
    assert gammas[comp.output_column].to_list() == [1, 0, -1, -1]
    assert "identical" in comp.levels[1].describe()


# ------------------------------------------------------------------ u in closed form


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["A", "B", "C", None]), min_size=1, max_size=12),
    st.lists(st.sampled_from(["A", "B", "D", None]), min_size=1, max_size=12),
    st.booleans(),
)
def test_household_u_is_the_share_of_equal_hints_among_pairs(
    lh: list[str | None], rh: list[str | None], categorical: bool
) -> None:
    """From the hints' integer keys (strings or ``Categorical``): the share of the pairs of
    hinted records whose hints are equal, counted here pair by pair."""
    dtype = pl.Categorical if categorical else pl.Utf8
    left = pl.DataFrame({"h": lh}, schema={"h": pl.Utf8}).cast({"h": dtype})
    right = pl.DataFrame({"h": rh}, schema={"h": pl.Utf8}).cast({"h": dtype})
    u_diff, u_same = household_u(hint_keys(left, right, "h"), sum(x is not None for x in rh))
    assert u_diff + u_same == pytest.approx(1.0)
    lv = [x for x in lh if x is not None]
    rv = [x for x in rh if x is not None]
    if not lv or not rv:
        assert (u_diff, u_same) == (0.5, 0.5)
        return
    n = len(lv) * len(rv)
    same = sum(a == b for a in lv for b in rv)
    if n > 1:
        assert u_same == pytest.approx(min(max(same, 0.5), n - 0.5) / n)


# ------------------------------------------------------------------ EM with fixed m


def _exact(name: str) -> Any:
    return build_comparison({"name": name, "kind": "exact", "column": name})


def _planted(seed: int) -> tuple[TrainedModel, pl.DataFrame, int, dict[str, Any]]:
    """Sampled patterns of two known comparisons plus a household one with a planted m."""
    rng = np.random.default_rng(seed)
    n_match, n_non, n_total = 4_000, 60_000, 500_000
    true = {
        "given": ((0.05, 0.95), (0.995, 0.005)),  # (m, u) per level (different, same)
        "family": ((0.08, 0.92), (0.99, 0.01)),
        "household": ((0.15, 0.85), (0.97, 0.03)),
    }
    cols: dict[str, np.ndarray] = {}
    for name, (m, u) in true.items():
        g = np.concatenate([rng.random(n_match) < m[1], rng.random(n_non) < u[1]]).astype(np.int8)
        if name == "household":  # a third of the pairs have no hint
            g = np.where(rng.random(g.size) < 1 / 3, -1, g).astype(np.int8)
        cols[f"gamma_{name}"] = g
    gammas = pl.DataFrame(cols)
    comps = (_exact("given"), _exact("family"))
    base = TrainedModel(
        comparisons=comps,
        params=FSParams(
            prior=n_match / n_total / 2,  # deliberately off: EM re-estimates it
            m={k: true[k][0] for k in ("given", "family")},
            u={k: true[k][1] for k in ("given", "family")},
        ),
    )
    return base, gammas, n_total, {"m": true["household"][0], "prior": n_match / n_total}


@pytest.mark.parametrize("seed", [1, 2])
def test_em_with_fixed_m_recovers_the_planted_household_m(seed: int) -> None:
    base, gammas, n_total, truth = _planted(seed)
    comp = _exact("household")
    ext = extend_model(base, comp, gammas, (0.97, 0.03), n_total, TrainingSettings(tolerance=1e-7))
    m = ext.params.m["household"]
    assert m[1] == pytest.approx(truth["m"][1], abs=0.03)
    assert ext.prior == pytest.approx(truth["prior"], rel=0.1)
    # the other comparisons' m and every u stay as given
    assert ext.params.m["given"] == base.params.m["given"]
    assert ext.params.u["household"] == (0.97, 0.03)
    meta = ext.training["household_context"]
    assert meta["pass1_prior"] == base.prior and meta["converged"]
    assert [c.name for c in ext.comparisons] == ["given", "family", "household"]


def test_base_model_undoes_the_extension() -> None:
    base, gammas, n_total, _ = _planted(3)
    ext = extend_model(base, _exact("household"), gammas, (0.97, 0.03), n_total, TrainingSettings())
    assert household_name(ext) == "household"
    assert household_name(base) is None
    back = base_model(ext, household_name(ext))
    assert back.prior == base.prior
    assert back.comparisons == base.comparisons
    assert dict(back.params.m) == dict(base.params.m)
    assert base_model(base, "household") is base
    assert base_model(base, None) is base


# ------------------------------------------------------------------ model config section

with open(CONFIGS / "model.yaml", encoding="utf-8") as fh:
    MODEL_YAML: dict[str, Any] = yaml.safe_load(fh)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (None, None),
        ({"enabled": False}, None),
        ({}, HouseholdContextSettings()),
        (
            {"hint_column": "hh", "comparison": "hh_cmp", "max_block_size": 50},
            HouseholdContextSettings("hh", "hh_cmp", 50),
        ),
    ],
)
def test_household_context_section(section: Any, expected: Any) -> None:
    data = {k: v for k, v in MODEL_YAML.items() if k != "household_context"}
    if section is not None:
        data["household_context"] = section
    s = settings_from_dict(data)
    assert s.household_context == expected
    assert ("household_context" in s.raw) == (section is not None)


def test_household_comparison_name_must_be_new() -> None:
    data = {**MODEL_YAML, "household_context": {"comparison": "given"}}
    with pytest.raises(ConfigError, match=r"household_context\.comparison"):
        settings_from_dict(data)


def test_shipped_model_config_enables_it() -> None:
    assert settings_from_dict(MODEL_YAML).household_context == HouseholdContextSettings(
        not_when_all_different=("given", "birth_date")
    )


def test_not_when_all_different_must_name_comparisons() -> None:
    data = {**MODEL_YAML, "household_context": {"not_when_all_different": ["given", "nope"]}}
    with pytest.raises(ConfigError, match=r"not_when_all_different\.1.*'nope'"):
        settings_from_dict(data)


@pytest.mark.parametrize(
    ("given_level", "birth_level", "household", "expected"),
    [
        (0, 0, 1, -1),  # another given name and another birth year: the household is ignored
        (0, 0, 0, -1),  # gated whether the household is the same or not
        (0, 3, 1, 1),  # only the given name differs (a typo, a variant): the household counts
        (2, 0, 1, 1),  # only the birth year differs (mistyped): it counts
        (2, 3, 1, 1),
        (1, 1, 0, 0),
        (-1, 0, 1, 1),  # a missing given name is not a different one
        (0, -1, 1, 1),
        (2, 3, -1, -1),  # no hint stays missing
    ],
)
def test_gate_household_table(
    given_level: int, birth_level: int, household: int, expected: int
) -> None:
    gammas = pl.DataFrame(
        {"gamma_given": [given_level], "gamma_birth_date": [birth_level]},
        schema={"gamma_given": pl.Int8, "gamma_birth_date": pl.Int8},
    )
    hh = pl.Series("gamma_household", [household], dtype=pl.Int8)
    gated = gate_household(hh, gammas, ("given", "birth_date"))
    assert gated.to_list() == [expected]
    assert gated.name == "gamma_household" and gated.dtype == pl.Int8
    assert gate_household(hh, gammas, ()).to_list() == [household]  # no gate: as it was


# ------------------------------------------------------------------ the Linker's two passes


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from registry_link.synth import generate

    out = tmp_path_factory.mktemp("synth_hh")
    generate(2000, 5, out)
    return {
        "registry": load_standardised(out / "registry.csv", CONFIGS / "registry.yaml"),
        "lists": [
            load_standardised(
                out / "partner_ordre_fullname.xlsx", CONFIGS / "partner_ordre_fullname.yaml"
            )
        ],
        "truth": pl.read_csv(out / "ground_truth.csv", infer_schema=False),
    }


def _linker(enabled: bool, stages: list[str] | None = None) -> Linker:
    data = dict(MODEL_YAML)
    if not enabled:
        data.pop("household_context")
    cb = (lambda name, _s: stages.append(name)) if stages is not None else None
    return Linker(settings_from_dict(data), on_stage=cb)


def _scores(links: pl.DataFrame, truth: pl.DataFrame) -> dict[str, Any]:
    return evaluate_links(links, truth).filter(pl.col("source") == "all").row(0, named=True)


def test_linker_household_pass_improves_recall_not_precision(
    synth: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every term frequency saved, so that the reloaded model is exactly the trained one
    # (model.json leaves out names fewer than TF_MIN_PERSONS registry persons hold)
    monkeypatch.setattr("registry_link.model.TF_MIN_PERSONS", 1)
    stages: list[str] = []
    on = _linker(True, stages).link(synth["registry"], synth["lists"])
    off = _linker(False).link(synth["registry"], synth["lists"])
    s_on, s_off = _scores(on.links, synth["truth"]), _scores(off.links, synth["truth"])
    assert s_on["recall"] > s_off["recall"]
    assert s_on["precision"] >= min(s_off["precision"], 0.995)
    assert "household_context" in stages and "bf_household" in on.links.columns
    assert "bf_household" not in off.links.columns
    assert on.summary["candidate_pairs_by_rule"].get("household", 0) >= 0
    assert "household" in on.model.params.names
    # a saved extended model reproduces the same decisions and probabilities
    save_model(on.model, tmp_path / "m.json")
    again = _linker(True).link(
        synth["registry"], synth["lists"], model=load_model(tmp_path / "m.json")
    )
    assert again.links["decision"].to_list() == on.links["decision"].to_list()
    np.testing.assert_allclose(
        again.links["match_probability"].fill_null(-1).to_numpy(),
        on.links["match_probability"].fill_null(-1).to_numpy(),
        rtol=1e-9,
    )
    # an older model without the comparison gets it estimated on the fly; config off ignores it
    assert (
        "household"
        in _linker(True).link(synth["registry"], synth["lists"], model=off.model).model.params.names
    )
    plain = _linker(False).link(synth["registry"], synth["lists"], model=on.model)
    assert "bf_household" not in plain.links.columns


def test_no_hint_anywhere_leaves_a_neutral_household_comparison() -> None:
    base, gammas, n_total, _ = _planted(4)
    gammas = gammas.with_columns(pl.lit(-1, dtype=pl.Int8).alias("gamma_household"))
    ext = extend_model(base, _exact("household"), gammas, (0.5, 0.5), n_total, TrainingSettings())
    assert ext.params.m["household"] == pytest.approx((0.5, 0.5))
    assert ext.training["household_context"]["hinted_pairs"] == 0


hint_value = st.one_of(st.none(), st.sampled_from(["H1", "H2", "H3"]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(hint_value, min_size=1, max_size=6),
    st.lists(hint_value, min_size=1, max_size=6),
    st.data(),
)
def test_household_gammas_equal_the_household_comparison(
    lh: list[str | None], rh: list[str | None], data: st.DataObject
) -> None:
    """The integer-coded shortcut gives exactly the exact comparison's levels."""
    from registry_link.compare import compare
    from registry_link.households.context import household_gammas

    comp = household_comparison(HouseholdContextSettings())
    col = comp.columns[0]
    left = pl.DataFrame({col: lh}, schema={col: pl.Utf8})
    right = pl.DataFrame({col: rh}, schema={col: pl.Utf8})
    n = data.draw(st.integers(0, 20))
    pairs = pl.DataFrame(
        {
            "l_idx": data.draw(st.lists(st.integers(0, len(lh) - 1), min_size=n, max_size=n)),
            "r_idx": data.draw(st.lists(st.integers(0, len(rh) - 1), min_size=n, max_size=n)),
        },
        schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32},
    )
    got = household_gammas(left, right, pairs, comp)
    assert got.to_list() == compare(left, right, pairs, [comp])[comp.output_column].to_list()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(hint_value, min_size=0, max_size=6),
    st.lists(st.one_of(hint_value, st.just("H9")), min_size=0, max_size=8),
    st.booleans(),
)
def test_hint_keys_are_the_rule_keys_of_the_hint_column(
    lh: list[str | None], rh: list[str | None], categorical: bool
) -> None:
    """The ``Enum``-coded keys tell the same records apart as :func:`rule_keys` does: the same
    equalities between the two sides, the same -1 (partner without a hint) and -2 (registry
    record without one, or with one no partner has), strings or ``Categorical``."""
    from registry_link.train.training import rule_keys

    dtype = pl.Categorical if categorical else pl.Utf8
    left = pl.DataFrame({"h": lh}, schema={"h": pl.Utf8}).cast({"h": dtype})
    right = pl.DataFrame({"h": rh}, schema={"h": pl.Utf8}).cast({"h": dtype})
    got_l, got_r = hint_keys(left, right, "h")
    want_l, want_r = rule_keys(left, right, ["h"])
    assert (got_l < 0).tolist() == (want_l < 0).tolist()
    assert got_l[got_l < 0].tolist() == [-1] * int((got_l < 0).sum())
    assert got_r.tolist() == np.where(want_r < 0, -2, got_r).tolist()
    assert (got_r < 0).tolist() == (want_r < 0).tolist()
    assert (got_l[:, None] == got_r[None, :]).tolist() == (
        want_l[:, None] == want_r[None, :]
    ).tolist()


def test_first_pass_decides_only_the_principals_and_that_changes_nothing(
    synth: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hints read only the principals' first-pass decisions, which depend only on their
    own pairs: deciding every record in the first pass gives the same link."""
    principal = principal_rows(pl.concat([lst.frame for lst in synth["lists"]], how="vertical"))
    assert 0 < principal.sum() < principal.len()  # a real restriction on this data
    fast = _linker(True).link(synth["registry"], synth["lists"])

    def decide_everyone(
        self: Linker, scored: pl.DataFrame, left: pl.DataFrame, *args: Any
    ) -> pl.DataFrame:
        return self._decide(scored, left, *args)

    monkeypatch.setattr(Linker, "_decide_principals", decide_everyone)
    full = _linker(True).link(synth["registry"], synth["lists"])
    assert fast.links.equals(full.links)
    assert fast.households.equals(full.households)
    assert fast.review.equals(full.review)
