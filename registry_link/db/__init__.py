"""The registry database: registry snapshot, runs, links, review queue, audit log.

SQLite by default (a file in the working folder), PostgreSQL by URL. Every caller goes through
:mod:`registry_link.db.repository` (runs, registry, audit) and :mod:`registry_link.db.queue`
(the review queue); the schema is created and migrated with Alembic
(:func:`registry_link.db.engine.upgrade`).
"""

from __future__ import annotations

import registry_link.db.access  # noqa: F401  (registers the audit's append-only guard)
from registry_link.db.engine import (
    DatabaseError,
    ReviewConflictError,
    make_engine,
    open_database,
    resolve_url,
    upgrade,
)

__all__ = [
    "DatabaseError",
    "ReviewConflictError",
    "make_engine",
    "open_database",
    "resolve_url",
    "upgrade",
]
