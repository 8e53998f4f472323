"""API keys and the search audit: the service's access control and access log.

* Keys (:func:`add_key`, :func:`list_keys`, :func:`revoke_key`, :func:`verify_key`): a key is
  ``rlk_<key_id>_<secret>`` (``secrets.token_urlsafe``, 256 bits). Only its SHA-256 is stored:
  a random 256-bit secret needs no slow password hash (nothing to guess), and the check is one
  hash and a constant-time compare. The key itself is shown once, when it is made.
* Audit (:func:`record_searches`): one ``search_audit`` row per search query answered, in the
  caller's transaction. The criteria are kept as the SHA-256 of their canonical JSON and the
  names of the fields given, never their values (an auditor holding a query can prove it was
  asked; the table itself reveals no name nor CIN); the returned registry person ids are kept
  as they are (the law asks which persons were disclosed to whom).
* Append-only: a session that would update or delete a ``search_audit`` row, or a bulk
  ``UPDATE``/``DELETE`` statement on it, is refused here (:class:`AuditTamperingError`), and by
  database triggers (migration 0002).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Delete, Update, event, select
from sqlalchemy.orm import ORMExecuteState, Session

from registry_link.db.engine import DatabaseError
from registry_link.db.models import API_SCOPES, ApiKey, SearchAuditEntry, utcnow
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


def add_key(session: Session, partner: str, scopes: Iterable[str], created_by: str) -> NewKey:
    """Make a key for a partner organisation with these scopes; only its hash is stored.

    Raises:
        UsageError: an empty partner name or an unknown scope.
    """
    partner = partner.strip()
    if not partner:
        raise UsageError("give the partner organisation's name with --partner (e.g. CNSS)")
    valid = check_scopes(scopes)
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    session.add(
        ApiKey(
            key_id=key_id,
            key_sha256=_sha256(key),
            partner=partner,
            scopes=list(valid),
            created_by=created_by,
        )
    )
    session.flush()
    return NewKey(KeyInfo(key_id, partner, valid), key)


def list_keys(session: Session) -> list[KeyInfo]:
    """Every key (revoked ones too), oldest first."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.id))
    return [KeyInfo(r.key_id, r.partner, tuple(r.scopes), r.revoked_at is not None) for r in rows]


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
    return KeyInfo(row.key_id, row.partner, tuple(row.scopes), True)


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
    return KeyInfo(row.key_id, row.partner, tuple(row.scopes))


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


def record_searches(session: Session, searches: Sequence[SearchRecord]) -> None:
    """Append one audit row per answered search query (in the caller's transaction)."""
    session.add_all(
        SearchAuditEntry(
            key_id=s.key_id,
            partner=s.partner,
            endpoint=s.endpoint,
            message_id=s.message_id,
            transaction_id=s.transaction_id,
            reference_id=s.reference_id,
            query_type=s.query_type,
            criteria_fields=criteria_fields(s.criteria),
            criteria_sha256=criteria_digest(s.criteria),
            status=s.status,
            person_ids=list(s.person_ids),
        )
        for s in searches
    )


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
