"""Per-request DynamoDB accounting: requests made and items read, for Server-Timing and logs.

Counters live in a ContextVar, so the threaded local server keeps each request's own.
"""
from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestMetrics:
    requests: int = 0
    items: int = 0
    seconds: float = 0.0
    operations: list[str] = field(default_factory=list)
    _started: float = 0.0


_current: ContextVar[RequestMetrics | None] = ContextVar("chorus_metrics", default=None)


def start() -> RequestMetrics:
    metrics = RequestMetrics()
    _current.set(metrics)
    return metrics


def current() -> RequestMetrics | None:
    return _current.get()


def _items_read(operation: str, parsed: dict) -> int:
    if operation in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in parsed.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for response in parsed.get("Responses", []) if response.get("Item"))
    return 0


def _before_call(model, **_kwargs) -> None:
    metrics = _current.get()
    if metrics is not None:
        metrics._started = time.perf_counter()


def _after_call(http_response, parsed, model, **_kwargs) -> None:
    metrics = _current.get()
    if metrics is None:
        return
    metrics.requests += 1
    metrics.operations.append(model.name)
    metrics.items += _items_read(model.name, parsed or {})
    if metrics._started:
        metrics.seconds += time.perf_counter() - metrics._started


def instrument(client) -> None:
    """Count every DynamoDB call this botocore client makes."""
    events = client.meta.events
    events.register("before-call.dynamodb", _before_call, unique_id="chorus-before-call")
    events.register("after-call.dynamodb", _after_call, unique_id="chorus-after-call")
