"""Signed DCI envelopes: the signing key's file, sign and verify, the service's answers."""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.errors import SignatureError, UsageError
from registry_link.service.signing import (
    EnvelopeSigner,
    digest,
    load_signer,
    new_signing_key,
    verify,
)
from tests.service.conftest import Service, by_id, envelope, run_cli, txn_status_envelope

NOW = 1_800_000_000.0


def _answer() -> dict[str, Any]:
    return {
        "signature": None,
        "header": {"message_id": "msg-1", "action": "on-search", "status": "succ"},
        "message": {
            "transaction_id": "txn-1",
            "search_response": [
                {"reference_id": "ref-0", "data": {"match_probability": 0.9987, "bits": -1.5e-7}}
            ],
        },
    }


@pytest.fixture
def signer(tmp_path: Path) -> EnvelopeSigner:
    return new_signing_key(tmp_path / "key.pem")


def test_the_key_file_is_private_reloads_to_the_same_key_and_is_never_overwritten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "key.pem"
    made = new_signing_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = load_signer(path)
    assert (loaded.key_id, loaded.public_key_b64) == (made.key_id, made.public_key_b64)
    with pytest.raises(UsageError, match="never overwritten"):
        new_signing_key(path)
    assert load_signer(path).key_id == made.key_id  # the first key is still there


def test_a_file_that_is_not_an_ed25519_key_is_one_clear_error(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    missing = tmp_path / "missing.pem"
    with pytest.raises(UsageError, match=r"missing\.pem.*cannot read.*keys signing-key"):
        load_signer(missing)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key\n")
    with pytest.raises(UsageError, match=r"garbage\.pem.*not an unencrypted PEM private key"):
        load_signer(garbage)
    other = tmp_path / "ec.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(UsageError, match=r"ec\.pem.*not Ed25519"):
        load_signer(other)


def test_a_signed_envelope_verifies_after_a_json_round_trip(signer: EnvelopeSigner) -> None:
    answer = signer.signed(_answer())
    assert answer["signature"].startswith(f'keyId="registry-link|{signer.key_id}|ed25519"')
    received = json.loads(json.dumps(answer, indent=2))  # what a partner parses
    verify(received, signer.public_key_b64)
    # the signature covers the header and message, not the order of their keys
    reordered = {
        "message": dict(reversed(list(received["message"].items()))),
        "header": dict(reversed(list(received["header"].items()))),
        "signature": received["signature"],
    }
    verify(reordered, signer.public_key_b64)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda e: e["message"]["search_response"][0]["data"].update(match_probability=0.5),
            "does not match",
        ),
        (lambda e: e["header"].update(status="rjct"), "does not match"),
        (
            lambda e: e.update(signature=e["signature"].replace("ed25519", "rsa", 2)),
            "algorithm 'rsa'",
        ),
        (lambda e: e.update(signature=None), "no signature"),
        (lambda e: e.update(signature='keyId="x"'), "lacks algorithm, created"),
    ],
)
def test_a_changed_or_broken_envelope_does_not_verify(
    signer: EnvelopeSigner, change: Any, expected: str
) -> None:
    answer = signer.signed(_answer())
    change(answer)
    with pytest.raises(SignatureError, match=expected):
        verify(answer, signer.public_key_b64)


def test_another_key_or_an_expired_signature_does_not_verify(
    signer: EnvelopeSigner, tmp_path: Path
) -> None:
    other = new_signing_key(tmp_path / "other.pem")
    answer = _answer()
    answer["signature"] = signer.sign(answer, now=NOW)
    verify(answer, signer.public_key_b64, now=NOW + 10)
    with pytest.raises(SignatureError, match="does not match"):
        verify(answer, other.public_key_b64, now=NOW + 10)
    with pytest.raises(SignatureError, match="valid from"):
        verify(answer, signer.public_key_b64, now=NOW + signer.ttl_seconds + 1)
    with pytest.raises(SignatureError, match="valid from"):
        verify(answer, signer.public_key_b64, now=NOW - 3600)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(header=st.dictionaries(st.text(max_size=6), json_values, max_size=4), message=json_values)
def test_any_json_header_and_message_sign_and_verify(header: Any, message: Any) -> None:
    signer = _SIGNER
    answer = signer.signed({"signature": None, "header": header, "message": message})
    verify(json.loads(json.dumps(answer)), signer.public_key_b64)
    assert digest(answer) == digest(copy.deepcopy(answer))


