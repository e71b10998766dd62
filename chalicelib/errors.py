"""The API's error hierarchy. Every failure a client can see is one of these, mapped to the
SPEC §5 envelope in one place (chalicelib.api.http)."""
from __future__ import annotations

from typing import Any


class ChorusError(Exception):
    status = 500
    code = "INTERNAL_ERROR"
    default_message = "An internal error occurred."

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details or {}


class MalformedRequest(ChorusError):
    status, code = 400, "MALFORMED_REQUEST"
    default_message = "The request body is not a JSON object."


class Unauthorized(ChorusError):
    status, code = 401, "UNAUTHORIZED"
    default_message = "A valid bearer token is required."


class Forbidden(ChorusError):
    status, code = 403, "FORBIDDEN"
    default_message = "This token may not do that."


class NotLockHolder(ChorusError):
    status, code = 403, "NOT_LOCK_HOLDER"
    default_message = "The lock is held by another caller."


class NotFound(ChorusError):
    status, code = 404, "NOT_FOUND"
    default_message = "Not found."


class MethodNotAllowed(ChorusError):
    status, code = 405, "METHOD_NOT_ALLOWED"
    default_message = "This route does not accept that method."


class LockConflict(ChorusError):
    status, code = 409, "LOCK_CONFLICT"
    default_message = "The task is locked by another caller or for another purpose."


class LockRequired(ChorusError):
    status, code = 409, "LOCK_REQUIRED"
    default_message = "This operation needs a live lock on the task."


class LockExpired(ChorusError):
    status, code = 409, "LOCK_EXPIRED"
    default_message = "The lock has expired."


class ConcurrentModification(ChorusError):
    status, code = 409, "CONCURRENT_MODIFICATION"
    default_message = "The data changed concurrently too often; retry the request."


class IdempotencyInProgress(ChorusError):
    status, code = 409, "IDEMPOTENCY_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still running."


class PayloadTooLarge(ChorusError):
    status, code = 413, "PAYLOAD_TOO_LARGE"
    default_message = "The request body is too large."


class ValidationFailed(ChorusError):
    status, code = 422, "VALIDATION_ERROR"
    default_message = "The request is invalid."

    def __init__(self, errors: list[dict[str, Any]], message: str | None = None):
        super().__init__(message, {"errors": errors})


def validation_error(loc: list[str | int], msg: str, type_: str = "value_error") -> ValidationFailed:
    return ValidationFailed([{"loc": loc, "msg": msg, "type": type_}], msg)


class InvalidReadinessState(ChorusError):
    status, code = 422, "INVALID_READINESS_STATE"
    default_message = "The task is not in a state this lock purpose accepts."


class InvalidStatusTransition(ChorusError):
    status, code = 422, "INVALID_STATUS_TRANSITION"
    default_message = "That status change is not allowed."


class IdempotencyKeyReused(ChorusError):
    status, code = 422, "IDEMPOTENCY_KEY_REUSED"
    default_message = ("This Idempotency-Key was used with a different request (details: "
                       "how that one was answered). A retry repeats its request exactly; a "
                       "new request needs a new key.")


class DepthLimitExceeded(ChorusError):
    status, code = 422, "DEPTH_LIMIT_EXCEEDED"
    default_message = "Tasks may be nested at most 16 levels deep (depth 0-15)."


class ResponseTooLarge(ChorusError):
    status, code = 422, "RESPONSE_TOO_LARGE"
    default_message = "The response would be too large."


class InvalidDependency(ChorusError):
    status, code = 422, "INVALID_DEPENDENCY"
    default_message = "That dependency is not allowed."


class RateLimited(ChorusError):
    status, code = 429, "RATE_LIMITED"
    default_message = "Too many requests."


class Unavailable(ChorusError):
    status, code = 503, "UNAVAILABLE"
    default_message = "The datastore is unavailable; retry the request."
