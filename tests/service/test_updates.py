"""Recorded registry updates applied again (service/updates.py): grouped, they give what
applying them one by one gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry_link.db.engine import prepare_database, transaction
from registry_link.db.journal import record_update
from registry_link.service.updates import _groups, _Update, replay_updates
from tests.service.conftest import Sample, build_index


def _person(n: int, cin: str) -> dict[str, str]:
    return {
        "person_id": f"98000000{n:02d}",
        "household_id": f"980000{n:03d}",
        "relation_to_head": "CHEF",
        "cin": cin,
        "family_name": "Bennani",
        "given_name": "Salma",
        "sex": "F",
        "birth_date": "1990-02-03",
        "residence": "Rabat",
    }


def _update(n: int, kind: str, *ids: str) -> _Update:
    return _Update(n, kind, ids, ())


def test_groups_are_runs_of_one_kind_without_a_repeated_id() -> None:
    updates = [
        _update(1, "upsert", "a"),
        _update(2, "upsert", "b", "c"),
        _update(3, "upsert", "a"),  # a again: a new group
        _update(4, "remove", "b"),  # another kind: a new group
        _update(5, "remove", "c"),
        _update(6, "upsert", "b"),
    ]
    assert [[u.id for u in g] for g in _groups(updates)] == [[1, 2], [3], [4, 5], [6]]
    assert list(_groups([])) == []


def test_replaying_gives_what_the_requests_gave(
    sample: Sample, registry_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    """The same updates applied one by one (as requests) and replayed from the database
    (grouped) leave the same registry: its size and each touched person's records."""
    removed = [registry_rows[i]["id_personne"] for i in (3, 4)]
    steps: list[tuple[str, list[Any]]] = [
        ("upsert", [_person(1, "ZY100001"), _person(2, "ZY100002")]),
        ("upsert", [_person(3, "ZY100003")]),
        ("upsert", [_person(1, "ZY199999")]),  # person 1 replaced
        ("remove", [removed[0]]),
        ("remove", [_person(2, "")["person_id"]]),
        ("upsert", [_person(2, "ZY200002")]),  # person 2 back
        ("remove", [removed[1]]),
    ]
    by_requests, replayed = build_index(sample), build_index(sample)
    sessions = prepare_database(f"sqlite:///{tmp_path / 'updates.db'}")
    for kind, items in steps:
        if kind == "upsert":
            by_requests.upsert(items)
            ids = [p["person_id"] for p in items]
        else:
            by_requests.remove(items)
            ids = items
        with transaction(sessions) as session:
            record_update(session, "x" * 64, "k", kind, ids, items if kind == "upsert" else [])
    with transaction(sessions) as session:  # another extract's: not applied
        record_update(session, "y" * 64, "k", "remove", [registry_rows[5]["id_personne"]])

    outcome = replay_updates(replayed, sessions, "x" * 64)

    assert (outcome.applied, outcome.refused, outcome.other_extracts) == (len(steps), 0, 1)
    assert replayed.size == by_requests.size
    touched = [*removed, registry_rows[5]["id_personne"], *(f"98000000{n:02d}" for n in (1, 2, 3))]
    for person_id in touched:
        assert replayed.get(person_id) == by_requests.get(person_id), person_id
    assert [r["cin"] for r in replayed.get("9800000001")] == ["ZY199999"]
    assert replayed.get(removed[0]) == [] and replayed.get(registry_rows[5]["id_personne"])
