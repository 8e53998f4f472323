"""The database tables, as SQLAlchemy 2.0 typed declarative models.

Times are naive UTC (:func:`utcnow`), compared with parameters, never with a server clock, so
SQLite and PostgreSQL behave alike. Person and record identifiers are text, never foreign keys
into the registry tables: a run's history survives a registry refresh.

Append-only tables (never updated nor deleted by the library): ``review_decisions``,
``audit_log``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Review item states.
ITEM_STATUSES: Final[tuple[str, ...]] = ("open", "claimed", "decided", "superseded")
#: Kinds of rows in ``review_decisions``: reviewer decisions (accept, reject), actions that
#: are logged but decide nothing (skip, note), ``undo`` (supersedes the decision it names) and
#: ``reopen`` (the system put the item back: the record changed since the decision).
DECISION_KINDS: Final[tuple[str, ...]] = ("accept", "reject", "skip", "note", "undo", "reopen")
#: States of a job of the service (``service_jobs``).
JOB_STATUSES: Final[tuple[str, ...]] = ("queued", "running", "succeeded", "failed")
#: Kinds of rows in ``registry_updates``: persons added or replaced, records removed.
REGISTRY_UPDATE_KINDS: Final[tuple[str, ...]] = ("upsert", "remove")
#: Run states.
RUN_STATUSES: Final[tuple[str, ...]] = ("running", "finished", "failed")


def utcnow() -> datetime:
    """The current time, naive UTC (what every time column holds)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class RegistrySnapshot(Base):
    """One loaded registry extract: its Parquet snapshot next to the database."""

    __tablename__ = "registry_snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)  # relative to the database folder when possible
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_file: Mapped[str] = mapped_column(Text)
    source_file_sha256: Mapped[str] = mapped_column(String(64))
    config_sha256: Mapped[str] = mapped_column(String(64))
    persons: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(200))
    is_current: Mapped[bool] = mapped_column(default=True)


class RegistryPerson(Base):
    """A registry person of the current snapshot (standardised fields are in the snapshot)."""

    __tablename__ = "registry_persons"
    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    relation_to_head: Mapped[str | None] = mapped_column(String(32))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshots.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)  # 0-based row in the snapshot


class RegistryHousehold(Base):
    """A registry household of the current snapshot."""

    __tablename__ = "registry_households"
    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    head_person_id: Mapped[str | None] = mapped_column(String(64))
    members: Mapped[int] = mapped_column(Integer)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("registry_snapshots.id"), index=True)


class SourceConfig(Base):
    """A partner list (or the registry) source config, one row per distinct config text."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("name", "config_sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    config_sha256: Mapped[str] = mapped_column(String(64))
    config_text: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Run(Base):
    """One linkage run: who, when, on which inputs, with which model, and its counts."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)  # idempotence key
    operator: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    parent_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    registry_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("registry_snapshots.id"))
    sources: Mapped[list[Any]] = mapped_column(default=list)  # source names
    config_hashes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model_hash: Mapped[str | None] = mapped_column(String(64))
    model_path: Mapped[str | None] = mapped_column(Text)  # models/model-<hash>.json
    input_hashes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)  # paths, for a re-run
    prior_decisions_hash: Mapped[str | None] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Link(Base):
    """One partner record's decision in a run."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("run_id", "source", "record_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[str | None] = mapped_column(String(64))
    probability: Mapped[float | None]
    weight: Mapped[float | None]
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(32))
    bf: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ReviewItem(Base):
    """One (partner record, registry candidate) pair awaiting or having had a reviewer."""

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("run_id", "source", "record_id", "person_id"),
        Index("ix_review_items_status", "status", "claim_expires_at"),
        Index("ix_review_items_record", "source", "record_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float | None]
    weight: Mapped[float | None]
    fingerprint: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claim_expires_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)  # system note, e.g. "record changed since"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewDecision(Base):
    """An append-only row of the review log (see :data:`DECISION_KINDS`)."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        Index("ix_review_decisions_pair", "source", "record_id", "person_id"),
        Index("ix_review_decisions_reviewer", "reviewer", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    source: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(32))
    reviewer: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_decisions.id"), unique=True
    )


