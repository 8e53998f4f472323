"""Tests of registry_link.households.build on a small hand-made registry and partner lists."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.errors import UsageError
from registry_link.households.build import (
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_FLAGS,
    build_households,
    describe_flags,
    flag_counts,
    links_with_roles,
    with_flags,
)

# Registry: household H1 = head 100 (man), spouse 101, children 102, 103;
# household H2 = head 200, spouse 201; household H3 = head 300 (child 102's married sister 301).
REGISTRY = pl.DataFrame(
    {
        "person_id": ["100", "101", "102", "103", "200", "201", "300", "301"],
        "household_id": ["H1", "H1", "H1", "H1", "H2", "H2", "H3", "H3"],
        "relation_to_head": [
            "head",
            "spouse",
            "child",
            "child",
            "head",
            "spouse",
            "head",
            "spouse",
        ],
    }
)

# (source, record_id, relationship, principal_record_id, decision, person_id, beneficiary_key)
ROWS = [
    # list a: worker w1 (=100) declares spouse 101, child 102, and 201 as "child" (wrong) ...
    ("a", "w1", "principal", None, "match", "100", "P100"),
    ("a", "d1", "spouse", "w1", "match", "101", "P101"),
    ("a", "d2", "child", "w1", "match", "102", "P102"),
    ("a", "d3", "child", "w1", "match", "103", "P103"),
    ("a", "d4", "spouse", "w1", "match", "301", "P301"),  # a spouse from another household
    ("a", "d5", "child", "w1", "non_match", None, "Bxxx"),  # not in the registry
    # list a: worker w2 (=200) declares child 102 too, and a spouse awaiting review
    ("a", "w2", "principal", None, "match", "200", "P200"),
    ("a", "e1", "child", "w2", "match", "102", "P102"),
    ("a", "e2", "spouse", "w2", "review", "201", "Byyy"),
    # list a: a dependant whose worker is not in the list
    ("a", "z1", "child", "w9", "non_match", None, "Bzzz"),
    ("a", "z2", "child", "w9", "non_match", None, "Bzz2"),
    # list b: the same worker 100 again, declaring the same child 103 (not a conflict),
    # and wife 101 declared as his "child" (relationship mismatch)
    ("b", "W1", "principal", None, "match", "100", "P100"),
    ("b", "D1", "child", "W1", "match", "103", "P103"),
    ("b", "D2", "child", "W1", "match", "101", "P101"),
    # list b: a worker not in the registry with an unmatched dependant
    ("b", "W2", "principal", None, "non_match", None, "Bw2"),
    ("b", "D3", "spouse", "W2", "non_match", None, "Bd3"),
]


def frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    cols = [
        "source",
        "record_id",
        "relationship",
        "principal_record_id",
        "decision",
        "person_id",
        "beneficiary_key",
    ]
    base = pl.DataFrame(ROWS, schema=dict.fromkeys(cols, pl.Utf8), orient="row")
    left = base.select("source", "record_id", "relationship", "principal_record_id")
    links = base.select("source", "record_id", "person_id", "decision")
    clusters = base.select("source", "record_id", "beneficiary_key")
    return left, links, clusters


@pytest.fixture(scope="module")
def households() -> pl.DataFrame:
    left, links, clusters = frames()
    return build_households(left, links, clusters, REGISTRY)


def row(h: pl.DataFrame, source: str, rid: str) -> dict:
    return h.filter((pl.col("source") == source) & (pl.col("record_id") == rid)).row(0, named=True)


def test_one_row_per_partner_record_in_order(households) -> None:
    left, _, _ = frames()
    assert households.columns == list(HOUSEHOLD_COLUMNS)
    assert households.select("source", "record_id").equals(left.select("source", "record_id"))
    assert households.schema["flags"] == pl.List(pl.Utf8)


@pytest.mark.parametrize(
    ("source", "rid", "key", "reg_hh", "role", "person"),
    [
        ("a", "w1", "HH1", "H1", "principal", "100"),
        ("a", "d1", "HH1", "H1", "spouse", "101"),
        ("a", "d5", "HH1", "H1", "child", None),
        ("b", "W1", "HH1", "H1", "principal", "100"),  # same worker, other list: one household
        ("a", "w2", "HH2", "H2", "principal", "200"),
        ("a", "e2", "HH2", "H2", "spouse", None),  # review: no person yet
        ("b", "W2", "HBw2", None, "principal", None),  # not in the registry: worker's key
        ("b", "D3", "HBw2", None, "spouse", None),
    ],
)
def test_keys_registry_household_roles(households, source, rid, key, reg_hh, role, person):
    r = row(households, source, rid)
    assert (r["household_key"], r["registry_household_id"], r["role"], r["person_id"]) == (
        key,
        reg_hh,
        role,
        person,
    )


@pytest.mark.parametrize(
    ("source", "rid", "expected"),
    [
        ("a", "w1", []),
        ("a", "d1", []),
        ("a", "d3", []),  # 103 declared by the same worker in two lists: no conflict
        ("b", "D1", []),
        ("a", "d2", ["dependant_declared_twice", "person_in_two_households"]),
        (
            "a",
            "e1",
            [
                "dependant_declared_twice",
                "person_in_two_households",
                "member_in_other_registry_household",  # 102 lives in H1, not in w2's H2
            ],
        ),
        ("a", "d4", ["spouse_in_other_registry_household"]),
        ("a", "d5", ["member_not_in_registry"]),
        ("a", "e2", ["member_awaiting_review"]),
        ("a", "z1", ["member_not_in_registry", "principal_missing"]),
        ("b", "D2", ["relationship_mismatch"]),
        ("b", "W2", ["member_not_in_registry"]),
    ],
)
def test_flags(households, source, rid, expected) -> None:
    assert row(households, source, rid)["flags"] == expected


def test_dependants_of_a_missing_worker_share_one_stable_household(households) -> None:
    z1, z2 = row(households, "a", "z1"), row(households, "a", "z2")
    assert z1["household_key"] == z2["household_key"]
    assert z1["household_key"].startswith("HM") and len(z1["household_key"]) == 14
    left, links, clusters = frames()
    again = build_households(left.reverse(), links, clusters, REGISTRY)
    assert row(again, "a", "z1")["household_key"] == z1["household_key"]


def test_majority_vote_ties_go_to_the_workers_household() -> None:
    reg = pl.DataFrame(
        {
            "person_id": ["1", "2", "3", "4"],
            "household_id": ["X", "Y", "Y", "X"],
            "relation_to_head": ["head", "head", "child", "spouse"],
        }
    )
    left = pl.DataFrame(
        {
            "source": ["a"] * 4,
            "record_id": ["w", "c1", "c2", "s"],
            "relationship": ["principal", "child", "child", "spouse"],
            "principal_record_id": [None, "w", "w", "w"],
        }
    )
    links = left.select("source", "record_id").with_columns(
        person_id=pl.Series(["1", "2", "3", "4"]), decision=pl.lit("match")
    )
    clusters = links.select("source", "record_id", beneficiary_key="person_id")
    h = build_households(left, links, clusters, reg)
    assert set(h["registry_household_id"].to_list()) == {"X"}  # 2 in X, 2 in Y, worker in X
    # three members in Y now: the majority wins over the worker's own household
    links3 = links.with_columns(person_id=pl.Series(["1", "2", "3", "3"]))
    h3 = build_households(
        left, links3, links3.select("source", "record_id", beneficiary_key=pl.col("record_id")), reg
    )
    assert set(h3["registry_household_id"].to_list()) == {"Y"}


def test_flag_descriptions_and_counts(households) -> None:
    assert set(describe_flags(["principal_missing"]).split("; ")) == {
        HOUSEHOLD_FLAGS["principal_missing"]
    }
    assert describe_flags(None) == ""
    counts = flag_counts(households)
    assert set(counts) == set(HOUSEHOLD_FLAGS)
    assert counts["dependant_declared_twice"] == 2
    assert counts["member_not_in_registry"] == 5


def test_missing_column_is_a_usage_error() -> None:
    left, links, clusters = frames()
    with pytest.raises(UsageError, match="principal_record_id"):
        build_households(left.drop("principal_record_id"), links, clusters, REGISTRY)


def test_links_carry_each_records_role_and_principal(households) -> None:
    left, links, _ = frames()
    shuffled = links.reverse()  # links in any order: roles follow the record, not the row
    out = links_with_roles(shuffled, left)
    assert out.columns[:4] == ["source", "record_id", "role", "principal_record_id"]
    assert out.height == shuffled.height
    assert out.select("source", "record_id").equals(shuffled.select("source", "record_id"))
    roles = {
        (r["source"], r["record_id"]): (r["role"], r["principal_record_id"])
        for r in out.rows(named=True)
    }
    assert roles[("a", "w1")] == ("principal", None)
    assert roles[("a", "d1")] == ("spouse", "w1")
    assert roles[("b", "D3")] == ("spouse", "W2")
    # the same role as the households give each member
    by_household = {(r["source"], r["record_id"]): r["role"] for r in households.rows(named=True)}
    assert {k: v[0] for k, v in roles.items()} == by_household


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.lists(st.sampled_from([True, False, None]), min_size=3, max_size=3)),
)
def test_flags_are_the_names_of_the_conditions_that_hold_in_order(rows) -> None:
    """``with_flags`` (one packed integer per row, each spelt once) gives what a list of the
    holding conditions' names per row gives: a null condition does not hold, none an empty list."""
    frame = pl.DataFrame(
        {f"c{i}": [r[i] for r in rows] for i in range(3)},
        schema={f"c{i}": pl.Boolean for i in range(3)},
    ).with_row_index("row")
    names = ["zeta", "alpha", "mid"]  # (their order, not the alphabet's)
    got = with_flags(frame, {n: pl.col(f"c{i}") for i, n in enumerate(names)})
    assert got.columns == [*frame.columns, "flags"]
    assert got.schema["flags"] == pl.List(pl.Utf8)
    assert got["row"].to_list() == list(range(len(rows)))
    assert got["flags"].to_list() == [[n for n, c in zip(names, r, strict=True) if c] for r in rows]
