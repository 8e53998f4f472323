"""compare(): output contract, chunking, errors, and symmetry of every comparison."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import polars as pl
import pytest
from comparison_pairs import all_pairs
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.compare import (
    CompareEngine,
    build_comparison,
    compare,
    max_token_similarity,
)
from registry_link.compare import engine as engine_module
from registry_link.errors import LinkageError

SPECS: list[dict[str, Any]] = [
    {"name": "given", "kind": "name", "field": "given", "tokens": "name_token_keys"},
    {"name": "family", "kind": "name", "field": "family", "key_ar": None},
    {"name": "full_name", "kind": "name_tokens", "when": "always"},
    {"name": "dob", "kind": "date"},
    {"name": "cin", "kind": "id", "column": "cin"},
    {"name": "sex", "kind": "exact", "column": "sex"},
    {
        "name": "cin_s",
        "kind": "string",
        "column": "cin",
        "edit_distances": [1, 2],
        "jaro_winkler": [0.9, 0.7],
    },
    {"name": "given_jw", "kind": "jaro_winkler", "column": "given_lat"},
    {"name": "year", "kind": "numeric_abs_diff", "column": "birth_year", "thresholds": [0, 2]},
]
COMPS = [build_comparison(s) for s in SPECS]

SCHEMA = {
    "given_lat": pl.Utf8,
    "given_key": pl.Utf8,
    "given_key_ar": pl.Utf8,
    "family_lat": pl.Utf8,
    "family_key": pl.Utf8,
    "name_token_keys": pl.List(pl.Utf8),
    "birth_date": pl.Date,
    "birth_year": pl.Int16,
    "birth_date_precision": pl.Utf8,
    "cin": pl.Utf8,
    "sex": pl.Utf8,
}

word = st.one_of(st.none(), st.sampled_from(["mohamed", "mohammed", "mhamed", "fatima", "ali"]))
key = st.one_of(st.none(), st.sampled_from(["mhmd", "ftm", "l", "mhmt"]))
dates = st.one_of(st.none(), st.dates(dt.date(1978, 1, 1), dt.date(1982, 12, 31)))


@contextmanager
def _shared_enum_calls() -> Iterator[list[set[str]]]:
    """The columns each ``compute.shared_enums_of`` call of the block shares (one set a call)."""
    from registry_link.compare import compute as compute_module

    made: list[set[str]] = []
    original = compute_module.shared_enums_of

    def noting(left: Any, right: Any) -> Any:
        out = original(left, right)
        made.append(set(out[1]))
        return out

    with mock.patch.object(compute_module, "shared_enums_of", noting):
        yield made


@st.composite
def record(draw: st.DrawFn) -> dict[str, Any]:
    """A random standardised-looking record (small vocabularies so levels collide)."""
    d = draw(dates)
    prec = draw(st.sampled_from(["day", "day_or_year", "year", None]))
    year = d.year if d else draw(st.one_of(st.none(), st.integers(1978, 1982)))
    if prec == "year":
        d = None
    return {
        "given_lat": draw(word),
        "given_key": draw(key),
        "given_key_ar": draw(key),
        "family_lat": draw(word),
        "family_key": draw(key),
        "name_token_keys": draw(st.one_of(st.none(), st.lists(key, max_size=3))),
        "birth_date": d,
        "birth_year": year,
        "birth_date_precision": prec if (d or year) else None,
        "cin": draw(st.one_of(st.none(), st.sampled_from(["BK123456", "BK123465", "A12", "A21"]))),
        "sex": draw(st.sampled_from(["M", "F", None])),
    }


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA)


@settings(max_examples=60, deadline=None)
@given(st.lists(record(), min_size=1, max_size=6), st.lists(record(), min_size=1, max_size=6))
def test_every_comparison_is_symmetric(a: list[dict], b: list[dict]) -> None:
    left, right = _frame(a), _frame(b)
    ab = compare(left, right, all_pairs(len(a), len(b)), COMPS)
    swapped = all_pairs(len(b), len(a))
    ba = compare(right, left, swapped, COMPS).rename({"l_idx": "r_idx", "r_idx": "l_idx"})
    joined = ab.join(ba, on=["l_idx", "r_idx"], suffix="_ba")
    assert joined.height == ab.height
    for comp in COMPS:
        col = comp.output_column
        assert joined[col].to_list() == joined[f"{col}_ba"].to_list(), comp.name
        assert joined[col].is_between(-1, comp.n_levels - 1).all()


def _sample(n: int) -> pl.DataFrame:
    rows = [
        {
            "given_lat": ["mohamed", "mohammed", None, "fatima"][i % 4],
            "given_key": ["mhmd", "mhmd", None, "ftm"][i % 4],
            "given_key_ar": None,
            "family_lat": ["alaoui", "el alaoui", "bennani"][i % 3],
            "family_key": ["lw", "lw", "bnn"][i % 3],
            "name_token_keys": [["lw", "mhmd"], None, ["bnn"]][i % 3],
            "birth_date": dt.date(1980, 1 + i % 12, 1 + i % 28),
            "birth_year": 1980,
            "birth_date_precision": "day",
            "cin": f"BK{100000 + i % 7}",
            "sex": "MF"[i % 2],
        }
        for i in range(n)
    ]
    return _frame(rows)


def test_output_contract_and_chunking() -> None:
    left, right = _sample(13), _sample(11)
    pairs = all_pairs(13, 11).sample(fraction=1.0, shuffle=True, seed=3)
    whole = compare(left, right, pairs, COMPS)
    chunked = compare(left, right, pairs, COMPS, chunk_size=7)
    assert whole.equals(chunked)
    assert whole.columns == ["l_idx", "r_idx", *[c.output_column for c in COMPS]]
    assert whole.schema["l_idx"] == pl.UInt32
    assert all(whole.schema[c.output_column] == pl.Int8 for c in COMPS)
    assert whole.select("l_idx", "r_idx").equals(pairs.select("l_idx", "r_idx"))


@pytest.mark.parametrize(
    ("n_pairs", "where", "sizes"),
    [
        (143, "call", [36, 36, 36, 35]),  # bound 40: four chunks (not three of 40 and one of 23)
        (143, "after_submit", [18] * 7 + [17]),  # half the bound once work was submitted
        (143, "submitted", [20] * 7 + [3]),  # the submitted work's own: half, one thread
        (143, "other_engine_submitted", [20] * 7 + [3]),  # another engine's call made there
        (80, "call", [40, 40]),  # already a multiple of the workers
        (9, "call", [9]),  # too few pairs for a second chunk (MIN_HELPED_CHUNK)
        (18, "after_submit", [10, 8]),  # the helper free again: two chunks
        (18, "helpers_busy", [18]),  # within half the bound, the helper busy: one chunk
        (143, "helpers_busy", [18] * 7 + [17]),  # more: chunks the helper takes once free
    ],
)
def test_the_engine_chunks_half_the_bound_with_submitted_work_and_a_multiple_of_the_workers(
    n_pairs: int, where: str, sizes: list[int]
) -> None:
    """A call with helpers leaves no short chunk for one thread at the end: its chunks are as
    many as the fewest within the bound that is a multiple of the workers, of equal size;
    once work was submitted, the bound is half ``chunk_size``, in that work too (its chunks
    one after the other in its thread); a call within half the bound while the helper runs
    submitted work is one chunk (this thread would take them all). The vectors are those of
    :func:`compare`."""
    left, right = _sample(13), _sample(11)
    pairs = all_pairs(13, 11).head(n_pairs)
    seen: list[int] = []
    chunk = engine_module.compare_chunk

    def noted(lrec: Any, rrec: Any, some: pl.DataFrame, *args: Any) -> pl.DataFrame:
        seen.append(some.height)
        return chunk(lrec, rrec, some, *args)

    with (
        mock.patch.object(engine_module, "MIN_HELPED_CHUNK", 10),
        mock.patch.object(engine_module, "compare_chunk", noted),
        CompareEngine(left, right, COMPS, workers=2, chunk_size=40) as engine,
    ):
        if where == "submitted":
            got = engine.submit(engine.compare, pairs).result()
        elif where == "other_engine_submitted":
            with CompareEngine(left, right, COMPS, workers=2, chunk_size=40) as other:
                got = engine.submit(other.compare, pairs).result()
        elif where == "helpers_busy":
            done = threading.Event()
            busy = engine.submit(done.wait, 60)
            try:
                got = engine.compare(pairs)
            finally:
                done.set()
            busy.result()
        else:
            if where == "after_submit":
                engine.submit(lambda: None).result()
            got = engine.compare(pairs)
    assert sorted(seen, reverse=True) == sizes
    assert got.equals(compare(left, right, pairs, COMPS))


def test_empty_pairs_give_empty_frame_with_schema() -> None:
    out = compare(_sample(2), _sample(2), all_pairs(0, 0), COMPS)
    assert out.height == 0
    assert out.schema[COMPS[0].output_column] == pl.Int8


def test_missing_column_raises_linkage_error_naming_it() -> None:
    with pytest.raises(LinkageError, match="given_key_ar"):
        compare(_sample(2).drop("given_key_ar"), _sample(2), all_pairs(2, 2), COMPS)


def test_repeated_comparison_names_raise() -> None:
    with pytest.raises(LinkageError, match="unique"):
        compare(_sample(2), _sample(2), all_pairs(2, 2), [COMPS[0], COMPS[0]])


def test_max_token_similarity() -> None:
    probe = pl.Series(["mhmd", "mhmd", None, "ftm"])
    tokens = pl.Series([["lw", "mhmd"], [], ["x"], None], dtype=pl.List(pl.Utf8))
    assert max_token_similarity(probe, tokens).to_list() == [1.0, None, None, None]


def test_cross_script_names_with_the_names_package() -> None:
    """محمد vs Mohamed → same key; Alaoui vs El Alaoui → same key or closer."""
    names = pytest.importorskip("registry_link.names")

    def rec(given: str, family: str) -> dict[str, Any]:
        arabic = any("\u0600" <= ch <= "\u06ff" for ch in given + family)
        g_lat, f_lat = names.matching_form(given), names.matching_form(family)
        return {
            "given_lat": g_lat,
            "given_key": names.name_key(g_lat),
            "given_key_ar": names.name_key(given) if arabic else None,
            "family_lat": f_lat,
            "family_key": names.name_key(f_lat),
        }

    schema = {
        k: SCHEMA[k] for k in ("given_lat", "given_key", "given_key_ar", "family_lat", "family_key")
    }
    left = pl.DataFrame([rec("محمد", "العلوي"), rec("Mohamed", "Alaoui")], schema=schema)
    right = pl.DataFrame([rec("Mohamed", "El Alaoui"), rec("Mohamed", "El Alaoui")], schema=schema)
    comps = [build_comparison(SPECS[0] | {"tokens": None}), build_comparison(SPECS[1])]
    pairs = all_pairs(2, 2).filter(pl.col("l_idx") == pl.col("r_idx"))
    out = compare(left, right, pairs, comps)
    same_key = comps[0].n_levels - 2
    assert out["gamma_given"].to_list()[0] >= same_key  # محمد vs Mohamed
    assert out["gamma_given"].to_list()[1] == same_key + 1  # Mohamed vs Mohamed: exact
    assert all(g >= same_key for g in out["gamma_family"].to_list())  # Alaoui vs El Alaoui


MODEL_LIKE = [
    build_comparison(s)
    for s in (
        {"name": "given", "kind": "name", "field": "given", "tokens": "name_token_keys"},
        {
            "name": "family",
            "kind": "name",
            "field": "family",
            "key_ar": None,
            "tokens": "name_token_keys",
        },
        {"name": "full_name", "kind": "name_tokens"},
    )
]


@settings(max_examples=40, deadline=None)
@given(st.lists(record(), min_size=1, max_size=5), st.lists(record(), min_size=1, max_size=5))
def test_names_are_never_counted_twice(a: list[dict], b: list[dict]) -> None:
    """Token-aware name comparisons + the default name_tokens: one name evidence per pair."""
    out = compare(_frame(a), _frame(b), all_pairs(len(a), len(b)), MODEL_LIKE)
    full = out.filter(pl.col("gamma_full_name") >= 0)
    assert (full["gamma_given"] == -1).all() and (full["gamma_family"] == -1).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(record(), min_size=1, max_size=5), st.lists(record(), min_size=1, max_size=5))
def test_computing_derived_columns_on_subsets_changes_nothing(a: list[dict], b: list[dict]) -> None:
    """derived_when only saves work: computing every helper column on all pairs agrees."""
    extra = [dataclasses.replace(c, name=f"{c.name}_2") for c in MODEL_LIKE[1:]]
    comps = [*COMPS, *extra]
    everywhere = [dataclasses.replace(c, derived_when={}) for c in comps]
    pairs = all_pairs(len(a), len(b))
    assert compare(_frame(a), _frame(b), pairs, comps).equals(
        compare(_frame(a), _frame(b), pairs, everywhere)
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(record(), min_size=1, max_size=6), st.lists(record(), min_size=1, max_size=6))
def test_dictionary_encoded_gathering_changes_nothing(a: list[dict], b: list[dict]) -> None:
    """Strings gathered through dictionaries (and derived per distinct code pair) agree with
    plain gathering."""
    from registry_link.compare import dictionaries as dictionaries_module

    comps = [*COMPS, *MODEL_LIKE[1:]]
    comps = list({c.name: c for c in comps}.values())
    pairs = all_pairs(len(a), len(b))
    encoded = compare(_frame(a), _frame(b), pairs, comps)
    with mock.patch.object(
        dictionaries_module, "DICTIONARY_MAX_VALUES", 0
    ):  # tiny frames: none encoded
        assert not dictionaries_module.dictionaries(_frame(a))
        plain = compare(_frame(a), _frame(b), pairs, comps)
    assert encoded.equals(plain)


@settings(max_examples=40, deadline=None)
@given(st.lists(record(), min_size=1, max_size=6), st.lists(record(), min_size=1, max_size=6))
def test_levels_on_the_shared_enum_equal_levels_on_strings(a: list[dict], b: list[dict]) -> None:
    """The sides' string columns gathered as one shared Enum (equalities on codes, derived
    functions given strings) give the vectors that the strings give."""
    from registry_link.compare import compute as compute_module

    comps = [*COMPS, *MODEL_LIKE[1:]]
    comps = list({c.name: c for c in comps}.values())
    pairs = all_pairs(len(a), len(b))
    with _shared_enum_calls() as made:
        shared = compare(_frame(a), _frame(b), pairs, comps)
    assert made and made[0]  # the string columns were gathered as the Enum
    with mock.patch.object(compute_module, "shared_enums_of", lambda left, right: ({}, {})):
        strings = compare(_frame(a), _frame(b), pairs, comps)
    assert shared.equals(strings)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["b", "a", "ab", "B", "é", ""])), max_size=20),
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "ba", "b", "zz", "é"])), max_size=20),
)
def test_shared_enums_code_equal_values_alike_and_keep_their_order(
    left: list[str | None], right: list[str | None]
) -> None:
    """One code space over both sides and columns: equal strings ⇔ equal codes, the codes'
    order is the strings', nulls stay null, the values round-trip."""
    from registry_link.compare.dictionaries import dictionaries, shared_enums

    lf = pl.DataFrame({"x": left, "y": left[::-1]}, schema={"x": pl.Utf8, "y": pl.Utf8})
    rf = pl.DataFrame({"x": right, "y": right[::-1]}, schema={"x": pl.Utf8, "y": pl.Utf8})
    ld, rd = dictionaries(lf), dictionaries(rf)
    if not (lf.height and rf.height):
        return
    le, re_ = shared_enums(ld, rd, ["x", "y"])
    assert set(le) == set(re_) == {"x", "y"}
    values = [e for side in (le, re_) for e in side.values()]
    assert all(v.dtype == values[0].dtype for v in values)
    for enc, dicts in ((le, ld), (re_, rd)):
        for c, e in enc.items():
            assert e.cast(pl.Utf8).equals(dicts[c][0], check_names=False)  # values and nulls
    every = pl.concat(values)
    strings, codes = every.cast(pl.Utf8).to_list(), every.to_physical().to_list()
    for s1, c1 in zip(strings, codes, strict=True):
        for s2, c2 in zip(strings, codes, strict=True):
            if s1 is None or s2 is None:
                assert (c1 is None) == (s1 is None) and (c2 is None) == (s2 is None)
                continue
            assert (s1 == s2) == (c1 == c2)
            assert (s1.encode() < s2.encode()) == (c1 < c2)


