"""Asynchronous work of the service: DCI async searches and whole-list batch jobs.

Each piece of work is a :class:`Job` with an id, an owner (the API key that asked), a status
and its progress. Batch jobs run :func:`registry_link.jobs.run_match` (the same as
``registry-link match``) in a bounded pool (``batch_workers`` at once, at most
:data:`MAX_QUEUED` waiting); async searches run in their own small pool. Jobs live in memory:
a restart forgets them (their result files stay in ``jobs_dir``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from registry_link.db.models import utcnow
from registry_link.errors import RegistryLinkError
from registry_link.jobs import MatchJob, run_match

#: Batch jobs that may wait for a worker; more are refused (429).
MAX_QUEUED: Final[int] = 8
#: Progress lines kept per job.
MAX_EVENTS: Final[int] = 50
#: Jobs remembered; past that the oldest finished ones are forgotten.
MAX_JOBS: Final[int] = 10_000


class QueueFull(Exception):
    """Too many batch jobs are waiting."""


@dataclass
class Job:
    """One asynchronous piece of work and what is known of it."""

    id: str
    kind: str  # "search" | "batch"
    key_id: str
    status: str = "queued"  # queued, running, succeeded, failed
    created_at: str = field(default_factory=lambda: utcnow().isoformat() + "Z")
    finished_at: str | None = None
    stage: str | None = None
    stages_done: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None
    transaction_id: str | None = None

    def view(self, base_url: str = "") -> dict[str, Any]:
        """The job as its status endpoint shows it."""
        view: dict[str, Any] = {
            "job_id": self.id,
            "kind": self.kind,
            "status": self.status,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
        }
        if self.kind == "batch":
            view["progress"] = {
                "stage": self.stage,
                "stages_done": list(self.stages_done),
                "events": list(self.events[-MAX_EVENTS:]),
            }
            view["files"] = [
                {"name": name, "url": f"{base_url}/jobs/{self.id}/files/{name}"}
                for name in sorted(self.files)
            ]
            if self.summary is not None:
                view["summary"] = self.summary
        else:
            view["transaction_id"] = self.transaction_id
            view["result"] = self.result
        if self.error:
            view["error"] = self.error
        return view


class JobStore:
    """The service's jobs, their pools and their lookup by id (thread-safe)."""

    def __init__(self, jobs_dir: Path, batch_workers: int = 1, search_workers: int = 2) -> None:
        self.jobs_dir = jobs_dir
        self._jobs: dict[str, Job] = {}
        self._by_txn: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._batch = ThreadPoolExecutor(max(1, batch_workers), thread_name_prefix="rl-batch")
        self._search = ThreadPoolExecutor(max(1, search_workers), thread_name_prefix="rl-search")
        self._batch_slots = threading.BoundedSemaphore(max(1, batch_workers) + MAX_QUEUED)

    def get(self, job_id: str, key_id: str) -> Job | None:
        """The job, when it exists and belongs to this key."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.key_id == key_id else None

    def by_transaction(self, key_id: str, transaction_id: str) -> Job | None:
        """The async search of this key with this DCI transaction id."""
        with self._lock:
            job_id = self._by_txn.get((key_id, transaction_id))
            return self._jobs.get(job_id) if job_id else None

    def _new(self, kind: str, key_id: str, transaction_id: str | None = None) -> Job:
        job = Job(id=uuid.uuid4().hex, kind=kind, key_id=key_id, transaction_id=transaction_id)
        with self._lock:
            if len(self._jobs) >= MAX_JOBS:
                self._forget_finished()
            self._jobs[job.id] = job
            if transaction_id is not None:
                self._by_txn[(key_id, transaction_id)] = job.id
        return job

    def _forget_finished(self) -> None:
        """Forget the older half of the finished jobs (under the lock)."""
        finished = [j for j in self._jobs.values() if j.finished_at is not None]
        for job in finished[: max(1, len(finished) // 2)]:
            del self._jobs[job.id]
            if job.transaction_id is not None:
                self._by_txn.pop((job.key_id, job.transaction_id), None)

    def submit_search(
        self, key_id: str, transaction_id: str, work: Callable[[], dict[str, Any]]
    ) -> Job:
        """Run an async search; its DCI response becomes the job's result."""
        job = self._new("search", key_id, transaction_id)

        def run() -> None:
            job.status = "running"
            try:
                job.result = work()
                job.status = "succeeded"
            except Exception as exc:  # the job reports it; the worker thread lives on
                job.status = "failed"
                job.error = _describe(exc)
            finally:
                job.finished_at = utcnow().isoformat() + "Z"

        self._search.submit(run)
        return job

    def submit_batch(self, key_id: str, make_job: Callable[[Path], MatchJob]) -> Job:
        """Queue a batch ``match`` whose inputs ``make_job`` lays in the job's folder.

        Raises:
            QueueFull: :data:`MAX_QUEUED` jobs already wait.
        """
        if not self._batch_slots.acquire(blocking=False):
            raise QueueFull
        try:
            job = self._new("batch", key_id)
            folder = self.jobs_dir / job.id
            folder.mkdir(parents=True, exist_ok=True)
            match_job = make_job(folder)
        except BaseException:
            self._batch_slots.release()
            raise

        def event(line: str) -> None:
            job.events.append(line)
            del job.events[:-MAX_EVENTS]

        def stage(name: str, _seconds: float) -> None:
            job.stages_done.append(name)
            job.stage = name

        def run() -> None:
            job.status = "running"
            try:
                outcome = run_match(match_job, on_event=event, on_stage=stage)
                job.files = {name: Path(path) for name, path in outcome.written.items()}
                job.summary = {
                    "records": outcome.summary.get("records"),
                    "decisions": outcome.summary.get("decisions"),
                }
                job.status = "succeeded"
            except Exception as exc:  # the job reports it; the worker thread lives on
                job.status = "failed"
                job.error = _describe(exc)
            finally:
                job.finished_at = utcnow().isoformat() + "Z"
                self._batch_slots.release()

        self._batch.submit(run)
        return job

    def shutdown(self) -> None:
        """Stop taking work; running jobs finish."""
        self._search.shutdown(wait=False, cancel_futures=True)
        self._batch.shutdown(wait=False, cancel_futures=True)


def _describe(exc: Exception) -> str:
    if isinstance(exc, RegistryLinkError):
        return str(exc)
    return f"internal error ({type(exc).__name__}); the service log has the job id"
