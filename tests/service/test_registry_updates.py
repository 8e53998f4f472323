"""Registry updates without a restart: a search right after sees them, searches during
updates never fail nor see a half-made registry."""

from __future__ import annotations

import threading
from typing import Any

from registry_link.db.engine import open_database, transaction
from registry_link.db.journal import record_update
from registry_link.db.models import AuditEntry, RegistryUpdate
from tests.service.conftest import Sample, Service, build_index, by_id, by_predicates, envelope


def _new_person(n: int) -> dict[str, str]:
    """A synthetic person not in the sample registry (its own CIN and household)."""
    return {
        "person_id": f"99000000{n:02d}",
        "household_id": f"990000{n:03d}",
        "relation_to_head": "CHEF",
        "cin": f"ZX9{n:05d}",
        "family_name": "Ouazzani Touhami",
        "given_name": "Yasmine",
        "family_name_ar": "الوزاني التهامي",
        "given_name_ar": "ياسمين",
        "sex": "F",
        "birth_date": "1991-04-17",
        "residence": "Fès",
    }


def _first(service: Service, criteria: dict[str, Any]) -> dict[str, Any] | None:
    response = service.client.post(
        "/registry/sync/search", json=envelope(criteria), headers=service.auth()
    )
    assert response.status_code == 200, response.text
    records = response.json()["message"]["search_response"][0]["data"]["reg_records"]
    return records[0] if records else None


