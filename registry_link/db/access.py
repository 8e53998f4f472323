"""API keys and the search audit: the service's access control and access log.

* Keys (:func:`add_key`, :func:`list_keys`, :func:`revoke_key`, :func:`verify_key`): a key is
  ``rlk_<key_id>_<secret>`` (``secrets.token_urlsafe``, 256 bits). Only its SHA-256 is stored:
  a random 256-bit secret needs no slow password hash (nothing to guess), and the check is one
  hash and a constant-time compare. The key itself is shown once, when it is made.
* Callbacks (:func:`normalise_callback_prefix`, :func:`callback_allowed`): a key may carry URI
  prefixes; an asynchronous search of that key is answered only to a ``sender_uri`` under one
  of them (same scheme, host and port; the path inside the prefix's folder).
* Audit (:func:`record_searches`): one ``search_audit`` row per search query answered, in the
  caller's transaction. The criteria are kept as the SHA-256 of their canonical JSON and the
  names of the fields given, never their values (an auditor holding a query can prove it was
  asked; the table itself reveals no name nor CIN); the returned registry person ids are kept
  as they are (the law asks which persons were disclosed to whom).
* Signed envelopes accepted (:func:`remember_signature`, :func:`forget_signature`,
  :func:`signatures_in_force`): their signatures' fingerprints until they expire, so that the
  service's replay protection outlives a restart.
* Append-only: a session that would update or delete a ``search_audit`` row, or a bulk
  ``UPDATE``/``DELETE`` statement on it, is refused here (:class:`AuditTamperingError`), and by
  database triggers (migration 0002).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import Connection, Delete, Update, delete, event, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session

from registry_link.db.engine import DatabaseError
from registry_link.db.models import API_SCOPES, ApiKey, SearchAuditEntry, SeenSignature, utcnow
from registry_link.errors import UsageError

#: Every API key starts with this.
KEY_PREFIX: Final[str] = "rlk_"


class AuditTamperingError(DatabaseError):
    """An update or delete of the append-only search audit was attempted."""


@dataclass(frozen=True)
class KeyInfo:
    """A verified (or listed) API key, without its secret."""

    key_id: str
    partner: str
    scopes: tuple[str, ...]
    revoked: bool = False
    callback_prefixes: tuple[str, ...] = ()
    #: The partner's Ed25519 public key (raw, base64): its envelopes' signatures are checked.
    public_key: str | None = None


@dataclass(frozen=True)
class NewKey:
    """A key just made: :attr:`key` is shown once and never stored."""

    info: KeyInfo
    key: str


@dataclass(frozen=True)
class SearchRecord:
    """One answered search query, as the audit keeps it."""

    key_id: str
    partner: str
    endpoint: str
    query_type: str
    criteria: Any
    status: str
    person_ids: Sequence[str]
    message_id: str | None = None
    transaction_id: str | None = None
    reference_id: str | None = None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes, validated and in a stable order.

    Raises:
        UsageError: a scope is unknown (names it and the known ones), or none is given.
    """
    given = tuple(dict.fromkeys(scopes))
    unknown = [s for s in given if s not in API_SCOPES]
    if unknown or not given:
        raise UsageError(
            f"unknown scope(s) {unknown}; give one or more of {', '.join(API_SCOPES)}"
            if unknown
            else f"give at least one --scope: {', '.join(API_SCOPES)}"
        )
    return tuple(s for s in API_SCOPES if s in given)


def add_key(
    session: Session,
    partner: str,
    scopes: Iterable[str],
    created_by: str,
    callback_prefixes: Iterable[str] = (),
    public_key: str | None = None,
) -> NewKey:
    """Make a key for a partner organisation with these scopes (and the URI prefixes its
    asynchronous searches may be answered to, and the public key its envelopes are signed
    with: raw Ed25519, base64, as :func:`registry_link.service.signing.read_public_key` gives
    it); only its hash is stored.

    Raises:
        UsageError: an empty partner name, an unknown scope, a callback prefix that is not
            an http(s) URL, or a public key that is not 32 bytes in base64.
    """
    partner = partner.strip()
    if not partner:
        raise UsageError("give the partner organisation's name with --partner (e.g. CNSS)")
    valid = check_scopes(scopes)
    prefixes = tuple(dict.fromkeys(normalise_callback_prefix(p) for p in callback_prefixes))
    public_key = _checked_public_key(public_key)
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    session.add(
        ApiKey(
            key_id=key_id,
            key_sha256=_sha256(key),
            partner=partner,
            scopes=list(valid),
            created_by=created_by,
            callback_prefixes=list(prefixes),
            public_key=public_key,
        )
    )
    session.flush()
    return NewKey(
        KeyInfo(key_id, partner, valid, callback_prefixes=prefixes, public_key=public_key), key
    )


