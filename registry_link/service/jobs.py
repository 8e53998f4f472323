"""Asynchronous work of the service: DCI async searches and whole-list batch jobs.

Each piece of work is a :class:`Job` with an id, an owner (the API key that asked), a status
and its progress. Batch jobs run :func:`registry_link.jobs.run_match` (the same as
``registry-link match``) in a bounded pool (``batch_workers`` at once, at most
:data:`MAX_QUEUED` waiting); async searches run in their own small pool.

Where jobs live: with a :class:`JobLedger` (the service has a database of record, ``--db``),
a batch job's state is written to the ``service_jobs`` table as it changes (queued, each
stage and progress line, the end with its files, summary, run id or error), so a restart
loses no finished job; jobs that were queued or running when the service stopped are marked
failed at the next start (:meth:`JobLedger.abandon_unfinished`). Without one, jobs live in
memory only. Async searches always live in memory: their answers hold personal data, which
the database does not keep (the search audit says who was returned).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from registry_link.db.engine import transaction
from registry_link.db.models import ServiceJob, utcnow
from registry_link.db.repository import (
    abandon_unfinished_jobs,
    get_service_job,
    save_service_job,
)
from registry_link.errors import RegistryLinkError
from registry_link.jobs import MatchJob, run_match

log = logging.getLogger("registry_link.service")

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
    created_at: datetime = field(default_factory=utcnow)  # naive UTC
    finished_at: datetime | None = None
    stage: str | None = None
    stages_done: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None
    transaction_id: str | None = None
    run_id: int | None = None
    callback: dict[str, Any] | None = None

    def view(self, base_url: str = "") -> dict[str, Any]:
        """The job as its status endpoint shows it."""
        view: dict[str, Any] = {
            "job_id": self.id,
            "kind": self.kind,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "finished_at": _iso(self.finished_at),
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
            if self.run_id is not None:
                view["run_id"] = self.run_id
        else:
            view["transaction_id"] = self.transaction_id
            view["result"] = self.result
            if self.callback is not None:
                view["callback"] = dict(self.callback)
        if self.error:
            view["error"] = self.error
        return view


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat() + "Z"


class JobLedger:
    """Batch jobs' state in the database of record (``service_jobs``, through
    :mod:`registry_link.db.repository`)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def save(self, job: Job) -> None:
        """Write the job's whole state (its row created the first time)."""
        with transaction(self.sessions) as session:
            save_service_job(
                session,
                job.id,
                kind=job.kind,
                key_id=job.key_id,
                status=job.status,
                created_at=job.created_at,
                finished_at=job.finished_at,
                stage=job.stage,
                stages_done=list(job.stages_done),
                events=list(job.events[-MAX_EVENTS:]),
                files={name: str(path) for name, path in job.files.items()},
                summary=job.summary,
                error=job.error,
                run_id=job.run_id,
            )

    def load(self, job_id: str) -> Job | None:
        """The job as last saved, or None."""
        with transaction(self.sessions) as session:
            row = get_service_job(session, job_id)
            return None if row is None else _job_of(row)

    def abandon_unfinished(self) -> int:
        """Mark the jobs a stopped service left queued or running as failed."""
        with transaction(self.sessions) as session:
            return abandon_unfinished_jobs(
                session, "the service stopped before this job finished; submit it again"
            )


def _job_of(row: ServiceJob) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        key_id=row.key_id,
        status=row.status,
        created_at=row.created_at,
        finished_at=row.finished_at,
        stage=row.stage,
        stages_done=list(row.stages_done),
        events=list(row.events),
        files={name: Path(path) for name, path in row.files.items()},
        summary=row.summary,
        error=row.error,
        run_id=row.run_id,
    )


