"""Comparisons over few distinct values, evaluated once per combination of values
(:mod:`registry_link.compare.value_tuples`), give the gammas of comparing every pair; and
the compare engine's threads and kept tables give the vectors of comparing alone."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any
from unittest import mock

import polars as pl
from comparison_pairs import all_pairs
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.compare import CompareEngine, build_comparison, compare
from registry_link.compare import compute as compute_module
from registry_link.compare import engine as engine_module
from registry_link.compare.dictionaries import dictionaries
from registry_link.compare.value_tuples import value_tuples

SCHEMA = {
    "father_lat": pl.Utf8,
    "father_key": pl.Utf8,
    "sex": pl.Utf8,
    "residence": pl.Utf8,
    "birth_date": pl.Date,
    "birth_year": pl.Int32,
    "birth_date_precision": pl.Utf8,
    "cin": pl.Utf8,
}
SPECS: list[dict[str, Any]] = [
    {"name": "father", "kind": "name", "field": "father", "key_ar": None},
    {"name": "sex", "kind": "exact", "column": "sex"},
    {"name": "residence", "kind": "jaro_winkler", "column": "residence", "thresholds": [0.9]},
    {"name": "birth_date", "kind": "date", "column": "birth_date", "year": "birth_year",
     "precision": "birth_date_precision", "year_tolerance": 1},
    {"name": "cin", "kind": "id", "column": "cin", "max_edits": 1},
]  # fmt: skip
COMPS = [build_comparison(s) for s in SPECS]

fathers = [
    ("mohamed", "mhmd"), ("mohammed", "mhmd"), ("ahmed", "hmd"), ("said", "sd"), (None, None)
]  # fmt: skip
dates = [date(1980, 1, 2), date(1980, 2, 1), date(1981, 1, 2), None]


@st.composite
def record(draw: st.DrawFn) -> dict[str, Any]:
    lat, key = draw(st.sampled_from(fathers))
    day = draw(st.sampled_from(dates))
    return {
        "father_lat": lat,
        "father_key": key,
        "sex": draw(st.sampled_from(["M", "F", None])),
        "residence": draw(st.sampled_from(["rabat", "rabbat", "sale", None])),
        "birth_date": day,
        "birth_year": day.year if day else draw(st.sampled_from([1980, 1979, None])),
        "birth_date_precision": "day" if day else "year",
        "cin": draw(st.sampled_from(["AB1234", "AB1243", "X99", None])),
    }


def _few_values(copies: int) -> tuple[pl.DataFrame, list[Any]]:
    """Records with 5 distinct fathers (name, key), 2 sexes and 1 residence, ``copies`` times;
    and the three comparisons over them."""
    rows = [{"father_lat": lat, "father_key": key, "sex": s, "residence": "rabat"}
            for lat, key in fathers for s in ("M", "F")] * copies  # fmt: skip
    frame = pl.DataFrame(rows, schema={c: SCHEMA[c] for c in rows[0]})
    return frame, [build_comparison(s) for s in SPECS[:3]]


def _compare(left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, share: float):
    with mock.patch.object(compute_module, "LEVEL_TABLE_MAX_SHARE", share):
        return compare(left, right, pairs, COMPS)


#: Engine knobs under which both sides are prepared whole and their tables kept.
KEPT = {"random_pairs": 10**9, "workers": 2}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(record(), min_size=1, max_size=12),
    st.lists(record(), min_size=1, max_size=12),
    st.data(),
)
def test_level_tables_give_the_gammas_of_every_pair(
    a: list[dict], b: list[dict], data: st.DataObject
) -> None:
    left, right = pl.DataFrame(a, schema=SCHEMA), pl.DataFrame(b, schema=SCHEMA)
    pairs = all_pairs(len(a), len(b))
    rows = data.draw(st.lists(st.integers(0, pairs.height - 1), min_size=1))
    pairs = pairs[rows]
    plain = _compare(left, right, pairs, 0.0)
    tabled = _compare(left, right, pairs, float("inf"))
    assert tabled.equals(plain)
    # prepared sides keep their tuples; chunks read the same tables
    with (
        mock.patch.object(compute_module, "LEVEL_TABLE_MAX_SHARE", float("inf")),
        CompareEngine(left, right, COMPS, chunk_size=3, **KEPT) as engine,
    ):
        assert engine.compare(pairs).equals(plain)


def test_few_distinct_values_are_compared_once_per_combination() -> None:
    frame, comps = _few_values(50)
    pairs = all_pairs(frame.height, 40)
    seen: list[int] = []
    original = compute_module.evaluate_pairs

    def counting(left: pl.DataFrame, right: pl.DataFrame, p: pl.DataFrame, *args: Any):
        seen.append(p.height)
        return original(left, right, p, *args)

    with mock.patch.object(compute_module, "evaluate_pairs", counting):
        tabled = compare(frame, frame, pairs, comps)
    # father: 5 distinct (name, key) tuples a side, sex 2, residence 1; then the pairs once
    assert sorted(seen) == sorted([5 * 5, 2 * 2, 1, pairs.height])
    with mock.patch.object(compute_module, "LEVEL_TABLE_MAX_SHARE", 0.0):
        assert tabled.equals(compare(frame, frame, pairs, comps))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.sampled_from([1, 5, 9, None]),
            st.sampled_from([True, False, None]),
        ),
        min_size=1,
        max_size=30,
    ),
    st.permutations(["s", "i", "b"]),
)
def test_value_tuples_give_back_every_record(rows: list[tuple], order: list[str]) -> None:
    frame = pl.DataFrame(rows, schema={"s": pl.Utf8, "i": pl.Int32, "b": pl.Boolean}, orient="row")
    for k in (1, 2, 3):
        columns = order[:k]
        found = value_tuples(frame, columns, dictionaries(frame))
        assert found is not None
        assert found.values.columns == columns
        assert found.values.gather(found.codes).equals(frame.select(columns))
        assert found.values.n_unique() == found.values.height  # each tuple once
        assert found.codes.dtype == pl.UInt8  # (gathered for every pair: the narrowest type)


def test_columns_not_encoded_have_no_value_tuples() -> None:
    frame = pl.DataFrame({"s": [f"v{i}" for i in range(5000)], "t": ["x"] * 5000})
    encoded = dictionaries(frame)
    assert "s" not in encoded  # every value distinct: not worth a dictionary
    assert value_tuples(frame, ["s", "t"], encoded) is None
    assert value_tuples(frame, ["t"], encoded) is not None


def test_two_workers_give_the_same_vectors() -> None:
    rows = [{"father_lat": lat, "father_key": key, "sex": s, "residence": res,
             "birth_date": d, "birth_year": d.year if d else None,
             "birth_date_precision": "day" if d else None}
            for lat, key in fathers for s in ("M", "F") for res in ("rabat", "sale")
            for d in dates] * 12  # fmt: skip
    frame = pl.DataFrame(
        [{**r, "cin": f"AB{i % 997:04d}"} for i, r in enumerate(rows)], schema=SCHEMA
    )
    pairs = all_pairs(frame.height, 200)
    alone = compare(frame, frame, pairs, COMPS, chunk_size=10_000)
    threads: list[str] = []
    helper_started = threading.Event()
    original = engine_module.compare_chunk

    def noting(*args: Any) -> pl.DataFrame:
        me = threading.current_thread()
        if me is threading.main_thread():  # let the helper take a chunk first
            helper_started.wait(timeout=30)
        else:
            helper_started.set()
        threads.append(me.name)
        return original(*args)

    with (
        mock.patch.object(engine_module, "compare_chunk", noting),
        mock.patch.object(engine_module, "MIN_HELPED_CHUNK", 10_000),
        mock.patch.object(compute_module, "LEVEL_TABLE_MAX_SHARE", 0.0),  # only pair chunks
        CompareEngine(frame, frame, COMPS, workers=2, chunk_size=10_000) as engine,
    ):
        helped = engine.compare(pairs)
    assert helped.equals(alone)
    assert len(threads) == -(-pairs.height // 10_000)  # each chunk compared once
    assert len(set(threads)) == 2  # by both threads


def test_prepared_sides_make_each_level_table_once() -> None:
    frame, comps = _few_values(30)
    made: list[str] = []
    original = compute_module.level_table

    def counting(comp: Any, *args: Any) -> Any:
        made.append(comp.name)
        return original(comp, *args)

    pairs = all_pairs(frame.height, 30)
    with mock.patch.object(compute_module, "level_table", counting):
        with CompareEngine(frame, frame.clone(), comps, **KEPT) as engine:
            first = engine.compare(pairs)
            again = engine.compare(pairs[::-1])
        with CompareEngine(frame, frame.clone(), comps, **KEPT) as other:  # its own tables
            other.compare(pairs)
    assert sorted(made) == sorted([c.name for c in comps] * 2)
    plain = compare(frame, frame, pairs, comps)
    assert first.equals(plain)
    assert again.equals(plain[::-1])


def test_value_tuples_are_found_only_when_the_other_side_has_them() -> None:
    """A side's tuples are found on first look-up: none for a comparison whose left side has
    none (here: every left CIN distinct, so not encoded)."""
    right = pl.DataFrame(
        {"cin": ["AB1", "AB2", None] * 100, "sex": ["M", "F", None] * 100},
        schema={"cin": pl.Utf8, "sex": pl.Utf8},
    )
    left = pl.DataFrame(
        {"cin": [f"X{i}" for i in range(3000)], "sex": ["M", "F", "F"] * 1000},
        schema={"cin": pl.Utf8, "sex": pl.Utf8},
    )
    comps = [build_comparison(SPECS[4]), build_comparison(SPECS[1])]
    looked: list[tuple[str, ...]] = []
    original = compute_module.value_tuples

    def noting(frame: pl.DataFrame, columns: Any, dicts: Any) -> Any:
        looked.append((frame.height, *columns))
        return original(frame, columns, dicts)

    # (1000 random pairs: the right side is prepared whole, the left one per call)
    with (
        mock.patch.object(compute_module, "value_tuples", noting),
        CompareEngine(left, right, comps, random_pairs=1000) as engine,
    ):
        assert looked == []  # nothing found before a compare asks
        pairs = all_pairs(3000, 300)
        got = engine.compare(pairs)
    assert (300, "cin") not in looked  # the left CINs have no tuples: the right's not sought
    assert (300, "sex") in looked and (3000, "sex") in looked
    with mock.patch.object(compute_module, "LEVEL_TABLE_MAX_SHARE", 0.0):
        assert got.equals(compare(left, right, pairs, comps))
