"""Sending one logical request: auth, retries that can never do the work twice, typed errors.

A request is retried (3 attempts, backing off) after a timeout, a dropped connection or a transient
answer (5xx, 429, 409 IDEMPOTENCY_IN_PROGRESS / CONCURRENT_MODIFICATION) only when it is safe to
repeat: reads, idempotent writes, and writes that carry an `Idempotency-Key`, which stays the same on
every attempt so the server replays the first success instead of writing again (SPEC section 8).
A refused connection is retried for any request, since it never reached the server.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from chorus_client import __version__
from chorus_client.config import Settings
from chorus_client.errors import ChorusError, UnavailableError, UploadError, error_from_envelope

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSIENT_CONFLICTS = frozenset({"IDEMPOTENCY_IN_PROGRESS", "CONCURRENT_MODIFICATION"})


def new_idempotency_key() -> str:
    return f"chorus-client-{uuid.uuid4()}"


class Sender:
    """Sends requests to one Chorus deployment and turns every failure into a `ChorusError`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 3,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"User-Agent": f"chorus-client/{__version__}", "Accept": "application/json"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._http = httpx.Client(
            base_url=settings.url, headers=headers, timeout=settings.timeout_seconds, transport=transport
        )
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def upload(self, url: str, content: bytes, content_type: str = "application/json") -> None:
        """PUT `content` to a short-lived upload URL (object storage, not the API: it gets no token).

        A PUT of the same bytes is safe to repeat, so timeouts and 5xx are retried like reads.
        """
        attempt = 1
        with httpx.Client(timeout=max(self._http.timeout.read or 0, 120.0)) as storage:
            while True:
                try:
                    response = storage.put(url, content=content, headers={"Content-Type": content_type})
                except httpx.TransportError as exc:
                    failure = UploadError("UPLOAD_FAILED", f"PUT to the upload URL failed: {exc!r}")
                else:
                    if response.is_success:
                        return
                    failure = UploadError(
                        "UPLOAD_FAILED",
                        f"PUT to the upload URL answered {response.status_code}: {response.text[:300]}",
                        status=response.status_code,
                    )
                    if response.status_code not in TRANSIENT_STATUSES:
                        raise failure
                if attempt >= self._max_attempts:
                    raise failure
                self._sleep(self._backoff_seconds * 2 ** (attempt - 1))
                attempt += 1

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        retry_safe: bool,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """The 2xx response; raises the typed error of the last failed attempt otherwise."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        query = {key: _query_value(value) for key, value in (params or {}).items() if value is not None}
        attempt = 1
        while True:
            try:
                response = self._http.request(method, path, json=json, params=query, headers=headers)
            except httpx.TransportError as exc:
                failure: ChorusError = UnavailableError(
                    "UNREACHABLE", f"{method} {path} failed: {exc.__class__.__name__}: {exc}"
                )
                # A refused connection never delivered the request, so even an unsafe one may go again.
                repeatable = retry_safe or isinstance(exc, httpx.ConnectError)
            else:
                if response.is_success:
                    return response
                failure = error_from_envelope(
                    response.status_code, _json_or_none(response), response.headers.get("X-Request-ID")
                )
                repeatable = retry_safe and _is_transient(response.status_code, failure.code)
            if not repeatable or attempt >= self._max_attempts:
                raise failure
            self._sleep(self._backoff_seconds * 2 ** (attempt - 1))
            attempt += 1


def _is_transient(status: int, code: str) -> bool:
    return status in TRANSIENT_STATUSES or (status == 409 and code in TRANSIENT_CONFLICTS)


def _query_value(value: Any) -> Any:
    """Booleans as the SPEC's `true`/`false`, not Python's `True`; a list repeats the parameter."""
    if isinstance(value, list | tuple):
        return [_query_value(item) for item in value]
    return str(value).lower() if isinstance(value, bool) else value


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
