"""The service over a real socket: uvicorn in a thread on 127.0.0.1, a free port, the index
built at start-up (``/ready`` 503, then 200)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry_link.service import ServiceSettings, create_app
from registry_link.service.server import make_server
from tests.service.conftest import Sample, by_id, envelope, make_keys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(sample: Sample, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A started server (index built by the app itself) and its keys."""
    db_url = f"sqlite:///{tmp_path / 'socket.db'}"
    keys = make_keys(db_url)
    settings = ServiceSettings(
        registry=sample.registry,
        registry_config=sample.registry_config,
        model=sample.model,
        db_url=db_url,
        jobs_dir=tmp_path / "jobs",
    )
    port = _free_port()
    server = make_server(create_app(settings), "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield base, keys
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_over_a_socket_ready_after_the_build_then_search(
    served: tuple[str, dict[str, str]], registry_rows: list[dict[str, str]]
) -> None:
    base, keys = served
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/health").json()["status"] == "ok"
        statuses = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            ready = client.get("/ready")
            statuses.append(ready.status_code)
            if ready.status_code == 200:
                break
            time.sleep(0.2)
        assert statuses[-1] == 200, ready.text
        assert set(statuses) <= {200, 503}
        person = next(r for r in registry_rows if r["cin"])
        response = client.post(
            "/registry/sync/search",
            json=envelope(by_id("CIN", person["cin"])),
            headers={"Authorization": f"Bearer {keys['all']}"},
        )
        assert response.status_code == 200, response.text
        records = response.json()["message"]["search_response"][0]["data"]["reg_records"]
        assert records[0]["person_id"] == person["id_personne"]
        assert client.post("/registry/sync/search", json={}).status_code in (401, 422)


def test_searches_before_the_index_is_ready_are_503(
    sample: Sample, tmp_path: Path, registry_rows: list[dict[str, str]]
) -> None:
    """While the index builds, a search is a JSON 503 with Retry-After (no index given, no
    lifespan run: the in-process app never starts building)."""
    db_url = f"sqlite:///{tmp_path / 'early.db'}"
    keys = make_keys(db_url)
    settings = ServiceSettings(
        registry=sample.registry,
        registry_config=sample.registry_config,
        model=sample.model,
        db_url=db_url,
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    import asyncio

    async def ask() -> tuple[Any, Any]:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ready = await client.get("/ready")
            search = await client.post(
                "/registry/sync/search",
                json=envelope(by_id("CIN", "AB123456")),
                headers={"Authorization": f"Bearer {keys['all']}"},
            )
            return ready, search

    ready, search = asyncio.run(ask())
    assert ready.status_code == 503 and ready.json()["ready"] is False
    assert search.status_code == 503
    assert search.json()["error"]["code"] == "service.not_ready"
    assert search.headers["Retry-After"] == "5"
