"""The uvicorn server of ``registry-link serve`` (also started by the tests on a free port)."""

from __future__ import annotations

from typing import Any


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8000) -> Any:
    """A ``uvicorn.Server`` for the app: uvicorn's access log off (it would write request
    paths, which hold person ids); the service logs each request itself, without values."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_level="info")
    return uvicorn.Server(config)
