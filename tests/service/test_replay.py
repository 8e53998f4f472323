"""The memory of accepted signatures (:mod:`registry_link.service.replay`): a signature is
refused while it is remembered, forgotten once expired, per API key, bounded, thread-safe."""

from __future__ import annotations

import threading

import pytest

from registry_link.service.replay import ReplayMemoryFull, SeenSignatures, SignatureReplayed


def test_a_signature_is_refused_until_it_expires_then_forgotten() -> None:
    seen = SeenSignatures()
    seen.admit("k1", b"sig-a", expires=1_000, now=900)
    with pytest.raises(SignatureReplayed, match=r"received before.*valid until 1000"):
        seen.admit("k1", b"sig-a", expires=1_000, now=950)
    with pytest.raises(SignatureReplayed):
        seen.admit("k1", b"sig-a", expires=1_000, now=1_000)  # valid up to its expires
    seen.admit("k1", b"sig-b", expires=2_000, now=1_001)  # past it: sig-a is forgotten
    assert len(seen) == 1
    seen.admit("k1", b"sig-a", expires=1_000, now=1_001)  # (verify refuses it as expired)


def test_the_same_signature_under_another_key_is_another_entry() -> None:
    seen = SeenSignatures()
    seen.admit("k1", b"sig", expires=100, now=0)
    seen.admit("k2", b"sig", expires=100, now=0)
    assert len(seen) == 2


def test_a_full_memory_refuses_new_signatures_and_forgets_none_still_valid() -> None:
    seen = SeenSignatures(limit=2)
    seen.admit("k", b"a", expires=100, now=0)
    seen.admit("k", b"b", expires=200, now=0)
    with pytest.raises(ReplayMemoryFull, match="2 signed envelopes are still within"):
        seen.admit("k", b"c", expires=300, now=50)
    with pytest.raises(SignatureReplayed):  # the full memory forgot neither
        seen.admit("k", b"a", expires=100, now=60)
    seen.admit("k", b"c", expires=300, now=101)  # a expired: room again
    assert len(seen) == 2


def test_concurrent_copies_are_admitted_exactly_once() -> None:
    seen = SeenSignatures()
    admitted: list[int] = []
    start = threading.Barrier(8)

    def send(i: int) -> None:
        start.wait()
        try:
            seen.admit("k", b"the same envelope", expires=10**10)
            admitted.append(i)
        except SignatureReplayed:
            pass

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 1


def test_a_forgotten_signature_is_admitted_again_and_stale_entries_stay_bounded() -> None:
    seen = SeenSignatures(limit=10)
    seen.admit("k", b"a", expires=100, now=0)
    seen.forget("k", b"a")  # its request was refused: the retry passes, once
    seen.admit("k", b"a", expires=100, now=1)
    with pytest.raises(SignatureReplayed):
        seen.admit("k", b"a", expires=100, now=2)
    seen.forget("k", b"never-seen")  # nothing to forget: no error
    assert len(seen) == 1
    for i in range(50_000):  # refused requests, each admitted then forgotten
        seen.admit("k", b"x%d" % i, expires=100, now=3)
        seen.forget("k", b"x%d" % i)
    assert len(seen) == 1
    assert len(seen._heap) <= 2 * len(seen) + 1024 + 1
    with pytest.raises(SignatureReplayed):  # the live one survived every rebuild
        seen.admit("k", b"a", expires=100, now=4)
    seen.admit("k", b"b", expires=200, now=101)  # and still expires on time
    seen.admit("k", b"a", expires=100, now=101)
