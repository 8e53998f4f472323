"""API keys verified once in a while, not on every request.

A key check reads the ``api_keys`` row (:func:`registry_link.db.access.verify_key`): about a
millisecond of CPU, a tenth of a known-record search. :class:`VerifiedKeys` keeps each key
verified for ``ttl`` seconds, under the SHA-256 of the key as presented (the secret itself is
not kept, and a wrong secret with a known key id never matches), so a partner's requests read
the database once per ``ttl``. Only keys found valid are kept: an unknown, wrong or revoked key
is looked up every time.

What that costs: a key revoked in the database (``registry-link keys revoke``, from another
process) is refused within ``ttl`` seconds, not at once; its scopes, callback prefixes and
public key, when changed, likewise take effect within ``ttl`` seconds. ``ttl`` 0 reads the
database on every request.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Final

from registry_link.db.access import KeyInfo

#: Seconds a verified key is trusted without reading the database again.
DEFAULT_KEY_TTL: Final[float] = 5.0

#: Most keys kept at once (past it, the oldest verification is forgotten).
MAX_KEYS: Final[int] = 10_000


class VerifiedKeys:
    """The keys verified in the last ``ttl`` seconds, by the SHA-256 of the key presented.

    Args:
        ttl: seconds a verification is trusted; 0 keeps none.
        clock: the monotonic clock (a test's own, to step past ``ttl``).
    """

    def __init__(self, ttl: float = DEFAULT_KEY_TTL, clock: Callable[[], float] = time.monotonic):
        if ttl < 0:
            raise ValueError(f"the key cache's ttl must be 0 or more seconds, got {ttl}")
        self.ttl = ttl
        self._clock = clock
        self._verified: dict[bytes, tuple[float, KeyInfo]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _digest(key: str) -> bytes:
        return hashlib.sha256(key.encode("utf-8")).digest()

    def get(self, key: str) -> KeyInfo | None:
        """The key's owner and scopes if it was verified less than ``ttl`` seconds ago, else
        None (then the caller verifies it against the database)."""
        if self.ttl == 0:
            return None
        digest = self._digest(key)
        with self._lock:
            entry = self._verified.get(digest)
            if entry is None:
                return None
            if self._clock() - entry[0] >= self.ttl:
                del self._verified[digest]
                return None
            return entry[1]

    def put(self, key: str, info: KeyInfo) -> None:
        """Remember that ``key`` was just verified as ``info``."""
        if self.ttl == 0:
            return
        digest = self._digest(key)
        with self._lock:
            if len(self._verified) >= MAX_KEYS and digest not in self._verified:
                del self._verified[next(iter(self._verified))]
            self._verified[digest] = (self._clock(), info)
