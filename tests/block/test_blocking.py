"""Blocking: equality rules, list columns, dedupe mode, limits, report; brute-force reference."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import registry_link.block.candidates as blocking
from registry_link.block.candidates import (
    BlockingRule,
    OversizedBlockWarning,
    _distinct_sorted,
    _unpack_pair,
    block,
    blocking_report,
    first_seen,
    near_column,
    near_rows,
    pack_pair,
    rules_from_config,
    with_near_keys,
)
from registry_link.errors import LinkageError
from registry_link.jobs import SHIPPED_MODEL_CONFIG
from registry_link.model import load_model_config

SCHEMA = {"a": pl.Utf8, "b": pl.Int64, "t": pl.List(pl.Utf8)}
RULES = [
    BlockingRule("a_b", ("a", "b")),
    BlockingRule("tokens", ("t",)),
    BlockingRule("a", ("a",)),
    BlockingRule("b_t", ("b", "t")),
]


def _matches(x: dict[str, Any], y: dict[str, Any], rule: BlockingRule) -> bool:
    for c in rule.columns:
        u, v = x[c], y[c]
        if isinstance(u, list) or isinstance(v, list):
            if not u or not v or not ({e for e in u if e is not None} & set(v)):
                return False
        elif u is None or v is None or u != v:
            return False
    return True


def _reference(left: list[dict], right: list[dict] | None, rules: list[BlockingRule]) -> list:
    out = []
    other = right if right is not None else left
    for i, x in enumerate(left):
        for j, y in enumerate(other):
            if right is None and i >= j:
                continue
            for rule in rules:
                if _matches(x, y, rule):
                    out.append((i, j, rule.name))
                    break
    return sorted(out)


row = st.fixed_dictionaries(
    {
        "a": st.one_of(st.none(), st.sampled_from("xyz")),
        "b": st.one_of(st.none(), st.integers(0, 2)),
        "t": st.one_of(
            st.none(), st.lists(st.one_of(st.none(), st.sampled_from("pqr")), max_size=3)
        ),
    }
)


@settings(max_examples=80, deadline=None)
@given(st.lists(row, max_size=12), st.lists(row, max_size=12), st.sampled_from([1, 3, 10**7]))
def test_link_mode_equals_brute_force(left: list[dict], right: list[dict], batch: int) -> None:
    lf, rf = pl.DataFrame(left, schema=SCHEMA), pl.DataFrame(right, schema=SCHEMA)
    got = block(lf, rf, RULES, batch_pairs=batch)
    assert sorted(got.rows()) == _reference(left, right, RULES)
    assert got.select("l_idx", "r_idx").is_unique().all()


@settings(max_examples=80, deadline=None)
@given(st.lists(row, max_size=14), st.sampled_from([1, 3, 10**7]))
def test_dedupe_mode_equals_brute_force(rows: list[dict], batch: int) -> None:
    got = block(pl.DataFrame(rows, schema=SCHEMA), None, RULES, batch_pairs=batch)
    assert sorted(got.rows()) == _reference(rows, None, RULES)
    assert (got["l_idx"] < got["r_idx"]).all()


SCHEMA3 = {"a": pl.Utf8, "b": pl.Int64, "t": pl.List(pl.Utf8), "u": pl.List(pl.Int64)}
RULES3 = [
    BlockingRule("a_b_t", ("a", "b", "t")),  # three codes: packed (or densified) into one key
    BlockingRule("t_u", ("t", "u")),  # two list columns: every combination of elements
    BlockingRule("u", ("u",)),
    BlockingRule("b", ("b",)),
]
row3 = st.fixed_dictionaries(
    {
        "a": st.one_of(st.none(), st.sampled_from("xy")),
        "b": st.one_of(st.none(), st.integers(0, 1)),
        "t": st.one_of(
            st.none(), st.lists(st.one_of(st.none(), st.sampled_from("pqr")), max_size=3)
        ),
        "u": st.one_of(st.none(), st.lists(st.integers(0, 2), max_size=3)),
    }
)


@pytest.mark.parametrize("key_span", [2**64, 4])  # 4: block keys renumbered (_densify) often
@settings(max_examples=60, deadline=None)
@given(
    left=st.lists(row3, max_size=10),
    right=st.lists(row3, max_size=10),
    dedupe=st.booleans(),
    batch=st.sampled_from([1, 2, 10**7]),
)
def test_multi_column_and_list_rules_equal_brute_force(
    left: list[dict], right: list[dict], dedupe: bool, batch: int, key_span: int
) -> None:
    lf, rf = pl.DataFrame(left, schema=SCHEMA3), pl.DataFrame(right, schema=SCHEMA3)
    old_span = blocking.KEY_SPAN
    blocking.KEY_SPAN = key_span
    try:
        got = block(lf, None if dedupe else rf, RULES3, batch_pairs=batch)
    finally:
        blocking.KEY_SPAN = old_span
    assert sorted(got.rows()) == _reference(left, None if dedupe else right, RULES3)
    assert got.select("l_idx", "r_idx").is_unique().all()


def test_output_is_ordered_by_rule_then_pair() -> None:
    left = pl.DataFrame({"a": ["x", "y", "x"], "b": [1, 1, 2]})
    right = pl.DataFrame({"a": ["y", "x", "x"], "b": [1, 2, 1]})
    got = block(left, right, [BlockingRule("b", ("b",)), BlockingRule("a", ("a",))])
    assert got.rows() == [
        (0, 0, "b"),
        (0, 2, "b"),
        (1, 0, "b"),
        (1, 2, "b"),
        (2, 1, "b"),
        (0, 1, "a"),
        (2, 2, "a"),
    ]


def test_list_column_on_one_side_only() -> None:
    left = pl.DataFrame({"t": [["x", "y", "x"], ["y"], None, []]})
    right = pl.DataFrame({"t": ["y", "x", None, "z"]})
    assert block(left, right, [BlockingRule("t", ("t",))]).rows() == [
        (0, 0, "t"),
        (0, 1, "t"),
        (1, 0, "t"),
    ]
    assert block(right, left, [BlockingRule("t", ("t",))]).rows() == [
        (0, 0, "t"),
        (0, 1, "t"),
        (1, 0, "t"),
    ]


def test_oversized_warning_shows_the_block_values_shapes_not_the_values() -> None:
    """A warning can end up in a log: it names the block by the shape of its values."""
    rows = {"d": [date(2000, 1, 2)] * 3, "t": [["p", "q"]] * 3, "y": [1980] * 3}
    left = pl.DataFrame(rows, schema={"d": pl.Date, "t": pl.List(pl.Utf8), "y": pl.Int16})
    right = left.with_columns(pl.lit(["q"]).alias("t"))
    rule = BlockingRule("dty", ("d", "t", "y"), max_block_size=4)
    with pytest.warns(OversizedBlockWarning) as record:
        assert block(left, right, [rule]).height == 0
    assert str(record[0].message) == (
        "blocking rule 'dty': skipped 1 block(s) larger than max_block_size=4 pairs (9 pairs in "
        "all; largest: d=9999-99-99, t=a, y=9999 with 9 pairs; `registry-link blocking "
        "--show-values` shows values)"
    )


@given(
    st.lists(st.lists(st.integers(min_value=0, max_value=12), max_size=8).map(sorted), max_size=6)
)
def test_first_seen_keeps_the_first_occurrences_part_by_part(parts: list[list[int]]) -> None:
    """Each part's values that no earlier part (nor itself, before) had, in order: the first
    occurrences of the parts' concatenation, as one pass over all of them gives."""
    arrays = [(no, np.array(p, dtype=np.uint64)) for no, p in enumerate(parts)]
    got = [(no, new.tolist()) for no, new in first_seen(arrays)]
    seen: set[int] = set()
    expected = []
    for no, part in enumerate(parts):
        new = [v for i, v in enumerate(part) if v not in seen and v not in part[:i]]
        seen.update(part)
        expected.append((no, new))
    assert got == expected


