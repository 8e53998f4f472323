"""Signed requests: a partner key with a public key has every DCI envelope's signature checked.

The partner signs as the service signs its answers (:class:`EnvelopeSigner`: RFC 8785 JSON of
header and message, BLAKE2b digest, Ed25519); the operator registers the partner's public key on
its API key (``keys add --public-key`` or ``keys public-key``), no restart needed.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from registry_link.cli import cli
from registry_link.db.access import (
    add_key,
    key_id_of,
    list_keys,
    remember_signature,
    set_public_key,
    signatures_in_force,
)
from registry_link.db.engine import open_database, prepare_database, transaction
from registry_link.db.models import ApiKey, AuditEntry, SeenSignature
from registry_link.errors import UsageError
from registry_link.service.limits import RateLimiter
from registry_link.service.replay import SeenSignatures, SignatureReplayed
from registry_link.service.signing import EnvelopeSigner, new_signing_key, read_public_key
from tests.service.conftest import Service, by_id, envelope, run_cli, txn_status_envelope

SEARCH = "/registry/sync/search"


@pytest.fixture
def partner_signer(tmp_path: Path) -> EnvelopeSigner:
    """The partner's own Ed25519 key."""
    return new_signing_key(tmp_path / "partner.pem")


def _register(service: Service, key_name: str, public_key: str | None) -> str:
    key_id = key_id_of(service.keys[key_name])
    assert key_id is not None
    with transaction(open_database(service.settings.db_url)) as session:
        set_public_key(session, key_id, public_key)
    return key_id


def _signed(signer: EnvelopeSigner, body: dict[str, Any], now: float | None = None) -> Any:
    body = copy.deepcopy(body)
    body["signature"] = signer.sign(body, now=now)
    return body


def _post(service: Service, body: dict[str, Any], path: str = SEARCH, key: str = "all") -> Any:
    return service.client.post(path, json=body, headers=service.auth(key))


def test_a_key_with_a_public_key_needs_a_valid_signature_from_the_next_request_on(
    make_service: Any, partner_signer: EnvelopeSigner, tmp_path: Path
) -> None:
    # keys read on every request (by default a key change takes effect within
    # key_cache_seconds: tests/service/test_verified_keys.py)
    service = make_service(key_cache_seconds=0)
    body = envelope(by_id("CIN", "AB123456"))
    assert _post(service, body).status_code == 200  # no public key yet: "sig" is not checked
    _register(service, "all", partner_signer.public_key_b64)

    unsigned = _post(service, body)
    assert unsigned.status_code == 401
    error = unsigned.json()["error"]
    assert error["code"] == "auth.signature"
    assert "signature" in error["message"] and "partner-all" in error["message"]
    assert error["fields"][0]["field"] == "signature"

    signed = _signed(partner_signer, body)
    answered = _post(service, signed)
    assert answered.status_code == 200
    assert answered.json()["message"]["search_response"][0]["reference_id"] == "ref-0"

    other = new_signing_key(tmp_path / "other.pem")
    assert _post(service, _signed(other, body)).json()["error"]["code"] == "auth.signature"

    changed = copy.deepcopy(signed)  # a query changed on the way, the signature kept
    changed["message"]["search_request"][0]["search_criteria"]["query"]["value"] = "ZZ999999"
    refused = _post(service, changed)
    assert refused.status_code == 401
    assert "does not match" in refused.json()["error"]["message"]

    expired = _signed(partner_signer, body, now=time.time() - 2 * 3600)
    refused = _post(service, expired)
    assert refused.status_code == 401
    assert "valid from" in refused.json()["error"]["message"]