def test_derived_functions_read_strings_and_expressions_read_codes() -> None:
    """With the shared Enum, a derived function gets its columns as strings; a derived
    expression compares the Enum's codes; the levels are those of the strings."""
    from registry_link.compare import compute as compute_module
    from registry_link.compare.levels import Comparison, Derived, Level, equal

    seen: list[pl.DataType] = []

    def first_letters(frame: pl.DataFrame) -> pl.Series:
        seen.extend([frame.schema["l_s"], frame.schema["r_s"]])
        return (frame["l_s"].str.head(1) == frame["r_s"].str.head(1)).fill_null(False)

    comp = Comparison(
        name="s",
        kind="test",
        params={},
        columns=("s",),
        missing=Level("missing", pl.col("l_s").is_null() | pl.col("r_s").is_null(), "m"),
        levels=(
            Level("different", pl.lit(True), "d"),
            Level("initial", pl.col("__head"), "i"),
            Level("exact", pl.col("__same"), "e"),
        ),
        derived={
            "__head": Derived(first_letters, frozenset({"l_s", "r_s"})),
            "__same": Derived(lambda f: f.select(equal("s")).to_series(), frozenset(), equal("s")),
        },
        derived_when={"__head": ~equal("s")},
    )
    left = pl.DataFrame({"s": ["ab", "ac", None, "b"] * 300})
    right = pl.DataFrame({"s": ["ab", "ax", "b", None, "c"] * 300})
    pairs = all_pairs(4, 5)
    shared: list[Any] = []
    original = compute_module.shared_enums_of
    with mock.patch.object(
        compute_module,
        "shared_enums_of",
        lambda lrec, rrec: shared.append(original(lrec, rrec)) or shared[-1],
    ):
        out = compare(left, right, pairs, [comp])
    assert set(shared[0][0]) == {"s"}  # gathered as the Enum
    assert seen and all(t == pl.Utf8 for t in seen)
    with mock.patch.object(compute_module, "shared_enums_of", lambda left, right: ({}, {})):
        assert out.equals(compare(left, right, pairs, [comp]))
    gamma = dict(zip(zip(out["l_idx"], out["r_idx"], strict=True), out["gamma_s"], strict=True))
    assert (gamma[(0, 0)], gamma[(1, 0)], gamma[(0, 1)], gamma[(2, 0)], gamma[(3, 2)]) == (
        2,
        1,
        1,
        -1,
        2,
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "dd"])), max_size=40))
def test_dictionaries_round_trip_values_and_nulls(values: list[str | None]) -> None:
    from registry_link.compare.dictionaries import dictionaries

    frame = pl.DataFrame(
        {"v": values, "n": list(range(len(values)))}, schema={"v": pl.Utf8, "n": pl.Int64}
    )
    enc = dictionaries(frame)
    assert set(enc) == ({"v", "n"} if values else set())
    for col in enc:
        distinct, codes = enc[col]
        assert distinct.gather(codes).to_list() == frame[col].to_list()
        assert distinct.n_unique() == distinct.len()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "dd", "é"])), max_size=40),
    st.lists(st.sampled_from(["zz", "a", "q"]), max_size=5),
)
def test_categorical_dictionaries_give_the_strings(
    values: list[str | None], seen_before: list[str]
) -> None:
    """A ``Categorical`` column (a registry read with its repeated values coded) is encoded
    from its category codes: its distinct values as strings, and gathered back, the column's
    values as strings, nulls included — whatever other values the categories already hold."""
    from registry_link.compare.dictionaries import dictionaries

    pl.Series(seen_before, dtype=pl.Categorical)  # (other values in the global categories)
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
    coded = frame.with_columns(pl.col("v").cast(pl.Categorical))
    enc = dictionaries(coded)
    assert set(enc) == ({"v"} if values else set())
    if values:
        distinct, codes = enc["v"]
        assert distinct.dtype == pl.Utf8 and codes.dtype == pl.UInt8  # (few values)
        assert distinct.gather(codes).to_list() == values
        assert distinct.n_unique() == distinct.len()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(record(), min_size=1, max_size=6),
    st.lists(record(), min_size=1, max_size=6),
    st.booleans(),
)
def test_a_categorical_right_side_compares_as_its_strings(
    a: list[dict], b: list[dict], encoded: bool
) -> None:
    """The comparison vectors of a right side whose string columns are ``Categorical`` (a
    registry read with its repeated values coded) are those of the same strings, every kind
    of comparison, dictionary-encoded or not."""
    from registry_link.compare import dictionaries as dictionaries_module

    left, right, pairs = _frame(a), _frame(b), all_pairs(len(a), len(b))
    coded = right.with_columns(pl.col(pl.Utf8).cast(pl.Categorical))
    expected = compare(left, right, pairs, COMPS)
    limit = dictionaries_module.DICTIONARY_MAX_VALUES if encoded else 0
    with mock.patch.object(dictionaries_module, "DICTIONARY_MAX_VALUES", limit):
        assert compare(left, coded, pairs, COMPS).equals(expected)