def _threads(fn: Any, items: Any) -> list:
    """A parallel map (as the engine's): two threads, results in order."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(fn, list(items)))


@given(
    st.lists(st.lists(st.integers(min_value=0, max_value=12), max_size=8).map(sorted), max_size=6),
    st.lists(st.integers(min_value=0, max_value=14), max_size=3).map(lambda c: sorted(set(c))),
    st.booleans(),
)
def test_first_seen_in_ranges_gives_what_one_range_gives(
    parts: list[list[int]], cuts: list[int], parallel: bool
) -> None:
    """Values cut into ranges, each deduplicated against its own seen values (on two threads
    or one), give each part the same new values, in the same order, as one range does."""
    arrays = [(no, np.array(p, dtype=np.uint64)) for no, p in enumerate(parts)]
    whole = [(no, new.tolist()) for no, new in first_seen(arrays)]
    ranged = first_seen(arrays, cuts, _threads if parallel else blocking.in_order)
    assert [(no, new.tolist()) for no, new in ranged] == whole


@pytest.mark.parametrize(
    ("values", "distinct"),
    [([], []), ([2, 2], [2]), ([3, 1, 3, 2, 1], [1, 2, 3]), ([0, 2**64 - 1, 0], [0, 2**64 - 1])],
)
def test_distinct_sorted(values: list[int], distinct: list[int]) -> None:
    assert _distinct_sorted(pl.Series(values, dtype=pl.UInt64)).to_list() == distinct


def test_pack_pair_round_trip_and_order() -> None:
    frame = pl.DataFrame(
        {"l": [0, 1, 0, 2**32 - 1, 7], "r": [1, 0, 0, 2**32 - 1, 3]},
        schema={"l": pl.UInt32, "r": pl.UInt32},
    )
    packed = frame.select(pack_pair("l", "r")).get_column("pair")
    assert packed.dtype == pl.UInt64
    assert _unpack_pair(packed, "l", "r").equals(frame)
    assert _unpack_pair(packed.sort(), "l", "r").equals(frame.sort("l", "r"))


def _frame(values: list[Any], col: str = "a") -> pl.DataFrame:
    return pl.DataFrame({col: values})


def test_output_schema_and_first_rule_wins() -> None:
    left = pl.DataFrame({"a": ["x", "x"], "b": [1, 2]})
    right = pl.DataFrame({"a": ["x"], "b": [1]})
    got = block(left, right, [BlockingRule("ab", ("a", "b")), BlockingRule("a", ("a",))])
    assert list(got.schema) == ["l_idx", "r_idx", "rule"]
    assert got.schema["l_idx"] == pl.UInt32 and got.schema["r_idx"] == pl.UInt32
    assert got.schema["rule"] == pl.Categorical  # 4 bytes a pair, not a string
    assert got.rows() == [(0, 0, "ab"), (1, 0, "a")]


def test_nulls_never_block_together() -> None:
    got = block(_frame([None, None, "x"]), _frame([None, "x"]), [BlockingRule("a", ("a",))])
    assert got.rows() == [(2, 1, "a")]


def test_no_rules_and_empty_frames() -> None:
    assert block(_frame(["x"]), _frame(["x"]), []).height == 0
    empty = pl.DataFrame(schema={"a": pl.Utf8})
    assert block(empty, _frame(["x"]), [BlockingRule("a", ("a",))]).height == 0


def test_max_pairs_raises_naming_rule_count_and_limit() -> None:
    rule = BlockingRule("by_a", ("a",), max_pairs=5)
    with pytest.raises(LinkageError, match=r"'by_a'.*6 candidate pairs.*limit of 5"):
        block(_frame(["x"] * 3), _frame(["x"] * 2), [rule])


def test_max_block_size_skips_big_blocks_with_a_warning() -> None:
    rule = BlockingRule("by_a", ("a",), max_block_size=4)
    left, right = _frame(["x"] * 3 + ["y"]), _frame(["x"] * 2 + ["y"])
    with pytest.warns(OversizedBlockWarning, match=r"largest: a=a with 6 pairs"):
        got = block(left, right, [rule])
    assert got.rows() == [(3, 2, "by_a")]


def test_limit_warnings_come_in_rule_order_from_the_callers_caller() -> None:
    """Rules may be blocked in the engine's threads; their warnings are given afterwards,
    in rule order, attributed as before to the code that called the caller of block()."""
    rules = [
        BlockingRule("first", ("a",), max_block_size=4),
        BlockingRule("second", ("a",), max_candidates=1),
    ]
    left, right = _frame(["x"] * 3 + ["y"]), _frame(["x"] * 2 + ["y"])

    def caller() -> pl.DataFrame:  # as Linker.link calls block()
        return block(left, right, rules)

    with pytest.warns(OversizedBlockWarning) as record:
        caller()
    assert [str(w.message).split("'")[1] for w in record] == ["first", "second"]
    assert {w.filename for w in record} == {__file__}


def test_max_block_size_in_dedupe_counts_pairs_within_the_block() -> None:
    rule = BlockingRule("by_a", ("a",), max_block_size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert block(_frame(["x"] * 3), None, [rule]).height == 3  # 3 pairs: kept
    with pytest.warns(OversizedBlockWarning):
        assert block(_frame(["x"] * 4), None, [rule]).height == 0  # 6 pairs: skipped


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        ([BlockingRule("r", ("nope",))], "lack column"),
        ([BlockingRule("r", ("a",)), BlockingRule("r", ("a",))], "unique"),
    ],
)
def test_bad_rules_raise(rules: list[BlockingRule], match: str) -> None:
    with pytest.raises(LinkageError, match=match):
        block(_frame(["x"]), _frame(["x"]), rules)


def test_rule_without_columns_raises() -> None:
    with pytest.raises(LinkageError, match="no column"):
        BlockingRule("r", ())


def test_report_counts_match_block_for_each_rule_alone() -> None:
    left = pl.DataFrame({"a": ["x", "x", "y", None, "z"], "b": [1, 1, 2, 3, 3]})
    right = pl.DataFrame({"a": ["x", "y", "y", "y", None], "b": [1, 2, 2, 3, 3]})
    rules = [BlockingRule("a", ("a",)), BlockingRule("b", ("b",))]
    rep = blocking_report(left, right, rules, top=1)
    for r in rules:
        assert (
            rep.rules.filter(pl.col("rule") == r.name)["pairs"].item()
            == block(left, right, [r]).height
        )
    assert rep.largest_blocks.rows() == [("a", "a=y", 1, 3, 3), ("b", "b=3", 2, 2, 4)]
    assert "largest blocks" in rep.to_text()
    dedupe = blocking_report(left, None, rules)
    assert dedupe.rules["pairs"].to_list() == [1, 2]


def test_rules_from_config() -> None:
    rules = rules_from_config([{"name": "n", "columns": ["a", "b"], "max_pairs": 10}])
    assert rules == [BlockingRule("n", ("a", "b"), max_pairs=10)]


# ---- max_candidates: a cap on the other side's block size, independent of the left list ------


def _elements(value: Any) -> set[Any]:
    if isinstance(value, list):
        return {e for e in value if e is not None}
    return set() if value is None else {value}


def _block_keys(x: dict[str, Any], rule: BlockingRule) -> set[tuple[Any, ...]]:
    """Every block (combination of the rule columns' elements) the record is in."""
    keys: set[tuple[Any, ...]] = {()}
    for c in rule.columns:
        keys = {(*k, e) for k in keys for e in _elements(x[c])}
    return keys


def _capped_reference(
    left: list[dict], right: list[dict] | None, rules: list[BlockingRule]
) -> list[tuple[int, int, str]]:
    """Brute force: a pair shares a block of the rule in which a record meets at most
    ``max_candidates`` records of the other side (dedupe: of the others)."""
    other = right if right is not None else left
    out = []
    for i, x in enumerate(left):
        for j, y in enumerate(other):
            if right is None and i >= j:
                continue
            for rule in rules:
                shared = _block_keys(x, rule) & _block_keys(y, rule)
                sizes = [sum(k in _block_keys(z, rule) for z in other) for k in shared]
                cap = rule.max_candidates
                if right is None:
                    sizes = [n - 1 for n in sizes]
                if any(cap is None or n <= cap for n in sizes):
                    out.append((i, j, rule.name))
                    break
    return sorted(out)


CAPPED = [
    BlockingRule("a_b", ("a", "b"), max_candidates=1),
    BlockingRule("t", ("t",), max_candidates=2),
    BlockingRule("b_t", ("b", "t"), max_candidates=3),
    BlockingRule("a", ("a",)),
]


@settings(max_examples=80, deadline=None)
@given(
    left=st.lists(row, max_size=10),
    right=st.lists(row, max_size=10),
    dedupe=st.booleans(),
    batch=st.sampled_from([1, 10**7]),
)
def test_max_candidates_equals_brute_force(
    left: list[dict], right: list[dict], dedupe: bool, batch: int
) -> None:
    lf, rf = pl.DataFrame(left, schema=SCHEMA), pl.DataFrame(right, schema=SCHEMA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OversizedBlockWarning)
        got = block(lf, None if dedupe else rf, CAPPED, batch_pairs=batch)
    assert sorted(got.rows()) == _capped_reference(left, None if dedupe else right, CAPPED)


@settings(max_examples=60, deadline=None)
@given(
    left=st.lists(row, min_size=1, max_size=12), right=st.lists(row, max_size=10), data=st.data()
)
def test_max_candidates_gives_a_record_the_same_pairs_whatever_list_it_comes_in(
    left: list[dict], right: list[dict], data: st.DataObject
) -> None:
    """Linking a list in parts gives the pairs of linking it whole (not so with max_block_size,
    which counts the left records of a block too)."""
    lf, rf = pl.DataFrame(left, schema=SCHEMA), pl.DataFrame(right, schema=SCHEMA)
    cut = data.draw(st.integers(0, len(left)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OversizedBlockWarning)
        whole = block(lf, rf, CAPPED)
        head = block(lf.head(cut), rf, CAPPED)
        tail = block(lf.slice(cut), rf, CAPPED).with_columns(pl.col("l_idx") + cut)
    parts = pl.concat([head, tail]).with_columns(pl.col("rule").cast(pl.Utf8))
    assert sorted(parts.rows()) == sorted(whole.with_columns(pl.col("rule").cast(pl.Utf8)).rows())


def test_max_candidates_counts_the_other_side_only() -> None:
    rule = BlockingRule("by_a", ("a",), max_candidates=2)
    # 5 left records x 2 right records: kept (each left record meets 2), though 10 pairs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert block(_frame(["x"] * 5), _frame(["x"] * 2), [rule]).height == 10
    with pytest.warns(
        OversizedBlockWarning,
        match=r"skipped 1 block\(s\) offering a record more than max_candidates=2 candidates "
        r"\(3 pairs in all; largest: a=a with 3 pairs; ",
    ):
        got = block(_frame(["x", "y"]), _frame(["x"] * 3 + ["y"]), [rule])
    assert got.rows() == [(1, 3, "by_a")]
    # dedupe: a record of a block of n meets n - 1 others
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert block(_frame(["x"] * 3), None, [rule]).height == 3
    with pytest.warns(OversizedBlockWarning):
        assert block(_frame(["x"] * 4), None, [rule]).height == 0


def test_max_candidates_from_config_and_in_words() -> None:
    rules = rules_from_config([{"name": "n", "columns": ["a"], "max_candidates": 50}])
    assert rules == [BlockingRule("n", ("a",), max_candidates=50)]
    assert rules[0].describe() == "n: same a (blocks of more than 50 candidates per record skipped)"


@pytest.mark.parametrize("dedupe", [False, True])
def test_report_counts_what_the_limits_skip(dedupe: bool) -> None:
    left = pl.DataFrame({"a": ["x", "x", "y", "z", "z", "z"]})
    right = pl.DataFrame({"a": ["x", "y", "y", "y", "z", "z"]})
    rules = [
        BlockingRule("capped", ("a",), max_candidates=1),
        BlockingRule("sized", ("a",), max_block_size=3),
        BlockingRule("free", ("a",)),
    ]
    other = None if dedupe else right
    rep = blocking_report(left, other, rules)
    for r in rules:
        row = rep.rules.filter(pl.col("rule") == r.name).row(0, named=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OversizedBlockWarning)
            kept = block(left, other, [r]).height
        assert row["pairs"] - row["skipped_pairs"] == kept
    skipped = dict(zip(rep.rules["rule"], rep.rules["skipped_blocks"], strict=True))
    # link: y offers 3 candidates, z 2 (capped at 1); z has 6 pairs (above 3)
    # dedupe: x has 1 other, z 2 others (capped at 1); z has 3 pairs (not above 3)
    assert skipped == (
        {"capped": 1, "sized": 0, "free": 0} if dedupe else {"capped": 2, "sized": 1, "free": 0}
    )
    assert "skipped by limits" in rep.to_text()


def test_skipped_lists_the_left_rows_of_the_blocks_the_limits_skipped() -> None:
    rules = [
        BlockingRule("capped", ("a",), max_candidates=1),
        BlockingRule("sized", ("b",), max_block_size=1),
        BlockingRule("free", ("a",)),
    ]
    left = pl.DataFrame({"a": ["x", "y", "x", None], "b": [1, 2, 2, 2]})
    right = pl.DataFrame({"a": ["x", "x", "y"], "b": [1, 2, 2]})
    skipped: dict[str, pl.Series] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OversizedBlockWarning)
        block(left, right, rules, skipped=skipped)
    # a=x meets 2 right records (> 1); b=2 has 3 x 2 = 6 pairs (> 1); "free" skips nothing
    assert {k: v.to_list() for k, v in skipped.items()} == {"capped": [0, 2], "sized": [1, 2, 3]}


def test_largest_lists_each_rules_largest_kept_blocks_by_shape_not_value() -> None:
    rules = [
        BlockingRule("capped", ("a",), max_candidates=1),
        BlockingRule("free", ("a", "b")),
    ]
    left = pl.DataFrame({"a": ["Xy", "Xy", "Zw", "Zw", "Zw"], "b": [1980, 1980, 1975, 1975, 1975]})
    right = pl.DataFrame({"a": ["Xy", "Xy", "Zw"], "b": [1980, 1980, 1975]})
    largest: list[dict[str, object]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OversizedBlockWarning)
        block(left, right, rules, largest=largest)
    # capped: a=Xy offers 2 candidates (skipped), a=Zw 1: kept with 3 x 1 pairs
    # free: (Xy, 1980) 2 x 2 = 4 pairs, (Zw, 1975) 3 x 1 = 3 pairs: largest first
    assert largest == [
        {"rule": "capped", "pairs": 3, "key": "a=Aa"},
        {"rule": "free", "pairs": 4, "key": "a=Aa, b=9999"},
        {"rule": "free", "pairs": 3, "key": "a=Aa, b=9999"},
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(row3, max_size=10), st.lists(row3, max_size=10), st.booleans())
def test_the_engines_parallel_map_gives_the_same_pairs_in_the_same_order(
    left: list[dict], right: list[dict], dedupe: bool
) -> None:
    """Blocking's columns and rules on the engine's threads (``map_each=engine.map``) give
    exactly the pairs, in the order, of the one-thread default."""
    from registry_link.compare.engine import CompareEngine

    lf, rf = pl.DataFrame(left, schema=SCHEMA3), pl.DataFrame(right, schema=SCHEMA3)
    other = None if dedupe else rf
    with CompareEngine(lf, rf, [], workers=2) as engine:
        parallel = block(lf, other, RULES3, map_each=engine.map)
    assert parallel.equals(block(lf, other, RULES3))


# ---------------------------------------------------------------- near columns (year window)


def _near_reference(left: list[int | None], right: list[int | None] | None) -> set[tuple[int, int]]:
    """Pairs whose values share a two-year bucket (v // 2 or (v + 1) // 2)."""

    def buckets(v: int | None) -> set[int]:
        return set() if v is None else {v // 2, (v + 1) // 2}

    other = right if right is not None else left
    return {
        (i, j)
        for i, x in enumerate(left)
        for j, y in enumerate(other)
        if (right is not None or i < j) and buckets(x) & buckets(y)
    }


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(1950, 1960)), max_size=12),
    st.lists(st.one_of(st.none(), st.integers(1950, 1960)), max_size=12),
    st.booleans(),
)
def test_near_year_finds_every_pair_one_apart_and_none_three_apart(
    left: list[int | None], right: list[int | None], dedupe: bool
) -> None:
    rule = BlockingRule("near_year", ("y",), near=("y",))
    lf = pl.DataFrame({"y": left}, schema={"y": pl.Int16})
    rf = None if dedupe else pl.DataFrame({"y": right}, schema={"y": pl.Int16})
    pairs = block(lf, rf, [rule])
    got = set(zip(pairs["l_idx"].to_list(), pairs["r_idx"].to_list(), strict=True))
    assert got == _near_reference(left, None if dedupe else right)
    other = left if dedupe else right
    for i, j in got:
        assert abs(left[i] - other[j]) <= 2  # type: ignore[operator]
    for i, x in enumerate(left):
        for j, y in enumerate(other):
            if x is not None and y is not None and abs(x - y) <= 1 and (not dedupe or i < j):
                assert (i, j) in got
    report = blocking_report(lf, rf, [rule]).rules.row(0, named=True)
    assert report["columns"] == "near_y"


