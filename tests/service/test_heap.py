"""The garbage-collector policy of ``registry-link serve`` (:mod:`registry_link.service.heap`):
what is alive is frozen after the index is opened and after each later full collection; the
answers do not change; off unless asked for."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from registry_link.service.heap import FrozenHeap, full_collections
from tests.service.conftest import by_predicates, envelope


@pytest.fixture
def heap() -> Iterator[FrozenHeap]:
    """A heap policy; afterwards the process's collector as it was (nothing frozen)."""
    made = FrozenHeap()
    yield made
    made.stop()
    gc.unfreeze()


def _tracked(obj: object) -> bool:
    """Whether ``obj`` is in a generation the collector walks (not the permanent one)."""
    return any(o is obj for o in gc.get_objects())


def test_freeze_moves_what_is_alive_out_of_the_collections(heap: FrozenHeap) -> None:
    kept = {"values": [1, 2, 3]}
    assert _tracked(kept)
    heap.freeze()
    assert heap.freezes == 1
    assert gc.get_freeze_count() > 0
    assert not _tracked(kept)
    young = {"values": [4]}
    assert _tracked(young)  # (made after the freeze: collected as usual)


def test_watch_freezes_again_after_each_full_collection(heap: FrozenHeap) -> None:
    heap.freeze()
    heap.watch()
    heap.watch()  # (once is enough: not two callbacks)
    assert gc.callbacks.count(heap._after_collection) == 1
    grown = {"memo": [object()]}
    before = full_collections()
    gc.collect(1)  # (not a full collection: nothing frozen)
    assert heap.freezes == 1 and _tracked(grown)
    gc.collect()
    assert full_collections() == before + 1
    assert heap.freezes == 2
    assert not _tracked(grown)
    heap.stop()
    assert heap._after_collection not in gc.callbacks
    later = {"memo": [object()]}
    gc.collect()
    assert heap.freezes == 2 and _tracked(later)


def test_a_cycle_dropped_after_a_freeze_is_still_collected(heap: FrozenHeap) -> None:
    heap.freeze()
    heap.watch()
    cycle: list[Any] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1  # (made after the freeze: found and freed)


def test_a_service_with_gc_freeze_freezes_once_open_and_answers_the_same(
    make_service: Any, registry_rows: list[dict[str, str]]
) -> None:
    plain = make_service()
    frozen = make_service(gc_freeze=True)
    try:
        holder = frozen.client.app.state.service.holder
        assert plain.client.app.state.service.holder.heap is None
        assert holder.heap is not None and holder.heap.freezes >= 1
        assert holder.heap._after_collection in gc.callbacks
        person = next(
            r
            for r in registry_rows
            if r["nom"] and r["prenom"] and r["date_naissance"].count("/") == 2
        )
        day, month, year = person["date_naissance"].split("/")
        query = envelope(
            by_predicates(
                surname=person["nom"],
                given_name=person["prenom"],
                DOB=f"{year}-{month}-{day}",
                commune=person["commune_residence"],
            )
        )
        answers = []
        for s in (plain, frozen):
            response = s.client.post("/registry/sync/search", json=query, headers=s.auth())
            assert response.status_code == 200, response.text
            answers.append(response.json()["message"]["search_response"][0]["data"])
        assert answers[0] == answers[1] and answers[0]["reg_records"]
    finally:
        frozen.client.__exit__(None, None, None)  # (the lifespan's end stops the watch)
        gc.unfreeze()
    assert holder.heap._after_collection not in gc.callbacks
