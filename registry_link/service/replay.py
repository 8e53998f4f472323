"""Signed envelopes seen, so that a copy sent again is refused (replay protection).

A partner's signature covers the envelope's header and message and holds its validity
(``created``, ``expires``): a captured request stays valid until it expires. The service keeps
each accepted signature until its ``expires`` and refuses the same signature a second time.
Ed25519 signatures are deterministic, so the same bytes signed again in the same second are a
copy too: a partner signs each request anew (a new ``message_id``, as DCI asks).

Memory is bounded twice: the service caps a signature's validity window
(:attr:`~registry_link.service.settings.ServiceSettings.max_signature_seconds`), so an entry
lives at most that long, and at most ``limit`` entries are kept. When full (every entry still
valid), a new signed envelope is refused (503, retry later) rather than a remembered one
forgotten: forgetting would let its copy through.

A signature is remembered when it is checked, before the rest of the request's checks; if the
request is then refused (rate limit, index not ready, scope, size, schema), the service forgets
it (:meth:`SeenSignatures.forget`): the envelope was not answered, so the partner's retry of the
same bytes passes, and each signed envelope is still answered at most once.

The service also keeps each accepted signature's fingerprint in its database until it expires
(:func:`registry_link.db.access.remember_signature`, dropped again when the request is refused)
and restores them at start (:meth:`SeenSignatures.restore`): an envelope accepted before a
restart is refused after it too.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import time
from collections.abc import Iterable

__all__ = ["ReplayMemoryFull", "SeenSignatures", "SignatureReplayed"]


class SignatureReplayed(Exception):
    """The same signed envelope was accepted before and has not expired."""


class ReplayMemoryFull(Exception):
    """As many signatures as the memory holds are still valid."""


class SeenSignatures:
    """The signatures accepted and not yet expired, per API key; thread-safe."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self._expiry: dict[tuple[str, bytes], int] = {}
        self._heap: list[tuple[int, str, bytes]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    @staticmethod
    def fingerprint(signature: bytes) -> bytes:
        """What is remembered of a signature: its BLAKE2b-128."""
        return hashlib.blake2b(signature, digest_size=16).digest()

    def restore(self, kept: Iterable[tuple[str, bytes, int]], now: float | None = None) -> int:
        """Remember again signatures kept before a restart: (key id, :meth:`fingerprint`,
        expires); those expired are left out, and none past ``limit``. Returns how many."""
        moment = time.time() if now is None else now
        with self._lock:
            for key_id, fingerprint, expires in kept:
                if expires >= moment and len(self._expiry) < self.limit:
                    self._expiry[(key_id, fingerprint)] = expires
                    heapq.heappush(self._heap, (expires, key_id, fingerprint))
            return len(self._expiry)

    def admit(self, key_id: str, signature: bytes, expires: int, now: float | None = None) -> None:
        """Remember ``signature`` (of API key ``key_id``) until ``expires`` (Unix seconds).

        Raises:
            SignatureReplayed: it was admitted before and has not expired.
            ReplayMemoryFull: ``limit`` signatures are still valid.
        """
        moment = time.time() if now is None else now
        entry = (key_id, self.fingerprint(signature))
        with self._lock:
            self._forget_expired(moment)
            if entry in self._expiry:
                raise SignatureReplayed(
                    f"this signed envelope was received before (same signature, valid until "
                    f"{self._expiry[entry]}); sign each request anew, with a new message_id"
                )
            if len(self._expiry) >= self.limit:
                raise ReplayMemoryFull(
                    f"{self.limit} signed envelopes are still within their validity; the "
                    "service cannot take another until some expire"
                )
            self._expiry[entry] = expires
            heapq.heappush(self._heap, (expires, *entry))

    def forget(self, key_id: str, signature: bytes) -> None:
        """Forget ``signature`` (of API key ``key_id``): its request was refused, not answered.

        Its heap entry stays until it expires (it then removes the signature only if it is
        still remembered with that expiry: the same one, admitted again), or until stale
        entries outnumber live ones, when the heap is rebuilt from the live ones: refused
        requests cannot grow the memory past the bound.
        """
        entry = (key_id, self.fingerprint(signature))
        with self._lock:
            self._expiry.pop(entry, None)
            if len(self._heap) > 2 * len(self._expiry) + 1024:
                self._heap = [(expires, *kept) for kept, expires in self._expiry.items()]
                heapq.heapify(self._heap)

    def _forget_expired(self, moment: float) -> None:
        while self._heap and self._heap[0][0] < moment:
            expires, key_id, value = heapq.heappop(self._heap)
            if self._expiry.get((key_id, value)) == expires:
                del self._expiry[(key_id, value)]
