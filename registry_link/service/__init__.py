"""``registry-link serve``: the DCI search API over HTTP (FastAPI + uvicorn, extra ``serve``).

    from registry_link.service import ServiceSettings, create_app

    app = create_app(ServiceSettings(registry=Path("sample_data/registry.csv"),
                                     model=Path("out/demo/model.json")))

Modules: :mod:`~registry_link.service.app` (routes, auth, errors), :mod:`~.dci` (the DCI
shapes), :mod:`~.jobs` (async searches and batch jobs), :mod:`~.limits` (body size, rate),
:mod:`~.settings`, :mod:`~.signing` (signed envelopes), :mod:`~.keys` (API keys verified
lately), :mod:`~.groupcommit` (the audit writes of concurrent requests in one transaction).
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from registry_link.errors import UsageError
from registry_link.service.settings import ServiceSettings

if TYPE_CHECKING:  # pragma: no cover
    from fastapi import FastAPI

#: The packages of the ``serve`` extra.
SERVE_PACKAGES: tuple[str, ...] = (
    "fastapi",
    "uvicorn",
    "multipart",
    "httpx",
    "cryptography",
    "rfc8785",
)


def require_serve_extra() -> None:
    """Check that the ``serve`` extra is installed.

    Raises:
        UsageError: a package of it is missing (says how to install it).
    """
    missing = [name for name in SERVE_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        shown = ", ".join("python-multipart" if m == "multipart" else m for m in missing)
        raise UsageError(
            f"the search service needs {shown}: install registry-link[serve] "
            "(pip install 'registry-link[serve]')"
        )


def create_app(settings: ServiceSettings, **kwargs: Any) -> FastAPI:
    """The service's ASGI application (see :func:`registry_link.service.app.create_app`).

    Raises:
        UsageError: the ``serve`` extra is not installed.
    """
    require_serve_extra()
    from registry_link.service.app import create_app as create

    return create(settings, **kwargs)


__all__ = ["SERVE_PACKAGES", "ServiceSettings", "create_app", "require_serve_extra"]
