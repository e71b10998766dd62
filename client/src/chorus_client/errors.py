"""The SPEC's error envelope as typed exceptions, each saying what the caller should do next."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ChorusError(Exception):
    """An error from Chorus (or from reaching it), with the envelope's code, message and details."""

    next_step: ClassVar[str] = "Read the message and details; retry only if the cause is gone."

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.request_id = request_id
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        """The envelope's fields plus the advice, for `--json` output and MCP tool errors."""
        return {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "request_id": self.request_id,
            "status": self.status,
            "next_step": self.next_step,
        }


class LockConflictError(ChorusError):
    """Another agent holds the lock (LOCK_CONFLICT, NOT_LOCK_HOLDER): it won the race."""

    next_step = "Another agent holds this task's lock. Do not wait for it: pick another task (claim the next one)."


class AllClaimsLostError(LockConflictError):
    """claim-next tried every candidate it was allowed to and another agent won each one."""

    next_step = "Other agents won every task tried. Claim again, or try more candidates."


class LockRequiredError(ChorusError):
    """The operation needs a live lock of the caller's that it does not hold (LOCK_REQUIRED)."""

    next_step = "Acquire the lock for this operation first (claim the task), then repeat it."


class LockLostError(ChorusError):
    """The caller's lock is gone (LOCK_EXPIRED, or no lock record on heartbeat)."""

    next_step = "Your lock is lost and another agent may take the task. Re-read the task and acquire it again."


class NotFoundError(ChorusError):
    """No such project, task or lock (NOT_FOUND)."""

    next_step = "Check the id: the task or project does not exist or was deleted."


class QueueEmptyError(NotFoundError):
    """claim-next found no task in the queue."""

    next_step = "Nothing is waiting in this queue. Try another operation's queue, or stop."


class InvalidStateError(ChorusError):
    """The task is not in a state that allows this (INVALID_READINESS_STATE, INVALID_STATUS_TRANSITION...)."""

    next_step = "The task's state does not allow this; re-read it (show) and see details for why."


class InvalidDependencyError(InvalidStateError):
    """The server refused a dependency (INVALID_DEPENDENCY); `reason` says why: cross_project, cycle, limit."""

    NEXT_STEPS: ClassVar[dict[str, str]] = {
        "cross_project": "A task can only wait for tasks of its own project; pick a blocker there.",
        "cycle": "This edge would make a task wait for itself (through an ancestor, a descendant or a ring of"
        " dependencies). Check both tasks' dependencies (deps show) and drop the edge or reverse it.",
        "limit": "A task waits for at most 50 tasks and blocks at most 50. Remove an edge first, or make the"
        " common parent wait instead.",
    }
    next_step = "The dependency is not allowed; details.reason says why."

    def __init__(self, code: str, message: str, **kwargs: Any) -> None:
        super().__init__(code, message, **kwargs)
        self.reason = str(self.details.get("reason") or "")
        self.next_step = self.NEXT_STEPS.get(self.reason, type(self).next_step)


class InvalidRequestError(ChorusError):
    """The request itself is wrong (VALIDATION_ERROR, MALFORMED_REQUEST, IDEMPOTENCY_KEY_REUSED...)."""

    next_step = "Fix the request: details.errors names each bad field."


class UnauthorizedError(ChorusError):
    """The token is missing, wrong, or not allowed to do this (UNAUTHORIZED, FORBIDDEN)."""

    next_step = "Set CHORUS_TOKEN to a valid token for this deployment."


class UnavailableError(ChorusError):
    """Chorus could not answer now (5xx, RATE_LIMITED, unreachable), even after the client's retries."""

    next_step = "Chorus is unavailable; the client already retried. Wait, then repeat the same request."


class UploadError(ChorusError):
    """Object storage refused (or never answered) the PUT of a large import to its upload URL."""

    next_step = "The upload URL is short-lived: run the import again, which asks for a fresh one."


class JobTimeoutError(ChorusError):
    """A background job was still running when the caller stopped waiting for it (it goes on)."""

    next_step = "The job goes on in the background: wait for it again (job wait ID), or look later (job show ID)."


class ConfigurationError(ChorusError):
    """The client is missing a setting it needs; raised before any request is sent."""

    next_step = "Set the missing setting (environment variable or flag) and repeat."

    def __init__(self, message: str) -> None:
        super().__init__("CONFIGURATION", message)


ERRORS_BY_CODE: dict[str, type[ChorusError]] = {
    "LOCK_CONFLICT": LockConflictError,
    "NOT_LOCK_HOLDER": LockConflictError,
    "LOCK_REQUIRED": LockRequiredError,
    "LOCK_EXPIRED": LockLostError,
    "NOT_FOUND": NotFoundError,
    "INVALID_READINESS_STATE": InvalidStateError,
    "INVALID_STATUS_TRANSITION": InvalidStateError,
    "DEPTH_LIMIT_EXCEEDED": InvalidStateError,
    "INVALID_DEPENDENCY": InvalidDependencyError,
    "VALIDATION_ERROR": InvalidRequestError,
    "MALFORMED_REQUEST": InvalidRequestError,
    "IDEMPOTENCY_KEY_REUSED": InvalidRequestError,
    "PAYLOAD_TOO_LARGE": InvalidRequestError,
    "RESPONSE_TOO_LARGE": InvalidRequestError,
    "METHOD_NOT_ALLOWED": InvalidRequestError,
    "UNAUTHORIZED": UnauthorizedError,
    "FORBIDDEN": UnauthorizedError,
    "CONCURRENT_MODIFICATION": UnavailableError,
    "IDEMPOTENCY_IN_PROGRESS": UnavailableError,
    "RATE_LIMITED": UnavailableError,
    "INTERNAL_ERROR": UnavailableError,
    "UNAVAILABLE": UnavailableError,
}


def error_from_envelope(status: int | None, body: Any, request_id: str | None) -> ChorusError:
    """The typed exception for a non-2xx answer; an unknown code, or no envelope, is typed by status."""
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        envelope = {"code": f"HTTP_{status}", "message": f"HTTP {status} without an error envelope"}
    code = str(envelope.get("code") or f"HTTP_{status}")
    details = envelope.get("details")
    error_type = ERRORS_BY_CODE.get(code) or _error_type_for_status(status)
    return error_type(
        code,
        str(envelope.get("message") or code),
        details=details if isinstance(details, dict) else {},
        request_id=envelope.get("request_id") or request_id,
        status=status,
    )


def _error_type_for_status(status: int | None) -> type[ChorusError]:
    if status is None:
        return ChorusError
    if status >= 500 or status == 429:
        return UnavailableError
    if status in (401, 403):
        return UnauthorizedError
    if status == 404:
        return NotFoundError
    if status in (400, 413, 422):
        return InvalidRequestError
    return ChorusError
