"""Tests of registry_link.cluster.components: registry and within-list clusters, chaining guard."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.cluster.components import CLUSTER_COLUMNS, cluster, member_key
from registry_link.errors import UsageError


def records(*ids: str) -> pl.DataFrame:
    """Partner records from "source:record_id" strings."""
    return pl.DataFrame(
        {"source": [i.split(":")[0] for i in ids], "record_id": [i.split(":")[1] for i in ids]}
    )


def links(matches: dict[str, str], lf: pl.DataFrame) -> pl.DataFrame:
    """Links: ``matches`` maps "source:record_id" to a registry person; others non_match."""
    ids = [f"{s}:{r}" for s, r in lf.iter_rows()]
    return lf.with_columns(
        person_id=pl.Series([matches.get(i) for i in ids], dtype=pl.Utf8),
        decision=pl.Series(["match" if i in matches else "non_match" for i in ids]),
    )


def pairs(*rows: tuple[str, str, float]) -> pl.DataFrame:
    """Within-list pairs from ("s:r", "s:r", probability)."""
    return pl.DataFrame(
        {
            "source_l": [a.split(":")[0] for a, _, _ in rows],
            "record_id_l": [a.split(":")[1] for a, _, _ in rows],
            "source_r": [b.split(":")[0] for _, b, _ in rows],
            "record_id_r": [b.split(":")[1] for _, b, _ in rows],
            "match_probability": [p for _, _, p in rows],
        },
        schema={
            "source_l": pl.Utf8,
            "record_id_l": pl.Utf8,
            "source_r": pl.Utf8,
            "record_id_r": pl.Utf8,
            "match_probability": pl.Float64,
        },
    )


def groups(clusters: pl.DataFrame) -> set[frozenset[str]]:
    """The clusters as sets of "source:record_id"."""
    g = clusters.group_by("cluster_id").agg(pl.concat_str("source", "record_id", separator=":"))
    return {frozenset(m) for m in g["source"].to_list()}


def key_of(clusters: pl.DataFrame, rid: str) -> str:
    s, r = rid.split(":")
    row = clusters.filter((pl.col("source") == s) & (pl.col("record_id") == r))
    return row["beneficiary_key"][0]


def test_registry_within_list_and_singletons() -> None:
    lf = records("a:1", "a:2", "b:1", "a:3", "b:2", "a:4")
    ln = links({"a:1": "111", "b:1": "111", "a:2": "222"}, lf)
    pr = pairs(("a:3", "b:2", 0.97), ("a:4", "a:3", 0.4))
    out = cluster(ln, pr, lf, threshold=0.9)
    assert out.columns == list(CLUSTER_COLUMNS)
    assert out.select("source", "record_id").equals(lf)
    assert groups(out) == {
        frozenset({"a:1", "b:1"}),
        frozenset({"a:2"}),
        frozenset({"a:3", "b:2"}),
        frozenset({"a:4"}),
    }
    assert out["cluster_id"].to_list() == [0, 1, 0, 2, 2, 3]  # numbered by first member
    assert out["via"].to_list() == [
        "registry",
        "registry",
        "registry",
        "within_list",
        "within_list",
        "singleton",
    ]
    assert out["cluster_size"].to_list() == [2, 1, 2, 2, 2, 1]
    assert key_of(out, "a:1") == "P111" == key_of(out, "b:1")
    assert key_of(out, "a:3") == member_key(["a|3", "b|2"])
    assert key_of(out, "a:4").startswith("B") and len(key_of(out, "a:4")) == 13


def test_unmatched_record_joins_its_registry_person() -> None:
    lf = records("a:1", "a:2")
    out = cluster(links({"a:1": "111"}, lf), pairs(("a:1", "a:2", 0.95)), lf, threshold=0.9)
    assert groups(out) == {frozenset({"a:1", "a:2"})}
    assert out["beneficiary_key"].to_list() == ["P111", "P111"]


def test_chaining_guard_never_merges_two_registry_persons() -> None:
    # A(111) — x — B(222): x (and y hanging on x) reach two persons: they stay apart.
    lf = records("a:A", "a:x", "b:B", "b:y")
    ln = links({"a:A": "111", "b:B": "222"}, lf)
    pr = pairs(
        ("a:A", "a:x", 0.92), ("a:x", "b:B", 0.99), ("a:x", "b:y", 0.95), ("a:A", "b:B", 0.99)
    )
    out = cluster(ln, pr, lf, threshold=0.9)
    assert groups(out) == {frozenset({"a:A"}), frozenset({"b:B"}), frozenset({"a:x", "b:y"})}
    assert key_of(out, "a:x") == member_key(["a|x", "b|y"])
    assert out["via"].to_list() == ["registry", "within_list", "registry", "within_list"]


def test_group_reaching_one_person_through_two_records_joins_it() -> None:
    lf = records("a:A", "b:A", "a:x")
    ln = links({"a:A": "111", "b:A": "111"}, lf)
    out = cluster(ln, pairs(("a:A", "a:x", 0.95), ("a:x", "b:A", 0.91)), lf, threshold=0.9)
    assert groups(out) == {frozenset({"a:A", "b:A", "a:x"})}


def test_new_list_adds_members_without_renumbering_existing_clusters() -> None:
    lf1 = records("a:1", "a:2", "a:3", "a:4")
    pr1 = pairs(("a:1", "a:2", 0.99))
    run1 = cluster(links({"a:4": "444"}, lf1), pr1, lf1, threshold=0.9)
    prev = run1.select("source", "record_id", "beneficiary_key")
    # a new list b: b:1 is the same as a:1/a:2, b:2 is new, b:3 is the registry person 444
    lf2 = pl.concat([lf1, records("b:1", "b:2", "b:3")])
    pr2 = pl.concat([pr1, pairs(("b:1", "a:2", 0.97))])
    run2 = cluster(
        links({"a:4": "444", "b:3": "444"}, lf2), pr2, lf2, threshold=0.9, previous_keys=prev
    )
    for rid in ("a:1", "a:2", "a:3", "a:4"):
        assert key_of(run2, rid) == key_of(run1, rid)
    assert key_of(run2, "b:1") == key_of(run1, "a:1")
    assert key_of(run2, "b:3") == "P444"
    assert key_of(run2, "b:2") not in set(prev["beneficiary_key"].to_list())
    # without previous keys the grown cluster would get a new hash key
    fresh = cluster(links({"a:4": "444", "b:3": "444"}, lf2), pr2, lf2, threshold=0.9)
    assert key_of(fresh, "b:1") != key_of(run1, "a:1")


def test_a_split_cluster_keeps_its_key_on_the_larger_part_only() -> None:
    lf = records("a:1", "a:2", "a:3")
    prev = lf.with_columns(beneficiary_key=pl.lit("Bold000000000"))
    out = cluster(links({}, lf), pairs(("a:1", "a:2", 0.99)), lf, threshold=0.9, previous_keys=prev)
    assert key_of(out, "a:1") == key_of(out, "a:2") == "Bold000000000"
    assert key_of(out, "a:3") == member_key(["a|3"])


def test_an_old_key_now_used_by_a_registry_cluster_is_not_inherited() -> None:
    lf = records("a:1", "a:2")
    prev = lf.with_columns(beneficiary_key=pl.lit("P111"))
    out = cluster(links({"a:1": "111"}, lf), None, lf, threshold=0.9, previous_keys=prev)
    assert key_of(out, "a:1") == "P111"
    assert key_of(out, "a:2") == member_key(["a|2"])


def test_keys_do_not_depend_on_pair_or_record_order() -> None:
    lf = records("a:1", "a:2", "a:3")
    pr = pairs(("a:1", "a:3", 0.99))
    one = cluster(links({}, lf), pr, lf, threshold=0.9)
    two = cluster(links({}, lf), pr.reverse(), lf.reverse(), threshold=0.9)
    assert dict(zip(one["record_id"], one["beneficiary_key"], strict=True)) == dict(
        zip(two["record_id"], two["beneficiary_key"], strict=True)
    )


def test_bad_threshold_and_empty_input() -> None:
    lf = records("a:1")
    with pytest.raises(UsageError, match="threshold"):
        cluster(links({}, lf), None, lf, threshold=1.5)
    empty = lf.clear()
    assert cluster(links({}, empty), None, empty, threshold=0.9).columns == list(CLUSTER_COLUMNS)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    matched=st.dictionaries(st.integers(0, 11), st.sampled_from(["1", "2", "3"]), max_size=6),
    edges=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11), st.floats(0, 1)), max_size=20),
)
def test_property_clusters_partition_records_and_hold_at_most_one_person(n, matched, edges):
    lf = records(*[f"s:{i}" for i in range(n)])
    ln = links({f"s:{i}": p for i, p in matched.items() if i < n}, lf)
    pr = pairs(*[(f"s:{a}", f"s:{b}", p) for a, b, p in edges if a < n and b < n])
    out = cluster(ln, pr, lf, threshold=0.5)
    assert out.height == n
    assert out.select("source", "record_id").equals(lf)  # every record exactly once
    assert out.group_by("cluster_id").len().sort("cluster_id")["len"].to_list() == (
        out.group_by("cluster_id")
        .agg(pl.col("cluster_size").first())
        .sort("cluster_id")["cluster_size"]
        .to_list()
    )
    # one key per cluster, one cluster per key
    assert (
        out.select("cluster_id", "beneficiary_key").unique().height == out["cluster_id"].n_unique()
    )
    assert out["beneficiary_key"].n_unique() == out["cluster_id"].n_unique()
    persons = out.with_columns(person_id=ln["person_id"])
    assert (
        persons.group_by("cluster_id")
        .agg(pl.col("person_id").drop_nulls().n_unique())["person_id"]
        .max()
        <= 1
    )