def raw_public_key(text: str) -> str | None:
    """``text`` as a raw Ed25519 public key (32 bytes) in canonical base64; None if it is not
    one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        return None
    return base64.b64encode(raw).decode("ascii") if len(raw) == 32 else None


def _checked_public_key(public_key: str | None) -> str | None:
    if public_key is None:
        return None
    checked = raw_public_key(public_key)
    if checked is None:
        raise UsageError(
            f"public key {public_key[:60]!r}: expected a raw Ed25519 key, 32 bytes in base64"
        )
    return checked


def set_public_key(session: Session, key_id: str, public_key: str | None) -> KeyInfo:
    """Set (or, with None, remove) the public key a key's envelopes must be signed with.

    Raises:
        UsageError: no key has this id, or the public key is not 32 bytes in base64.
    """
    row = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if row is None:
        raise UsageError(f"no API key with id {key_id!r}; `registry-link keys list` shows them")
    row.public_key = _checked_public_key(public_key)
    return _info(row, row.revoked_at is not None)


def _info(row: ApiKey, revoked: bool) -> KeyInfo:
    return KeyInfo(
        row.key_id,
        row.partner,
        tuple(row.scopes),
        revoked,
        tuple(row.callback_prefixes or ()),
        row.public_key,
    )


def list_keys(session: Session) -> list[KeyInfo]:
    """Every key (revoked ones too), oldest first."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.id))
    return [_info(r, r.revoked_at is not None) for r in rows]


def revoke_key(session: Session, key_id: str) -> KeyInfo:
    """Revoke a key (it stays listed, refused from now on).

    Raises:
        UsageError: no key has this id.
    """
    row = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if row is None:
        raise UsageError(f"no API key with id {key_id!r}; `registry-link keys list` shows them")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return _info(row, True)


def key_id_of(key: str) -> str | None:
    """The key id inside a presented key, or None when it is not shaped like one."""
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = key[len(KEY_PREFIX) :].partition("_")
    return key_id if sep and key_id and secret else None


def verify_key(session: Session, key: str) -> KeyInfo | None:
    """The key's owner and scopes when the key is known and not revoked, else None."""
    key_id = key_id_of(key)
    if key_id is None:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_sha256, _sha256(key)):
        return None
    return _info(row, False)


# ------------------------------------------------------------------ callback URIs

_DEFAULT_PORTS: Final[dict[str, int]] = {"http": 80, "https": 443}