class JobStore:
    """The service's jobs, their pools and their lookup by id (thread-safe).

    Args:
        jobs_dir: where batch jobs keep their uploads and result files.
        batch_workers: batch jobs run at once.
        search_workers: threads answering asynchronous searches.
        ledger: where batch jobs' state is kept besides memory (None: memory only).
    """

    def __init__(
        self,
        jobs_dir: Path,
        batch_workers: int = 1,
        search_workers: int = 2,
        ledger: JobLedger | None = None,
    ) -> None:
        self.jobs_dir = jobs_dir
        self.ledger = ledger
        self._jobs: dict[str, Job] = {}
        self._by_txn: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._batch = ThreadPoolExecutor(max(1, batch_workers), thread_name_prefix="rl-batch")
        self._search = ThreadPoolExecutor(max(1, search_workers), thread_name_prefix="rl-search")
        self._batch_slots = threading.BoundedSemaphore(max(1, batch_workers) + MAX_QUEUED)

    def get(self, job_id: str, key_id: str) -> Job | None:
        """The job, when it exists and belongs to this key (from the ledger when it is no
        longer in memory: a job of an earlier run of the service)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None and self.ledger is not None:
            job = self.ledger.load(job_id)
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
        self,
        key_id: str,
        transaction_id: str,
        work: Callable[[Job], dict[str, Any]],
        deliver: Callable[[Job, dict[str, Any] | None], None] | None = None,
    ) -> Job:
        """Run an async search: ``work(job)`` gives its DCI response, the job's result;
        ``deliver(job, result)`` then sends it on (the callback; ``result`` None when the
        search failed), recording in ``job.callback`` how it went."""
        job = self._new("search", key_id, transaction_id)
        if deliver is not None:
            job.callback = {"status": "pending", "attempts": 0}

        def run() -> None:
            job.status = "running"
            try:
                job.result = work(job)
                job.status = "succeeded"
            except Exception as exc:  # the job reports it; the worker thread lives on
                job.status = "failed"
                job.error = _describe(exc)
            finally:
                job.finished_at = utcnow()
            if deliver is not None:
                try:
                    deliver(job, job.result)
                except Exception as exc:  # the job reports it; the worker thread lives on
                    job.callback = {"status": "failed", "error": type(exc).__name__}

        self._search.submit(run)
        return job

    def submit_batch(self, key_id: str, make_job: Callable[[Path], MatchJob]) -> Job:
        """Queue a batch ``match`` whose inputs ``make_job`` lays in the job's folder (with
        the ledger: the job is saved queued, at each stage and progress line, and at its end).

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
            self._save(job)
        except BaseException:
            self._batch_slots.release()
            raise

        def event(line: str) -> None:
            job.events.append(line)
            del job.events[:-MAX_EVENTS]
            self._save(job)

        def stage(name: str, _seconds: float) -> None:
            job.stages_done.append(name)
            job.stage = name
            self._save(job)

        def run() -> None:
            job.status = "running"
            try:
                self._save(job)
                outcome = run_match(match_job, on_event=event, on_stage=stage)
                job.files = {name: Path(path) for name, path in outcome.written.items()}
                job.summary = {
                    "records": outcome.summary.get("records"),
                    "decisions": outcome.summary.get("decisions"),
                }
                job.run_id = outcome.recorded.run_id if outcome.recorded is not None else None
                job.status = "succeeded"
            except Exception as exc:  # the job reports it; the worker thread lives on
                job.status = "failed"
                job.error = _describe(exc)
            finally:
                job.finished_at = utcnow()
                self._batch_slots.release()
            try:
                self._save(job)
            except RegistryLinkError as exc:  # the job's end stays known in memory
                log.error("batch job %s: its end could not be saved: %s", job.id, exc)

        self._batch.submit(run)
        return job

    def _save(self, job: Job) -> None:
        if self.ledger is not None:
            self.ledger.save(job)

    def shutdown(self) -> None:
        """Stop taking work; running jobs finish."""
        self._search.shutdown(wait=False, cancel_futures=True)
        self._batch.shutdown(wait=False, cancel_futures=True)


def _describe(exc: Exception) -> str:
    if isinstance(exc, RegistryLinkError):
        return str(exc)
    return f"internal error ({type(exc).__name__}); the service log has the job id"
