"""Sending agent reports to ``POST /api/v1/collect`` and deciding what to do when that fails.

The token travels only in the Authorization header; it is never part of a message, log or error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx


class Outcome(StrEnum):
    STORED = "stored"  # accepted (or already had it: ingest is idempotent)
    RETRY = "retry"  # server unreachable or failing: keep the report, try later
    STOP = "stop"  # configuration problem (token, unknown host): keep the report, tell the operator
    DROP = "drop"  # the server will never accept this report (invalid): drop it, tell the operator


@dataclass(frozen=True)
class PushResult:
    outcome: Outcome
    detail: str


def push_report(url: str, token: str, payload: str, timeout: float = 10.0) -> PushResult:
    """POST one report; classify the answer."""
    endpoint = url.rstrip("/") + "/api/v1/collect"
    try:
        response = httpx.post(endpoint, content=payload, timeout=timeout,
                              headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    except httpx.HTTPError as exc:
        return PushResult(Outcome.RETRY, f"{endpoint} unreachable ({type(exc).__name__})")
    if response.status_code in (200, 201, 202):
        return PushResult(Outcome.STORED, str(response.json().get("status", "stored")))
    detail = response.text[:300]
    if response.status_code in (401, 403, 404, 503):
        return PushResult(Outcome.STOP, f"HTTP {response.status_code}: {detail}")
    if response.status_code == 422:
        return PushResult(Outcome.DROP, f"HTTP 422: {detail}")
    return PushResult(Outcome.RETRY, f"HTTP {response.status_code}")
