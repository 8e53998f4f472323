"""The ASGI application: DCI search, registry updates, batch jobs, health, behind API keys.

:func:`create_app` wires the routes to the library: the registry index
(:meth:`registry_link.linker.Linker.index`) answers searches, :mod:`registry_link.db.access`
checks keys and appends the search audit, :mod:`registry_link.service.jobs` runs async work.
Every refusal is one JSON object ``{"error": {"code", "message", "fields"?}}``; nothing a
request carries (names, identifiers, paths with ids) is written to the log.

FastAPI (the ``serve`` extra) is imported inside the functions that use it, so that this module
imports on a core install; :func:`registry_link.service.create_app` says what to install.
"""

import contextlib
import json
import logging
import math
import os
import threading
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from registry_link import __version__
from registry_link.db.access import (
    KeyInfo,
    SearchRecord,
    callback_allowed,
    forget_signature,
    record_searches,
    remember_signature,
    signatures_in_force,
    verify_key,
)
from registry_link.db.engine import (
    appending,
    prepare_database,
    reading,
    resolve_url,
    retry_locked,
    transaction,
)
from registry_link.db.journal import (
    drop_update,
    extract_sha256,
    latest_update_id,
    record_update,
)
from registry_link.db.repository import audit
from registry_link.errors import RegistryLinkError, SignatureError
from registry_link.service.callbacks import deliver
from registry_link.service.coalesce import SearchCoalescer
from registry_link.service.dci import (
    REGISTRY_ID_TYPES,
    CriteriaProblem,
    IdCriteria,
    SearchEnvelope,
    SearchRequestItem,
    TxnStatusEnvelope,
    check_identifier,
    lookup_response_item,
    now_iso,
    rejected_answer,
    response_header,
    search_record,
    search_response_item,
)
from registry_link.service.groupcommit import GroupCommit
from registry_link.service.heap import FrozenHeap
from registry_link.service.jobs import Job, JobLedger, JobStore, QueueFull
from registry_link.service.keys import VerifiedKeys
from registry_link.service.limits import BodySizeLimit, RateLimiter, Receive, Scope, Send
from registry_link.service.replay import ReplayMemoryFull, SeenSignatures, SignatureReplayed
from registry_link.service.settings import ServiceSettings
from registry_link.service.signing import EnvelopeSigner, load_signer, verify
from registry_link.service.updates import Replayed, replay_updates

T = TypeVar("T")

#: The service's logger: method, route template, status, milliseconds, key id — nothing else.
log = logging.getLogger("registry_link.service")

#: Partner-file suffixes a batch job accepts (those ``registry-link match`` reads).
BATCH_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".txt", ".xlsx", ".parquet")


