"""The one module every caller goes through to read and write the database (but the queue).

* Registry: :func:`load_registry` writes the standardised extract as a Parquet snapshot next to
  the database (``<db dir>/snapshots/registry-<sha256[:16]>.parquet``) and bulk-replaces the
  person/household id tables; :func:`registry_frame` reads the snapshot back for a match.
* Runs: :func:`list_runs`, :func:`get_run`, :func:`run_report`.
* Audit: :func:`audit` appends one row; nothing here updates or deletes an audit row.
* Service jobs: :func:`save_service_job`, :func:`get_service_job`,
  :func:`abandon_unfinished_jobs` (the search service's batch jobs).
* Fingerprints: :func:`record_fingerprints`, a stable hash of a partner record's fields.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from registry_link.db.engine import DatabaseError, SessionFactory, database_dir, transaction
from registry_link.db.models import (
    AuditEntry,
    Link,
    RegistryHousehold,
    RegistryPerson,
    RegistrySnapshot,
    ReviewDecision,
    ReviewItem,
    Run,
    ServiceJob,
    SourceConfig,
    utcnow,
)
from registry_link.schema import DISPLAY_FIELDS, STANDARDISED_SCHEMA

#: Environment variable naming the snapshot folder (default: the database's folder).
SNAPSHOT_DIR_ENV: Final[str] = "REGISTRY_LINK_SNAPSHOTS"

#: The partner-record fields whose values make its fingerprint (as given, standardised).
FINGERPRINT_FIELDS: Final[tuple[str, ...]] = (
    *DISPLAY_FIELDS,
    "principal_record_id",
    "relationship",
)

_UNIT = "\x1f"  # field separator inside a fingerprint's text
_NULL = "\x00"


def operator_name(explicit: str | None = None) -> str:
    """Who acts: the explicit name (``--operator``), else the OS user."""
    if explicit and explicit.strip():
        return explicit.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry (containers)
        return os.environ.get("USER", "unknown")


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_fingerprints(frame: pl.DataFrame) -> pl.Series:
    """32-hex-digit fingerprint per record of a standardised frame, from
    :data:`FINGERPRINT_FIELDS`: equal iff those fields are equal, stable across versions.

    SHA-256 in Python (one call per record, once per run): polars' own hash is not stable
    across polars versions, and a changed fingerprint sends a decided record back to review.
    """
    cols = [c for c in FINGERPRINT_FIELDS if c in frame.columns]
    text = pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null(_NULL) for c in cols], separator=_UNIT)
    values = frame.select(text.alias("t"))["t"].to_list()
    return pl.Series(
        "fingerprint",
        [hashlib.sha256(v.encode("utf-8")).hexdigest()[:32] for v in values],
        dtype=pl.Utf8,
    )


def audit(
    session: Session, actor: str, action: str, obj: str, details: dict[str, Any] | None = None
) -> None:
    """Append one row to the audit log (in the caller's transaction)."""
    session.add(AuditEntry(actor=actor, action=action, object=obj, details=details or {}))


def upsert_source(session: Session, name: str, config_text: str) -> SourceConfig:
    """The ``sources`` row of this name and config text, created when new."""
    digest = sha256_text(config_text)
    row = session.scalar(
        select(SourceConfig).where(SourceConfig.name == name, SourceConfig.config_sha256 == digest)
    )
    if row is None:
        row = SourceConfig(name=name, config_sha256=digest, config_text=config_text)
        session.add(row)
        session.flush()
    return row


# ------------------------------------------------------------------ registry


@dataclass(frozen=True)
class RegistryLoad:
    """What :func:`load_registry` did."""

    snapshot_id: int
    snapshot_path: Path
    persons: int
    households: int
    unchanged: bool


def snapshot_dir(engine: Engine) -> Path:
    """Where snapshots go: ``$REGISTRY_LINK_SNAPSHOTS``, else ``<db dir>/snapshots``."""
    env = os.environ.get(SNAPSHOT_DIR_ENV)
    return Path(env) if env else database_dir(engine) / "snapshots"


def _registry_households(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.filter(pl.col("household_id").is_not_null())
        .group_by("household_id")
        .agg(
            head_person_id=pl.col("person_id")
            .filter(pl.col("relation_to_head") == "head")
            .sort()
            .first(),
            members=pl.len().cast(pl.Int64),
        )
        .sort("household_id")
    )


def _check_registry(frame: pl.DataFrame, source_file: str) -> None:
    from registry_link.errors import InputError

    missing = [c for c in STANDARDISED_SCHEMA if c not in frame.columns]
    if missing:
        raise InputError(source_file, f"is not a standardised frame: it lacks {missing[:8]}")
    if frame["person_id"].null_count():
        rows = frame.with_row_index("_r").filter(pl.col("person_id").is_null())["_r"].head(5)
        raise InputError(
            source_file,
            f"{frame['person_id'].null_count()} registry row(s) have no person_id (rows "
            f"{[r + 1 for r in rows.to_list()]})",
            field="person_id",
            expected="a person_id on every registry row (map it in the registry config)",
        )
    dup = frame.group_by("person_id").len().filter(pl.col("len") > 1)
    if dup.height:
        raise InputError(
            source_file,
            f"{dup.height} person_id value(s) repeat, e.g. {dup['person_id'].head(5).to_list()}",
            field="person_id",
            expected="one row per registry person",
        )


def bulk_insert(session: Session, table: str, columns: list[str], frame: pl.DataFrame) -> None:
    """Insert a frame's rows fast: COPY on PostgreSQL, executemany on SQLite."""
    conn = session.connection()
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    if conn.dialect.name == "postgresql":
        buf = io.BytesIO()
        frame.select(columns).write_csv(buf, include_header=False, null_value="\\N")
        with dbapi.cursor() as cur:
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            with cur.copy(sql) as copy:
                copy.write(buf.getvalue())
        return
    marks = ", ".join("?" for _ in columns)
    cur = dbapi.cursor()
    cur.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        frame.select(columns).iter_rows(),
    )
    cur.close()


