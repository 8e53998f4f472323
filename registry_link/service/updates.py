"""Registry updates made through the service, applied again when it starts.

Each update (persons added or replaced, records removed) is recorded in the database before
the index applies it (:mod:`registry_link.db.journal`); a service started on the same registry
extract replays them, in order, on the index it has just built and before it answers
(:func:`replay_updates`). With several server processes (``registry-link serve --workers N``)
each process also applies, before a search, the updates the others recorded since the last
one it applied (:func:`replay_updates` with ``after``; the journal's ids order them).
Consecutive updates of one kind are applied together (one index
update, not one per request) while no record id repeats among them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from registry_link.db.engine import reading
from registry_link.db.journal import count_other_updates, updates_of
from registry_link.errors import RegistryLinkError

log = logging.getLogger("registry_link.service")

__all__ = ["Replayed", "replay_updates"]


@dataclass(frozen=True)
class Replayed:
    """What a start-up replay did."""

    #: updates applied again to the new index
    applied: int = 0
    #: updates the index refused (each logged by its id; none expected: a refused request
    #: is not kept)
    refused: int = 0
    #: updates recorded on another registry extract, not applied
    other_extracts: int = 0
    #: the id of the newest update read (applied or refused); ``after`` when none was
    last_id: int = 0


@dataclass(frozen=True)
class _Update:
    id: int
    kind: str
    record_ids: tuple[str, ...]
    persons: tuple[dict[str, Any], ...]


def replay_updates(
    index: Any,
    sessions: sessionmaker[Session],
    registry_sha256: str,
    after: int = 0,
    upto: int | None = None,
) -> Replayed:
    """Apply the updates recorded on this extract to ``index``, oldest first: all of them
    (at start-up), or those of id above ``after`` and at most ``upto`` (catching up with the
    updates other server processes recorded).

    Raises:
        DatabaseError: the updates could not be read.
    """
    with reading(sessions) as session:
        updates = [
            _Update(u.id, u.kind, tuple(u.record_ids), tuple(u.persons))
            for u in updates_of(session, registry_sha256, after)
            if upto is None or u.id <= upto
        ]
        others = count_other_updates(session, registry_sha256) if after == 0 else 0
    refused = 0
    for group in _groups(updates):
        try:
            _apply(index, group)
        except RegistryLinkError:  # one of them: find it, apply the rest one by one
            for update in group:
                try:
                    _apply(index, [update])
                except RegistryLinkError as exc:
                    refused += 1
                    log.error("registry update %d not applied again: %s", update.id, exc)
    if others:
        log.warning(
            "%d registry update(s) made on another registry extract not applied (a new "
            "extract is taken to include them)",
            others,
        )
    last_id = updates[-1].id if updates else after
    return Replayed(len(updates) - refused, refused, others, last_id)


def _apply(index: Any, group: Sequence[_Update]) -> None:
    if group[0].kind == "upsert":
        index.upsert([person for update in group for person in update.persons])
    else:
        index.remove([record_id for update in group for record_id in update.record_ids])


def _groups(updates: Sequence[_Update]) -> Iterator[list[_Update]]:
    """Runs of consecutive updates of one kind in which no record id repeats (applied
    together, they give what applying them one by one gives)."""
    group: list[_Update] = []
    seen: set[str] = set()
    for update in updates:
        ids = set(update.record_ids)
        if group and (update.kind != group[0].kind or ids & seen):
            yield group
            group, seen = [], set()
        group.append(update)
        seen |= ids
    if group:
        yield group
