"""``registry-link serve --workers 2`` over a real socket: two spawned processes, each with its
own index, answer as one service — an update made through either is seen by a search in
either, a signed envelope is answered once whichever process gets it, a batch job's status is
found by both, asynchronous searches are refused (501), and nothing answers 5xx.

Each request opens a new connection (the kernel hands it to either process); the answers say
which process gave them (``X-Registry-Link-Worker``), and the checks repeat until both have.
"""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from registry_link.db.access import key_id_of, set_public_key
from registry_link.db.engine import open_database, transaction
from registry_link.service.signing import EnvelopeSigner, new_signing_key
from tests.service.conftest import Sample, by_id, envelope, make_keys

WORKER = "x-registry-link-worker"
#: Requests tried, at most, for both processes to have answered a check.
TRIES = 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """The running service: its address, keys, and every status it answered."""

    base: str
    keys: dict[str, str]
    statuses: list[int]

    def request(self, method: str, path: str, key: str = "all", **kwargs: Any) -> httpx.Response:
        """One request on a new connection (either process may take it)."""
        headers = {"Authorization": f"Bearer {self.keys[key]}"}
        response = httpx.request(method, self.base + path, headers=headers, timeout=60, **kwargs)
        self.statuses.append(response.status_code)
        return response

    def until_both(self, check: Callable[[], httpx.Response]) -> set[str]:
        """Run ``check`` (which asserts on its answer) until both processes have answered it;
        the processes that did."""
        workers: set[str] = set()
        for _ in range(TRIES):
            workers.add(check().headers[WORKER])
            if len(workers) == 2:
                break
        return workers


@pytest.fixture
def two_workers(sample: Sample, tmp_path: Path) -> Iterator[Served]:
    """``registry-link serve --workers 2`` on the sample, ready in both processes."""
    db_url = f"sqlite:///{tmp_path / 'workers.db'}"
    keys = make_keys(db_url)
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "from registry_link.cli import main; main()",
        "serve",
        "--registry",
        str(sample.registry),
        "--registry-config",
        str(sample.registry_config),
        "--model",
        str(sample.model),
        "--db",
        db_url,
        "--jobs-dir",
        str(tmp_path / "jobs"),
        "--port",
        str(port),
        "--workers",
        "2",
        "--no-gc-freeze",
    ]
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
    served = Served(f"http://127.0.0.1:{port}", keys, [])
    try:
        ready: set[str] = set()
        deadline = time.monotonic() + 300
        while len(ready) < 2 and time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(served.base + "/ready", timeout=10)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            assert answer.status_code in (200, 503), answer.text
            if answer.status_code == 200:
                ready.add(answer.headers[WORKER])
            else:
                time.sleep(0.2)
        assert len(ready) == 2, (tmp_path / "serve.log").read_text()
        yield served
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
    errors = [s for s in served.statuses if s >= 500 and s != 501]  # (501: async refused)
    assert not errors, (tmp_path / "serve.log").read_text()


def _person(n: int) -> dict[str, str]:
    return {
        "person_id": f"99100000{n:02d}",
        "household_id": f"991000{n:03d}",
        "relation_to_head": "CHEF",
        "cin": f"ZW8{n:05d}",
        "family_name": "Bennani",
        "given_name": "Salma",
        "sex": "F",
        "birth_date": "1990-02-11",
        "residence": "Rabat",
    }


def _found(served: Served, cin: str) -> tuple[httpx.Response, list[dict[str, Any]]]:
    response = served.request("POST", "/registry/sync/search", json=envelope(by_id("CIN", cin)))
    assert response.status_code == 200, response.text
    return response, response.json()["message"]["search_response"][0]["data"]["reg_records"]


