"""DCI search over HTTP (in process): by identifier, by predicates, several per envelope,
asynchronously; the answers are the index's."""

from __future__ import annotations

import time
from typing import Any

from tests.service.conftest import (
    Service,
    by_id,
    by_predicates,
    envelope,
    txn_status_envelope,
)


def _person(rows: list[dict[str, str]], n: int = 0) -> dict[str, str]:
    """The n-th registry row with a CIN, Latin and Arabic names and a full birth date."""
    found = [
        r
        for r in rows
        if r["cin"]
        and r["nom"]
        and r["nom_ar"]
        and r["date_naissance"].count("/") == 2
        and not r["date_naissance"].startswith("00")
    ]
    return found[n]


def test_search_by_cin_finds_the_person_first_with_our_extension_fields(
    service: Service, registry_rows: list[dict[str, str]], registry_index: Any
) -> None:
    person = _person(registry_rows)
    response = service.client.post(
        "/registry/sync/search", json=envelope(by_id("CIN", person["cin"])), headers=service.auth()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["header"]["message_id"] == "msg-1"
    assert body["header"]["action"] == "on-search"
    assert body["header"]["status"] == "succ"
    assert body["header"]["receiver_id"] == "cnss.ma"
    assert body["message"]["transaction_id"] == "txn-1"
    (answer,) = body["message"]["search_response"]
    assert answer["reference_id"] == "ref-0"
    assert answer["status"] == "succ"
    first = answer["data"]["reg_records"][0]
    assert first["person_id"] == person["id_personne"]
    assert 0.0 <= first["match_probability"] <= 1.0
    assert first["decision"] in ("match", "review", "non_match")
    assert isinstance(first["bits"], dict) and first["bits"]
    assert first["explanation"] and all(isinstance(line, str) for line in first["explanation"])
    # the same as the library's answer for the same record
    expected = registry_index.search({"cin": person["cin"]}, k=5)
    assert [r["person_id"] for r in answer["data"]["reg_records"]] == [
        c.person_id for c in expected.candidates
    ]
    assert first["match_probability"] == expected.candidates[0].match_probability
    assert answer["data"]["decision"] == expected.decision


def test_search_by_predicates_in_arabic_and_latin_in_one_envelope(
    service: Service, registry_rows: list[dict[str, str]], registry_index: Any
) -> None:
    person = _person(registry_rows, 3)
    day, month, year = person["date_naissance"].split("/")
    arabic = by_predicates(
        family_name_ar=person["nom_ar"], given_name_ar=person["prenom_ar"], YOB=int(year)
    )
    latin = by_predicates(
        surname=person["nom"],
        given_name=person["prenom"],
        DOB=f"{year}-{month}-{day}",
        sex=person["sexe"],
        commune=person["commune_residence"],
    )
    response = service.client.post(
        "/registry/sync/search", json=envelope(arabic, latin), headers=service.auth()
    )
    assert response.status_code == 200, response.text
    answers = response.json()["message"]["search_response"]
    assert [a["reference_id"] for a in answers] == ["ref-0", "ref-1"]
    expected = registry_index.search_many(
        [
            {
                "family_name_ar": person["nom_ar"],
                "given_name_ar": person["prenom_ar"],
                "birth_date": year,
            },
            {
                "family_name": person["nom"],
                "given_name": person["prenom"],
                "birth_date": f"{year}-{month}-{day}",
                "sex": person["sexe"],
                "residence": person["commune_residence"],
            },
        ],
        k=5,
    )
    for answer, result in zip(answers, expected, strict=True):
        assert answer["status"] == "succ"
        got = [(r["person_id"], r["match_probability"]) for r in answer["data"]["reg_records"]]
        assert got == [(c.person_id, c.match_probability) for c in result.candidates]
    assert answers[1]["data"]["reg_records"][0]["person_id"] == person["id_personne"]


def test_page_size_is_the_number_of_candidates(
    service: Service, registry_rows: list[dict[str, str]]
) -> None:
    def records(person: dict[str, str], k: int) -> list[dict[str, Any]]:
        query = by_predicates(
            k=k,
            family_name=person["nom"],
            commune=person["commune_residence"],
            YOB=int(person["date_naissance"][-4:]),
        )
        response = service.client.post(
            "/registry/sync/search", json=envelope(query), headers=service.auth()
        )
        return response.json()["message"]["search_response"][0]["data"]["reg_records"]

    for n in range(50):  # a family, a commune and a year shared by three persons or more
        person = _person(registry_rows, n)
        many = records(person, 50)
        if len(many) >= 3:
            break
    assert len(many) >= 3
    two = records(person, 2)
    assert [r["person_id"] for r in two] == [r["person_id"] for r in many[:2]]


def test_a_query_giving_one_field_twice_is_rejected_alone(
    service: Service, registry_rows: list[dict[str, str]]
) -> None:
    person = _person(registry_rows)
    conflicting = by_predicates(family_name="Alaoui", surname="Bennani")
    response = service.client.post(
        "/registry/sync/search",
        json=envelope(conflicting, by_id("CIN", person["cin"])),
        headers=service.auth(),
    )
    assert response.status_code == 200
    bad, good = response.json()["message"]["search_response"]
    assert bad["status"] == "rjct"
    assert bad["status_reason_code"] == "rjct.search_criteria.invalid"
    assert "family_name" in bad["status_reason_message"]
    assert good["status"] == "succ"


def test_async_search_acknowledges_then_answers_by_transaction_and_job(
    service: Service, registry_rows: list[dict[str, str]]
) -> None:
    person = _person(registry_rows, 7)
    response = service.client.post(
        "/registry/search",
        json=envelope(by_id("CIN", person["cin"]), transaction_id="txn-async"),
        headers=service.auth(),
    )
    assert response.status_code == 202, response.text
    ack = response.json()
    assert ack["header"]["status"] == "rcvd"
    assert ack["message"]["transaction_id"] == "txn-async"
    job_id = ack["message"]["correlation_id"]
    deadline = time.monotonic() + 30
    while True:
        job = service.client.get(f"/jobs/{job_id}", headers=service.auth()).json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    records = job["result"]["message"]["search_response"][0]["data"]["reg_records"]
    assert records[0]["person_id"] == person["id_personne"]
    status = service.client.post(
        "/registry/sync/txn/status",
        json=txn_status_envelope("txn-async"),
        headers=service.auth(),
    )
    assert status.status_code == 200, status.text
    txn = status.json()["message"]["txnstatus_response"]
    assert txn["txn_status"] == "succ"
    assert txn["search_response"][0]["data"]["reg_records"][0]["person_id"] == person["id_personne"]
    # another key does not see this key's transaction
    other = service.client.get(f"/jobs/{job_id}", headers=service.auth("id"))
    assert other.status_code == 404


def test_health_ready_and_openapi(service: Service, registry_index: Any) -> None:
    assert service.client.get("/health").json()["status"] == "ok"
    ready = service.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["registry_records"] == registry_index.size
    schema = service.client.get("/openapi.json").json()
    assert "/registry/sync/search" in schema["paths"]
    assert "/jobs" in schema["paths"]


def test_the_job_store_forgets_the_oldest_finished_jobs(tmp_path: Any, monkeypatch: Any) -> None:
    from registry_link.service import jobs as service_jobs

    store = service_jobs.JobStore(tmp_path)
    try:
        made = [store.submit_search("k", f"t{i}", lambda: {"ok": True}) for i in range(6)]
        deadline = time.monotonic() + 30
        while any(j.finished_at is None for j in made) and time.monotonic() < deadline:
            time.sleep(0.01)
        monkeypatch.setattr(service_jobs, "MAX_JOBS", 6)
        newest = store.submit_search("k", "t-new", lambda: {"ok": True})
        assert store.get(newest.id, "k") is newest
        assert store.get(made[0].id, "k") is None and store.by_transaction("k", "t0") is None
        assert store.get(made[-1].id, "k") is made[-1]
    finally:
        store.shutdown()


def _answer(service: Service, *queries: dict[str, Any]) -> list[dict[str, Any]]:
    response = service.client.post(
        "/registry/sync/search", json=envelope(*queries), headers=service.auth()
    )
    assert response.status_code == 200, response.text
    return list(response.json()["message"]["search_response"])


def test_a_registry_id_is_looked_up_exactly_by_every_name_of_its_type(
    service: Service, registry_rows: list[dict[str, str]]
) -> None:
    person = _person(registry_rows, 11)
    for id_type in ("RNP", "UIN", "IDCS"):
        (answer,) = _answer(service, by_id(id_type, f" {person['id_personne']} "))
        assert answer["status"] == "succ", answer
        (record,) = answer["data"]["reg_records"]
        assert record["person_id"] == person["id_personne"]
        assert record["household_id"] == person["id_menage"]
        assert record["demographic_info"]["family_name"] == person["nom"]
        assert record["decision"] == "match" and answer["data"]["decision"] == "match"
        assert answer["pagination"]["total_count"] == 1
    (nobody,) = _answer(service, by_id("UIN", "0000000001"))
    assert nobody["status"] == "succ"
    assert nobody["data"]["reg_records"] == [] and nobody["data"]["decision"] == "non_match"


def test_a_registry_id_lookup_sees_registry_updates_at_once(make_service: Any, sample: Any) -> None:
    from tests.service.conftest import build_index

    service = make_service(index=build_index(sample))
    added = {"person_id": "9999999977", "family_name": "Lookup", "given_name": "Test"}
    assert _answer(service, by_id("RNP", "9999999977"))[0]["data"]["reg_records"] == []
    upsert = service.client.post(
        "/registry/persons", json={"persons": [added]}, headers=service.auth()
    )
    assert upsert.status_code == 200, upsert.text
    (found,) = _answer(service, by_id("RNP", "9999999977"))[0]["data"]["reg_records"]
    assert found["demographic_info"]["family_name"] == "Lookup"
    service.client.delete("/registry/persons/9999999977", headers=service.auth())
    assert _answer(service, by_id("RNP", "9999999977"))[0]["data"]["reg_records"] == []


def test_cin_lookups_clean_the_value_and_refuse_a_malformed_or_empty_one(
    service: Service, registry_rows: list[dict[str, str]]
) -> None:
    person = _person(registry_rows, 5)
    cin = person["cin"]
    spaced = f" {cin[0].lower()} {cin[1:]} "
    exact, cleaned, malformed, empty, cnss = _answer(
        service,
        by_id("CIN", cin),
        by_id("CIN", spaced),
        by_id("CIN", "12AB"),
        by_id("CIN", "N/A"),
        by_id("CNSS_IMMAT", "12-AB"),
    )
    assert exact["data"]["reg_records"][0]["person_id"] == person["id_personne"]
    assert [r["person_id"] for r in cleaned["data"]["reg_records"]] == [
        r["person_id"] for r in exact["data"]["reg_records"]
    ]
    # every person returned holds that CIN (an identifier lookup, not a near neighbour)
    assert {r["demographic_info"]["cin"] for r in exact["data"]["reg_records"]} == {cin}
    for refused, what in ((malformed, "CIN"), (empty, "CIN"), (cnss, "CNSS_IMMAT")):
        assert refused["status"] == "rjct", refused
        assert refused["status_reason_code"] == "rjct.search_criteria.invalid"
        assert what in refused["status_reason_message"]
    assert "12AB" not in malformed["status_reason_message"]  # the value is not echoed