@pytest.mark.parametrize(
    ("year", "right_years", "expected"),
    [
        (1980, [1979, 1980, 1981, 1982, 1978, None], [0, 1, 2]),  # even: 1982 two apart, no
        # odd: two apart on either side is odd too, and shares a bucket
        (1981, [1979, 1980, 1981, 1982, 1983, 1984, None], [0, 1, 2, 3, 4]),
        (None, [1980, None], []),
    ],
)
def test_near_year_table(year: int | None, right_years: list, expected: list[int]) -> None:
    rule = BlockingRule("names_near_year", ("k", "y"), near=("y",))
    left = pl.DataFrame({"k": ["mhmd"], "y": [year]}, schema={"k": pl.Utf8, "y": pl.Int16})
    right = pl.DataFrame(
        {"k": ["mhmd"] * len(right_years), "y": right_years}, schema={"k": pl.Utf8, "y": pl.Int16}
    )
    assert sorted(block(left, right, [rule])["r_idx"].to_list()) == expected


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-5, 2100)), max_size=30))
def test_near_rows_are_the_bucket_lists_exploded(years: list[int | None]) -> None:
    # block() emits the buckets as rows: the same rows, in the same order, as the list
    # column with_near_keys gives (the search index's), exploded with its nulls dropped
    frame = pl.DataFrame({"y": years}, schema={"y": pl.Int16})
    rule = BlockingRule("near_year", ("y",), near=("y",))
    lists = with_near_keys(frame, [rule]).select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("idx"), pl.col(near_column("y")).alias("v")
    )
    expected = lists.explode("v").drop_nulls("v")
    got = near_rows(frame, "y")
    assert got.schema == expected.schema
    assert got.rows() == expected.rows()