def _module_signer() -> EnvelopeSigner:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from registry_link.service.signing import _public_raw, key_id_of

    key = Ed25519PrivateKey.generate()
    return EnvelopeSigner(key, key_id_of(_public_raw(key)))


_SIGNER = _module_signer()


def test_the_service_signs_its_answers_with_the_key_it_publishes(
    make_service: Any, tmp_path: Path, registry_rows: list[dict[str, str]]
) -> None:
    key_path = tmp_path / "service-key.pem"
    made = new_signing_key(key_path)
    service: Service = make_service(signing_key=key_path)
    published = service.client.get("/signing-key").json()
    assert published["key_id"] == made.key_id and published["algorithm"] == "ed25519"
    person = next(r for r in registry_rows if r["cin"])
    body = envelope(by_id("CIN", person["cin"]))
    sync = service.client.post("/registry/sync/search", json=body, headers=service.auth())
    assert sync.status_code == 200, sync.text
    assert sync.json()["message"]["search_response"][0]["status"] == "succ"
    verify(sync.json(), published["public_key"])
    ack = service.client.post("/registry/search", json=body, headers=service.auth())
    assert ack.status_code == 202
    verify(ack.json(), published["public_key"])
    status = service.client.post(
        "/registry/sync/txn/status", json=txn_status_envelope("txn-1"), headers=service.auth()
    )
    assert status.status_code == 200, status.text
    verify(status.json(), published["public_key"])


def test_a_header_number_that_canonical_json_cannot_carry_is_refused_by_name(
    service: Service,
) -> None:
    body = envelope(by_id("CIN", "AB123456"))
    body["header"]["meta"] = {"trace": [1, {"span": 2**53}]}
    refused = service.client.post("/registry/sync/search", json=body, headers=service.auth())
    assert refused.status_code == 422
    assert "header.meta.trace[1].span" in refused.json()["error"]["message"]
    body["header"]["meta"] = {"trace": [1, {"span": 2**53 - 1}]}
    accepted = service.client.post("/registry/sync/search", json=body, headers=service.auth())
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["header"]["meta"] == {"trace": [1, {"span": 2**53 - 1}]}
    raw = json.dumps(envelope(by_id("CIN", "AB123456"))).replace(
        '"version": "1.0.0"', '"version": "1.0.0", "extra_field": NaN'
    )
    refused = service.client.post(
        "/registry/sync/search",
        content=raw,
        headers=service.auth() | {"Content-Type": "application/json"},
    )
    assert refused.status_code == 422, refused.text
    assert "header.extra_field" in refused.json()["error"]["message"]


def test_without_a_signing_key_answers_are_unsigned_and_no_key_is_published(
    service: Service, registry_rows: list[dict[str, str]]
) -> None:
    refused = service.client.get("/signing-key")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "signing.off"
    assert "--signing-key" in refused.json()["error"]["message"]
    person = next(r for r in registry_rows if r["cin"])
    sync = service.client.post(
        "/registry/sync/search", json=envelope(by_id("CIN", person["cin"])), headers=service.auth()
    )
    assert sync.json()["signature"] is None


def test_the_cli_makes_a_key_once_and_serve_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "service-key.pem"
    code, printed = run_cli(["keys", "signing-key", "--out", str(path)], capsys)
    assert code == 0, printed
    loaded = load_signer(path)
    assert f"key_id {loaded.key_id}" in printed
    assert f"public_key {loaded.public_key_b64}" in printed
    code, printed = run_cli(["keys", "signing-key", "--out", str(path)], capsys)
    assert code == 2
    assert "never overwritten" in printed and "Traceback" not in printed
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    model = tmp_path / "model.json"
    model.write_text("{}")
    code, printed = run_cli(
        [
            "serve",
            "--registry",
            "sample_data/registry.csv",
            "--model",
            str(model),
            "--db",
            f"sqlite:///{tmp_path / 's.db'}",
            "--signing-key",
            str(bad),
        ],
        capsys,
    )
    assert code == 2, printed
    assert "bad.pem" in printed and "not an unencrypted PEM private key" in printed
    assert "Traceback" not in printed