class OutputHousehold(Base):
    """One household member row of a run's households output."""

    __tablename__ = "output_households"
    __table_args__ = (UniqueConstraint("run_id", "source", "record_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    household_key: Mapped[str] = mapped_column(String(64))
    registry_household_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[str | None] = mapped_column(String(64))
    beneficiary_key: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    flags: Mapped[list[Any]] = mapped_column(default=list)


class AuditEntry(Base):
    """An append-only audit-log row: who did what, when, to which object."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


#: What an API key may do (``registry-link keys add --scope …``).
API_SCOPES: Final[tuple[str, ...]] = ("search:id", "search:demographic", "batch", "registry:write")


class ApiKey(Base):
    """A partner organisation's API key for ``registry-link serve``: only its SHA-256 is kept.

    The key a partner sends is ``rlk_<key_id>_<secret>``; ``key_id`` finds the row, the hash
    of the whole key proves it. A revoked key stays (the audit rows name it).
    """

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64))
    partner: Mapped[str] = mapped_column(String(200), index=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    #: URI prefixes the service may POST asynchronous answers to (``sender_uri``), normalised
    #: by :func:`registry_link.db.access.normalise_callback_prefix`; none: no callbacks.
    callback_prefixes: Mapped[list[Any]] = mapped_column(default=list)
    #: The partner's Ed25519 public key (raw 32 bytes, base64): when set, every DCI envelope
    #: the key sends must carry a valid signature by it; none: signatures are not checked.
    public_key: Mapped[str | None] = mapped_column(String(64))


class SearchAuditEntry(Base):
    """An append-only row per search answered by the service (Law 09-08's access log).

    Who asked (key and partner), when, which query (its type, the field names given, and the
    SHA-256 of the criteria as given: never the values), and which persons were returned.
    Refused at the repository level (and by triggers) to be updated or deleted.
    """

    __tablename__ = "search_audit"
    __table_args__ = (Index("ix_search_audit_partner", "partner", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    partner: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(200))
    transaction_id: Mapped[str | None] = mapped_column(String(200))
    reference_id: Mapped[str | None] = mapped_column(String(200))
    query_type: Mapped[str] = mapped_column(String(32))
    criteria_fields: Mapped[list[Any]] = mapped_column(default=list)
    criteria_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    person_ids: Mapped[list[Any]] = mapped_column(default=list)


class ServiceJob(Base):
    """A batch job of the search service (``POST /jobs``): who asked, its state and progress,
    its result files and the run it recorded. Kept so that a restart loses no finished job.

    No personal data: progress lines name files and counts, never a record's values.
    """

    __tablename__ = "service_jobs"
    __table_args__ = (Index("ix_service_jobs_key", "key_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # JOB_STATUSES
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    stage: Mapped[str | None] = mapped_column(String(64))
    stages_done: Mapped[list[Any]] = mapped_column(default=list)
    events: Mapped[list[Any]] = mapped_column(default=list)
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)  # name -> absolute path
    summary: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


class RegistryUpdate(Base):
    """A registry update made through the service (``POST``/``DELETE /registry/persons``),
    kept so that a restarted service applies it again to the index it builds.

    ``registry_sha256`` is the SHA-256 of the registry extract the update was made on: a
    service started on the same extract replays its updates in ``id`` order; one started on
    another extract does not (a new extract is taken to include them). ``persons`` holds the
    registry fields as sent (personal data, as the registry tables hold); removals hold only
    ``record_ids``.
    """

    __tablename__ = "registry_updates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    registry_sha256: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # REGISTRY_UPDATE_KINDS
    record_ids: Mapped[list[Any]] = mapped_column(default=list)
    persons: Mapped[list[Any]] = mapped_column(default=list)


class SeenSignature(Base):
    """A partner's signed envelope the service accepted, until its signature expires: a copy
    sent again is refused, also after a restart (:mod:`registry_link.service.replay`).

    ``fingerprint``: the BLAKE2b-128 of the signature (hex), not the signature itself.
    """

    __tablename__ = "seen_signatures"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires: Mapped[int] = mapped_column(BigInteger, index=True)  # Unix seconds