def test_near_column_must_be_a_rule_column_and_comes_from_config() -> None:
    with pytest.raises(LinkageError, match="near names \\['y'\\]"):
        BlockingRule("bad", ("k",), near=("y",))
    (rule,) = rules_from_config(
        [{"name": "r", "columns": ["k", "y"], "near": ["y"], "max_candidates": 5}]
    )
    assert rule.near == ("y",) and rule.key_columns == ("k", "y~1")
    assert "y within one" in rule.describe()


def test_near_rule_keeps_the_oversized_block_guard() -> None:
    rule = BlockingRule("near", ("k", "y"), near=("y",), max_candidates=2)
    left = pl.DataFrame({"k": ["a", "b"], "y": [1980, 1980]}, schema={"k": pl.Utf8, "y": pl.Int16})
    right = pl.DataFrame(
        {"k": ["a", "a", "a", "b"], "y": [1980, 1981, 1979, 1981]},
        schema={"k": pl.Utf8, "y": pl.Int16},
    )
    skipped: dict[str, pl.Series] = {}
    with pytest.warns(OversizedBlockWarning, match="max_candidates=2"):
        pairs = block(left, right, [rule], skipped=skipped)
    # a's bucket 990 holds 1980, 1981 and 1979's (989, 990): 3 > 2 registry records, skipped
    assert pairs.sort("l_idx", "r_idx").rows() == [(1, 3, "near")]
    assert skipped["near"].to_list() == [0]


