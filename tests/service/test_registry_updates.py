"""Registry updates without a restart: a search right after sees them, searches during
updates never fail nor see a half-made registry."""

from __future__ import annotations

import threading
from typing import Any

from registry_link.db.engine import open_database, transaction
from registry_link.db.models import AuditEntry
from tests.service.conftest import Service, by_id, by_predicates, envelope


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
