"""The registry index: updates seen by the next search, snapshots under concurrent updates,
query errors, and a registry record searched by its own fields finds itself first."""

from __future__ import annotations

import threading

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.errors import QueryError, UsageError
from registry_link.search import RegistryIndex
from tests.search.conftest import Sample

#: A registry record's raw fields as a partner row would give them (display forms).
_AS_QUERY = {
    "cin": "cin",
    "family_name": "family_name",
    "given_name": "given_name",
    "family_name_ar": "family_name_ar",
    "given_name_ar": "given_name_ar",
    "sex": "sex",
    "birth_date": "birth_date_raw",
    "birth_place": "birth_place_raw",
    "residence": "residence_raw",
    "father_given_name": "father_given_name",
}

#: The registry settings read dates as dd/mm/yyyy (or a year alone): queries made of
#: registry rows are read with them.
_NEW_PERSON = {
    "person_id": "9000000001",
    "household_id": "8000000001",
    "family_name": "Zerhouni",
    "given_name": "Ilyass",
    "family_name_ar": "الزرهوني",
    "given_name_ar": "إلياس",
    "sex": "M",
    "birth_date": "1987-03-14",
    "residence": "Fès",
    "cin": "ZZ998877",
}


def _query(row: dict[str, object]) -> dict[str, object]:
    return {q: row[c] for q, c in _AS_QUERY.items() if row.get(c) is not None}


@pytest.fixture()
def fresh(sample: Sample) -> RegistryIndex:
    """An index of its own (the tests update it)."""
    return sample.linker.index(sample.registry, sample.result.model)


def test_upsert_then_search_finds_the_new_person(fresh: RegistryIndex) -> None:
    query = {k: v for k, v in _NEW_PERSON.items() if k not in ("person_id", "household_id")}
    before = fresh.search(query)
    assert all(c.person_id != "9000000001" for c in before.candidates)
    size, version = fresh.size, fresh.version
    assert fresh.upsert([_NEW_PERSON]) == 1
    assert (fresh.size, fresh.version) == (size + 1, version + 1)
    after = fresh.search(query)
    assert after.decision == "match"
    best = after.candidates[0]
    assert (best.person_id, best.household_id) == ("9000000001", "8000000001")
    assert best.fields["given_name"] == "Ilyass"
    assert best.bits["cin"] > 0 and any("CIN" in line for line in best.explanation)


def test_upsert_replaces_a_record_with_the_same_id(fresh: RegistryIndex) -> None:
    fresh.upsert([_NEW_PERSON])
    size = fresh.size
    moved = {**_NEW_PERSON, "residence": "Oujda", "cin": "ZZ112233"}
    assert fresh.upsert([moved]) == 1
    assert fresh.size == size  # replaced, not added
    found = fresh.search({"cin": "ZZ112233", "given_name": "Ilyass", "family_name": "Zerhouni"})
    assert found.candidates[0].person_id == "9000000001"
    assert found.candidates[0].fields["residence_raw"] == "Oujda"
    old = fresh.search({"cin": "ZZ998877"})
    assert all(c.person_id != "9000000001" for c in old.candidates)


def test_remove_then_search_no_longer_finds_the_person(
    fresh: RegistryIndex, sample: Sample
) -> None:
    row = sample.registry.filter(pl.col("cin").is_not_null()).row(7, named=True)
    query = _query(row)
    assert fresh.search(query).candidates[0].record_id == row["record_id"]
    size = fresh.size
    assert fresh.remove([row["record_id"], "no-such-id"]) == 1
    assert fresh.size == size - 1
    assert all(c.record_id != row["record_id"] for c in fresh.search(query).candidates)
    assert fresh.remove([row["record_id"]]) == 0  # already gone: no new version
    assert fresh.version == 1


def test_upsert_accepts_a_standardised_frame(fresh: RegistryIndex, sample: Sample) -> None:
    row = sample.registry.filter(pl.col("cin").is_not_null()).slice(3, 1)
    fresh.remove(row["record_id"].to_list())
    assert fresh.upsert(row) == 1
    found = fresh.search(_query(row.row(0, named=True)))
    assert found.candidates[0].record_id == row["record_id"][0]