# ------------------------------------------- the shipped rules and the least-documented records

BLOCK_SCHEMA = {
    "cin": pl.Utf8,
    "cnss_number": pl.Utf8,
    "given_key": pl.Utf8,
    "family_key": pl.Utf8,
    "given_key_ar": pl.Utf8,
    "family_key_ar": pl.Utf8,
    "father_key": pl.Utf8,
    "name_token_keys": pl.List(pl.Utf8),
    "name_tokens_key": pl.Utf8,
    "birth_year": pl.Int16,
    "birth_date": pl.Date,
    "residence": pl.Utf8,
}


def _person(
    given: str | None,
    family: str | None,
    year: int | None,
    residence: str | None,
    father: str | None = None,
    tokens: list[str] | None = None,
) -> dict[str, Any]:
    """A standardised record with no CIN: split names, or (given None) an unsplit full name."""
    toks = sorted(tokens if tokens is not None else [t for t in (given, family) if t])
    return {
        "cin": None,
        "cnss_number": None,
        "given_key": given,
        "family_key": family,
        "given_key_ar": None,  # Latin-only records: the Arabic-key rules do not apply
        "family_key_ar": None,
        "father_key": father,
        "name_token_keys": toks,
        "name_tokens_key": " ".join(toks) if toks else None,
        "birth_year": year,
        "birth_date": None,
        "residence": residence,
    }


