"""Requests in, responses out: body and query validation, the SPEC §5 error envelope,
request ids, CORS, Server-Timing and one JSON log line per request."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any, Callable, TypeVar

from chalice import Response

from chalicelib import config, metrics
from chalicelib.errors import (
    ChorusError,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    Unavailable,
    ValidationFailed,
)

M = TypeVar("M")
MIB = 1024 * 1024
BODY_LIMIT = MIB
IMPORT_BODY_LIMIT = 6_000_000
RESPONSE_LIMIT = 6_000_000
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_request_id: ContextVar[str] = ContextVar("chorus_request_id", default="")
_route: ContextVar[str] = ContextVar("chorus_route", default="")
ALLOWED_HEADERS = "Authorization,Content-Type,Idempotency-Key,X-Request-ID"
EXPOSED_HEADERS = "X-Request-ID,X-Next-Offset,Idempotent-Replayed,Server-Timing"

log = logging.getLogger("chorus")
if not log.handlers:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def request_id() -> str:
    return _request_id.get()


# -- bodies and queries -------------------------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json_object(raw: bytes | None, limit: int = BODY_LIMIT) -> dict:
    """The body as a JSON object: 413 when too large, 400 when absent or not an object."""
    if raw is not None and len(raw) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    if not raw:
        raise MalformedRequest("A JSON object body is required.")
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise MalformedRequest("The request body is not valid JSON.") from error
    if not isinstance(value, dict):
        raise MalformedRequest("The request body must be a JSON object.")
    return value


def validation_errors(error: Any, prefix: tuple = ()) -> list[dict]:
    return [
        {"loc": list(prefix) + [str(part) if not isinstance(part, int) else part
                                for part in problem["loc"]],
         "msg": problem["msg"], "type": problem["type"]}
        for problem in error.errors(include_url=False, include_input=False)
    ]


def parse_body(raw: bytes | None, model: type[M], limit: int = BODY_LIMIT) -> M:
    from pydantic import ValidationError

    read_json_object(raw, limit)
    try:
        return model.model_validate_json(raw)  # type: ignore[attr-defined]
    except ValidationError as error:
        raise ValidationFailed(validation_errors(error, ("body",))) from error


def _repeatable(model: Any) -> set[str]:
    """Query fields that take a list: `?kind=a&kind=b`."""
    import typing

    return {name for name, field in model.model_fields.items()
            if list in (typing.get_origin(field.annotation),
                        *(typing.get_origin(a) for a in typing.get_args(field.annotation)))}


def parse_query(params: Any, model: type[M]) -> M:
    from pydantic import ValidationError

    values: dict[str, Any] = {}
    if params:
        lists = _repeatable(model)
        getlist = getattr(params, "getlist", None)
        for key in params:
            values[key] = (getlist(key) if getlist else [params[key]]) if key in lists \
                else params[key]
    try:
        return model.model_validate(values)  # type: ignore[attr-defined]
    except ValidationError as error:
        raise ValidationFailed(validation_errors(error, ("query",))) from error


# -- responses ----------------------------------------------------------------------------
def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        body=dumps(body) if body is not None else "",
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {},
                      "request_id": request_id()}}


def error_response(error: ChorusError) -> Response:
    return json_response(error_body(error.code, error.message, error.details), error.status)


def _is_datastore_fault(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.store.db import Cancelled

    return isinstance(error, (PynamoDBException, BotoCoreError, ClientError, Cancelled))


def guarded(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Every failure becomes the error envelope; internals go to the log, never the client."""
    def run(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)
        except ChorusError as error:
            return error_response(error)
        except Exception as error:  # the last line of defence: log it, answer in the envelope
            if _is_datastore_fault(error):
                log.warning(dumps({"request_id": request_id(), "event": "datastore_fault",
                                   "error": type(error).__name__, "detail": str(error)[:500]}))
                return error_response(Unavailable())
            log.exception(dumps({"request_id": request_id(), "event": "unhandled_exception"}))
            return error_response(ChorusError())
    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


