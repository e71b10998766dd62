"""Fault injection for local and test runs (CHORUS_FAULT_RATE, a probability per DynamoDB
HTTP attempt). Faults are injected below botocore's retry handler, the way real ones arrive:
throttling, transaction conflicts, 500/503 answers and read timeouts. Refused in Lambda."""
from __future__ import annotations

import json
import os
import random
import threading

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

_random = random.Random()
_lock = threading.Lock()
_COMMON = (
    (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    (500, "InternalServerError", "Internal server error"),
    (503, "ServiceUnavailable", "Service unavailable"),
    (None, "ReadTimeout", "Read timed out"),
)
# what only writes meet: a concurrent transaction on the same item
_BY_OPERATION = {
    "PutItem": (400, "TransactionConflictException", "Transaction is ongoing for the item"),
    "UpdateItem": (400, "TransactionConflictException", "Transaction is ongoing for the item"),
    "DeleteItem": (400, "TransactionConflictException", "Transaction is ongoing for the item"),
    "TransactWriteItems": (400, "TransactionCanceledException",
                           "Transaction cancelled [TransactionConflict]"),
}


class _Body:
    def __init__(self, payload: bytes):
        self.payload = payload

    def stream(self, **_kwargs):
        yield self.payload


def fault_rate() -> float:
    raw = os.environ.get("CHORUS_FAULT_RATE", "")
    if not raw:
        return 0.0
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise RuntimeError("CHORUS_FAULT_RATE is for local and test runs only, never in Lambda")
    return float(raw)


def _maybe_fail(request, **_kwargs):
    rate = fault_rate()
    target = request.headers.get("X-Amz-Target", b"")
    operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
    faults = _COMMON + ((_BY_OPERATION[operation],) if operation in _BY_OPERATION else ())
    with _lock:
        roll, choice = _random.random(), _random.choice(faults)
    if roll >= rate:
        return None
    status, code, message = choice
    if status is None:
        raise ReadTimeoutError(endpoint_url=request.url)
    payload = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    if code == "TransactionCanceledException":
        count = len(json.loads(request.body or b"{}").get("TransactItems", []))
        payload["CancellationReasons"] = [{"Code": "TransactionConflict"}] * count
    body = json.dumps(payload).encode()
    return AWSResponse(request.url, status, {"x-amzn-ErrorType": code,
                                             "Content-Type": "application/x-amz-json-1.0"},
                       _Body(body))


def install(client) -> None:
    if fault_rate() > 0:
        client.meta.events.register_first("before-send.dynamodb", _maybe_fail,
                                          unique_id="chorus-faults")
