"""Transactions with tagged items, retries on write conflicts, and datastore fault mapping."""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from chalicelib import faults, metrics
from chalicelib.errors import ConcurrentModification, PayloadTooLarge, Unavailable
from chalicelib.store.tables import ALL_MODELS, TaskItem

T = TypeVar("T")
MAX_TRANSACTION_ITEMS = 100
WRITE_ATTEMPTS = 12


class Retry(Exception):
    """The data changed between our read and our write (or DynamoDB throttled the write):
    read again and redo the work."""

    def __init__(self, throttled: bool = False):
        super().__init__("throttled" if throttled else "conflict")
        self.throttled = throttled


class LeaseLost(Exception):
    """A job step's write found that its worker no longer holds the job: stop quietly (the
    worker that took over goes on)."""


@dataclass
class Failure:
    tag: str
    code: str
    item: dict | None


class Cancelled(Exception):
    """A transaction was cancelled; `failures` name the items whose condition failed."""

    def __init__(self, failures: list[Failure]):
        super().__init__(", ".join(f"{f.tag}:{f.code}" for f in failures))
        self.failures = failures

    def failed(self, tag: str) -> Failure | None:
        return next((f for f in self.failures if f.tag == tag), None)

    @property
    def conflict_only(self) -> bool:
        return all(f.code in ("TransactionConflict", "None") for f in self.failures)


def connection():
    """The low-level pynamodb connection for transactions; on first use every model's
    botocore client is instrumented, so per-request metrics count all DynamoDB calls."""
    for model in ALL_MODELS:
        client = model._get_connection().connection.client
        if not getattr(client, "_chorus_instrumented", False):
            metrics.instrument(client)
            faults.install(client)
            client._chorus_instrumented = True
    return TaskItem._get_connection().connection


@dataclass
class Transaction:
    """A TransactWriteItems request whose items carry tags, to read cancellation reasons by."""

    checks: list[tuple[dict, str]] = field(default_factory=list)
    deletes: list[tuple[dict, str]] = field(default_factory=list)
    puts: list[tuple[dict, str]] = field(default_factory=list)
    updates: list[tuple[dict, str]] = field(default_factory=list)
    # botocore retries throttling, 5xx and timeouts with the same token: applied at most once
    token: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __len__(self) -> int:
        return len(self.checks) + len(self.deletes) + len(self.puts) + len(self.updates)

    def check(self, model_cls, hash_key, condition, tag: str, range_key=None) -> None:
        hash_key, range_key = model_cls._serialize_keys(hash_key, range_key)
        kwargs = model_cls._get_connection().get_operation_kwargs(
            hash_key=hash_key, range_key=range_key, condition=condition,
            return_values_on_condition_failure="ALL_OLD")
        self.checks.append((kwargs, tag))

    def put(self, item, tag: str, condition=None) -> None:
        kwargs = item.get_save_kwargs_from_instance(
            condition=condition, return_values_on_condition_failure="ALL_OLD")
        self.puts.append((kwargs, tag))

    def update(self, item, actions: list, tag: str, condition=None) -> None:
        kwargs = item.get_update_kwargs_from_instance(
            actions=actions, condition=condition,
            return_values_on_condition_failure="ALL_OLD", add_version_condition=False,
        )
        self.updates.append((kwargs, tag))

    def delete(self, item, tag: str, condition=None) -> None:
        kwargs = item.get_delete_kwargs_from_instance(
            condition=condition, add_version_condition=False)
        self.deletes.append((kwargs, tag))

    def commit(self) -> None:
        if not len(self):
            return
        if len(self) > MAX_TRANSACTION_ITEMS:
            raise PayloadTooLarge("This change touches too many items for one transaction.")
        groups = (self.checks, self.deletes, self.puts, self.updates)
        tags = [tag for group in groups for _, tag in group]
        try:
            connection().transact_write_items(
                client_request_token=self.token,
                condition_check_items=[kwargs for kwargs, _ in self.checks],
                delete_items=[kwargs for kwargs, _ in self.deletes],
                put_items=[kwargs for kwargs, _ in self.puts],
                update_items=[kwargs for kwargs, _ in self.updates],
            )
        except TransactWriteError as error:
            if error.cause_response_code != "TransactionCanceledException":
                raise
            reasons = error.cancellation_reasons
            failures = [
                Failure(tag, reason.code, reason.raw_item)
                for tag, reason in zip(tags, reasons)
                if reason is not None and reason.code not in (None, "None")
            ]
            raise Cancelled(failures) from error


# answers that guarantee the request was not applied (botocore already retried the
# throttling ones with backoff): the whole read-modify-write may safely run again
NOT_APPLIED = frozenset({
    "TransactionConflictException", "ThrottlingException",
    "ProvisionedThroughputExceededException", "RequestLimitExceeded",
})


def retrying(work: Callable[[], T], attempts: int = WRITE_ATTEMPTS) -> T:
    """Run a read-modify-write until it commits; conflicts back off with jitter. Out of
    attempts: 409 after conflicts, 503 after throttling."""
    throttled = False
    for attempt in range(attempts):
        try:
            return work()
        except Retry as retry:
            throttled = retry.throttled
        except PynamoDBException as error:
            if error.cause_response_code not in NOT_APPLIED or attempt == attempts - 1:
                raise
            throttled = True
        time.sleep(random.uniform(0, min(0.25, 0.005 * 2 ** attempt)))
    raise Unavailable() if throttled else ConcurrentModification()
