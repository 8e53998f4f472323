"""Blocking for one record at a time: all rules' keys hashed at once (``lookup_all``) find the
pairs each rule's own look-up finds, and those share the rule's key."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link import load_standardised
from registry_link.block.candidates import BlockingRule
from registry_link.search import RegistryIndex, blocks
from registry_link.search.blocks import KeyHashes, build_table, lookup, lookup_all, lookup_key
from tests.search.conftest import CONFIGS, LISTS, Sample


@pytest.mark.parametrize("name", list(LISTS))
def test_lookup_all_finds_what_each_rule_finds(sample: Sample, name: str) -> None:
    rules = sample.index.settings.blocking_rules
    tables = [build_table(sample.registry, rule) for rule in rules]
    query = load_standardised(LISTS[name], CONFIGS / f"{name}.yaml").frame.head(400)
    every = lookup_all(tables, query, KeyHashes())
    assert sum(hit.left.size for hit in every) > 400  # not vacuous
    for table, hit in zip(tables, every, strict=True):
        alone = lookup(table, query)
        pairs = np.stack([hit.left, hit.right], axis=1)
        expected = np.stack([alone.left, alone.right], axis=1)
        assert np.array_equal(np.unique(pairs, axis=0), np.unique(expected, axis=0)), table.rule
        assert np.array_equal(np.sort(hit.skipped), np.sort(alone.skipped))
        # each pair shares the rule's key (no hash collision on the sample)
        if hit.left.size and not table.rule.near:
            cols = [c for c in table.rule.columns if not isinstance(query.schema[c], pl.List)]
            left = query.select(cols)[hit.left]
            right = sample.registry.select(cols)[hit.right]
            assert left.equals(right), table.rule


def test_lookup_all_of_one_record_or_none(sample: Sample) -> None:
    # a search's query is one record (its list keys and near buckets spelt out alone)
    rules = sample.index.settings.blocking_rules
    tables = [build_table(sample.registry, rule) for rule in rules]
    frame = load_standardised(
        LISTS["partner_ordre_fullname"], CONFIGS / "partner_ordre_fullname.yaml"
    )
    found = 0
    for i in range(0, 300, 10):
        query = frame.frame.slice(i, 1)
        for table, hit in zip(tables, lookup_all(tables, query, KeyHashes()), strict=True):
            alone = lookup(table, query)
            assert np.array_equal(np.sort(hit.right), np.sort(alone.right)), table.rule
            assert np.array_equal(hit.skipped, alone.skipped)
            found += hit.right.size
    assert found > 30
    empty = lookup_all(tables, frame.frame.head(0), KeyHashes())
    assert [hit.left.size for hit in empty] == [0] * len(tables)
    assert lookup_all([], frame.frame.head(1), KeyHashes()) == []


_ID_RULE = BlockingRule("__ids", ("id",))
_IDS = pl.DataFrame({"id": ["a", "b", "b", None, "c1", "", "é", "10", "1"]})
_ID_TABLE = build_table(_IDS, _ID_RULE)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.sampled_from(["a", "b", "c1", "", "é", "10", "1", "c"]), st.text(max_size=6)))
def test_lookup_key_finds_what_lookup_finds(value: str) -> None:
    # one key hashed on its own (get's look-up) is the key lookup hashes in a query frame
    alone = lookup_key(_ID_TABLE, (value,), (pl.Utf8(),))
    query = pl.DataFrame({"id": [value]}, schema={"id": pl.Utf8})
    expected = lookup(_ID_TABLE, query)
    assert np.array_equal(np.sort(alone.right), np.sort(expected.right))
    assert np.array_equal(alone.left, expected.left)
    assert sorted(alone.right.tolist()) == [i for i, v in enumerate(_IDS["id"]) if v == value]


def test_lookup_key_of_a_null_key_finds_nothing() -> None:
    assert lookup_key(_ID_TABLE, (None,), (pl.Utf8(),)).right.size == 0


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picks=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=4),
    name=st.sampled_from(list(LISTS)),
)
def test_kept_key_hashes_find_what_hashing_finds(
    sample: Sample, monkeypatch: pytest.MonkeyPatch, picks: list[int], name: str
) -> None:
    # a query whose keys were all hashed before is looked up from the kept hashes, with no
    # polars call: the same pairs as hashing them (and as each rule's own look-up)
    rules = sample.index.settings.blocking_rules
    tables = [build_table(sample.registry, rule) for rule in rules]
    frame = _partner_frame(name)
    query = frame[[p % frame.height for p in picks]]
    memo = KeyHashes()  # (per example: hypothesis runs many in one test)
    hashed = lookup_all(tables, query, memo)
    assert len(memo) or all(hit.left.size == 0 for hit in hashed)
    with monkeypatch.context() as patch:

        def no_polars(*args: object) -> None:
            raise AssertionError("every key is kept: no polars call")

        patch.setattr(blocks, "_hashed", no_polars)
        kept = lookup_all(tables, query, memo)
    for table, a, b in zip(tables, hashed, kept, strict=True):
        alone = lookup(table, query)
        for hit in (a, b):
            pairs = np.unique(np.stack([hit.left, hit.right], axis=1), axis=0)
            want = np.unique(np.stack([alone.left, alone.right], axis=1), axis=0)
            assert np.array_equal(pairs, want), table.rule
            assert np.array_equal(np.sort(hit.skipped), np.sort(alone.skipped))


_PARTNERS: dict[str, pl.DataFrame] = {}


def _partner_frame(name: str) -> pl.DataFrame:
    if name not in _PARTNERS:
        _PARTNERS[name] = load_standardised(LISTS[name], CONFIGS / f"{name}.yaml").frame
    return _PARTNERS[name]


def test_key_hashes_are_kept_per_index_and_bounded(sample: Sample) -> None:
    # each index keeps its own key hashes (two indexes in one process share none), at most
    # its bound; past it, new keys are hashed (same pairs) and not kept
    rules = sample.index.settings.blocking_rules
    tables = [build_table(sample.registry, rule) for rule in rules]
    query = _partner_frame("partner_chambre_fr").head(30)
    one, other, small = KeyHashes(), KeyHashes(), KeyHashes(limit=5)
    found = lookup_all(tables, query, one)
    assert len(one) > 5 and len(other) == 0
    bounded = lookup_all(tables, query, small)
    assert len(small) == 5
    assert len(lookup_all(tables, query.head(1), small)) == len(tables)
    assert len(small) == 5
    for a, b in zip(found, bounded, strict=True):
        assert np.array_equal(a.left, b.left) and np.array_equal(a.right, b.right)


def test_two_indexes_keep_their_own_key_hashes(sample: Sample) -> None:
    first = RegistryIndex(sample.index.settings, sample.index.model, sample.registry)
    second = RegistryIndex(sample.index.settings, sample.index.model, sample.registry)
    first.search_frame(_partner_frame("partner_coop_ar").head(3))
    assert len(first._key_hashes) > 0
    assert len(second._key_hashes) == 0