def test_a_categorical_right_side_gets_the_shared_enum_of_its_strings() -> None:
    """A right side whose string columns are ``Categorical`` (a lazy registry read coded)
    shares the string side's ``Enum`` for the same columns: its levels compare codes, as
    strings' do (the compare stage cost 40 % more CPU without it), with the same vectors."""

    one = {"given_lat": "mohamed", "given_key": "mhmd", "family_lat": "ali", "family_key": "l"}
    other = {"given_lat": "fatima", "given_key": "ftm", "family_lat": "ali", "family_key": "l"}
    a = [{**one, "sex": "M", "cin": "BK123456"}] * 3
    b = [{**one, "sex": "M", "cin": "BK123465"}, {**other, "sex": "F", "cin": None}] * 3
    left, right, pairs = _frame(a), _frame(b), all_pairs(len(a), len(b))
    coded = right.with_columns(pl.col(pl.Utf8).cast(pl.Categorical))
    with _shared_enum_calls() as made:
        expected = compare(left, right, pairs, COMPS)
        got = compare(left, coded, pairs, COMPS)
    assert made[0] and made[1] == made[0]
    assert got.equals(expected)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([pl.Int32, pl.Int64, pl.UInt8, pl.Date, pl.Boolean]),
    st.lists(st.one_of(st.none(), st.integers(0, 200)), max_size=30),
    st.integers(0, 400),
)
def test_span_dictionaries_round_trip(dtype: Any, values: list[int | None], limit: int) -> None:
    """Integer, date and Boolean columns: their span as dictionary, offsets as codes; the
    values and nulls come back; a column spanning more than the limit is not encoded."""
    from registry_link.compare import dictionaries as dictionaries_module

    raw = pl.Series("x", values, dtype=pl.Int64)
    column = raw > 100 if dtype == pl.Boolean else raw.cast(pl.Int32 if dtype == pl.Date else dtype)
    frame = column.cast(dtype).to_frame()
    with mock.patch.object(dictionaries_module, "DICTIONARY_MAX_VALUES", limit):
        enc = dictionaries_module.dictionaries(frame)
    limit = max(limit, frame.height // 8)  # (the limit of a frame of this many rows)
    if frame.height == 0:
        assert enc == {}  # nothing to encode
        return
    present = frame["x"].drop_nulls().to_physical().cast(pl.Int64)
    span = int(present.max()) - int(present.min()) + 1 if present.len() else 1  # type: ignore[operator]
    assert ("x" in enc) == (span <= limit)
    if "x" in enc:
        dictionary, codes = enc["x"]
        assert dictionary.dtype == frame.schema["x"]
        assert dictionary.gather(codes).to_list() == frame["x"].to_list()
        assert dictionary.n_unique() == dictionary.len()


def test_on_unique_codes_runs_the_function_once_per_distinct_pair() -> None:
    from registry_link.compare.similarity import on_unique_codes

    a = pl.Series(["x", "x", "y", None, "x"] * 4)
    b = pl.Series(["p", "p", "q", "p", None] * 4)
    ca = pl.Series([0, 0, 1, 2, 0] * 4, dtype=pl.UInt32)
    cb = pl.Series([0, 0, 1, 0, 2] * 4, dtype=pl.UInt32)
    seen: list[int] = []

    def fn(x: pl.Series, y: pl.Series) -> pl.Series:
        seen.append(x.len())
        return (x + "-" + y).alias("v")

    out = on_unique_codes(a, b, ca, cb, fn)
    assert out.to_list() == (a + "-" + b).to_list()
    assert seen == [4]  # four distinct (code, code) pairs among 20 positions


def test_the_engine_scores_a_value_pair_once_over_its_chunks() -> None:
    """With caches on, a pair of distinct values scored in one chunk of an engine call is not
    scored again in the next; the vectors are those without the cache."""
    from registry_link.compare import compute as compute_module
    from registry_link.compare import library as library_module

    scored: list[int] = []
    original = library_module.jaro_winkler_each

    def counting(a: pl.Series, b: pl.Series) -> pl.Series:
        scored.append(a.len())
        return original(a, b)

    spec = {"name": "town", "kind": "jaro_winkler", "column": "town", "thresholds": [0.9]}
    with mock.patch.object(library_module, "jaro_winkler_each", counting):
        comp = build_comparison(spec)  # (built with the counting function)
    towns = ["rabat", "rabbat", "sale", "fes", "fez"] * 40
    frame = pl.DataFrame({"town": towns})
    pairs = all_pairs(frame.height, frame.height)
    counts = {}
    for caches in (True, False):
        scored.clear()
        with (
            mock.patch.object(compute_module, "LEVEL_TABLE_MAX_SHARE", 0.0),  # pair by pair
            CompareEngine(frame, frame, [comp], workers=1, caches=caches, chunk_size=997) as e,
        ):
            got = e.compare(pairs)
        counts[caches] = sum(scored)
        assert got.equals(compare(frame, frame, pairs, [comp]))
    assert counts[True] == 5 * 4  # each ordered pair of different towns once
    assert counts[False] > counts[True]  # again in every chunk


cin_like = st.text(alphabet="AB0123", min_size=0, max_size=10)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(cin_like, cin_like), min_size=1, max_size=30), st.data())
def test_osa_distance_with_the_one_edit_filter_equals_rapidfuzz(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    """The cheap 'cannot be one edit apart' filter never changes a capped distance."""
    from rapidfuzz.distance import OSA

    from registry_link.compare.similarity import osa_distance

    # near-copies too: one random edit of the left string
    def edit(s: str) -> str:
        if not s:
            return "A"
        i = data.draw(st.integers(0, len(s) - 1))
        op = data.draw(st.sampled_from(["sub", "del", "ins", "swap"]))
        if op == "sub":
            return s[:i] + ("B" if s[i] != "B" else "0") + s[i + 1 :]
        if op == "del":
            return s[:i] + s[i + 1 :]
        if op == "ins":
            return s[:i] + "3" + s[i:]
        return s[:i] + s[i + 1 : i + 2] + s[i] + s[i + 2 :] if i + 1 < len(s) else s

    pairs = [*pairs, *((a, edit(a)) for a, _ in pairs)]
    a = pl.Series([p[0] for p in pairs])
    b = pl.Series([p[1] for p in pairs])
    got = osa_distance(a, b, cutoff=1).to_list()
    want = [min(OSA.distance(x, y), 2) for x, y in pairs]
    assert got == want


@settings(max_examples=40, deadline=None)
@given(st.lists(record(), min_size=1, max_size=5), st.lists(record(), min_size=8, max_size=16))
def test_comparing_only_the_referenced_rows_changes_nothing(a: list[dict], b: list[dict]) -> None:
    """Pairs touching few rows of a large side: the side is compacted, results unchanged."""
    from registry_link.compare import compute

    # every left row against the last three right rows (under half of the right frame)
    n = len(b)
    pairs = pl.DataFrame(
        {
            "l_idx": [i for i in range(len(a)) for _ in range(3)],
            "r_idx": [n - 1, n - 3, n - 2] * len(a),
        },
        schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32},
    )
    comps = list({c.name: c for c in [*COMPS, *MODEL_LIKE[1:]]}.values())
    compacted = compare(_frame(a), _frame(b), pairs, comps)
    with mock.patch.object(compute, "_referenced_rows", lambda frame, idx: (frame, idx)):
        plain = compare(_frame(a), _frame(b), pairs, comps)
    assert compacted.equals(plain)
    assert compacted.select("l_idx", "r_idx").equals(pairs)