# (registry person, partner record, the new rule that finds the pair): every one of these is
# missed by the rules shipped before issue 16 (each needs the exact year or split names)
LEAST_DOCUMENTED = [
    # unsplit name in either order, no CIN, birth year one off, moved
    (
        _person("mhmd", "blkzz", 1980, "kntr"),
        _person(None, None, 1981, "rbt", tokens=["blkzz", "mhmd"]),
        "tokens_near_year",
    ),
    # unsplit name, no CIN, no birth year, same commune
    (
        _person("ftm", "zhr", 1975, "sl"),
        _person(None, None, None, "sl", tokens=["zhr", "ftm"]),
        "tokens_residence",
    ),
    # split names, no CIN, birth year one off, moved: the same order-free token key
    (_person("ysf", "lw", 1990, "kntr"), _person("ysf", "lw", 1989, "rbt"), "tokens_near_year"),
    # split names, no CIN, birth year mistyped (digits swapped), moved; the father's name known
    (
        _person("krm", "bnn", 1983, "kntr", "hsn"),
        _person("krm", "bnn", 1938, "rbt", "hsn"),
        "names_father",
    ),
]


@pytest.mark.parametrize(("registry", "partner", "rule"), LEAST_DOCUMENTED)
def test_shipped_rules_give_the_least_documented_records_a_candidate(
    registry: dict[str, Any], partner: dict[str, Any], rule: str
) -> None:
    rules = list(load_model_config(SHIPPED_MODEL_CONFIG).blocking_rules)
    new = {"tokens_near_year", "tokens_residence", "names_father"}
    others = [
        _person("ysf", "lw", 1985, "kntr"),
        _person(None, None, 1960, "fs", tokens=["hmd", "mrn"]),
    ]
    right = pl.DataFrame([registry, *others], schema=BLOCK_SCHEMA, orient="row")
    left = pl.DataFrame([partner], schema=BLOCK_SCHEMA, orient="row")
    pairs = block(left, right, rules)
    assert pairs.filter(pl.col("r_idx") == 0)["rule"].cast(pl.Utf8).to_list() == [rule]
    assert (
        block(left, right, [r for r in rules if r.name not in new])
        .filter(pl.col("r_idx") == 0)
        .is_empty()
    )
    report = blocking_report(left, right, rules).rules
    assert set(new) <= set(report["rule"].to_list())
    assert report.filter(pl.col("rule") == rule)["pairs"].item() >= 1


