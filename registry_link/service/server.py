"""The uvicorn server of ``registry-link serve`` (also started by the tests on a free port).

One process (:func:`make_server`), or several on one listening socket (:func:`serve_workers`,
``settings.workers`` above 1): uvicorn's supervisor binds the socket and *spawns* the workers
(never forks: polars' thread pool does not survive a fork), each of which builds the app
(:func:`worker_app`, from the settings this process leaves in :data:`SETTINGS_ENV`) and its
own registry index, all at once. Memory is the index's times the workers.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Final

from registry_link.service.callbacks import CallbackPolicy
from registry_link.service.settings import ServiceSettings

#: Where :func:`serve_workers` leaves the settings (JSON) for the processes it spawns.
SETTINGS_ENV: Final[str] = "REGISTRY_LINK_SERVE_SETTINGS"
#: Seconds a worker may take to answer uvicorn's supervisor (its health check) before it is
#: killed and replaced; uvicorn's 5 s killed every worker of a loaded 2-core machine while it
#: started (imports, then its index build, hold the GIL for seconds at a time).
WORKER_HEALTHCHECK_SECONDS: Final[int] = 300


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8000) -> Any:
    """A ``uvicorn.Server`` for the app: uvicorn's access log off (it would write request
    paths, which hold person ids); the service logs each request itself, without values."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_level="info")
    return uvicorn.Server(config)


def serve_workers(settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until stopped in ``settings.workers`` spawned processes on one socket (the
    database is migrated and the batch jobs a stopped service left unfinished are failed
    here, once, before they start).

    Raises:
        DatabaseError: the database cannot be created, migrated or written.
        UsageError: ``settings.signing_key`` is not a readable Ed25519 private key.
    """
    import uvicorn

    from registry_link.db.engine import prepare_database
    from registry_link.service.jobs import JobLedger
    from registry_link.service.signing import load_signer

    if settings.signing_key is not None:
        load_signer(settings.signing_key)  # (refused here, not in each worker)
    abandoned = JobLedger(prepare_database(settings.db_url)).abandon_unfinished()
    if abandoned:
        import logging

        logging.getLogger("registry_link.service").warning(
            "%d batch job(s) left unfinished by a stopped service: failed", abandoned
        )
    os.environ[SETTINGS_ENV] = encode_settings(settings)
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        access_log=False,
        log_level="info",
        **_healthcheck_timeout(uvicorn.run),
    )


def _healthcheck_timeout(run: Any) -> dict[str, Any]:
    """``timeout_worker_healthcheck`` for uvicorn's ``run`` when it takes one (uvicorn
    releases without it take no such timeout)."""
    import inspect

    if "timeout_worker_healthcheck" in inspect.signature(run).parameters:
        return {"timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS}
    return {}


def worker_app() -> Any:
    """The app of one worker process spawned by :func:`serve_workers` (uvicorn's factory)."""
    from registry_link.service import create_app

    return create_app(decode_settings(os.environ[SETTINGS_ENV]))


def encode_settings(settings: ServiceSettings) -> str:
    """``settings`` as JSON (what :func:`decode_settings` reads back)."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if isinstance(value, CallbackPolicy):
            value = dataclasses.asdict(value)
        fields[field.name] = str(value) if isinstance(value, Path) else value
    return json.dumps(fields)


def decode_settings(text: str) -> ServiceSettings:
    """The settings :func:`encode_settings` wrote."""
    fields: dict[str, Any] = json.loads(text)
    for field in dataclasses.fields(ServiceSettings):
        value = fields.get(field.name)
        if field.name == "callbacks":
            fields[field.name] = CallbackPolicy(**(value or {}))
        elif "Path" in str(field.type) and value is not None:
            fields[field.name] = Path(value)
    return ServiceSettings(**fields)