def load_registry(
    factory: SessionFactory,
    frame: pl.DataFrame,
    *,
    source_file: str | Path,
    config_path: str | Path,
    operator: str | None = None,
) -> RegistryLoad:
    """Load or refresh the registry: Parquet snapshot + person/household id tables.

    The snapshot is the standardised frame; the tables are replaced by this extract's ids in
    one transaction (a refresh drops persons absent from the new extract; runs keep their own
    copies of person ids). Loading the same extract again changes nothing (``unchanged``).

    Raises:
        InputError: the frame lacks person ids or repeats one.
    """
    _check_registry(frame, str(source_file))
    who = operator_name(operator)
    session = factory()
    engine = session.get_bind()
    session.close()
    assert isinstance(engine, Engine)
    folder = snapshot_dir(engine)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".registry-{os.getpid()}.parquet.tmp"
    frame = frame.select(list(STANDARDISED_SCHEMA))
    frame.write_parquet(tmp, compression="zstd", statistics=False)
    digest = sha256_file(tmp)
    path = folder / f"registry-{digest[:16]}.parquet"
    tmp.replace(path)
    households = _registry_households(frame)
    config_text = Path(config_path).read_text(encoding="utf-8")
    with transaction(factory) as s:
        current = s.scalar(select(RegistrySnapshot).where(RegistrySnapshot.is_current))
        if current is not None and current.sha256 == digest:
            audit(s, who, "registry.load", f"snapshot:{current.id}", {"unchanged": True})
            return RegistryLoad(current.id, path, current.persons, current.households, True)
        upsert_source(s, "registry", config_text)
        s.execute(update(RegistrySnapshot).values(is_current=False))
        snap = RegistrySnapshot(
            path=_stored_path(path, engine),
            sha256=digest,
            source_file=str(source_file),
            source_file_sha256=sha256_file(source_file),
            config_sha256=sha256_text(config_text),
            persons=frame.height,
            households=households.height,
            loaded_by=who,
        )
        s.add(snap)
        s.flush()
        s.execute(delete(RegistryPerson))
        s.execute(delete(RegistryHousehold))
        persons = frame.select("person_id", "household_id", "relation_to_head").with_columns(
            snapshot_id=pl.lit(snap.id, dtype=pl.Int64),
            row=pl.int_range(0, pl.len(), dtype=pl.Int64),
        )
        bulk_insert(s, "registry_persons", persons.columns, persons)
        hh = households.with_columns(snapshot_id=pl.lit(snap.id, dtype=pl.Int64))
        bulk_insert(s, "registry_households", hh.columns, hh)
        audit(
            s,
            who,
            "registry.load",
            f"snapshot:{snap.id}",
            {"file": str(source_file), "persons": frame.height, "sha256": digest},
        )
        return RegistryLoad(snap.id, path, frame.height, households.height, False)


def _stored_path(path: Path, engine: Engine) -> str:
    try:
        return str(path.resolve().relative_to(database_dir(engine)))
    except ValueError:
        return str(path.resolve())


