"""Every search leaves an append-only audit row; no personal data reaches the logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import delete, text, update

from registry_link.db.access import AuditTamperingError, criteria_digest, search_audit
from registry_link.db.engine import DatabaseError, open_database, transaction
from registry_link.db.models import SearchAuditEntry
from tests.service.conftest import Service, by_id, by_predicates, envelope


def _person(rows: list[dict[str, str]]) -> dict[str, str]:
    return next(r for r in rows if r["cin"] and r["nom"] and r["nom_ar"])


def test_every_query_is_audited_with_who_what_and_which_persons(
    service: Service, registry_rows: list[dict[str, str]]
) -> None:
    person = _person(registry_rows)
    by_name = by_predicates(family_name_ar=person["nom_ar"], given_name_ar=person["prenom_ar"])
    conflicting = by_predicates(family_name="A", surname="B")
    response = service.client.post(
        "/registry/sync/search",
        json=envelope(by_id("CIN", person["cin"]), by_name, conflicting),
        headers=service.auth("all"),
    )
    answers = response.json()["message"]["search_response"]
    with transaction(open_database(service.settings.db_url)) as session:
        rows = search_audit(session)
    assert len(rows) == 3
    assert {r.partner for r in rows} == {"partner-all"}
    assert [r.reference_id for r in rows] == ["ref-0", "ref-1", "ref-2"]
    assert [r.query_type for r in rows] == ["idtype-value", "predicate", "predicate"]
    assert rows[0].criteria_fields == ["CIN"]
    assert rows[1].criteria_fields == ["family_name_ar", "given_name_ar"]
    assert rows[0].criteria_sha256 == criteria_digest({"type": "CIN", "value": person["cin"]})
    for row, answer in zip(rows, answers, strict=True):
        returned = [r["person_id"] for r in answer.get("data", {}).get("reg_records", [])]
        assert row.person_ids == returned
        assert row.status == answer["status"]
        assert row.message_id == "msg-1" and row.transaction_id == "txn-1"
    assert rows[2].status == "rjct" and rows[2].person_ids == []
    # the criteria values are not in the audit table
    stored = " ".join(str(v) for r in rows for v in vars(r).values())
    for value in (person["cin"], person["nom_ar"], person["prenom_ar"]):
        assert value not in stored


def test_refused_requests_are_not_answered_nor_audited(service: Service) -> None:
    body = envelope(by_predicates(family_name="Alaoui", given_name="Mohamed"))
    assert (
        service.client.post(
            "/registry/sync/search", json=body, headers=service.auth("id")
        ).status_code
        == 403
    )
    with transaction(open_database(service.settings.db_url)) as session:
        assert search_audit(session) == []


def test_the_audit_refuses_updates_and_deletes(make_service: Any, db_url: str) -> None:
    """On SQLite and PostgreSQL (``db_url``: tests/conftest.py)."""
    service = make_service(db_url=db_url)
    service.client.post(
        "/registry/sync/search", json=envelope(by_id("CIN", "AB123456")), headers=service.auth()
    )
    factory = open_database(service.settings.db_url)
    with pytest.raises(AuditTamperingError), transaction(factory) as session:
        row = search_audit(session)[0]
        row.person_ids = ["someone else"]
    with pytest.raises(AuditTamperingError), transaction(factory) as session:
        session.delete(search_audit(session)[0])
    with pytest.raises(AuditTamperingError), transaction(factory) as session:
        session.execute(delete(SearchAuditEntry))
    with pytest.raises(AuditTamperingError), transaction(factory) as session:
        session.execute(update(SearchAuditEntry).values(partner="x"))
    # below the repository, the database's triggers refuse too
    with pytest.raises(DatabaseError, match="append-only"), transaction(factory) as session:
        session.execute(text("DELETE FROM search_audit"))
    with pytest.raises(DatabaseError, match="append-only"), transaction(factory) as session:
        session.execute(text("UPDATE search_audit SET partner = 'x'"))
    with transaction(factory) as session:
        assert len(search_audit(session)) == 1
        assert search_audit(session)[0].partner == "partner-all"


def test_no_name_nor_identifier_in_the_logs(
    service: Service, registry_rows: list[dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    persons = [r for r in registry_rows if r["cin"] and r["nom"] and r["nom_ar"]][:5]
    caplog.set_level(logging.DEBUG)
    for person in persons:
        queries = [
            by_id("CIN", person["cin"]),
            by_predicates(surname=person["nom"], given_name=person["prenom"]),
            by_predicates(family_name_ar=person["nom_ar"], given_name_ar=person["prenom_ar"]),
        ]
        service.client.post(
            "/registry/sync/search", json=envelope(*queries), headers=service.auth()
        )
        service.client.post(
            "/registry/sync/search", json=envelope(*queries), headers=service.auth("id")
        )  # refused: 403
        bad = envelope(by_id("CIN", person["cin"]))
        bad["header"]["message_ts"] = person["nom"]  # a name where a time should be: 422
        service.client.post("/registry/sync/search", json=bad, headers=service.auth())
        service.client.delete(f"/registry/persons/{person['id_personne']}x", headers=service.auth())
    # (httpx and httpcore log on the test's client side: the service does not use them)
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "registry_link.service" in logged  # the service did log its requests
    for person in persons:
        for value in (
            person["cin"],
            person["nom"],
            person["prenom"],
            person["nom_ar"],
            person["prenom_ar"],
            person["id_personne"],
        ):
            assert value not in logged, value


def test_an_unexpected_failure_is_a_json_500_without_its_message(
    make_service: Any, caplog: pytest.LogCaptureFixture, registry_index: Any
) -> None:
    service = make_service()

    class Broken:
        size, version = 1, 1

        def search(self, record: Any, k: int = 5) -> Any:
            raise RuntimeError(f"secret {record}")

        def search_many(self, records: Any, k: int = 5) -> Any:  # what the service calls
            raise RuntimeError(f"secret {records}")

    service.client.app.state.service.holder.index = Broken()  # type: ignore[attr-defined]
    caplog.set_level(logging.DEBUG)
    response = service.client.post(
        "/registry/sync/search", json=envelope(by_id("CIN", "ZZ998877")), headers=service.auth()
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "ZZ998877" not in response.text and "secret" not in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "ZZ998877" not in logged
