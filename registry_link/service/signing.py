"""Signed DCI envelopes: the service signs what it answers, partners verify it.

A DCI envelope is ``{"signature", "header", "message"}``; its ``signature`` is an
HTTP-signature-style string over the header and message. registry-link signs every envelope it
sends (sync answers, acknowledgements, transaction status, the callbacks of asynchronous
searches) with an Ed25519 key of the operator's, so a partner can tell the answer came from the
registry and was not changed on the way:

* the signed bytes are the JSON canonicalisation (RFC 8785, the ``rfc8785`` package) of
  ``{"header": …, "message": …}`` — any JSON library can rebuild them from the parsed body;
* their digest is ``BLAKE-512=`` + base64(BLAKE2b-512), as in the Beckn/DCI signing profile;
* the signing string is ``(created): C\\n(expires): E\\ndigest: D`` (Unix seconds), signed with
  Ed25519, and the ``signature`` field reads
  ``keyId="registry-link|<key id>|ed25519",algorithm="ed25519",created="C",expires="E",
  headers="(created) (expires) digest",signature="<base64>"``.

The public key is served at ``GET /signing-key`` (and printed by ``registry-link keys
signing-key``); :func:`verify` is what a partner (or a test) runs on an answer.

Requests are signed the same way by partners: an API key that has the partner's public key
(``registry-link keys add --public-key`` or ``keys public-key``) has each DCI envelope it
sends checked with :func:`verify` (the service refuses a missing, expired or wrong signature);
for a key without one, the ``signature`` is kept as sent and not verified (the API key alone
authenticates), unless the service runs with ``--require-signatures``.

``cryptography`` and ``rfc8785`` come with the ``serve`` extra and are imported inside the
functions that need them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from registry_link.db.access import raw_public_key
from registry_link.errors import SignatureError, UsageError

ALGORITHM: Final = "ed25519"
SIGNER_ID: Final = "registry-link"
#: The signed headers, in the order of the signing string.
SIGNED_HEADERS: Final = "(created) (expires) digest"
_FIELD = re.compile(r'(\w+)="([^"]*)"')


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signed_bytes(envelope: dict[str, Any]) -> bytes:
    """The bytes an envelope's signature covers: RFC 8785 JSON of its header and message."""
    import rfc8785

    return rfc8785.dumps({"header": envelope.get("header"), "message": envelope.get("message")})


def digest(envelope: dict[str, Any]) -> str:
    """``BLAKE-512=<base64>`` of :func:`signed_bytes`."""
    return "BLAKE-512=" + _b64(hashlib.blake2b(signed_bytes(envelope), digest_size=64).digest())


def _signing_string(created: int, expires: int, envelope_digest: str) -> bytes:
    return f"(created): {created}\n(expires): {expires}\ndigest: {envelope_digest}".encode()


