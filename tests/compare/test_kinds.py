"""The comparison extension point: every registered kind passes the same checks, and a kind
defined by integration code builds, compares, saves to and loads from ``model.json``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from comparison_pairs import all_pairs
from pydantic import BaseModel, ConfigDict

from registry_link import load_standardised
from registry_link.compare import (
    COMPARISON_KINDS,
    CompareEngine,
    ComparisonKind,
    Derived,
    KindLevels,
    Level,
    build_comparison,
    compare,
    register_kind,
)
from registry_link.compare.levels import either_null, equal, l_, r_
from registry_link.errors import ConfigError
from registry_link.model import TrainedModel, load_model, save_model
from registry_link.train.em import FSParams

ROOT = Path(__file__).resolve().parents[2]


class InitialParams(BaseModel):
    """``same_initial``: missing / different / same first letter / identical."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str
    label: str | None = None


def _build_initial(p: InitialParams, tag: str) -> KindLevels:
    what = p.label or p.column
    initial = f"__initial_{tag}"

    def same_initial(frame: pl.DataFrame) -> pl.Series:
        left, right = frame[f"l_{p.column}"], frame[f"r_{p.column}"]
        return left.str.head(1) == right.str.head(1)

    return KindLevels(
        columns=(p.column,),
        missing=Level("missing", either_null(p.column), f"{what} missing on one side"),
        levels=[
            Level("same_initial", pl.col(initial).fill_null(False), f"{what} share an initial"),
            Level("exact", equal(p.column), f"{what} are identical"),
        ],
        what=what,
        derived={initial: Derived(same_initial, frozenset({f"l_{p.column}", f"r_{p.column}"}))},
        derived_when={initial: ~equal(p.column) & l_(p.column).is_not_null()},
    )


#: A kind of our own, as integration code would write it.
INITIAL = ComparisonKind(
    "same_initial",
    InitialParams,
    _build_initial,
    "missing / different / same initial / identical",
    {"column": "given_lat"},
)


@pytest.fixture
def initial_kind() -> Iterator[ComparisonKind]:
    """:data:`INITIAL` registered for the test (and removed after it)."""
    register_kind(INITIAL)
    try:
        yield INITIAL
    finally:
        COMPARISON_KINDS.pop(INITIAL.name)


@pytest.fixture(scope="module")
def records() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Partner records (Arabic script) and registry records of the synthetic sample."""
    registry = load_standardised(ROOT / "sample_data/registry.csv", ROOT / "configs/registry.yaml")
    coop = load_standardised(
        ROOT / "sample_data/partner_coop_ar.csv", ROOT / "configs/partner_coop_ar.yaml"
    )
    return coop.frame.head(40), registry.frame.head(60)


def _shared_checks(kind: ComparisonKind, left: pl.DataFrame, right: pl.DataFrame) -> None:
    """What every kind must do, on its example spec."""
    comp = build_comparison({"name": f"ex_{kind.name}", "kind": kind.name, **kind.example})
    assert comp.kind == kind.name
    assert comp.levels[0].label == "different"
    assert comp.describe().startswith(comp.name)
    for level in (comp.missing, *comp.levels):
        assert level.label in comp.describe()
    assert all(isinstance(d, Derived) for d in comp.derived.values())
    # the model file's description rebuilds the same comparison
    again = build_comparison(comp.to_dict())
    assert again == comp and again.to_dict() == comp.to_dict()
    pairs = all_pairs(left.height, right.height)
    gammas = compare(left, right, pairs, [comp])
    values = gammas[comp.output_column]
    assert values.dtype == pl.Int8
    assert values.min() >= -1 and values.max() <= comp.n_levels - 1  # type: ignore[operator]
    assert compare(left, right, pairs, [again]).equals(gammas)
    with CompareEngine(left, right, [comp], workers=2, random_pairs=10**6, chunk_size=500) as e:
        assert e.compare(pairs).equals(gammas)
    # a record against itself: missing, or closer than "different"
    same = compare(right, right, pl.DataFrame({"l_idx": range(60), "r_idx": range(60)}), [comp])
    assert (same[comp.output_column] != 0).all()


@pytest.mark.parametrize("name", sorted(COMPARISON_KINDS))
def test_every_shipped_kind_passes_the_shared_checks(
    name: str, records: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    _shared_checks(COMPARISON_KINDS[name], *records)


def test_a_registered_kind_passes_the_shared_checks(
    initial_kind: ComparisonKind, records: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    _shared_checks(initial_kind, *records)
    left, right = records
    comp = build_comparison({"name": "init", "kind": "same_initial", "column": "given_lat"})
    got = compare(left, right, all_pairs(left.height, right.height), [comp])["gamma_init"]
    want = [
        -1 if a is None or b is None else 2 if a == b else 1 if a[0] == b[0] else 0
        for a in left["given_lat"]
        for b in right["given_lat"]
    ]
    assert got.to_list() == want


def test_a_registered_kind_saves_to_and_loads_from_model_json(
    initial_kind: ComparisonKind, tmp_path: Path
) -> None:
    comp = build_comparison({"name": "init", "kind": "same_initial", "column": "family_lat"})
    model = TrainedModel(
        comparisons=(comp,),
        params=FSParams(prior=0.01, m={"init": (0.1, 0.3, 0.6)}, u={"init": (0.9, 0.08, 0.02)}),
        tf_tables={},
        tf_minimum_frequency=1e-5,
        training={},
    )
    save_model(model, tmp_path / "model.json")
    back = load_model(tmp_path / "model.json")
    assert back.comparisons == (comp,)
    assert back.comparisons[0].kind == "same_initial"
    assert back.params == model.params
    pair = pl.DataFrame({"family_lat": ["alaoui", "amrani", None]})
    pairs = all_pairs(3, 3)
    assert compare(pair, pair, pairs, back.comparisons).equals(compare(pair, pair, pairs, [comp]))


def test_a_kind_name_is_registered_once(initial_kind: ComparisonKind) -> None:
    with pytest.raises(ValueError, match="registered already"):
        register_kind(initial_kind)
    assert register_kind(initial_kind, replace=True) is initial_kind


def test_an_unregistered_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown comparison kind 'same_initial'"):
        build_comparison({"name": "init", "kind": "same_initial", "column": "given_lat"})


def test_levels_and_library_import_each_other_no_more() -> None:
    """``levels`` is the building blocks; the library builds on it, not the other way round."""
    import ast

    source = (ROOT / "registry_link/compare/levels.py").read_text(encoding="utf-8")
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not any(m.startswith("registry_link") for m in imported)
    assert r_("x").meta.output_name() == "r_x"


def _build_same_length(p: InitialParams, tag: str) -> KindLevels:
    what = p.label or p.column
    length = l_(p.column).str.len_chars() == r_(p.column).str.len_chars()
    return KindLevels(
        columns=(p.column,),
        missing=Level("missing", either_null(p.column), f"{what} missing on one side"),
        levels=[
            Level("same_length", length.fill_null(False), f"{what} are as long"),
            Level("exact", equal(p.column), f"{what} are identical"),
        ],
        what=what,
    )


def test_a_registered_kind_with_string_functions_in_its_predicates_reads_strings(
    records: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    """The shipped kinds' string columns are gathered as the sides' shared Enum (codes); a
    registered kind's predicates may use string functions, so its columns stay strings."""
    kind = ComparisonKind(
        "same_length", InitialParams, _build_same_length, "missing / length / exact",
        {"column": "given_lat"},
    )  # fmt: skip
    register_kind(kind)
    try:
        _shared_checks(kind, *records)
    finally:
        COMPARISON_KINDS.pop(kind.name)