def test_every_envelope_route_is_checked_and_other_keys_are_not(
    service: Service, partner_signer: EnvelopeSigner
) -> None:
    _register(service, "all", partner_signer.public_key_b64)
    body = envelope(by_id("CIN", "AB123456"), transaction_id="txn-signed")
    assert _post(service, body, "/registry/search").status_code == 401
    assert _post(service, _signed(partner_signer, body), "/registry/search").status_code == 202
    status = txn_status_envelope("txn-signed")
    assert _post(service, status, "/registry/sync/txn/status").status_code == 401
    assert _post(
        service, _signed(partner_signer, status), "/registry/sync/txn/status"
    ).status_code in (200, 404)  # checked and admitted (the search may not be done yet)
    # another partner's key, without a public key: its signature is kept, not checked
    assert _post(service, envelope(by_id("CIN", "AB123456")), key="id").status_code == 200


def test_require_signatures_refuses_keys_without_a_public_key(
    make_service: Any, partner_signer: EnvelopeSigner
) -> None:
    service = make_service(require_signatures=True, key_cache_seconds=0)
    body = envelope(by_id("CIN", "AB123456"))
    refused = _post(service, body, key="id")
    assert refused.status_code == 401
    error = refused.json()["error"]
    assert error["code"] == "auth.signature_required"
    assert "registry-link keys public-key" in error["message"]
    _register(service, "id", partner_signer.public_key_b64)
    assert _post(service, _signed(partner_signer, body), key="id").status_code == 200
    # health and readiness stay open
    assert service.client.get("/health").status_code == 200