def key_id_of(public_raw: bytes) -> str:
    """A key's id: the first 16 hex digits of the SHA-256 of its raw public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True)
class EnvelopeSigner:
    """The service's signing key, with its id and how long a signature stays valid."""

    private_key: Any  # cryptography's Ed25519PrivateKey
    key_id: str
    ttl_seconds: int = 3600

    @property
    def public_key_b64(self) -> str:
        """The raw 32-byte public key, base64."""
        return _b64(_public_raw(self.private_key))

    def describe(self) -> dict[str, str]:
        """What ``GET /signing-key`` serves: enough for a partner to verify."""
        return {
            "key_id": self.key_id,
            "algorithm": ALGORITHM,
            "public_key": self.public_key_b64,
            "signer_id": SIGNER_ID,
            "signed_bytes": "RFC 8785 JSON of {header, message}",
            "digest": "BLAKE-512 (BLAKE2b, 64 bytes), base64",
            "signing_string": "(created): C\\n(expires): E\\ndigest: D",
        }

    def sign(self, envelope: dict[str, Any], now: float | None = None) -> str:
        """The ``signature`` string of ``envelope`` (its ``signature`` field is not read)."""
        created = int(time.time() if now is None else now)
        expires = created + self.ttl_seconds
        value = self.private_key.sign(_signing_string(created, expires, digest(envelope)))
        return (
            f'keyId="{SIGNER_ID}|{self.key_id}|{ALGORITHM}",algorithm="{ALGORITHM}",'
            f'created="{created}",expires="{expires}",headers="{SIGNED_HEADERS}",'
            f'signature="{_b64(value)}"'
        )

    def signed(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """``envelope`` with its ``signature`` set (the same dict, returned for chaining)."""
        envelope["signature"] = self.sign(envelope)
        return envelope


def _public_raw(private_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    )


def _problem(path: Path, message: str) -> UsageError:
    return UsageError(f"signing key {path}: {message}")


def load_signer(path: Path, ttl_seconds: int = 3600) -> EnvelopeSigner:
    """The Ed25519 private key in the PEM file ``path`` (``registry-link keys signing-key``).

    Raises:
        UsageError: the file is missing or unreadable, or holds no unencrypted Ed25519 key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _problem(
            path,
            f"cannot read the signing key ({exc.strerror or type(exc).__name__}); make one "
            f"with `registry-link keys signing-key --out {path}`",
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise _problem(
            path,
            f"not an unencrypted PEM private key ({exc}); make one with "
            f"`registry-link keys signing-key --out {path}`",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _problem(
            path,
            f"the key is {type(key).__name__.removeprefix('_')}, not Ed25519; make one "
            f"with `registry-link keys signing-key --out {path}`",
        )
    return EnvelopeSigner(key, key_id_of(_public_raw(key)), ttl_seconds)


def new_signing_key(path: Path) -> EnvelopeSigner:
    """Make an Ed25519 key and write it to ``path`` as PKCS#8 PEM, readable by its owner only.

    Raises:
        UsageError: ``path`` exists (a key is never overwritten) or cannot be written.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _problem(
            path,
            "a file is already there; a signing key is never overwritten: "
            "choose another path, or remove that one first",
        ) from None
    except OSError as exc:
        raise _problem(path, f"cannot write it ({exc.strerror or type(exc).__name__})") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return EnvelopeSigner(key, key_id_of(_public_raw(key)))


def read_public_key(text: str, where: str) -> str:
    """A partner's Ed25519 public key as the service keeps it (raw 32 bytes, base64), from a
    PEM public key (``-----BEGIN PUBLIC KEY-----``) or the raw key in base64.

    Raises:
        UsageError: neither, or not an Ed25519 key (``where`` names the source).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii", "replace"))
        except (ValueError, TypeError) as exc:
            raise UsageError(f"{where}: not a PEM public key ({exc})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise UsageError(
                f"{where}: the key is {type(key).__name__.removeprefix('_')}, not Ed25519"
            )
        return _b64(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    raw = raw_public_key(text)
    if raw is None:
        raise UsageError(
            f"{where}: expected an Ed25519 public key, as PEM (-----BEGIN PUBLIC KEY-----) or "
            f"its raw 32 bytes in base64 (44 characters); got {text[:60]!r}"
        )
    return raw


@dataclass(frozen=True)
class CheckedSignature:
    """A signature :func:`verify` accepted: its bytes and the end of its validity."""

    value: bytes
    created: int
    expires: int


def verify(
    envelope: dict[str, Any],
    public_key_b64: str,
    now: float | None = None,
    max_validity: int | None = None,
) -> CheckedSignature:
    """Check ``envelope``'s signature against the signer's public key (base64, raw 32 bytes).

    ``max_validity``: the longest validity window (``expires - created``, seconds) accepted;
    None: any.

    Raises:
        SignatureError: no signature, a malformed one, outside its validity, valid for longer
            than ``max_validity``, or not made by that key over this header and message.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = envelope.get("signature")
    if not isinstance(text, str) or not text:
        raise SignatureError("the envelope has no signature")
    fields = dict(_FIELD.findall(text))
    missing = [
        k for k in ("keyId", "algorithm", "created", "expires", "signature") if k not in fields
    ]
    if missing:
        raise SignatureError(f"the signature lacks {', '.join(missing)}: {text[:80]!r}")
    if fields["algorithm"] != ALGORITHM:
        raise SignatureError(f"algorithm {fields['algorithm']!r}, expected {ALGORITHM!r}")
    if fields.get("headers", SIGNED_HEADERS) != SIGNED_HEADERS:
        raise SignatureError(f"signed headers {fields['headers']!r}, expected {SIGNED_HEADERS!r}")
    try:
        created, expires = int(fields["created"]), int(fields["expires"])
        value = base64.b64decode(fields["signature"], validate=True)
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    except ValueError as exc:
        raise SignatureError(f"the signature or the public key cannot be read: {exc}") from None
    moment = time.time() if now is None else now
    if not created <= moment + 60 or moment > expires:
        raise SignatureError(
            f"the signature is valid from {created} to {expires} (Unix seconds), not at "
            f"{int(moment)}"
        )
    if max_validity is not None and expires - created > max_validity:
        raise SignatureError(
            f"the signature is valid for {expires - created} s (from {created} to {expires}); "
            f"this service accepts at most {max_validity} s: sign with expires <= created + "
            f"{max_validity}"
        )
    try:
        public.verify(value, _signing_string(created, expires, digest(envelope)))
    except InvalidSignature:
        raise SignatureError(
            "the signature does not match this header and message under that public key "
            "(changed on the way, or signed by another key)"
        ) from None
    return CheckedSignature(value, created, expires)