class ApiError(Exception):
    """A refusal: its HTTP status, a stable code and a message saying what to do."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Sequence[dict[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = list(fields), headers or {}

    def response(self) -> Any:
        """The refusal as a JSON response."""
        from fastapi.responses import JSONResponse

        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return JSONResponse({"error": body}, status_code=self.status, headers=self.headers)


class IndexHolder:
    """The registry index, once built (in a background thread at start-up) and brought up
    to date with the registry updates recorded on its extract
    (:mod:`~registry_link.service.updates`)."""

    def __init__(self, heap: FrozenHeap | None = None, follows_journal: bool = False) -> None:
        self.index: Any | None = None
        #: The garbage collector's policy once the index is open (None: Python's own).
        self.heap = heap
        self.error: str | None = None
        self.write_lock = threading.RLock()  # one registry writer at a time
        #: The SHA-256 of the registry extract (what the updates recorded are tied to).
        self.registry_sha256: str | None = None
        #: What the start-up replay of recorded updates did.
        self.replayed = Replayed()
        #: Whether other server processes record updates too (``serve --workers N``): each
        #: search first applies those recorded since :attr:`applied_update` (:meth:`catch_up`).
        self.follows_journal = follows_journal
        #: The journal id of the newest recorded update the index holds (0: none).
        self.applied_update = 0

    def build(self, settings: ServiceSettings, sessions: sessionmaker[Session]) -> None:
        """Read and standardise the registry, load the model, build the index, replay the
        updates recorded on this extract."""
        from registry_link.jobs import resolve_registry_config
        from registry_link.linker import Linker
        from registry_link.model import load_model
        from registry_link.standardise.pipeline import load_standardised

        started = time.perf_counter()
        try:
            config = resolve_registry_config(settings.registry, settings.registry_config)
            registry = load_standardised(settings.registry, config)
            model = load_model(settings.model)
            index = Linker.from_config(settings.model_config).index(registry, model)
            self.open(index, settings.registry, sessions)
        except RegistryLinkError as exc:
            self.error = str(exc)
            log.error("index build failed: %s", exc)
            return
        log.info(
            "index ready: %d registry records in %.1f s (%d recorded update(s) applied again)",
            index.size,
            time.perf_counter() - started,
            self.replayed.applied,
        )

    def open(self, index: Any, registry: Path, sessions: sessionmaker[Session]) -> None:
        """Serve ``index`` (built from the extract ``registry``) once the updates recorded on
        that extract are applied to it again.

        Raises:
            DatabaseError: the recorded updates could not be read.
        """
        self.registry_sha256 = extract_sha256(registry)
        self.replayed = replay_updates(index, sessions, self.registry_sha256)
        self.applied_update = self.replayed.last_id
        if self.heap is not None:  # (the index and its start-up garbage: frozen, collected)
            self.heap.freeze()
            self.heap.watch()
        self.index = index

    def catch_up(self, sessions: sessionmaker[Session], upto: int | None = None) -> None:
        """Apply the updates other server processes recorded since :attr:`applied_update`
        (up to ``upto``, else all); one cheap read when there are none. A no-op unless
        :attr:`follows_journal`.

        Raises:
            DatabaseError: the journal could not be read.
        """
        if not self.follows_journal or self.index is None:
            return
        assert self.registry_sha256 is not None
        if upto is None:
            with reading(sessions) as session:
                upto = latest_update_id(session, self.registry_sha256)
            if upto <= self.applied_update:
                return
        with self.write_lock:
            if upto > self.applied_update:
                replayed = replay_updates(
                    self.index, sessions, self.registry_sha256, self.applied_update, upto
                )
                self.applied_update = max(self.applied_update, replayed.last_id)

    def version(self) -> int:
        """The index's version as answers and the audit give it: with other server processes
        the journal id of the newest update it holds (the same in every process), else the
        index's own count of updates."""
        assert self.index is not None
        return self.applied_update if self.follows_journal else int(self.index.version)

    def ready(self) -> Any:
        """The index, or a 503 refusal while it is being built (or failed to)."""
        if self.index is None:
            raise ApiError(
                503,
                "service.not_ready",
                self.error or "the registry index is being built; retry when GET /ready is 200",
                headers={"Retry-After": "5"},
            )
        return self.index


