"""Keys, scopes, limits and refusals: every refusal is JSON, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from registry_link.cli import cli
from registry_link.db.engine import open_database, transaction
from registry_link.db.models import ApiKey
from tests.service.conftest import Service, by_id, by_predicates, envelope


def _search(service: Service, body: dict[str, Any], key: str | None = "all") -> Any:
    headers = service.auth(key) if key else {}
    return service.client.post("/registry/sync/search", json=body, headers=headers)


def test_no_key_or_a_wrong_key_is_401(service: Service) -> None:
    body = envelope(by_id("CIN", "AB123456"))
    missing = _search(service, body, key=None)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "auth.missing"
    wrong = service.client.post(
        "/registry/sync/search", json=body, headers={"Authorization": "Bearer rlk_00_nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "auth.invalid"


def test_scopes_are_enforced(service: Service) -> None:
    demographic = envelope(by_predicates(family_name="Alaoui", given_name="Mohamed"))
    refused = _search(service, demographic, key="id")
    assert refused.status_code == 403
    assert "search:demographic" in refused.json()["error"]["message"]
    assert _search(service, demographic, key="demographic").status_code == 200
    assert (
        _search(service, envelope(by_id("CIN", "AB123456")), key="demographic").status_code == 403
    )
    person = {"person_id": "9999999901", "family_name": "Test", "given_name": "Test"}
    write = service.client.post(
        "/registry/persons", json={"persons": [person]}, headers=service.auth("id")
    )
    assert write.status_code == 403
    delete = service.client.delete("/registry/persons/9999999901", headers=service.auth("batch"))
    assert delete.status_code == 403
    jobs = service.client.post(
        "/jobs",
        files={"partner": ("p.csv", b"a;b\n"), "config": ("c.yaml", b"x: 1\n")},
        headers=service.auth("id"),
    )
    assert jobs.status_code == 403


def test_schema_errors_name_the_field(service: Service) -> None:
    body = envelope(by_id("CIN", "AB123456"))
    del body["message"]["search_request"][0]["search_criteria"]["query_type"]
    response = _search(service, body)
    assert response.status_code == 422
    error = response.json()["error"]
    fields = [f["field"] for f in error["fields"]]
    assert "message.search_request[0].search_criteria.query_type" in fields
    assert "message.search_request[0].search_criteria.query_type" in error["message"]

    body = envelope(by_id("PASSPORT", "AB123456"))
    fields = [f["field"] for f in _search(service, body).json()["error"]["fields"]]
    assert fields == ["message.search_request[0].search_criteria.query.type"]

    body = envelope(by_predicates(shoe_size="42"))
    fields = [f["field"] for f in _search(service, body).json()["error"]["fields"]]
    assert fields == [
        "message.search_request[0].search_criteria.query[0].expression1.attribute_name"
    ]

    body = envelope(by_id("CIN", "AB123456"))
    del body["header"]["message_id"]
    fields = [f["field"] for f in _search(service, body).json()["error"]["fields"]]
    assert fields == ["header.message_id"]


def test_bad_json_and_unknown_routes_are_json_errors(service: Service) -> None:
    response = service.client.post(
        "/registry/sync/search",
        content=b"{not json",
        headers={**service.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "body"
    missing = service.client.get("/no/such/route")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = service.client.get("/registry/sync/search")
    assert wrong_method.status_code == 405
    assert "error" in wrong_method.json()


def test_a_body_over_the_limit_is_413(make_service: Any) -> None:
    service = make_service(max_body_bytes=2_000)
    body = envelope(*[by_id("CIN", f"AB{i:06d}") for i in range(30)])
    response = _search(service, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request.too_large"


def test_too_many_queries_in_one_envelope_is_refused(make_service: Any) -> None:
    service = make_service(max_queries=3)
    response = _search(service, envelope(*[by_id("CIN", f"AB{i:06d}") for i in range(4)]))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "rjct.total_count.limit_exceeded"


def test_rate_limit_per_key_is_429_with_retry_after(make_service: Any) -> None:
    service = make_service(rate_per_second=0.5, rate_burst=3)
    body = envelope(by_id("CIN", "AB123456"))
    statuses = [_search(service, body).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = _search(service, body)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate.limited"
    assert int(refused.headers["Retry-After"]) >= 1
    # another key has its own bucket
    assert _search(service, body, key="id").status_code == 200


def test_keys_commands_print_the_key_once_and_store_only_its_hash(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    made = runner.invoke(
        cli,
        [
            "keys",
            "add",
            "--partner",
            "CNSS",
            "--scope",
            "search:id",
            "--scope",
            "batch",
            "--db",
            db_url,
        ],
    )
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("rlk_")
    with transaction(open_database(db_url)) as session:
        row = session.scalar(select(ApiKey))
        assert row is not None
        assert row.partner == "CNSS" and row.scopes == ["search:id", "batch"]
        assert key not in (row.key_sha256, row.key_id)
        key_id = row.key_id
    assert key.encode() not in (tmp_path / "keys.db").read_bytes()
    listed = runner.invoke(cli, ["keys", "list", "--db", db_url])
    assert key_id in listed.stdout and "CNSS" in listed.stdout and key not in listed.stdout
    revoked = runner.invoke(cli, ["keys", "revoke", key_id, "--db", db_url])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(cli, ["keys", "list", "--db", db_url]).stdout
    bad_scope = runner.invoke(cli, ["keys", "add", "--partner", "X", "--scope", "all"])
    assert bad_scope.exit_code == 2
    unknown = runner.invoke(cli, ["keys", "revoke", "nope", "--db", db_url])
    assert unknown.exit_code != 0


def test_a_revoked_key_is_refused(make_service: Any) -> None:
    """At once when keys are not cached (``key_cache_seconds=0``); with the cache, within its
    seconds (tests/service/test_verified_keys.py)."""
    from registry_link.db.access import key_id_of, revoke_key

    service = make_service(key_cache_seconds=0)
    body = envelope(by_id("CIN", "AB123456"))
    assert _search(service, body, key="id").status_code == 200
    with transaction(open_database(service.settings.db_url)) as session:
        key_id = key_id_of(service.keys["id"])
        assert key_id is not None
        revoke_key(session, key_id)
    assert _search(service, body, key="id").status_code == 401