def test_updates_through_either_process_are_seen_by_both(two_workers: Served) -> None:
    served = two_workers
    versions: set[int] = set()
    for n in range(1, 4):  # each update made through whichever process takes it
        person = _person(n)
        added = served.request("POST", "/registry/persons", "writer", json={"persons": [person]})
        assert added.status_code == 200, added.text
        versions.add(added.json()["version"])

        def sees_it(cin: str = person["cin"], pid: str = person["person_id"]) -> httpx.Response:
            response, records = _found(served, cin)
            assert [r["person_id"] for r in records][:1] == [pid]
            return response

        assert len(served.until_both(sees_it)) == 2
    # the version is the journal's id: the same count in every process
    assert versions == {1, 2, 3}
    ready = {served.request("GET", "/ready").json()["version"] for _ in range(20)}
    assert ready == {3}
    for n in range(1, 4):
        person = _person(n)
        gone = served.request("DELETE", f"/registry/persons/{person['person_id']}", "writer")
        assert gone.status_code == 200, gone.text

        def gone_from(cin: str = person["cin"], pid: str = person["person_id"]) -> httpx.Response:
            response, records = _found(served, cin)
            assert pid not in [r["person_id"] for r in records]
            return response

        assert len(served.until_both(gone_from)) == 2


def _partner_signs(served: Served, tmp_path: Path, db_url: str) -> EnvelopeSigner:
    signer = new_signing_key(tmp_path / "partner.pem")
    key_id = key_id_of(served.keys["all"])
    assert key_id is not None
    with transaction(open_database(db_url)) as session:
        set_public_key(session, key_id, signer.public_key_b64)
    return signer


def test_a_signed_envelope_is_answered_once_whichever_process_gets_it(
    two_workers: Served, tmp_path: Path
) -> None:
    served = two_workers
    signer = _partner_signs(served, tmp_path, f"sqlite:///{tmp_path / 'workers.db'}")
    time.sleep(5.5)  # (keys verified lately are trusted 5 s without reading them again)
    answered_by: set[str] = set()
    refused_by: set[str] = set()
    for n in range(12):
        body = envelope(by_id("CIN", "AB123456"), transaction_id=f"txn-{n}")
        body["header"]["message_id"] = f"msg-{n}"
        body["signature"] = signer.sign(copy.deepcopy(body))
        first = served.request("POST", "/registry/sync/search", json=body)
        assert first.status_code == 200, first.text
        answered_by.add(first.headers[WORKER])
        for _ in range(4):  # the same bytes again: refused, by either process
            again = served.request("POST", "/registry/sync/search", json=body)
            assert again.status_code == 401, again.text
            assert again.json()["error"]["code"] == "auth.replay"
            refused_by.add(again.headers[WORKER])
    assert len(answered_by | refused_by) == 2


def test_batch_job_status_is_found_by_both_and_async_searches_are_refused(
    two_workers: Served, sample: Sample
) -> None:
    served = two_workers
    partner = next(p for p in sample.partners if p.name == "partner_coop_ar.csv")
    config = next(c for c in sample.configs if c.name == "partner_coop_ar.yaml")
    lines = partner.read_text(encoding="utf-8-sig").splitlines(keepends=True)[:41]
    submitted = served.request(
        "POST",
        "/jobs",
        "batch",
        files={
            "partner": ("coop.csv", "".join(lines).encode("utf-8-sig"), "text/csv"),
            "config": ("coop.yaml", config.read_bytes(), "application/yaml"),
        },
    )
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]
    deadline = time.monotonic() + 300
    status = "queued"
    while status not in ("succeeded", "failed") and time.monotonic() < deadline:
        job = served.request("GET", f"/jobs/{job_id}", "batch")
        assert job.status_code == 200, job.text
        status = job.json()["status"]
        time.sleep(0.2)
    assert status == "succeeded"

    def found() -> httpx.Response:
        job = served.request("GET", f"/jobs/{job_id}", "batch")
        assert job.status_code == 200, job.text
        assert job.json()["status"] == "succeeded"
        assert {"links.csv", "summary.json"} <= {f["name"] for f in job.json()["files"]}
        return job

    assert len(served.until_both(found)) == 2

    def refused() -> httpx.Response:
        response = served.request("POST", "/registry/search", json=envelope(by_id("CIN", "X")))
        assert response.status_code == 501, response.text
        assert response.json()["error"]["code"] == "service.async_off"
        return response

    assert len(served.until_both(refused)) == 2
