"""Asynchronous search with a callback, over real sockets: the service (uvicorn) on
127.0.0.1 POSTs the DCI on-search answer to a local receiver (``http.server``) at a
``sender_uri`` the API key allows; bounded attempts and time; refusals of other URIs."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from registry_link.db.access import add_key, list_keys, search_audit
from registry_link.db.engine import open_database, prepare_database, transaction
from registry_link.service import ServiceSettings, create_app
from registry_link.service.callbacks import CallbackPolicy, deliver
from registry_link.service.server import make_server
from registry_link.service.signing import new_signing_key, verify
from tests.service.conftest import Sample, Service, by_id, envelope


@dataclass
class Receiver:
    """A local HTTP receiver: answers each POST with the next scripted reply (then 200)."""

    port: int
    replies: list[int | str] = field(default_factory=list)  # a status, "hang" or "redirect"
    received: list[tuple[str, Any]] = field(default_factory=list)
    hang_seconds: float = 3.0

    def url(self, path: str = "/dci/on-search") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append((self.path, json.loads(body) if body else None))
            reply = state.replies.pop(0) if state.replies else 200
            if reply == "hang":
                time.sleep(state.hang_seconds)
                reply = 200
            if reply == "redirect":
                self.send_response(307)
                self.send_header("Location", "/elsewhere")
            else:
                self.send_response(int(reply))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    base: str
    key: str
    db_url: str
    public_key: str  # the service's signing key (it signs its callbacks)


@pytest.fixture
def served(
    sample: Sample, registry_index: Any, tmp_path: Path, receiver: Receiver
) -> Iterator[Served]:
    """The service on a real socket, with a key whose callbacks may go to the receiver's
    ``/dci/`` folder."""
    db_url = f"sqlite:///{tmp_path / 'callbacks.db'}"
    with transaction(prepare_database(db_url)) as session:
        key = add_key(
            session,
            "partner-callbacks",
            ("search:id",),
            "tests",
            [f"http://127.0.0.1:{receiver.port}/dci/"],
        ).key
    settings = ServiceSettings(
        registry=sample.registry,
        registry_config=sample.registry_config,
        model=sample.model,
        db_url=db_url,
        jobs_dir=tmp_path / "jobs",
        callbacks=CallbackPolicy(attempts=3, timeout=1.0, backoff=0.05),
        signing_key=tmp_path / "service-key.pem",
    )
    signer = new_signing_key(tmp_path / "service-key.pem")
    port = _free_port()
    server = make_server(create_app(settings, index=registry_index), "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield Served(f"http://127.0.0.1:{port}", key, db_url, signer.public_key_b64)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _async_body(cin: str, sender_uri: str | None) -> dict[str, Any]:
    body = envelope(by_id("CIN", cin), transaction_id="txn-callback")
    if sender_uri is not None:
        body["header"]["sender_uri"] = sender_uri
    return body


def _job(client: httpx.Client, job_id: str, key: str, seconds: float = 60) -> dict[str, Any]:
    """The job once its callback is no longer pending."""
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = client.get(
            f"/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"}
        ).json()
        pending = job.get("callback", {}).get("status") == "pending"
        if (job["status"] in ("succeeded", "failed") and not pending) or (
            time.monotonic() > deadline
        ):
            return job
        time.sleep(0.05)


def test_the_answer_is_posted_to_the_sender_uri_and_audited(
    served: Served,
    receiver: Receiver,
    registry_rows: list[dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    person = next(r for r in registry_rows if r["cin"] and r["nom"])
    auth = {"Authorization": f"Bearer {served.key}"}
    with httpx.Client(base_url=served.base, timeout=30) as client:
        response = client.post(
            "/registry/search",
            json=_async_body(person["cin"], receiver.url("/dci/on-search")),
            headers=auth,
        )
        assert response.status_code == 202, response.text
        ack = response.json()
        assert ack["message"]["ack_status"] == "ACK" and ack["header"]["status"] == "rcvd"
        correlation = ack["message"]["correlation_id"]
        receiver.wait_for(1)
        job = _job(client, correlation, served.key)
    assert len(receiver.received) == 1
    path, answer = receiver.received[0]
    assert path == "/dci/on-search"
    assert answer["header"]["action"] == "on-search"
    assert answer["header"]["status"] == "succ"
    assert answer["header"]["message_id"] == "msg-1"
    assert answer["message"]["correlation_id"] == correlation
    assert answer["message"]["transaction_id"] == "txn-callback"
    (result,) = answer["message"]["search_response"]
    assert result["reference_id"] == "ref-0"
    returned = [r["person_id"] for r in result["data"]["reg_records"]]
    assert returned[0] == person["id_personne"]
    assert job["callback"] == {"status": "delivered", "attempts": 1, "http_status": 200}
    assert job["result"] == answer
    verify(answer, served.public_key)  # signed by the service: the partner can check it
    verify(ack, served.public_key)
    # audited as a sync search is: who, which query, which persons
    with transaction(open_database(served.db_url)) as session:
        (row,) = search_audit(session)
    assert (row.partner, row.endpoint, row.transaction_id) == (
        "partner-callbacks",
        "search",
        "txn-callback",
    )
    assert row.person_ids == returned
    # no personal data, nor the callback's address, in the service's log
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert f"callback of job {correlation}: delivered" in logged
    for value in (person["cin"], person["nom"], person["id_personne"], "/dci/on-search"):
        assert value not in logged


def test_without_a_sender_uri_there_is_no_callback(
    served: Served, receiver: Receiver, registry_rows: list[dict[str, str]]
) -> None:
    person = next(r for r in registry_rows if r["cin"])
    with httpx.Client(base_url=served.base, timeout=30) as client:
        response = client.post(
            "/registry/search",
            json=_async_body(person["cin"], None),
            headers={"Authorization": f"Bearer {served.key}"},
        )
        assert response.status_code == 202
        assert response.json()["message"]["ack_status"] == "NACK"  # DCI: no callback will come
        job = _job(client, response.json()["message"]["correlation_id"], served.key)
    assert job["status"] == "succeeded" and "callback" not in job
    assert receiver.received == []


@pytest.mark.parametrize(
    "sender_uri",
    [
        "http://127.0.0.1:{port}/other/on-search",  # outside the prefix's folder
        "http://127.0.0.1:{port}/dcix/on-search",  # a longer name is not the folder
        "http://127.0.0.1:{port}/dci/../other",  # dot segments
        "http://127.0.0.1:{port}/dci/%2e%2e/other",  # encoded dot segments
        "http://localhost:{port}/dci/on-search",  # another host name
        "http://127.0.0.1:1/dci/on-search",  # another port
        "https://127.0.0.1:{port}/dci/on-search",  # another scheme
        "http://x@127.0.0.1:{port}/dci/on-search",  # user info
        "file:///etc/passwd",
    ],
)
def test_a_sender_uri_outside_the_keys_prefixes_is_refused(
    served: Served, receiver: Receiver, sender_uri: str
) -> None:
    with httpx.Client(base_url=served.base, timeout=30) as client:
        response = client.post(
            "/registry/search",
            json=_async_body("AB123456", sender_uri.format(port=receiver.port)),
            headers={"Authorization": f"Bearer {served.key}"},
        )
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "err.sender_uri.invalid"
    assert error["fields"][0]["field"] == "header.sender_uri"
    with transaction(open_database(served.db_url)) as session:
        assert search_audit(session) == []
    assert receiver.received == []


def test_a_key_without_prefixes_gets_no_callbacks(service: Service, receiver: Receiver) -> None:
    response = service.client.post(
        "/registry/search",
        json=_async_body("AB123456", receiver.url()),
        headers=service.auth("all"),
    )
    assert response.status_code == 403
    assert "--callback-prefix" in response.json()["error"]["message"]


def test_a_search_that_fails_is_posted_as_rejected(service: Service, receiver: Receiver) -> None:
    class Broken:
        size, version = 1, 1

        def search(self, record: Any, k: int = 5) -> Any:
            raise RuntimeError("broken index")

    with transaction(open_database(service.settings.db_url)) as session:
        key = add_key(session, "p", ("search:id",), "tests", [receiver.url("/dci/")]).key
    service.client.app.state.service.holder.index = Broken()  # type: ignore[attr-defined]
    response = service.client.post(
        "/registry/search",
        json=_async_body("AB123456", receiver.url()),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202
    correlation = response.json()["message"]["correlation_id"]
    receiver.wait_for(1)
    ((_, answer),) = receiver.received
    assert answer["header"]["status"] == "rjct"
    assert answer["message"]["correlation_id"] == correlation
    assert answer["message"]["search_response"] == []
    assert "internal error" in answer["header"]["status_reason_message"]
    assert "broken index" not in json.dumps(answer)


# ------------------------------------------------------------------ delivery bounds


def test_a_failing_receiver_is_tried_again_then_delivered(receiver: Receiver) -> None:
    receiver.replies = [503, 500, 200]
    outcome = deliver("j1", receiver.url(), {"x": 1}, CallbackPolicy(3, 1.0, 0.01))
    assert outcome == {"status": "delivered", "attempts": 3, "http_status": 200}
    assert [body for _, body in receiver.received] == [{"x": 1}] * 3


def test_attempts_are_bounded(receiver: Receiver) -> None:
    receiver.replies = [500] * 10
    outcome = deliver("j2", receiver.url(), {"x": 1}, CallbackPolicy(3, 1.0, 0.01))
    assert outcome["status"] == "failed" and outcome["attempts"] == 3
    assert outcome["http_status"] == 500
    assert len(receiver.received) == 3


def test_a_refusal_is_final_and_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.replies = [404]
    refused = deliver("j3", receiver.url(), {}, CallbackPolicy(3, 1.0, 0.01))
    assert refused["status"] == "failed" and refused["attempts"] == 1
    receiver.replies = ["redirect"]
    redirected = deliver("j4", receiver.url(), {}, CallbackPolicy(3, 1.0, 0.01))
    assert redirected["status"] == "failed" and redirected["http_status"] == 307
    assert [path for path, _ in receiver.received] == ["/dci/on-search", "/dci/on-search"]


def test_a_receiver_that_hangs_times_out_each_attempt(receiver: Receiver) -> None:
    receiver.replies = ["hang", "hang"]
    receiver.hang_seconds = 3.0
    outcome = deliver("j5", receiver.url(), {}, CallbackPolicy(2, 0.3, 0.01))
    assert outcome == {"status": "failed", "attempts": 2, "error": "ReadTimeout"}
    assert len(receiver.received) == 2


def test_nothing_listening_is_a_failed_delivery() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        outcome = deliver("j6", f"http://127.0.0.1:{port}/", {}, CallbackPolicy(2, 0.5, 0.01))
    assert outcome == {"status": "failed", "attempts": 2, "error": "ConnectError"}


# ------------------------------------------------------------------ keys


def test_keys_add_stores_normalised_callback_prefixes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from registry_link.cli import cli, main

    db_url = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    made = runner.invoke(
        cli,
        [
            "keys",
            "add",
            "--partner",
            "CNSS",
            "--scope",
            "search:id",
            "--callback-prefix",
            "HTTPS://Partner.Example:443/dci",
            "--db",
            db_url,
        ],
    )
    assert made.exit_code == 0, made.output
    with transaction(open_database(db_url)) as session:
        (key,) = list_keys(session)
    assert key.callback_prefixes == ("https://partner.example/dci/",)
    listed = runner.invoke(cli, ["keys", "list", "--db", db_url])
    assert "https://partner.example/dci/" in listed.output
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                *("keys", "add", "--partner", "CNSS", "--scope", "search:id"),
                *("--callback-prefix", "partner.example/dci", "--db", db_url),
            ]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "not an http(s) URL" in err and "Traceback" not in err
    with transaction(open_database(db_url)) as session:
        assert len(list_keys(session)) == 1  # nothing made
