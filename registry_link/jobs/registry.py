"""The ``registry load`` workflow: standardise a registry extract and store it in the database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from registry_link.jobs.match import EventCallback, quiet, resolve_registry_config

if TYPE_CHECKING:  # pragma: no cover
    from registry_link.db.repository import RegistryLoad


def load_registry_file(
    file: Path,
    config: Path | None,
    *,
    db_url: str | None = None,
    operator: str | None = None,
    on_event: EventCallback = quiet,
) -> RegistryLoad:
    """Standardise the registry extract ``file`` (mapped by ``config``, or the sample's) and
    load it into the database: a snapshot, and its person and household ids.

    Returns:
        What was loaded (persons, households,
        snapshot path, ``unchanged`` when the same extract was loaded before).

    Raises:
        UsageError: no config given for an extract other than the shipped sample's.
        InputError: the file or config is wrong (file, row, field named).
        DatabaseError: the database is not initialised or not writable.
    """
    from registry_link.db.engine import open_database
    from registry_link.db.repository import load_registry
    from registry_link.standardise.pipeline import load_standardised

    config_path = resolve_registry_config(file, config)
    factory = open_database(db_url)
    on_event(f"reading and standardising {file} …")
    registry = load_standardised(file, config_path)
    on_event("writing the snapshot and the person ids …")
    return load_registry(
        factory, registry.frame, source_file=file, config_path=config_path, operator=operator
    )