# -- middleware ---------------------------------------------------------------------------
_CHALICE_ERRORS = {
    405: ("METHOD_NOT_ALLOWED", "This route does not accept that method."),
    415: ("MALFORMED_REQUEST", "The request body must be sent as application/json."),
    400: ("MALFORMED_REQUEST", "The request could not be read."),
    403: ("NOT_FOUND", "No such route."),
    404: ("NOT_FOUND", "No such route."),
}


def _as_envelope(response: Response) -> Response:
    """Chalice's own errors (wrong method, unhandled exception) in the SPEC's envelope."""
    if response.status_code < 400 or not isinstance(response.body, dict):
        return response
    code, message = _CHALICE_ERRORS.get(
        response.status_code, ("INTERNAL_ERROR", ChorusError.default_message))
    status = response.status_code if response.status_code in _CHALICE_ERRORS else 500
    # the SPEC's statuses: an unknown route is 404, a body sent as another media type 400
    status = {403: 404, 415: 400}.get(status, status)
    return json_response(error_body(code, message), status,
                         {k: v for k, v in response.headers.items() if k.lower() == "allow"})


def method_not_allowed(allowed: list[str]) -> Response:
    error = MethodNotAllowed(details={"allowed": sorted(allowed)})
    response = error_response(error)
    response.headers["Allow"] = ", ".join(sorted(set(allowed) | {"OPTIONS"}))
    return response


def cors_headers(origin: str | None) -> dict[str, str]:
    if origin and origin in config.cors_origins():
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                "Access-Control-Expose-Headers": EXPOSED_HEADERS}
    return {}


def preflight_response(origin: str | None, methods: list[str]) -> Response:
    headers = cors_headers(origin)
    if headers:
        headers.update({
            "Access-Control-Allow-Methods": ",".join(sorted(set(methods) | {"OPTIONS"})),
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "600",
        })
    return Response(body="", status_code=204, headers=headers)


def chosen_request_id(headers: Any) -> str:
    given = headers.get("x-request-id") if headers is not None else None
    if given and _REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex


_caller: ContextVar[Any] = ContextVar("chorus_caller", default=None)
NO_AUTH_ROUTES = ("/health", "/docs", "/docs/{asset}")


def request_caller() -> Any:
    """The caller the middleware authenticated for this request."""
    return _caller.get()


def _authenticated(event: Any) -> Response | None:
    """Authentication comes first: a caller without a valid token learns nothing else (not
    even that its body is not JSON). Returns the 401 answer, or None."""
    from chalicelib.services.common import Caller
    from chalicelib.services.tokens import authenticate

    _caller.set(None)
    route = (getattr(event, "context", None) or {}).get("resourcePath")
    if getattr(event, "method", None) == "OPTIONS" or route in NO_AUTH_ROUTES:
        _caller.set(Caller())
        return None
    try:
        _caller.set(authenticate(event.headers.get("authorization")))
    except ChorusError as error:
        return error_response(error)
    return None


def middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    started = time.perf_counter()
    headers = getattr(event, "headers", None)
    _request_id.set(chosen_request_id(headers))
    counters = metrics.start()
    refused = guarded(_authenticated)(event)
    response = _as_envelope(refused if refused is not None else get_response(event))
    response.headers["X-Request-ID"] = request_id()
    response.headers["Server-Timing"] = (
        f'db;dur={counters.seconds * 1000:.1f};desc="{counters.requests} requests, '
        f'{counters.items} items"'
    )
    response.headers.update(cors_headers(headers.get("origin") if headers else None))
    context = getattr(event, "context", None) or {}
    log.info(dumps({
        "request_id": request_id(),
        "method": getattr(event, "method", None),
        "route": context.get("resourcePath"),
        "status": response.status_code,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "dynamodb_requests": counters.requests,
        "dynamodb_items": counters.items,
    }))
    return response
