"""What ``registry-link serve`` runs with: inputs, database, limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from registry_link.db.engine import DB_ENV
from registry_link.jobs import SHIPPED_MODEL_CONFIG
from registry_link.service.callbacks import CallbackPolicy


@dataclass(frozen=True)
class ServiceSettings:
    """The service's inputs and limits.

    Args:
        registry: the registry extract the index is built from.
        registry_config: its source config (None: the shipped sample's, for the sample).
        model: a trained model JSON (``registry-link train`` or a ``match``/``demo`` run's
            ``model.json``).
        model_config: the model config (blocking rules, comparisons, thresholds).
        db_url: the database of API keys and the search audit (None: ``$REGISTRY_LINK_DB``,
            else ``sqlite:///registry-link.db``); created or migrated at start-up. Given (or
            ``$REGISTRY_LINK_DB`` set), it is also the database of record, as for
            ``registry-link match --db``: batch jobs record their runs in it and keep their
            state there (:attr:`records_jobs`).
        jobs_dir: where batch jobs keep their uploads and result files.
        max_body_bytes: largest request body (413 above), batch uploads excepted.
        max_upload_bytes: largest batch-job upload (partner file and config together).
        rate_per_second: each key's sustained searches per second (token bucket).
        rate_burst: each key's burst (the bucket's size).
        max_queries: most queries in one envelope (and persons in one registry update).
        max_k: most candidates a query may ask for (``pagination.page_size``).
        batch_workers: batch jobs run at once (the others wait in a queue).
        search_workers: threads answering asynchronous searches.
        search_batch: most records one ``search_many`` call answers: concurrent searches (and
            an envelope's queries) are searched together, each as if alone
            (:class:`~registry_link.service.coalesce.SearchCoalescer`); 1 searches each alone.
        callbacks: how hard an asynchronous search's answer is POSTed to its ``sender_uri``.
        signing_key: an Ed25519 private key (PEM, ``registry-link keys signing-key``) the
            service signs every DCI envelope it sends with; None: envelopes go unsigned.
        require_signatures: refuse the DCI envelopes of an API key that has no partner public
            key (``registry-link keys public-key``); False: such a key's envelopes are taken
            with their signature unchecked (a key WITH a public key is always checked).
        max_signature_seconds: the longest validity window (``expires - created``) of a
            partner's signature the service accepts; each accepted signature is remembered
            that long at most, and the same signed envelope is refused a second time
            (:mod:`~registry_link.service.replay`).
        replay_memory: most signatures remembered at once (past it, signed envelopes are
            refused with a 503 until some expire).
        key_cache_seconds: how long a verified API key is trusted without reading the
            database again (:class:`~registry_link.service.keys.VerifiedKeys`): a key revoked
            (or its scopes or public key changed) takes effect within this many seconds; 0
            reads the database on every request.
        gc_freeze: keep Python's garbage collector off the long-lived heap
            (:class:`~registry_link.service.heap.FrozenHeap`): everything alive once the
            index is built and the recorded updates replayed is frozen, and again at the end
            of each later full collection, so that a full collection walks only what was
            allocated since the last one. Off here (an app built in a process that builds
            others, e.g. the tests); ``registry-link serve`` turns it on.
        workers: server processes answering on the same socket (``registry-link serve
            --workers``), this one among them. Above 1, each process: applies before a search
            the registry updates the others recorded (the audit's ``index_version`` and the
            answers' ``version`` are then the journal id of the newest update applied, the
            same in every process); takes ``rate_per_second / workers`` (and ``rate_burst /
            workers``) per key; decides replays in the database; keeps batch jobs in the
            database; refuses asynchronous searches (their answers live in one process's
            memory); does not fail the batch jobs left unfinished (the supervisor does, once,
            before it starts them).
    """

    registry: Path
    model: Path
    registry_config: Path | None = None
    model_config: Path = SHIPPED_MODEL_CONFIG
    db_url: str | None = None
    jobs_dir: Path = Path("registry-link-jobs")
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 200_000_000
    rate_per_second: float = 50.0
    rate_burst: int = 100
    max_queries: int = 100
    max_k: int = 50
    batch_workers: int = 1
    search_workers: int = 2
    search_batch: int = 64
    callbacks: CallbackPolicy = field(default_factory=CallbackPolicy)
    signing_key: Path | None = None
    require_signatures: bool = False
    max_signature_seconds: int = 3600
    replay_memory: int = 1_000_000
    key_cache_seconds: float = 5.0
    gc_freeze: bool = False
    workers: int = 1

    @property
    def several_workers(self) -> bool:
        """Whether other server processes share this one's database and socket."""
        return self.workers > 1

    @property
    def records_jobs(self) -> bool:
        """Whether batch jobs are recorded as runs and kept in the database (a database was
        named: ``db_url`` or ``$REGISTRY_LINK_DB``), as ``registry-link match`` decides."""
        return self.db_url is not None or bool(os.environ.get(DB_ENV))
