"""Registry updates made through the service, kept so that a restart applies them again.

``registry-link serve`` builds its index from a registry extract (a file). Persons added,
replaced or removed through the service (``POST``/``DELETE /registry/persons``) change the
index in memory; each is also recorded here (:func:`record_update`), in ``registry_updates``,
with the SHA-256 of the extract (:func:`extract_sha256`). A service started again on the same
extract replays them in order (:func:`updates_of`); one started on another extract does not
(a new extract is taken to include them) and says how many it left (:func:`count_other_updates`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from registry_link.db.models import REGISTRY_UPDATE_KINDS, RegistryUpdate
from registry_link.errors import UsageError

__all__ = [
    "count_other_updates",
    "drop_update",
    "extract_sha256",
    "latest_update_id",
    "record_update",
    "updates_of",
]

_CHUNK = 1 << 20


def extract_sha256(path: Path) -> str:
    """The SHA-256 of a registry extract: of the file, or of a folder's files (each file's
    relative path and bytes, in path order).

    Raises:
        UsageError: the extract cannot be read.
    """
    digest = hashlib.sha256()
    try:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if path.is_dir():
                digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            with file.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
    except OSError as exc:
        raise UsageError(
            f"{path}: cannot read the registry extract ({exc.strerror or exc}); give the file "
            "the index is built from"
        ) from None
    return digest.hexdigest()


def record_update(
    session: Session,
    registry_sha256: str,
    key_id: str,
    kind: str,
    record_ids: Sequence[str],
    persons: Sequence[Mapping[str, Any]] = (),
) -> int:
    """Record one update (in the caller's transaction); returns its id (its place in order).

    Raises:
        UsageError: ``kind`` is not one of ``upsert``, ``remove``.
    """
    if kind not in REGISTRY_UPDATE_KINDS:
        raise UsageError(
            f"unknown registry update kind {kind!r}; expected one of "
            f"{', '.join(REGISTRY_UPDATE_KINDS)}"
        )
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":  # ids in commit order (sequences are not)
        session.execute(text("LOCK TABLE registry_updates IN SHARE ROW EXCLUSIVE MODE"))
    row = RegistryUpdate(
        registry_sha256=registry_sha256,
        key_id=key_id,
        kind=kind,
        record_ids=[str(i) for i in record_ids],
        persons=[dict(p) for p in persons],
    )
    session.add(row)
    session.flush()
    return row.id


def drop_update(session: Session, update_id: int) -> None:
    """Delete an update the index refused (it was recorded before being applied)."""
    session.execute(delete(RegistryUpdate).where(RegistryUpdate.id == update_id))


def updates_of(session: Session, registry_sha256: str, after: int = 0) -> list[RegistryUpdate]:
    """The updates made on this extract (those of id above ``after``), oldest first."""
    query = (
        select(RegistryUpdate)
        .where(RegistryUpdate.registry_sha256 == registry_sha256, RegistryUpdate.id > after)
        .order_by(RegistryUpdate.id)
    )
    return list(session.scalars(query))


def latest_update_id(session: Session, registry_sha256: str) -> int:
    """The id of the newest update made on this extract (0: none)."""
    query = select(func.max(RegistryUpdate.id)).where(
        RegistryUpdate.registry_sha256 == registry_sha256
    )
    return int(session.scalar(query) or 0)


def count_other_updates(session: Session, registry_sha256: str) -> int:
    """How many updates were made on other extracts than this one."""
    query = select(func.count()).where(RegistryUpdate.registry_sha256 != registry_sha256)
    return int(session.scalar(query) or 0)