def test_added_person_is_found_then_replaced_then_removed(service: Service) -> None:
    person = _new_person(1)
    before = service.client.get("/ready").json()
    assert _first(service, by_id("CIN", person["cin"])) is None
    added = service.client.post(
        "/registry/persons", json={"persons": [person]}, headers=service.auth("writer")
    )
    assert added.status_code == 200, added.text
    assert added.json()["upserted"] == 1
    assert added.json()["registry_records"] == before["registry_records"] + 1
    try:
        found = _first(service, by_id("CIN", person["cin"]))
        assert found is not None and found["person_id"] == person["person_id"]
        by_name = _first(
            service,
            by_predicates(
                family_name_ar=person["family_name_ar"],
                given_name_ar=person["given_name_ar"],
                YOB=1991,
            ),
        )
        assert by_name is not None and by_name["person_id"] == person["person_id"]
        # replaced: the new CIN finds the person, the old one no longer does
        changed = {**person, "cin": "ZX799999"}
        service.client.post(
            "/registry/persons", json={"persons": [changed]}, headers=service.auth("writer")
        )
        assert service.client.get("/ready").json()["registry_records"] == (
            before["registry_records"] + 1
        )
        assert _first(service, by_id("CIN", "ZX799999"))["person_id"] == person["person_id"]  # type: ignore[index]
        old = _first(service, by_id("CIN", person["cin"]))
        assert old is None or old["person_id"] != person["person_id"] or old["decision"] != "match"
    finally:
        removed = service.client.delete(
            f"/registry/persons/{person['person_id']}", headers=service.auth("writer")
        )
    assert removed.status_code == 200
    assert removed.json()["registry_records"] == before["registry_records"]
    assert _first(service, by_id("CIN", "ZX799999")) is None
    again = service.client.delete(
        f"/registry/persons/{person['person_id']}", headers=service.auth("writer")
    )
    assert again.status_code == 404
    with transaction(open_database(service.settings.db_url)) as session:
        actions = [a.action for a in session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions.count("registry.upsert") == 2 and actions.count("registry.remove") == 1


def test_an_unknown_field_in_an_update_is_a_422_naming_it(service: Service) -> None:
    person = {**_new_person(2), "shoe_size": "42"}
    response = service.client.post(
        "/registry/persons", json={"persons": [person]}, headers=service.auth("writer")
    )
    assert response.status_code == 422
    assert "shoe_size" in response.json()["error"]["message"]


def test_concurrent_searches_during_updates(make_service: Any) -> None:
    """Readers search a CIN while a writer adds and removes its person: every answer is a
    200 that either finds the person (added) or does not (removed), never an error."""
    service = make_service(rate_per_second=100_000, rate_burst=100_000)
    persons = [_new_person(10 + i) for i in range(4)]
    errors: list[str] = []
    seen: dict[str, set[bool]] = {p["cin"]: set() for p in persons}
    stop = threading.Event()

    def reader(person: dict[str, str]) -> None:
        while not stop.is_set():
            response = service.client.post(
                "/registry/sync/search",
                json=envelope(by_id("CIN", person["cin"])),
                headers=service.auth(),
            )
            if response.status_code != 200:
                errors.append(response.text)
                return
            records = response.json()["message"]["search_response"][0]["data"]["reg_records"]
            found = any(r["person_id"] == person["person_id"] for r in records)
            seen[person["cin"]].add(found)

    def writer() -> None:
        for _ in range(2):
            for person in persons:
                r = service.client.post(
                    "/registry/persons", json={"persons": [person]}, headers=service.auth("writer")
                )
                if r.status_code != 200:
                    errors.append(r.text)
            for person in persons:
                r = service.client.delete(
                    f"/registry/persons/{person['person_id']}", headers=service.auth("writer")
                )
                if r.status_code != 200:
                    errors.append(r.text)

    readers = [threading.Thread(target=reader, args=(p,)) for p in persons]
    for thread in readers:
        thread.start()
    writing = threading.Thread(target=writer)
    writing.start()
    writing.join(timeout=120)
    stop.set()
    for thread in readers:
        thread.join(timeout=60)
    assert not errors, errors[:3]
    assert all(seen.values())  # every reader got answers
    # after the last remove, none is found
    for person in persons:
        found = _first(service, by_id("CIN", person["cin"]))
        assert found is None or found["person_id"] != person["person_id"]


# ------------------------------------------------------------------ kept across a restart


def _updates_kept(service: Service) -> list[RegistryUpdate]:
    with transaction(open_database(service.settings.db_url)) as session:
        rows = session.query(RegistryUpdate).order_by(RegistryUpdate.id).all()
        session.expunge_all()
    return rows


def test_updates_are_applied_again_after_a_restart(
    make_service: Any, sample: Sample, registry_rows: list[dict[str, str]]
) -> None:
    """Persons added, replaced and removed through the service are still so when it starts
    again on the same extract (before, a restart lost them): the new index replays them."""
    first = make_service(index=build_index(sample))
    size = first.client.get("/ready").json()["registry_records"]
    added, replaced = _new_person(20), {**_new_person(20), "cin": "ZX720000"}
    gone = registry_rows[0]["id_personne"]  # (the sample registry's column of person ids)
    for call in (
        lambda: first.client.post(
            "/registry/persons", json={"persons": [added]}, headers=first.auth("writer")
        ),
        lambda: first.client.post(
            "/registry/persons", json={"persons": [replaced]}, headers=first.auth("writer")
        ),
        lambda: first.client.delete(f"/registry/persons/{gone}", headers=first.auth("writer")),
    ):
        assert call().status_code == 200
    assert [(u.kind, u.record_ids) for u in _updates_kept(first)] == [
        ("upsert", [added["person_id"]]),
        ("upsert", [added["person_id"]]),
        ("remove", [gone]),
    ]

    again = make_service(index=build_index(sample), db_url=first.settings.db_url)
    ready = again.client.get("/ready").json()
    assert ready["updates_replayed"] == 3 and ready["updates_not_replayed"] == 0
    assert ready["registry_records"] == size  # one added, one removed
    found = _first(again, by_id("CIN", "ZX720000"))
    assert found is not None and found["person_id"] == added["person_id"]
    old_cin = _first(again, by_id("CIN", added["cin"]))
    assert old_cin is None or old_cin["person_id"] != added["person_id"]
    assert _first(again, by_id("RNP", gone)) is None


def test_updates_of_another_extract_are_not_applied(make_service: Any, sample: Sample) -> None:
    """An update recorded on another registry extract is left (a new extract is taken to
    include it) and counted in GET /ready."""
    first = make_service(index=build_index(sample))
    person = _new_person(21)
    with transaction(open_database(first.settings.db_url)) as session:
        record_update(session, "0" * 64, "k", "upsert", [person["person_id"]], [person])
    again = make_service(index=build_index(sample), db_url=first.settings.db_url)
    ready = again.client.get("/ready").json()
    assert ready["updates_replayed"] == 0 and ready["updates_not_replayed"] == 1
    assert _first(again, by_id("CIN", person["cin"])) is None


def test_a_refused_update_is_not_kept(service: Service) -> None:
    """An update the index refuses (422) or a removal of an unknown person (404) leaves no
    recorded update to apply again."""
    bad = {**_new_person(22), "shoe_size": "42"}
    refused = service.client.post(
        "/registry/persons", json={"persons": [bad]}, headers=service.auth("writer")
    )
    assert refused.status_code == 422
    unknown = service.client.delete("/registry/persons/0000000000", headers=service.auth("writer"))
    assert unknown.status_code == 404
    assert _updates_kept(service) == []