@dataclass
class ServiceState:
    """Everything the routes share."""

    settings: ServiceSettings
    sessions: sessionmaker[Session]
    holder: IndexHolder
    limiter: RateLimiter
    jobs: JobStore
    signer: EnvelopeSigner | None = None
    builder: threading.Thread | None = field(default=None)
    coalescer: SearchCoalescer = field(default_factory=SearchCoalescer)
    #: The partners' signatures accepted and still valid (a copy sent again is refused).
    seen: SeenSignatures = field(default_factory=SeenSignatures)
    #: Held around each write on SQLite (see :meth:`write`); None on a server database.
    writer: "threading.Lock | None" = None
    #: The API keys verified lately (a request of such a key does not read the database).
    keys: VerifiedKeys = field(default_factory=VerifiedKeys)
    #: The search audit's writes of concurrent requests, committed together (:meth:`append`).
    audit: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.audit = GroupCommit(self.append)

    def write(self, action: Callable[[Session], None]) -> None:
        """Run ``action`` in one write transaction, committed before this returns.

        SQLite has one writer lock per file and its busy timeout is short (1 s a slice): the
        threads answering a coalesced batch of searches all write their audit rows at once
        and, with the CPU busy, a thread holding the lock can be held up past the others'
        timeouts (a 500 under load, measured: 4-6 of 1,000 requests). So on SQLite the
        service's own threads take turns (:attr:`writer`), and a lock held by another process
        (a reviewer, ``registry-link keys``) is waited for by :func:`retry_locked`, bounded
        (``$REGISTRY_LINK_LOCK_WAIT``, 30 s by default).

        Raises:
            DatabaseError: (a subclass of) the database failed, or stayed locked too long.
        """

        self._in_turn(lambda: transaction(self.sessions), action)

    def append(self, action: Callable[[Connection], None]) -> None:
        """Run ``action`` on a connection in one write transaction (no ORM session: an append
        such as the search audit's), committed before this returns; locks as :meth:`write`.

        Raises:
            DatabaseError: (a subclass of) the database failed, or stayed locked too long.
        """

        self._in_turn(lambda: appending(self.sessions), action)

    def _in_turn(
        self,
        opened: Callable[[], contextlib.AbstractContextManager[T]],
        action: Callable[[T], None],
    ) -> None:
        """``action`` on what ``opened`` opens (a transaction), holding :attr:`writer` on SQLite,
        tried again while another process holds the database's lock (:func:`retry_locked`)."""

        def attempt() -> None:
            with self.writer or contextlib.nullcontext(), opened() as handle:
                action(handle)

        retry_locked(attempt, on_wait=_lock_wait_logged)

    def seal(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """``envelope`` with its DCI ``signature`` set when the service has a signing key."""
        return self.signer.signed(envelope) if self.signer is not None else envelope


def _lock_wait_logged(waited: float, limit: float) -> None:
    log.warning("database locked by another process: waited %.1f of %.0f s", waited, limit)


# ------------------------------------------------------------------ errors and logging


def field_path(loc: Sequence[int | str]) -> str:
    """A validation error's location as ``message.search_request[0].search_criteria.query``:
    the body prefix, union-member tags and discriminator tags left out."""
    parts: list[str] = []
    for item in loc[1:] if loc and loc[0] == "body" else loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("str", "int", "idtype-value", "predicate") or any(c in item for c in "[-"):
            continue
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "body"


def _validation_fields(exc: Any) -> list[dict[str, str]]:
    """The fields of a FastAPI ``RequestValidationError``, each with its problem."""
    fields: list[dict[str, str]] = []
    for error in exc.errors():
        path = field_path(error.get("loc", ()))
        kind = error.get("type", "")
        if kind in ("union_tag_not_found", "union_tag_invalid"):
            path += ".query_type"
            problem = "expected 'idtype-value' or 'predicate'"
        elif kind == "json_invalid":
            path, problem = "body", "the body is not valid JSON"
        else:
            problem = str(error.get("msg", "invalid"))
        entry = {"field": path, "problem": problem}
        if entry not in fields:
            fields.append(entry)
    return fields


class Guard:
    """ASGI middleware: one log line per request (no values, no raw paths) and a JSON 500
    for anything unexpected (its traceback logged without the exception's message). With
    ``worker`` (several server processes), each answer says which one gave it, in the header
    ``X-Registry-Link-Worker`` (its process id, as its log lines and uvicorn's give it)."""

    def __init__(self, app: Any, worker: str | None = None) -> None:
        self.app = app
        self.worker = None if worker is None else (b"x-registry-link-worker", worker.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def tracked_send(message: Any) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                if self.worker is not None:
                    message = {**message, "headers": [*message.get("headers", []), self.worker]}
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            incident = uuid.uuid4().hex[:12]
            log.error(
                "internal error %s: %s\n%s",
                incident,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if not response_started:
                await ApiError(
                    500,
                    "internal",
                    f"internal error (incident {incident}); the request was not completed",
                ).response()(scope, receive, tracked_send)
        finally:
            route = scope.get("route")
            log.info(
                "%s %s %d %.1fms key=%s",
                scope.get("method", "-"),
                getattr(route, "path", "-"),
                status,
                (time.perf_counter() - started) * 1000,
                scope.get("state", {}).get("key_id", "-"),
            )


# ------------------------------------------------------------------ the application


class PersonsUpdate(BaseModel):
    """Registry persons to add or replace (canonical registry fields, ``person_id`` included)."""

    persons: list[dict[str, str | int | float | None]] = Field(min_length=1)


def create_app(settings: ServiceSettings, *, index: Any | None = None) -> Any:
    """The service's ASGI application.

    Args:
        settings: inputs, database and limits.
        index: an already-built registry index (e.g. shared by tests or an embedding
            program); None builds it from ``settings`` in the background at start-up
            (``GET /ready`` answers 200 once it is built).

    Raises:
        DatabaseError: the key/audit database cannot be created, migrated or written.
        UsageError: ``settings.signing_key`` is not a readable Ed25519 private key.
    """
    from fastapi import Depends, FastAPI, File, Request, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    signer = load_signer(settings.signing_key) if settings.signing_key is not None else None
    sessions = prepare_database(settings.db_url)
    state = ServiceState(
        settings=settings,
        sessions=sessions,
        holder=IndexHolder(
            FrozenHeap() if settings.gc_freeze else None,
            follows_journal=settings.several_workers,
        ),
        limiter=RateLimiter(
            settings.rate_per_second / settings.workers,
            max(1, settings.rate_burst // settings.workers),
        ),
        jobs=JobStore(
            settings.jobs_dir,
            settings.batch_workers,
            settings.search_workers,
            ledger=JobLedger(sessions)
            if settings.records_jobs or settings.several_workers
            else None,
        ),
        signer=signer,
        coalescer=SearchCoalescer(settings.search_batch),
        seen=SeenSignatures(settings.replay_memory),
        writer=threading.Lock() if resolve_url(settings.db_url).startswith("sqlite") else None,
        keys=VerifiedKeys(settings.key_cache_seconds),
    )
    with reading(sessions) as session:
        restored = state.seen.restore(signatures_in_force(session, time.time()))
    if restored:
        log.info("%d signed envelope(s) accepted before this start remembered", restored)
    if index is not None:
        state.holder.open(index, settings.registry, sessions)
    if state.jobs.ledger is not None and not settings.several_workers:
        # (with several workers the supervisor does it once, before starting them)
        abandoned = state.jobs.ledger.abandon_unfinished()
        if abandoned:
            log.warning("%d batch job(s) left unfinished by a stopped service: failed", abandoned)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if state.holder.index is None and state.builder is None:
            state.builder = threading.Thread(
                target=state.holder.build, args=(settings, sessions), name="rl-index", daemon=True
            )
            state.builder.start()
        yield
        state.jobs.shutdown()
        state.coalescer.close()
        if state.holder.heap is not None:
            state.holder.heap.stop()

    app = FastAPI(
        title="registry-link search service",
        version=__version__,
        description="DCI social-registry search over the registry index: by identifier or "
        "by demographic predicates, with calibrated match probabilities and explanations. "
        "Authenticate with `Authorization: Bearer <API key>` (`registry-link keys add`).",
        lifespan=lifespan,
    )
    app.state.service = state
    bearer = HTTPBearer(auto_error=False, description="An API key from `registry-link keys add`")

    async def refused(request: Request) -> None:
        """A refused request is not answered: forget the signature it was admitted with, so
        that the partner's retry of the same envelope (after a 429 or 503) is not a replay."""
        admitted = getattr(request.state, "admitted_signature", None)
        if admitted is None:
            return
        key_id, signature = admitted
        state.seen.forget(key_id, signature)
        fingerprint = SeenSignatures.fingerprint(signature)
        try:
            await run_in_threadpool(
                state.write, lambda session: forget_signature(session, key_id, fingerprint)
            )
        except RegistryLinkError as exc:  # (only a restart would still refuse its retry)
            log.warning("a refused envelope's signature stays recorded: %s", exc)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        await refused(request)
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        await refused(request)
        fields = _validation_fields(exc)
        shown = "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
        return ApiError(
            422, "rjct.request.invalid", f"the request is invalid: {shown}", fields=fields
        ).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return ApiError(exc.status_code, code, str(exc.detail)).response()

    def verified(key: str) -> KeyInfo | None:
        """The key checked against the database (and remembered when valid)."""
        with reading(state.sessions) as session:  # (no write lock: requests never queue)
            info = verify_key(session, key)
        if info is not None:
            state.keys.put(key, info)
        return info

    async def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> KeyInfo:
        """The key's owner and scopes: verified in the last ``key_cache_seconds`` (in the
        event loop, no thread), else read from the database (in a worker thread)."""
        if credentials is None:
            raise ApiError(
                401,
                "auth.missing",
                "no API key: send `Authorization: Bearer <key>` (`registry-link keys add` "
                "makes one)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        info = state.keys.get(credentials.credentials)
        if info is None:
            info = await run_in_threadpool(verified, credentials.credentials)
        if info is None:
            raise ApiError(
                401,
                "auth.invalid",
                "the API key is unknown or revoked; ask the registry operator for a key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        request.scope.setdefault("state", {})["key_id"] = info.key_id
        return info

    Caller = Annotated[KeyInfo, Depends(caller)]

    async def sent_body(request: Request) -> bytes:
        """The request's body as sent (what a DCI signature covers; read once, then cached)."""
        return await request.body()

    async def signed_caller(
        request: Request, info: Caller, body: Annotated[bytes, Depends(sent_body)]
    ) -> KeyInfo:
        """The caller, once its envelope's signature is checked: with the partner's public key
        when its API key has one (in a worker thread: it writes to the database); a key
        without one is refused if the service requires signatures, else its envelope's
        signature is kept unchecked."""
        if info.public_key is None:
            if settings.require_signatures:
                raise ApiError(
                    401,
                    "auth.signature_required",
                    f"this service accepts only signed envelopes and API key {info.key_id} "
                    f"(partner {info.partner}) has no public key to check them with; the "
                    f"operator registers it: `registry-link keys public-key {info.key_id} "
                    "--file partner-public.pem`",
                )
            return info
        await run_in_threadpool(check_signature, request, info, body)
        return info

    def check_signature(request: Request, info: KeyInfo, body: bytes) -> None:
        """Check the envelope's signature with the key's public key, and remember it (memory
        and database) so that the same envelope is refused a second time."""
        assert info.public_key is not None
        try:
            sent = json.loads(body)
        except ValueError:
            sent = None  # (not JSON: the schema's validation says so)
        if isinstance(sent, dict):
            try:
                checked = verify(sent, info.public_key, max_validity=settings.max_signature_seconds)
            except SignatureError as exc:
                raise ApiError(
                    401,
                    "auth.signature",
                    f"the envelope's signature is refused for API key {info.key_id} "
                    f"(partner {info.partner}): {exc}. Sign the RFC 8785 JSON of "
                    "{header, message} with the key registered for it (docs/service.md, "
                    "'Signed requests')",
                    fields=[{"field": "signature", "problem": str(exc)}],
                ) from None
            try:
                state.seen.admit(info.key_id, checked.value, checked.expires)
            except SignatureReplayed as exc:
                raise ApiError(
                    401,
                    "auth.replay",
                    f"refused for API key {info.key_id} (partner {info.partner}): {exc}",
                    fields=[{"field": "signature", "problem": "already received"}],
                ) from None
            except ReplayMemoryFull as exc:
                raise ApiError(
                    503, "service.busy", f"{exc}; retry in 60 s", headers={"Retry-After": "60"}
                ) from None
            fingerprint = SeenSignatures.fingerprint(checked.value)
            remembered: list[bool] = []
            try:  # kept in the database too (which decides): refused again after a restart,
                # and by every server process
                state.write(
                    lambda session: remembered.append(
                        remember_signature(
                            session, info.key_id, fingerprint, checked.expires, time.time()
                        )
                    )
                )
            except BaseException:
                state.seen.forget(info.key_id, checked.value)
                raise
            if not remembered[-1]:  # accepted by another server process
                state.seen.forget(info.key_id, checked.value)
                raise ApiError(
                    401,
                    "auth.replay",
                    f"refused for API key {info.key_id} (partner {info.partner}): this signed "
                    "envelope was received before; sign each request anew, with a new "
                    "message_id",
                    fields=[{"field": "signature", "problem": "already received"}],
                )
            request.state.admitted_signature = (info.key_id, checked.value)

    SignedCaller = Annotated[KeyInfo, Depends(signed_caller)]

    def require(info: KeyInfo, scope: str) -> None:
        if scope not in info.scopes:
            raise ApiError(
                403,
                "auth.scope",
                f"this API key (partner {info.partner}) lacks the scope {scope!r}; it has "
                f"{', '.join(info.scopes)}",
            )

    def take(info: KeyInfo, tokens: int = 1) -> None:
        wait = state.limiter.take(info.key_id, tokens)
        if wait > 0:
            retry = "60" if math.isinf(wait) else str(max(1, math.ceil(wait)))
            raise ApiError(
                429,
                "rate.limited",
                f"rate limit of {settings.rate_per_second:g} searches/s (burst "
                f"{settings.rate_burst}) reached for this key; retry in {retry} s",
                headers={"Retry-After": retry},
            )

    def one_worker_only() -> None:
        """Refuse asynchronous searches when several server processes serve: their answers
        live in the memory of the process that ran them, which another may not be."""
        if settings.several_workers:
            raise ApiError(
                501,
                "service.async_off",
                f"asynchronous searches are not served by this service ({settings.workers} "
                "server processes: an answer would stay in the one that ran it); use POST "
                "/registry/sync/search, or ask the operator for `registry-link serve "
                "--workers 1`",
            )

    def admit(envelope: SearchEnvelope, info: KeyInfo) -> Any:
        """Scope, size and rate checks of a search envelope, then the index."""
        items = envelope.message.search_request
        if len(items) > settings.max_queries:
            raise ApiError(
                413,
                "rjct.total_count.limit_exceeded",
                f"{len(items)} queries in one envelope; at most {settings.max_queries}",
                fields=[{"field": "message.search_request", "problem": "too many queries"}],
            )
        for item in items:
            is_id = isinstance(item.search_criteria, IdCriteria)
            require(info, "search:id" if is_id else "search:demographic")
        index = state.holder.ready()
        take(info, len(items))
        state.holder.catch_up(state.sessions)  # (other workers' updates: seen at once)
        return index

    def answer(
        envelope: SearchEnvelope,
        info: KeyInfo,
        index: Any,
        endpoint: str,
        correlation_id: str | None = None,
    ) -> dict[str, Any]:
        """Search every query of the envelope, audit each, and build the DCI response."""
        items = envelope.message.search_request
        responses, audited = [], []
        for item, (response, person_ids) in zip(
            items, _search_all(index, items, state.coalescer), strict=True
        ):
            responses.append(response)
            audited.append(
                SearchRecord(
                    key_id=info.key_id,
                    partner=info.partner,
                    endpoint=endpoint,
                    query_type=item.search_criteria.query_type,
                    criteria=item.search_criteria.model_dump(mode="json")["query"],
                    status=response["status"],
                    person_ids=person_ids,
                    message_id=envelope.header.message_id,
                    transaction_id=envelope.message.transaction_id,
                    reference_id=item.reference_id,
                )
            )
        # no answer leaves without its audit (committed with those of concurrent requests)
        state.audit.write(lambda connection: record_searches(connection, audited))
        succeeded = sum(r["status"] == "succ" for r in responses)
        return state.seal(
            {
                "signature": None,
                "header": response_header(
                    envelope.header, "on-search", "succ" if succeeded else "rjct", len(responses)
                ),
                "message": {
                    "transaction_id": envelope.message.transaction_id,
                    "correlation_id": correlation_id or uuid.uuid4().hex,
                    "search_response": responses,
                },
            }
        )

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/signing-key", tags=["service"])
    def signing_key() -> dict[str, str]:
        """The public key the service's envelopes are signed with (Ed25519), and how the
        signature is made: what a partner needs to verify an answer."""
        if state.signer is None:
            raise ApiError(
                404,
                "signing.off",
                "this service does not sign its answers; the operator starts it with "
                "`registry-link serve --signing-key FILE` to sign them",
            )
        return state.signer.describe()

    @app.get("/ready", tags=["service"])
    def ready() -> JSONResponse:
        """Readiness: 200 once the registry index is built, 503 before (or if it failed)."""
        index = state.holder.index
        if index is None:
            body = {"ready": False, "error": state.holder.error}
            return JSONResponse(body, status_code=503)
        replayed = state.holder.replayed
        return JSONResponse(
            {
                "ready": True,
                "registry_records": index.size,
                "version": state.holder.version(),
                # registry updates recorded before this start, applied again (and not)
                "updates_replayed": replayed.applied,
                "updates_not_replayed": replayed.refused + replayed.other_extracts,
            }
        )

    @app.post("/registry/sync/search", tags=["search"])
    def sync_search(envelope: SearchEnvelope, info: SignedCaller) -> dict[str, Any]:
        """DCI synchronous search: one or more queries, answered in the response."""
        index = admit(envelope, info)
        return answer(envelope, info, index, "sync/search")

    @app.post("/registry/search", tags=["search"], status_code=202)
    def async_search(envelope: SearchEnvelope, info: SignedCaller) -> dict[str, Any]:
        """DCI asynchronous search: acknowledged at once (``rcvd``). With ``header.sender_uri``
        (under a callback prefix of the key) the DCI ``on-search`` answer is POSTed there
        (``ack_status`` ACK); it is also at ``POST /registry/sync/txn/status`` and
        ``GET /jobs/{correlation_id}``, with how the callback went."""
        one_worker_only()
        index = admit(envelope, info)
        sender_uri = envelope.header.sender_uri
        if sender_uri is not None and not callback_allowed(sender_uri, info.callback_prefixes):
            raise ApiError(
                403,
                "err.sender_uri.invalid",
                "header.sender_uri is not under a callback prefix of this API key"
                + (
                    f" ({', '.join(info.callback_prefixes)})"
                    if info.callback_prefixes
                    else " (it has none: the operator adds them with `registry-link keys add "
                    "--callback-prefix`)"
                )
                + "; leave sender_uri out to fetch the answer with POST /registry/sync/txn/status",
                fields=[{"field": "header.sender_uri", "problem": "not allowed for this key"}],
            )

        def send(job: Job, result: dict[str, Any] | None) -> None:
            assert sender_uri is not None
            if result is None:  # the search failed: the caller is told, not left waiting
                txn = envelope.message.transaction_id
                result = state.seal(rejected_answer(envelope.header, txn, job.id, job.error))
            job.callback = deliver(job.id, sender_uri, result, settings.callbacks)

        job = state.jobs.submit_search(
            info.key_id,
            envelope.message.transaction_id,
            lambda job: answer(envelope, info, index, "search", correlation_id=job.id),
            send if sender_uri is not None else None,
        )
        return state.seal(
            {
                "signature": None,
                "header": response_header(envelope.header, "search", "rcvd", 0),
                "message": {
                    # ACK: the answer will be POSTed to sender_uri; NACK: no callback will come
                    # (DCI), the answer is fetched with txn/status or GET /jobs/{correlation_id}
                    "ack_status": "ACK" if sender_uri is not None else "NACK",
                    "timestamp": now_iso(),
                    "correlation_id": job.id,
                    "transaction_id": envelope.message.transaction_id,
                },
            }
        )

    @app.post("/registry/sync/txn/status", tags=["search"])
    def txn_status(envelope: TxnStatusEnvelope, info: SignedCaller) -> dict[str, Any]:
        """DCI transaction status of an asynchronous search of this key."""
        one_worker_only()
        take(info)
        request = envelope.message.txnstatus_request
        value = request.attribute_value
        job = state.jobs.by_transaction(info.key_id, value if isinstance(value, str) else "")
        if job is None:
            raise ApiError(
                404,
                "rjct.transaction_id.invalid",
                "no asynchronous search of this key has that transaction_id",
                fields=[
                    {"field": "message.txnstatus_request.attribute_value", "problem": "unknown"}
                ],
            )
        status = {"succeeded": "succ", "failed": "rjct"}.get(job.status, "pdng")
        response: dict[str, Any] = {
            "reference_id": request.reference_id,
            "txn_type": "search",
            "txn_status": status,
        }
        if job.result is not None:
            response["search_response"] = job.result["message"]["search_response"]
        if job.error:
            response["status_reason_message"] = job.error
        return state.seal(
            {
                "signature": None,
                "header": response_header(envelope.header, "on-txn-status", "succ", 1),
                "message": {
                    "transaction_id": envelope.message.transaction_id,
                    "correlation_id": job.id,
                    "txnstatus_response": response,
                },
            }
        )

    def owned_job(job_id: str, info: KeyInfo) -> Job:
        job = state.jobs.get(job_id, info.key_id)
        if job is None:
            raise ApiError(404, "job.not_found", "no job of this key has that id")
        return job

    @app.get("/jobs/{job_id}", tags=["jobs"])
    def job_status(job_id: str, info: Caller) -> dict[str, Any]:
        """A job's status: progress and result files (batch), or the DCI answer (search)."""
        take(info)
        return owned_job(job_id, info).view()

    @app.get("/jobs/{job_id}/files/{name}", tags=["jobs"], response_model=None)
    def job_file(job_id: str, name: str, info: Caller) -> FileResponse:
        """Download one result file of a finished batch job."""
        take(info)
        job = owned_job(job_id, info)
        path = job.files.get(name)
        if path is None or not path.is_file():
            raise ApiError(404, "job.file_not_found", f"the job has no result file {name!r} (yet)")
        return FileResponse(path, filename=name)

    @app.post("/jobs", tags=["jobs"], status_code=202)
    def submit_job(
        info: Caller,
        partner: Annotated[UploadFile, File(description="The partner list (CSV, XLSX, Parquet)")],
        config: Annotated[UploadFile, File(description="Its source config (YAML)")],
    ) -> dict[str, Any]:
        """Link a whole partner list (the same `match` as the CLI), in the background."""
        require(info, "batch")
        take(info)
        state.holder.ready()
        suffix = Path(partner.filename or "").suffix.lower()
        if suffix not in BATCH_SUFFIXES:
            raise ApiError(
                422,
                "rjct.request.invalid",
                f"the partner file's name must end in one of {', '.join(BATCH_SUFFIXES)}",
                fields=[{"field": "partner", "problem": "unsupported file type"}],
            )

        def lay_out(folder: Path) -> Any:
            from registry_link.config.loader import load_source_config
            from registry_link.jobs import MatchJob

            partner_path, config_path = folder / f"partner{suffix}", folder / "config.yaml"
            partner_path.write_bytes(partner.file.read())
            config_path.write_bytes(config.file.read())
            try:
                load_source_config(config_path)
            except RegistryLinkError as exc:
                raise ApiError(
                    422,
                    "rjct.request.invalid",
                    str(exc).replace(str(config_path), "config"),
                    fields=[{"field": "config", "problem": "invalid source config"}],
                ) from None
            return MatchJob(
                db_url=resolve_url(settings.db_url) if settings.records_jobs else None,
                operator=f"key:{info.key_id}",
                registry=settings.registry,
                registry_config=settings.registry_config,
                partners=(partner_path,),
                configs=(config_path,),
                out_dir=folder / "out",
                model_config=settings.model_config,
                model=settings.model,
            )

        try:
            job = state.jobs.submit_batch(info.key_id, lay_out)
        except QueueFull:
            raise ApiError(
                429,
                "jobs.queue_full",
                "too many batch jobs are waiting; retry later",
                headers={"Retry-After": "60"},
            ) from None
        return {"job_id": job.id, "status": job.status, "status_url": f"/jobs/{job.id}"}

    def record(
        info: KeyInfo,
        kind: str,
        record_ids: Sequence[str],
        persons: Sequence[dict[str, Any]] = (),
    ) -> int:
        """Record a registry update before the index applies it (a restart applies it again:
        :mod:`~registry_link.service.updates`); its id."""
        sha256 = state.holder.registry_sha256
        assert sha256 is not None  # (set before the index is served)
        recorded: list[int] = []
        state.write(
            lambda session: recorded.append(
                record_update(session, sha256, info.key_id, kind, record_ids, persons)
            )
        )
        return recorded[-1]

    @app.post("/registry/persons", tags=["registry"])
    def upsert_persons(update: PersonsUpdate, info: Caller) -> dict[str, Any]:
        """Add or replace registry persons; a search right after sees them."""
        require(info, "registry:write")
        if len(update.persons) > settings.max_queries:
            raise ApiError(
                413,
                "request.too_many_persons",
                f"{len(update.persons)} persons in one update; at most {settings.max_queries}",
            )
        take(info, len(update.persons))
        index = state.holder.ready()
        ids = [str(p.get("record_id") or p.get("person_id") or "") for p in update.persons]
        person_ids = [str(p.get("person_id")) for p in update.persons]
        with state.holder.write_lock:
            recorded = record(info, "upsert", ids, update.persons)
            state.holder.catch_up(state.sessions, upto=recorded - 1)  # (other workers' first)
            state.holder.applied_update = recorded
            try:
                count = index.upsert(update.persons)
            except RegistryLinkError as exc:
                state.write(lambda session: drop_update(session, recorded))
                raise ApiError(422, "rjct.persons.invalid", str(exc)) from None
            size, version = index.size, state.holder.version()
        state.write(
            lambda session: audit(
                session,
                f"key:{info.key_id}",
                "registry.upsert",
                f"{count} person(s)",
                {"partner": info.partner, "person_ids": person_ids, "index_version": version},
            )
        )
        return {"upserted": count, "registry_records": size, "version": version}

    @app.delete("/registry/persons/{person_id}", tags=["registry"])
    def remove_person(person_id: str, info: Caller) -> dict[str, Any]:
        """Remove a registry person from the index."""
        require(info, "registry:write")
        take(info)
        index = state.holder.ready()
        with state.holder.write_lock:
            recorded = record(info, "remove", [person_id])
            state.holder.catch_up(state.sessions, upto=recorded - 1)  # (other workers' first)
            state.holder.applied_update = recorded
            removed = index.remove([person_id])
            size, version = index.size, state.holder.version()
            if not removed:
                state.write(lambda session: drop_update(session, recorded))
        if not removed:
            raise ApiError(404, "person.not_found", "no registry person has that id")
        state.write(
            lambda session: audit(
                session,
                f"key:{info.key_id}",
                "registry.remove",
                "1 person",
                {"partner": info.partner, "person_ids": [person_id], "index_version": version},
            )
        )
        return {"removed": removed, "registry_records": size, "version": version}

    app.add_middleware(
        BodySizeLimit,
        limit_for=lambda path: (
            settings.max_upload_bytes if path == "/jobs" else settings.max_body_bytes
        ),
    )
    app.add_middleware(Guard, worker=str(os.getpid()) if settings.several_workers else None)
    return app


def _search_all(
    index: Any, items: Sequence[SearchRequestItem], coalescer: SearchCoalescer
) -> list[tuple[dict[str, Any], list[str]]]:
    """Each query's DCI answer and the person ids it returned, in order: a registry id looked
    up exactly, anything else searched as a record (an identifier refused when malformed).
    The records are all handed to ``coalescer`` before any answer is awaited, so the queries
    of one envelope (and of concurrent requests) share ``search_many`` calls."""
    waiting: list[tuple[dict[str, Any], list[str]] | Future[Any]] = []
    for item in items:
        criteria = item.search_criteria
        k = criteria.pagination.page_size
        try:
            record = search_record(criteria)
            if isinstance(criteria, IdCriteria) and criteria.query.type in REGISTRY_ID_TYPES:
                records = index.get(record["registry_person_id"])[:k]
                ids = [str(r.get("person_id") or r.get("record_id")) for r in records]
                waiting.append((lookup_response_item(item, records), ids))
                continue
            waiting.append(coalescer.submit(index, record, k))
        except (CriteriaProblem, RegistryLinkError) as exc:
            waiting.append((search_response_item(item, None, str(exc)), []))
    answers: list[tuple[dict[str, Any], list[str]]] = []
    for item, entry in zip(items, waiting, strict=True):
        if not isinstance(entry, Future):
            answers.append(entry)
            continue
        criteria = item.search_criteria
        try:
            result = entry.result()
            if isinstance(criteria, IdCriteria):
                check_identifier(criteria, result.flags)
        except (CriteriaProblem, RegistryLinkError) as exc:
            answers.append((search_response_item(item, None, str(exc)), []))
            continue
        person_ids = [c.person_id or c.record_id for c in result.candidates]
        answers.append((search_response_item(item, result), person_ids))
    return answers