def test_near_blocks_are_shown_by_their_middle_year() -> None:
    rule = BlockingRule("near", ("k", "y"), near=("y",), max_candidates=1)
    left = pl.DataFrame({"k": ["a"], "y": [1980]}, schema={"k": pl.Utf8, "y": pl.Int16})
    right = pl.DataFrame({"k": ["a", "a"], "y": [1979, 1981]}, schema={"k": pl.Utf8, "y": pl.Int16})
    report = blocking_report(left, right, [rule])
    assert report.largest_blocks["key"].to_list() == ["k=a, near_y=1980"]
    assert report.with_key_shapes().largest_blocks["key"].to_list() == ["k=a, near_y=9999"]
    with pytest.warns(OversizedBlockWarning, match="k=a, near_y=9999 with 2 pairs"):
        block(left, right, [rule])


_CODED_VALUES = st.sampled_from(["int16", "int64", "date", "string", "categorical"]).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        st.lists(st.one_of(st.none(), st.integers(-40, 40)), max_size=25),
        st.lists(st.integers(-40, 40), max_size=12, unique=True),
    )
)


def _as(kind: str, numbers: list[int | None]) -> pl.Series:
    if kind == "int16":
        return pl.Series(numbers, dtype=pl.Int16)
    if kind == "int64":
        return pl.Series(numbers, dtype=pl.Int64)
    if kind == "date":
        return pl.Series([None if n is None else date(2000, 1, 1 + n % 28) for n in numbers])
    text = pl.Series([None if n is None else f"v{n}" for n in numbers], dtype=pl.Utf8)
    return text.cast(pl.Categorical) if kind == "categorical" else text