def _origin_and_path(uri: str) -> tuple[SplitResult, str, str] | None:
    """``uri`` split, its ``scheme://host[:port]`` (lower case, default port left out) and its
    path; None when it is not an http(s) URL with a host and without user info, fragment,
    dot segments or encoded dots and slashes (which a server may resolve out of a folder)."""
    try:
        parts = urlsplit(uri.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None or parts.fragment:
        return None
    path = parts.path or "/"
    lowered = path.lower()
    if "%2e" in lowered or "%2f" in lowered or "%5c" in lowered or "\\" in path:
        return None
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return parts, f"{parts.scheme}://{host}", path


def normalise_callback_prefix(prefix: str) -> str:
    """A callback prefix as stored: ``scheme://host[:port]/path/`` (a folder: its path ends
    with ``/``).

    Raises:
        UsageError: not an http(s) URL with a host, or one with user info, a query, a fragment
            or dot segments.
    """
    split = _origin_and_path(prefix)
    if split is None or split[0].query:
        raise UsageError(
            f"the callback prefix {prefix!r} is not an http(s) URL with a host and a plain path "
            "(no user name, query, fragment nor '..'); give e.g. "
            "--callback-prefix https://partner.example/dci/"
        )
    _, origin, path = split
    return origin + (path if path.endswith("/") else path + "/")


def callback_allowed(uri: str, prefixes: Iterable[str]) -> bool:
    """Whether an asynchronous answer may be POSTed to ``uri``: it lies under one of the
    (normalised) ``prefixes`` — same scheme, host and port, and its path the prefix's folder
    or inside it."""
    split = _origin_and_path(uri)
    if split is None:
        return False
    _, origin, path = split
    for prefix in prefixes:
        prefix_origin, _, rest = prefix.partition("://")
        allowed_origin = f"{prefix_origin}://{rest.split('/', 1)[0]}"
        allowed_path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        if origin == allowed_origin and (
            path.startswith(allowed_path) or path == allowed_path.rstrip("/")
        ):
            return True
    return False


def criteria_digest(criteria: Any) -> str:
    """SHA-256 of the criteria's canonical JSON (sorted keys, UTF-8): what the audit keeps."""
    return _sha256(json.dumps(criteria, sort_keys=True, ensure_ascii=False, default=str))


def criteria_fields(criteria: Any) -> list[str]:
    """The names of the fields a query gave (identifier type, predicate attribute names)."""
    if isinstance(criteria, dict):
        if "type" in criteria and "value" in criteria:
            return [str(criteria["type"])]
        return sorted(str(k) for k in criteria)
    if isinstance(criteria, list):
        names: list[str] = []
        for item in criteria:
            if isinstance(item, dict):
                for side in ("expression1", "expression2"):
                    expr = item.get(side)
                    if isinstance(expr, dict) and "attribute_name" in expr:
                        names.append(str(expr["attribute_name"]))
        return names
    return []


def record_searches(session: Session | Connection, searches: Sequence[SearchRecord]) -> None:
    """Append one audit row per answered search query (in the caller's transaction, a session's
    or a connection's: :func:`~registry_link.db.engine.appending`; one ``INSERT`` for them
    all, not an ORM object each)."""
    if not searches:
        return
    session.execute(
        insert(SearchAuditEntry),
        [
            {
                "key_id": s.key_id,
                "partner": s.partner,
                "endpoint": s.endpoint,
                "message_id": s.message_id,
                "transaction_id": s.transaction_id,
                "reference_id": s.reference_id,
                "query_type": s.query_type,
                "criteria_fields": criteria_fields(s.criteria),
                "criteria_sha256": criteria_digest(s.criteria),
                "status": s.status,
                "person_ids": list(s.person_ids),
            }
            for s in searches
        ],
    )


def remember_signature(
    session: Session, key_id: str, fingerprint: bytes, expires: int, now: float
) -> bool:
    """Keep an accepted signature's fingerprint until ``expires`` (Unix seconds), and drop
    those expired before ``now`` (in the caller's transaction).

    Returns:
        False when the same fingerprint of this key is kept already and has not expired (a
        replay: the unique key decides it, also between server processes), else True.
    """
    session.execute(delete(SeenSignature).where(SeenSignature.expires < now))
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    added = session.execute(
        dialect_insert(SeenSignature)
        .values(key_id=key_id, fingerprint=fingerprint.hex(), expires=expires)
        .on_conflict_do_nothing()
    )
    return bool(getattr(added, "rowcount", 0) == 1)


def forget_signature(session: Session, key_id: str, fingerprint: bytes) -> None:
    """Drop a signature's fingerprint: its request was refused, not answered."""
    session.execute(
        delete(SeenSignature).where(
            SeenSignature.key_id == key_id, SeenSignature.fingerprint == fingerprint.hex()
        )
    )


def signatures_in_force(session: Session, now: float) -> list[tuple[str, bytes, int]]:
    """The signatures kept that have not expired at ``now``: (key id, fingerprint, expires)."""
    rows = session.execute(
        select(SeenSignature.key_id, SeenSignature.fingerprint, SeenSignature.expires).where(
            SeenSignature.expires >= now
        )
    )
    return [(key_id, bytes.fromhex(fingerprint), expires) for key_id, fingerprint, expires in rows]


def search_audit(session: Session, partner: str | None = None) -> list[SearchAuditEntry]:
    """The search audit rows (of one partner), oldest first."""
    query = select(SearchAuditEntry).order_by(SearchAuditEntry.id)
    if partner is not None:
        query = query.where(SearchAuditEntry.partner == partner)
    return list(session.scalars(query))


# ------------------------------------------------------------------ append-only guard


_REFUSAL = "the search audit is append-only: its rows are never updated nor deleted"


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, SearchAuditEntry) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise AuditTamperingError(_REFUSAL)


@event.listens_for(Session, "do_orm_execute")
def _refuse_audit_statements(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, Update | Delete):
        table = getattr(statement, "table", None)
        if getattr(table, "name", None) == "search_audit":
            raise AuditTamperingError(_REFUSAL)
