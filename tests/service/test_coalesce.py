"""Concurrent searches answered together (registry_link.service.coalesce): each answer is the
one its record gets alone; a record's error reaches only its own request."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from registry_link.errors import QueryError
from registry_link.service.coalesce import SearchCoalescer
from tests.service.conftest import by_predicates, envelope


def _queries(registry_rows: list[dict[str, str]], n: int = 24) -> list[dict[str, object]]:
    """Records as partners send them: Latin names and date, Arabic names and year, a CIN."""
    out: list[dict[str, object]] = []
    for i, row in enumerate(registry_rows[: n * 37 : 37]):
        if i % 3 == 0:
            out.append(
                {
                    "given_name": row["prenom"],
                    "family_name": row["nom"],
                    "birth_date": row["date_naissance"],
                }
            )
        elif i % 3 == 1:
            out.append(
                {
                    "given_name_ar": row["prenom_ar"],
                    "family_name_ar": row["nom_ar"],
                    "birth_date": (row["date_naissance"] or "")[-4:],
                }
            )
        else:
            out.append({"cin": row["cin"], "family_name": row["nom"]})
    return out


def test_many_records_in_one_call_are_each_answered_as_alone(
    registry_index: Any, registry_rows: list[dict[str, str]]
) -> None:
    """What the coalescer relies on: search_many gives each record its lone answer."""
    queries = _queries(registry_rows)
    alone = [registry_index.search(q, k=5) for q in queries]
    assert registry_index.search_many(queries, 5) == alone
    assert any(r.decision == "match" for r in alone)


def test_concurrent_searches_get_their_lone_answers(
    registry_index: Any, registry_rows: list[dict[str, str]]
) -> None:
    queries = _queries(registry_rows)
    alone = [registry_index.search(q, k=3) for q in queries]
    coalescer = SearchCoalescer(max_batch=8)
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            got = list(pool.map(lambda q: coalescer.search(registry_index, q, 3), queries * 2))
    finally:
        coalescer.close()
    assert got == alone * 2
    assert coalescer.records == len(queries) * 2
    assert 1 <= coalescer.calls <= coalescer.records


class _GatedIndex:
    """A stand-in index: its first call waits for a gate (so others queue behind it); a record
    holding ``bad`` makes a call fail as a malformed record does."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: list[list[str]] = []

    def search_many(self, records: Sequence[Mapping[str, object]], k: int) -> list[str]:
        names = [str(r["given_name"]) for r in records]
        self.calls.append(names)
        self.entered.set()
        self.gate.wait(10)
        if any(n.startswith("bad") for n in names):
            raise QueryError(f"bad record among {names}")
        return [f"{n}@{k}" for n in names]

    def search(self, record: Mapping[str, object], k: int = 5) -> str:
        return self.search_many([record], k)[0]


def test_waiting_searches_share_one_call_and_errors_stay_with_their_record() -> None:
    index = _GatedIndex()
    coalescer = SearchCoalescer(max_batch=64)
    try:
        first = coalescer.submit(index, {"given_name": "first"}, 5)
        assert index.entered.wait(10)  # the worker is busy with the first record
        waiting = [
            coalescer.submit(index, {"given_name": name}, k)
            for name, k in [("a", 5), ("bad1", 5), ("b", 5), ("c", 2)]
        ]
        index.gate.set()
        assert first.result(10) == "first@5"
        assert waiting[0].result(10) == "a@5"
        assert waiting[2].result(10) == "b@5"
        assert waiting[3].result(10) == "c@2"  # another k: its own call
        with pytest.raises(QueryError, match="bad1"):
            waiting[1].result(10)
    finally:
        coalescer.close()
    # the first alone; the three of k=5 together (failed), then each alone; k=2 on its own
    assert index.calls[0] == ["first"]
    assert ["a", "bad1", "b"] in index.calls
    assert ["c"] in index.calls
    assert {"a", "bad1", "b"} <= {c[0] for c in index.calls if len(c) == 1}


def test_a_broken_answer_fails_its_requests_and_the_worker_goes_on() -> None:
    class Short(_GatedIndex):
        def search_many(self, records: Sequence[Mapping[str, object]], k: int) -> list[str]:
            return super().search_many(records, k)[:-1]  # one answer short: a bug

    short = Short()
    short.gate.set()
    coalescer = SearchCoalescer()
    try:
        with pytest.raises(ValueError):
            coalescer.search(short, {"given_name": "x"}, 5)
        index = _GatedIndex()
        index.gate.set()
        assert coalescer.search(index, {"given_name": "y"}, 5) == "y@5"  # not hung
    finally:
        coalescer.close()


def test_records_tied_to_others_are_never_put_together() -> None:
    index = _GatedIndex()
    index.gate.set()
    coalescer = SearchCoalescer()
    try:
        got = coalescer.search(index, {"given_name": "dep", "principal_record_id": "w1"}, 5)
    finally:
        coalescer.close()
    assert got == "dep@5"
    assert coalescer.calls == 0  # searched directly, alone


def test_max_batch_one_searches_each_alone() -> None:
    index = _GatedIndex()
    index.gate.set()
    coalescer = SearchCoalescer(max_batch=1)
    assert coalescer.search(index, {"given_name": "x"}, 4) == "x@4"
    assert coalescer.calls == 0
    with pytest.raises(ValueError, match="max_batch"):
        SearchCoalescer(max_batch=0)


def _without_times(body: dict[str, Any]) -> dict[str, Any]:
    for item in body["message"]["search_response"]:
        item.pop("timestamp")
    body["header"].pop("message_ts", None)
    body["message"].pop("correlation_id", None)
    return body


def test_an_envelopes_queries_answer_the_same_together_and_alone(
    make_service: Any, registry_rows: list[dict[str, str]]
) -> None:
    rows = [r for r in registry_rows[5:800:40] if r["prenom"] and r["nom"] and r["date_naissance"]]
    queries = [
        by_predicates(given_name=r["prenom"], family_name=r["nom"], birth_date=r["date_naissance"])
        for r in rows
    ]
    together = make_service(search_batch=64)
    alone = make_service(search_batch=1)
    answers = []
    for svc in (together, alone):
        res = svc.client.post("/registry/sync/search", json=envelope(*queries), headers=svc.auth())
        assert res.status_code == 200, res.text
        answers.append(_without_times(res.json()))
    assert answers[0] == answers[1]
    assert len(answers[0]["message"]["search_response"]) == len(queries)