def _in_chunks(frame: pl.DataFrame, size: int) -> pl.DataFrame:
    """``frame`` as several chunks of ``size`` rows (as a registry read from Parquet comes)."""
    parts = [frame.slice(start, size) for start in range(0, max(frame.height, 1), size)]
    return pl.concat(parts, rechunk=False)


def test_prepared_records_hold_the_directly_gathered_columns_in_one_chunk() -> None:
    from registry_link.compare import compute

    frame = _in_chunks(_sample(40), 7)
    assert frame.get_column("cin").n_chunks() > 1
    for prepared in (
        compute.prepare_records(frame, COMPS),
        compute.prepare_referenced(frame, pl.Series(range(40), dtype=pl.UInt32), COMPS)[0],
    ):
        plain = [
            c
            for c, t in prepared.frame.schema.items()
            if not isinstance(t, pl.List) and c not in prepared.dictionaries
        ]
        assert "cin" in plain or "cin" in prepared.dictionaries
        assert all(prepared.frame.get_column(c).n_chunks() == 1 for c in plain)
        whole = compute.prepare_records(frame.rechunk(), COMPS).frame
        assert prepared.frame.equals(whole)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(record(), min_size=1, max_size=8),
    st.lists(record(), min_size=1, max_size=12),
    st.integers(1, 4),
)
def test_records_in_several_chunks_compare_as_in_one(
    a: list[dict], b: list[dict], size: int
) -> None:
    left, right = _frame(a), _frame(b)
    pairs = all_pairs(len(a), len(b))
    want = compare(left, right, pairs, COMPS)
    assert compare(_in_chunks(left, size), _in_chunks(right, size), pairs, COMPS).equals(want)
    with CompareEngine(
        _in_chunks(left, size), _in_chunks(right, size), COMPS, workers=1, random_pairs=10**6
    ) as engine:
        assert engine.whole_sides == ("left", "right")
        assert engine.compare(pairs).equals(want)


@pytest.mark.parametrize(("n_values", "dtype"), [(1, pl.UInt8), (256, pl.UInt8), (257, pl.UInt16)])
def test_dictionary_codes_are_in_the_narrowest_type(n_values: int, dtype: Any) -> None:
    """Codes of one byte up to 256 values (nulls among them), two up to 65,536; the values
    gathered by them unchanged."""
    from registry_link.compare.dictionaries import dictionaries, narrowed

    values = [f"v{i}" for i in range(n_values - 1)] + [None]
    frame = pl.DataFrame(
        {"s": values * 9, "n": list(range(n_values)) * 9}, schema={"s": pl.Utf8, "n": pl.Int64}
    )
    enc = dictionaries(frame)
    for col in ("s", "n"):
        distinct, codes = enc[col]
        assert codes.dtype == dtype
        assert distinct.gather(codes).to_list() == frame[col].to_list()
    many = pl.Series(range(70_000), dtype=pl.UInt32)
    assert narrowed((many, many.reverse()))[1].dtype == pl.UInt32
    assert narrowed((many.head(65_536), many.head(9)))[1].dtype == pl.UInt16