@settings(max_examples=200, deadline=None)
@given(case=_CODED_VALUES, span=st.sampled_from([1 << 22, 4]))
def test_value_codes_are_the_positions_a_join_gives(case, span) -> None:
    """Coded without a join (an Enum cast, a Categorical's categories, a table indexed by an
    integer or a date): each value's position among the left's distinct values, null where
    it is absent, as the join of the other values gives them."""
    kind, rows, distinct = case
    values = _as("string" if kind == "categorical" else kind, distinct).unique(maintain_order=True)
    v = _as(kind, rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocking, "TABLE_SPAN", span)
        got = blocking.value_codes(v, values)
    if got is None:  # (no values, or integers spanning more than the table)
        assert values.len() == 0 or kind in ("int16", "int64", "date")
        return
    lookup = values.to_frame("v").with_row_index("code")
    want = (
        v.cast(values.dtype)
        .to_frame("v")
        .join(lookup, on="v", how="left", maintain_order="left")
        .get_column("code")
    )
    assert got.dtype == pl.UInt32
    assert got.to_list() == want.to_list()


_CODE = st.one_of(st.none(), st.integers(0, 3))


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    n=st.integers(0, 12),
    spans=st.lists(st.integers(0, 4), min_size=1, max_size=3),
    list_at=st.one_of(st.none(), st.integers(0, 2)),
)
def test_packed_rows_are_the_rule_rows_packed(data, n, spans, list_at) -> None:
    """A rule's rows and packed keys in numpy (:func:`packed_rows`) are those of the code
    frames (``_rule_rows`` then ``_pack``): the same rows in the same order, the same keys."""
    coded = []
    for i, span in enumerate(spans):
        code = st.one_of(st.none(), st.integers(0, max(0, span - 1))) if span else st.none()
        if i == list_at:  # a list column's rows: records in order, distinct codes, no null
            element = st.lists(st.integers(0, max(0, span - 1)), max_size=3, unique=True)
            per = data.draw(st.lists(element if span else st.just([]), min_size=n, max_size=n))
            frame = pl.DataFrame(
                {
                    "idx": [r for r, codes in enumerate(per) for _ in codes],
                    "code": [c for codes in per for c in codes],
                },
                schema={"idx": pl.UInt32, "code": pl.UInt32},
            )
        else:
            codes = data.draw(st.lists(code, min_size=n, max_size=n))
            frame = pl.DataFrame(
                {"idx": range(n), "code": codes}, schema={"idx": pl.UInt32, "code": pl.UInt32}
            )
        coded.append((frame, i == list_at))
    got = blocking.packed_rows(coded, spans, n)
    assert got is not None
    want = blocking._pack([blocking._rule_rows(coded, n)], spans)[0].select("idx", "key")
    assert got.schema == want.schema
    assert got.rows() == want.rows()


def test_packed_rows_leave_two_list_columns_and_overflowing_keys_to_the_frames() -> None:
    rows = pl.DataFrame({"idx": [0], "code": [0]}, schema={"idx": pl.UInt32, "code": pl.UInt32})
    assert blocking.packed_rows([(rows, True), (rows, True)], [1, 1], 1) is None
    assert blocking.packed_rows([(rows, False), (rows, False)], [2**40, 2**30], 1) is None
    assert blocking.packed_rows([(rows, False), (rows, False)], [2**32, 2**32], 1) is not None


_RECORD_LISTS = st.lists(
    st.one_of(st.none(), st.lists(st.one_of(st.none(), st.sampled_from("pqrs")), max_size=7)),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(lists=_RECORD_LISTS, limit=st.sampled_from([16, 2]))
def test_list_codes_are_the_distinct_elements_codes_of_each_record(lists, limit) -> None:
    """A list column of strings coded before it is exploded (:func:`_list_codes`), its
    repeats within a record dropped by comparing neighbours (or, lists longer than
    ``SHIFT_LIMIT``, by a sort): each record's distinct coded elements, first kept, in
    record order, as the exploded strings' codes give them."""
    values = pl.Series(["q", "p", "s"])  # "r": a value no left record has (no code)
    column = pl.Series("t", lists, dtype=pl.List(pl.Utf8))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocking, "SHIFT_LIMIT", limit)
        got = blocking._list_codes(column, values)
    want = [
        (i, code)
        for i, items in enumerate(lists)
        for code in dict.fromkeys(
            values.to_list().index(e) for e in (items or []) if e in values.to_list()
        )
    ]
    assert got.schema == {"idx": pl.UInt32, "code": pl.UInt32}
    coded = [[e for e in items or [] if e in values.to_list()] for items in lists]
    longest = max(map(len, coded), default=0)  # a record's rows, repeats included
    if longest <= limit:  # the first of each, in order
        assert got.rows() == want
    else:  # by a sort: ordered by record, then code
        assert got.rows() == sorted(want)
