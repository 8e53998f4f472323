"""A verified API key is trusted for ``key_cache_seconds``: a revocation takes effect within
that many seconds (not at once), and an unknown or wrong key is never trusted."""

from __future__ import annotations

from typing import Any

import pytest

from registry_link.db.access import KeyInfo, key_id_of, revoke_key
from registry_link.db.engine import open_database, transaction
from registry_link.service.keys import MAX_KEYS, VerifiedKeys
from tests.service.conftest import Service, by_id, envelope


class Clock:
    """A monotonic clock the test steps by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


INFO = KeyInfo("abc123", "CNSS", ("search:id",))
KEY = "rlk_abc123_secret"


def test_a_key_is_trusted_for_ttl_seconds_then_read_again() -> None:
    clock = Clock()
    keys = VerifiedKeys(5.0, clock=clock)
    assert keys.get(KEY) is None
    keys.put(KEY, INFO)
    clock.now += 4.9
    assert keys.get(KEY) == INFO
    clock.now += 0.1
    assert keys.get(KEY) is None  # 5 s after its check: read from the database again


def test_the_same_key_id_with_another_secret_is_not_trusted() -> None:
    keys = VerifiedKeys(5.0, clock=Clock())
    keys.put(KEY, INFO)
    assert keys.get("rlk_abc123_guessed") is None


def test_ttl_zero_trusts_nothing_and_the_store_is_bounded() -> None:
    none = VerifiedKeys(0.0)
    none.put(KEY, INFO)
    assert none.get(KEY) is None
    keys = VerifiedKeys(5.0, clock=Clock())
    for n in range(MAX_KEYS + 1):
        keys.put(f"rlk_{n}_s", INFO)
    assert keys.get("rlk_0_s") is None  # the oldest forgotten
    assert keys.get(f"rlk_{MAX_KEYS}_s") == INFO
    with pytest.raises(ValueError, match="ttl"):
        VerifiedKeys(-1.0)


def _search(service: Service, key: str) -> Any:
    body = envelope(by_id("CIN", "AB123456"))
    return service.client.post("/registry/sync/search", json=body, headers=service.auth(key))


def test_a_revoked_key_is_refused_within_the_key_cache_seconds(make_service: Any) -> None:
    service = make_service(key_cache_seconds=5.0)
    clock = Clock()
    state = service.client.app.state.service
    state.keys = VerifiedKeys(service.settings.key_cache_seconds, clock=clock)
    assert _search(service, "id").status_code == 200  # verified, then trusted 5 s
    with transaction(open_database(service.settings.db_url)) as session:
        key_id = key_id_of(service.keys["id"])
        assert key_id is not None
        revoke_key(session, key_id)
    clock.now += 4.0
    assert _search(service, "id").status_code == 200  # still trusted: the promise is 5 s
    clock.now += 1.0
    refused = _search(service, "id")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "auth.invalid"
    clock.now += 100.0
    assert _search(service, "id").status_code == 401  # a refused key is not remembered
