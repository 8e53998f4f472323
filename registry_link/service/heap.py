"""Python's garbage collector kept off the long-lived heap of ``registry-link serve``.

A full (generation-2) collection walks every tracked container the process holds: after the
index is built, the imported modules, the model and — as searches run — the index's memos,
dicts of hundreds of thousands of values. At 1 M persons one cost 70-110 ms of CPU, about
once per 200 first searches, and landed inside one search: it set the search's p99.

:class:`FrozenHeap` moves what is alive into the permanent generation (:func:`gc.freeze`,
which collections do not walk): once after the index is built and the recorded updates
replayed (:meth:`FrozenHeap.freeze`, after a full collection), and again at the end of each
full collection that runs later (:meth:`FrozenHeap.watch`: the memos grown since, survivors
of that collection, frozen in turn). A later full collection then walks only what was
allocated since the last one, and Python's rule (a full collection once the objects promoted
since the last one exceed a quarter of those it left) keeps such collections rare.

What is frozen is still freed by reference counting (an entry a memo drops, a replaced
snapshot); only garbage held in a reference cycle at the moment of a freeze is never
collected — the survivors of a full collection hold none, the young objects alive at its end
little. Off by default in :class:`~registry_link.service.settings.ServiceSettings` (tests
build many apps in one process); ``registry-link serve`` turns it on (``--no-gc-freeze``
turns it off).
"""

from __future__ import annotations

import gc
import threading
from typing import Any

#: The oldest generation: its collections are the full ones.
_FULL = 2


class FrozenHeap:
    """The process's garbage-collector policy while it serves (one per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watching = False
        self.freezes = 0  #: times the heap was frozen (for tests and figures)

    def freeze(self) -> None:
        """A full collection, then every object alive moved to the permanent generation."""
        with self._lock:
            gc.collect()
            gc.freeze()
            self.freezes += 1

    def watch(self) -> None:
        """From now on, freeze again at the end of each full collection (idempotent)."""
        with self._lock:
            if not self._watching:
                gc.callbacks.append(self._after_collection)
                self._watching = True

    def stop(self) -> None:
        """Stop freezing after full collections (what is frozen stays so)."""
        with self._lock:
            if self._watching:
                gc.callbacks.remove(self._after_collection)
                self._watching = False

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        # (run by the collector, in the thread that triggered it: the young generations
        # were just collected with the old one, so what is left is the survivors)
        if phase == "stop" and info.get("generation") == _FULL:
            gc.freeze()
            self.freezes += 1


def full_collections() -> int:
    """Full collections this process has run so far."""
    return int(gc.get_stats()[_FULL]["collections"])


__all__ = ["FrozenHeap", "full_collections"]