def current_snapshot(session: Session) -> RegistrySnapshot:
    """The current registry snapshot.

    Raises:
        DatabaseError: no registry was loaded.
    """
    snap = session.scalar(select(RegistrySnapshot).where(RegistrySnapshot.is_current))
    if snap is None:
        raise DatabaseError(
            "no registry is loaded in this database; run "
            "`registry-link registry load FILE --config configs/registry.yaml` first"
        )
    return snap


def snapshot_path(session: Session, snap: RegistrySnapshot) -> Path:
    """The snapshot's file (relative paths are under the database folder)."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    p = Path(snap.path)
    return p if p.is_absolute() else database_dir(engine) / p


def registry_frame(factory: SessionFactory) -> pl.DataFrame:
    """The current registry as a standardised frame, read from its Parquet snapshot.

    Raises:
        DatabaseError: no registry loaded, or the snapshot file is missing or altered.
    """
    with transaction(factory) as s:
        snap = current_snapshot(s)
        path = snapshot_path(s, snap)
    if not path.exists():
        raise DatabaseError(
            f"the registry snapshot {path} is missing; load the registry again with "
            f"`registry-link registry load FILE --config FILE`"
        )
    return pl.read_parquet(path)


# ------------------------------------------------------------------ runs


def list_runs(session: Session, limit: int = 50) -> list[Run]:
    """The latest runs, newest first."""
    return list(session.scalars(select(Run).order_by(Run.id.desc()).limit(limit)))


def get_run(session: Session, run_id: int) -> Run:
    """One run.

    Raises:
        DatabaseError: no run of this id.
    """
    run = session.get(Run, run_id)
    if run is None:
        last = session.scalar(select(func.max(Run.id)))
        if last is None:
            raise DatabaseError(
                f"no run {run_id}: this database has no runs yet; record one with "
                f"`registry-link match ... --db URL`"
            )
        raise DatabaseError(
            f"no run {run_id} in this database (runs go up to {last}); list them with "
            f"`registry-link runs`"
        )
    return run


def run_report(session: Session, run_id: int) -> dict[str, Any]:
    """A run as plain data: inputs, hashes, who/when, counts, links and review state."""
    run = get_run(session, run_id)
    links = dict(
        session.execute(
            select(Link.decision, func.count()).where(Link.run_id == run_id).group_by(Link.decision)
        ).all()
    )
    items = dict(
        session.execute(
            select(ReviewItem.status, func.count())
            .where(ReviewItem.run_id == run_id)
            .group_by(ReviewItem.status)
        ).all()
    )
    decisions = dict(
        session.execute(
            select(ReviewDecision.decision, func.count())
            .where(ReviewDecision.run_id == run_id)
            .group_by(ReviewDecision.decision)
        ).all()
    )
    reviewers = list(
        session.scalars(
            select(ReviewDecision.reviewer).where(ReviewDecision.run_id == run_id).distinct()
        )
    )
    return {
        "id": run.id,
        "status": run.status,
        "operator": run.operator,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "finished_at": run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
        "parent_run_id": run.parent_run_id,
        "registry_snapshot_id": run.registry_snapshot_id,
        "sources": run.sources,
        "inputs": run.inputs,
        "input_hashes": run.input_hashes,
        "config_hashes": run.config_hashes,
        "model_hash": run.model_hash,
        "counts": run.counts,
        "links_by_decision": links,
        "review_items_by_status": items,
        "review_actions": decisions,
        "reviewers": sorted(reviewers),
    }


# ------------------------------------------------------------------ service jobs


def save_service_job(session: Session, job_id: str, **state: Any) -> ServiceJob:
    """Create the job's row, or set these columns of it (:class:`ServiceJob`'s names)."""
    row = session.get(ServiceJob, job_id)
    if row is None:
        row = ServiceJob(id=job_id, **state)
        session.add(row)
    else:
        for name, value in state.items():
            setattr(row, name, value)
    session.flush()
    return row


def get_service_job(session: Session, job_id: str) -> ServiceJob | None:
    """The job's row, or None."""
    return session.get(ServiceJob, job_id)


def abandon_unfinished_jobs(session: Session, error: str) -> int:
    """Mark every queued or running job failed with ``error`` (the service that ran them has
    stopped: nothing runs them any more); returns how many."""
    result = session.execute(
        update(ServiceJob)
        .where(ServiceJob.status.in_(("queued", "running")))
        .values(status="failed", error=error, finished_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
