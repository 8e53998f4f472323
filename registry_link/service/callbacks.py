"""Callbacks of asynchronous searches: the DCI ``on-search`` answer POSTed to the caller.

The answer goes only to a ``sender_uri`` the API key allows (its callback prefixes,
:func:`registry_link.db.access.callback_allowed`, checked when the search is accepted). A
delivery is bounded: at most ``attempts`` POSTs, each within ``timeout`` seconds, ``backoff``
seconds apart (doubling); redirects are not followed (they could lead outside the allowed
prefixes) and the receiver's answer body is not read. A 2xx answer is a delivery; a network
error, a timeout, a 429 or a 5xx is tried again; any other answer is final. The log names the
job, the attempt and the outcome (an HTTP status or an error type): never the URI, whose path
may carry identifiers, nor anything of the answer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("registry_link.service")


@dataclass(frozen=True)
class CallbackPolicy:
    """How hard a callback is tried: POSTs at most, seconds per POST, first pause."""

    attempts: int = 3
    timeout: float = 10.0
    backoff: float = 1.0


def deliver(
    job_id: str, uri: str, payload: dict[str, Any], policy: CallbackPolicy
) -> dict[str, Any]:
    """POST ``payload`` as JSON to ``uri`` under ``policy``; returns what happened:
    ``{"status": "delivered"|"failed", "attempts": n, "http_status"?: int, "error"?: str}``."""
    import httpx

    outcome: dict[str, Any] = {"status": "failed", "attempts": 0}
    pause = policy.backoff
    with httpx.Client(timeout=policy.timeout, follow_redirects=False, trust_env=False) as client:
        for attempt in range(1, max(1, policy.attempts) + 1):
            outcome["attempts"] = attempt
            try:
                with client.stream("POST", uri, json=payload) as response:
                    status = response.status_code
            except httpx.HTTPError as exc:
                outcome.pop("http_status", None)
                outcome["error"] = type(exc).__name__
                log.warning(
                    "callback of job %s: attempt %d failed (%s)", job_id, attempt, outcome["error"]
                )
            else:
                outcome["http_status"] = status
                if 200 <= status < 300:
                    outcome.pop("error", None)
                    outcome["status"] = "delivered"
                    log.info(
                        "callback of job %s: delivered (attempt %d, HTTP %d)",
                        job_id,
                        attempt,
                        status,
                    )
                    return outcome
                outcome["error"] = f"the receiver answered HTTP {status}"
                log.warning(
                    "callback of job %s: attempt %d answered HTTP %d", job_id, attempt, status
                )
                if status != 429 and status < 500:
                    return outcome
            if attempt < policy.attempts:
                time.sleep(pause)
                pause *= 2
    return outcome