def test_readers_during_updates_see_one_snapshot_or_the_next(fresh: RegistryIndex) -> None:
    # a writer adds and removes one person over and over; readers search for them: each
    # search sees the person (fully: found as the best match) or not at all, never a torn
    # state (e.g. in the blocking tables but not in the registry frame)
    query = {k: v for k, v in _NEW_PERSON.items() if k not in ("person_id", "household_id")}
    seen: list[tuple[bool, bool]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                result = fresh.search(query)
                here = any(c.person_id == "9000000001" for c in result.candidates)
                whole = bool(result.candidates) and result.candidates[0].person_id == "9000000001"
                seen.append((here, whole and result.decision == "match"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for _ in range(6):
            fresh.upsert([_NEW_PERSON])
            fresh.remove(["9000000001"])
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors[0]
    assert seen
    # found: then fully (the best candidate, matched); and both states were seen
    assert all(whole for here, whole in seen if here)
    assert fresh.version == 12


def test_unknown_field_is_a_query_error_naming_it(sample: Sample) -> None:
    with pytest.raises(QueryError) as info:
        sample.index.search({"given_name": "Amina", "prenom": "Amina"})
    message = str(info.value)
    assert "'prenom'" in message and "given_name" in message and "birth_date" in message
    assert isinstance(info.value, UsageError)
    with pytest.raises(QueryError, match="holds a list"):
        sample.index.search({"given_name": ["Amina"]})
    with pytest.raises(QueryError, match="unknown field 'household_id'"):
        sample.index.search({"given_name": "Amina", "household_id": "H1"})


def test_search_gives_k_candidates_best_first(sample: Sample) -> None:
    row = sample.registry.filter(pl.col("given_name").is_not_null()).row(11, named=True)
    query = {"given_name": row["given_name"], "family_name": row["family_name"]}
    query["birth_date"] = row["birth_date_raw"]
    result = sample.index.search(query, k=3)
    assert 1 <= len(result.candidates) <= 3
    probs = [c.match_probability for c in result.candidates]
    assert probs == sorted(probs, reverse=True)
    with pytest.raises(QueryError, match="k must be"):
        sample.index.search(query, k=0)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(row_number=st.integers(min_value=0, max_value=49_999))
def test_a_registry_record_searched_by_its_own_fields_is_found_first(
    sample: Sample, row_number: int
) -> None:
    registry = sample.registry
    row = registry.row(row_number % registry.height, named=True)
    result = sample.index.search(_query(row), settings=sample.settings_registry)
    assert result.candidates
    best = result.candidates[0]
    # found first: the record itself, or a record with the very same fields (tied first)
    if best.record_id != row["record_id"]:
        twin = registry.filter(pl.col("record_id") == best.record_id).row(0, named=True)
        assert _query(twin) == _query(row)
    else:
        assert best.person_id == row["person_id"]


def test_records_of_one_search_need_distinct_ids(sample: Sample) -> None:
    with pytest.raises(QueryError, match="record_id 'a' is given to 2 records"):
        sample.index.search_many(
            [{"record_id": "a", "given_name": "Amina"}, {"record_id": "a", "given_name": "Said"}]
        )


def test_nbytes_grows_with_the_registry(sample: Sample) -> None:
    small = sample.linker.index(sample.registry.head(5000), sample.result.model)
    assert 0 < small.nbytes < sample.index.nbytes
    assert sample.index.nbytes > sample.registry.estimated_size()  # plus the key tables


def test_get_gives_the_registry_records_of_one_person(fresh: RegistryIndex, sample: Sample) -> None:
    registry = sample.registry
    person = registry.filter(pl.col("person_id").is_not_null())["person_id"][17]
    got = fresh.get(person)
    want = registry.filter(pl.col("person_id") == person)
    assert len(got) == want.height >= 1
    assert sorted(r["record_id"] for r in got) == sorted(want["record_id"].to_list())
    assert all(r["person_id"] == person and "household_id" in r for r in got)
    assert fresh.get("no-such-person") == []
    # kept up to date by upsert and remove
    assert fresh.get("9000000001") == []
    fresh.upsert([_NEW_PERSON])
    assert [r["given_name"] for r in fresh.get("9000000001")] == ["Ilyass"]
    fresh.remove(["9000000001"])
    assert fresh.get("9000000001") == []


def test_the_person_the_decision_names_comes_first(fresh: RegistryIndex) -> None:
    """The record carries her husband's CIN: he has the higher probability, but the
    relative-identifier rule decides for her, and she is the first candidate, with the
    record's decision; he follows, for a reviewer to see."""
    husband = {
        "person_id": "9000000001",
        "household_id": "8000000001",
        "family_name": "Zerhouni",
        "given_name": "Ilyass",
        "sex": "M",
        "birth_date": "1990-05-02",
        "residence": "Fès",
        "cin": "ZZ998877",
    }
    wife = {
        **husband,
        "person_id": "9000000002",
        "given_name": "Salma",
        "sex": "F",
        "birth_date": "1990",
        "cin": "ZZ551122",
    }
    fresh.upsert([husband, wife])
    found = fresh.search(
        {
            "family_name": "Zerhouni",
            "given_name": "Salma",
            "sex": "F",
            "birth_date": "1990-05-02",
            "residence": "Fès",
            "cin": "ZZ998877",
        }
    )
    assert found.decision == "match"
    assert "identifier of a relative" in found.reason
    first, second = found.candidates[:2]
    assert (first.person_id, first.decision) == ("9000000002", "match")
    assert second.person_id == "9000000001" and second.decision == "review"
    assert second.match_probability > first.match_probability


def test_rows_are_gathered_from_the_registry_and_each_upsert(
    fresh: RegistryIndex, sample: Sample
) -> None:
    # the registry is kept in one chunk per part (as built, then each upsert's records):
    # rows are gathered part by part, the same rows as from the whole frame
    rows = sample.registry.slice(10, 3)
    fresh.remove(rows["record_id"].to_list())
    fresh.upsert(rows.slice(0, 1))
    fresh.upsert(rows.slice(1, 2))
    snap = fresh._snapshot
    assert len(snap.starts) == 3
    height = snap.registry.height
    for picked in ([0, 5, height - 3, height - 2, height - 1], [height - 1], [7, 8], []):
        at = np.asarray(picked, dtype=np.uint32)
        assert snap.gather(at).equals(snap.registry[at])
    found = fresh.get(str(rows["person_id"][2]))
    assert [r["record_id"] for r in found] == [rows["record_id"][2]]