def test_a_public_key_is_read_from_pem_or_raw_base64_and_nothing_else(
    partner_signer: EnvelopeSigner,
) -> None:
    pem = (
        partner_signer.private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    raw = partner_signer.public_key_b64
    assert read_public_key(pem, "f") == raw
    assert read_public_key(f"  {raw}\n", "f") == raw
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(UsageError, match="not Ed25519"):
        read_public_key(rsa_pem, "cnss.pem")
    with pytest.raises(UsageError, match=r"cnss\.pub: expected an Ed25519 public key"):
        read_public_key("bm90IGEga2V5", "cnss.pub")
    with pytest.raises(UsageError, match="not a PEM public key"):
        read_public_key("-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----", "x")


def test_the_repository_checks_the_public_key_and_the_key_id(tmp_path: Path) -> None:
    factory = prepare_database(f"sqlite:///{tmp_path / 'k.db'}")
    with transaction(factory) as session:
        with pytest.raises(UsageError, match="32 bytes in base64"):
            add_key(session, "CNSS", ["search:id"], "tests", public_key="c2hvcnQ=")
        with pytest.raises(UsageError, match="no API key with id"):
            set_public_key(session, "nope", None)
        made = add_key(session, "CNSS", ["search:id"], "tests", public_key="A" * 43 + "=")
        assert made.info.public_key == "A" * 43 + "="
        assert list_keys(session)[0].public_key == "A" * 43 + "="
        assert set_public_key(session, made.info.key_id, None).public_key is None


def test_keys_commands_register_show_and_remove_a_public_key(
    tmp_path: Path, partner_signer: EnvelopeSigner, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'keys.db'}"
    public = tmp_path / "cnss-public.pem"
    public.write_bytes(
        partner_signer.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    runner = CliRunner()
    add = ["keys", "add", "--partner", "CNSS", "--scope", "search:id", "--db", db_url]
    made = runner.invoke(cli, [*add, "--public-key", str(public)])
    assert made.exit_code == 0, made.output
    with transaction(open_database(db_url)) as session:
        row = session.scalar(select(ApiKey))
        assert row is not None and row.public_key == partner_signer.public_key_b64
        key_id = row.key_id
    listed = runner.invoke(cli, ["keys", "list", "--db", db_url])
    assert "signed" in listed.stdout and "yes" in listed.stdout

    removed = runner.invoke(cli, ["keys", "public-key", key_id, "--remove", "--db", db_url])
    assert removed.exit_code == 0, removed.output
    assert "no longer checked" in removed.stdout
    set_again = runner.invoke(
        cli, ["keys", "public-key", key_id, "--file", str(public), "--db", db_url]
    )
    assert set_again.exit_code == 0 and "now checked" in set_again.stdout
    with transaction(open_database(db_url)) as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["key.add", "key.public_key", "key.public_key"]

    garbage = tmp_path / "garbage.pub"
    garbage.write_text("not a key\n")
    code, printed = run_cli(
        ["keys", "public-key", key_id, "--file", str(garbage), "--db", db_url], capsys
    )
    assert code == 2
    assert "garbage.pub" in printed and "Ed25519" in printed and "Traceback" not in printed
    code, printed = run_cli(["keys", "public-key", key_id, "--db", db_url], capsys)
    assert code == 2 and "--file" in printed
    code, printed = run_cli(["keys", "public-key", "nope", "--remove", "--db", db_url], capsys)
    assert code == 2 and "no API key with id 'nope'" in printed


def test_a_signed_envelope_sent_twice_is_refused_as_a_replay(
    service: Service, partner_signer: EnvelopeSigner
) -> None:
    key_id = _register(service, "all", partner_signer.public_key_b64)
    body = envelope(by_id("CIN", "AB123456"))
    signed = _signed(partner_signer, body)
    assert _post(service, signed).status_code == 200
    again = _post(service, signed)  # captured on the way and sent again
    assert again.status_code == 401
    error = again.json()["error"]
    assert error["code"] == "auth.replay"
    assert key_id in error["message"] and "sign each request anew" in error["message"]
    assert error["fields"] == [{"field": "signature", "problem": "already received"}]
    fresh = copy.deepcopy(body)  # the partner's next request: a new message id, signed anew
    fresh["header"]["message_id"] = "msg-2"
    assert _post(service, _signed(partner_signer, fresh)).status_code == 200
    # a refused envelope (here: changed on the way) is not remembered: its honest copy passes
    other = copy.deepcopy(body)
    other["header"]["message_id"] = "msg-3"
    signed_other = _signed(partner_signer, other)
    changed = copy.deepcopy(signed_other)
    changed["header"]["sender_id"] = "someone.else"
    assert _post(service, changed).json()["error"]["code"] == "auth.signature"
    assert _post(service, signed_other).status_code == 200


def test_a_refused_signed_envelope_is_forgotten_so_its_retry_is_answered_once(
    service: Service, partner_signer: EnvelopeSigner
) -> None:
    """A 429 or 503 is not an answer: the same signed bytes sent again after it are answered
    (not refused as a replay); once answered, they are a replay like any other."""
    _register(service, "all", partner_signer.public_key_b64)
    state = service.client.app.state.service  # type: ignore[attr-defined]
    signed = _signed(partner_signer, envelope(by_id("CIN", "AB123456")))

    index, state.holder.index = state.holder.index, None  # the index is being rebuilt
    not_ready = _post(service, signed)
    assert not_ready.status_code == 503
    assert not_ready.json()["error"]["code"] == "service.not_ready"
    state.holder.index = index

    limiter, state.limiter = state.limiter, RateLimiter(rate=1e-9, burst=0)  # no token left
    limited = _post(service, signed)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate.limited"
    state.limiter = limiter

    assert len(state.seen) == 0  # neither refusal kept the signature
    answered = _post(service, signed)  # the partner's retry, the same bytes
    assert answered.status_code == 200
    assert answered.json()["message"]["search_response"][0]["status"] == "succ"
    assert len(state.seen) == 1
    again = _post(service, signed)
    assert again.status_code == 401 and again.json()["error"]["code"] == "auth.replay"
    assert len(state.seen) == 1  # a replay's refusal does not forget the answered one
    assert _post(service, signed).json()["error"]["code"] == "auth.replay"


def test_a_signature_valid_longer_than_the_service_accepts_is_refused(
    make_service: Any, tmp_path: Path
) -> None:
    service = make_service(max_signature_seconds=300)
    long_lived = new_signing_key(tmp_path / "partner.pem")  # signs for 3,600 s
    _register(service, "all", long_lived.public_key_b64)
    body = envelope(by_id("CIN", "AB123456"))
    refused = _post(service, _signed(long_lived, body))
    assert refused.status_code == 401
    message = refused.json()["error"]["message"]
    assert "valid for 3600 s" in message and "at most 300 s" in message
    short = dataclasses.replace(long_lived, ttl_seconds=300)
    assert _post(service, _signed(short, body)).status_code == 200


def test_a_full_replay_memory_refuses_new_signed_envelopes_with_a_503(
    make_service: Any, partner_signer: EnvelopeSigner
) -> None:
    service = make_service(replay_memory=1)
    _register(service, "all", partner_signer.public_key_b64)
    first, second = envelope(by_id("CIN", "AB123456")), envelope(by_id("CIN", "AB123457"))
    second["header"]["message_id"] = "msg-2"
    assert _post(service, _signed(partner_signer, first)).status_code == 200
    busy = _post(service, _signed(partner_signer, second))
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "60"
    assert busy.json()["error"]["code"] == "service.busy"
    # keys without a public key are not signed-checked and not held up by it
    assert _post(service, envelope(by_id("CIN", "AB123456")), key="id").status_code == 200


def _kept_signatures(service: Service) -> int:
    with transaction(open_database(service.settings.db_url)) as session:
        return len(session.scalars(select(SeenSignature)).all())


def test_an_envelope_accepted_before_a_restart_is_refused_after_it(
    make_service: Any, partner_signer: EnvelopeSigner
) -> None:
    """The accepted signatures are kept in the database until they expire: the same signed
    bytes sent to the restarted service are a replay; one refused before (429) is not kept,
    so its retry after the restart is answered."""
    first = make_service()
    _register(first, "all", partner_signer.public_key_b64)
    answered = _signed(partner_signer, envelope(by_id("CIN", "AB123456")))
    assert _post(first, answered).status_code == 200
    refused_body = envelope(by_id("CIN", "AB123456"))
    refused_body["header"]["message_id"] = "msg-2"
    refused = _signed(partner_signer, refused_body)
    state = first.client.app.state.service  # type: ignore[attr-defined]
    limiter, state.limiter = state.limiter, RateLimiter(rate=1e-9, burst=0)
    assert _post(first, refused).status_code == 429
    state.limiter = limiter
    assert _kept_signatures(first) == 1  # the answered one; the refused one forgotten

    again = make_service(db_url=first.settings.db_url)  # the service restarted
    again.keys = first.keys  # (the same partner's key, kept in the same database)
    replayed = _post(again, answered)
    assert replayed.status_code == 401 and replayed.json()["error"]["code"] == "auth.replay"
    assert _post(again, refused).status_code == 200


def test_kept_signatures_are_restored_until_they_expire(tmp_path: Path) -> None:
    """Only signatures still valid come back, and an expired one is dropped when another is
    kept."""
    sessions = prepare_database(f"sqlite:///{tmp_path / 'seen.db'}")
    old, new = SeenSignatures.fingerprint(b"old"), SeenSignatures.fingerprint(b"new")
    with transaction(sessions) as session:
        remember_signature(session, "k", old, expires=100, now=50)
    with transaction(sessions) as session:
        remember_signature(session, "k", new, expires=300, now=150)  # old has expired
    with transaction(sessions) as session:
        assert signatures_in_force(session, now=150) == [("k", new, 300)]
        assert len(session.scalars(select(SeenSignature)).all()) == 1
    seen = SeenSignatures()
    assert seen.restore([("k", new, 300), ("k", old, 100)], now=150) == 1
    with pytest.raises(SignatureReplayed):
        seen.admit("k", b"new", expires=300, now=200)
    seen.admit("k", b"old", expires=400, now=200)  # not restored: expired
