"""Lock records on task items: the fields a lock sets, the conditions that guard lock writes,
and the lock indexes (SPEC §1, Locks).

A lock write is a single conditional update of the task item, in the transaction that also
carries its events and counters (chalicelib.services.locks builds it through a Change).
"""
from __future__ import annotations

from typing import Iterator

from chalicelib.clock import iso_from_ms
from chalicelib.store.db import Cancelled, connection
from chalicelib.store.tables import TaskItem
from chalicelib.store.tasks import PROJECT_TAG, remember_read

LOCK_INDEX_ALL = "lock"


def no_live_lock(now_ms: int):
    return TaskItem.lock_expires_ms.does_not_exist() | (TaskItem.lock_expires_ms <= now_ms)


def same_live_lock(task: TaskItem, now_ms: int):
    """The lock we read is still there and live (heartbeat, release)."""
    return (TaskItem.fencing_token == task.fencing_token) & (TaskItem.lock_expires_ms > now_ms)


def acquire_condition(task: TaskItem, now_ms: int, readiness: frozenset[str] | None,
                      statuses: frozenset[str] | None):
    """No live lock, the purpose's precondition, and the fencing counter as read."""
    condition = no_live_lock(now_ms) & (TaskItem.fencing_token == task.fencing_token)
    if readiness is not None:
        condition &= TaskItem.readiness.is_in(*readiness)
    if statuses is not None:
        condition &= TaskItem.status.is_in(*statuses)
    return condition


def grant(task: TaskItem, caller: str, purpose: str, ttl: int, now_ms: int) -> None:
    now = iso_from_ms(now_ms)
    task.lock_caller = caller
    task.lock_purpose = purpose
    task.lock_acquired_at = now
    task.lock_heartbeat_at = now
    task.lock_expires_ms = now_ms + ttl * 1000
    task.lock_ttl = ttl
    task.lock_scope = task.project_id
    task.lock_all = LOCK_INDEX_ALL
    task.fencing_token = int(task.fencing_token) + 1


def renew(task: TaskItem, ttl: int, now_ms: int) -> None:
    task.lock_heartbeat_at = iso_from_ms(now_ms)
    task.lock_expires_ms = now_ms + ttl * 1000
    task.lock_ttl = ttl


def failed_task_item(cancelled: Cancelled, task_id: str) -> TaskItem | None:
    """The task as it was when our condition failed (ReturnValuesOnConditionCheckFailure)."""
    failure = cancelled.failed(f"task:{task_id}")
    if failure is None or not failure.item:
        return None
    return remember_read(TaskItem.from_raw_data(failure.item))


def project_missing(cancelled: Cancelled) -> bool:
    failure = cancelled.failed(PROJECT_TAG)
    return failure is not None and failure.code == "ConditionalCheckFailed" and not failure.item


def iter_live_locks(project_id: str | None, now_ms: int) -> Iterator[TaskItem]:
    """Tasks with a live lock, soonest expiry first: reads only live locks."""
    connection()
    condition = TaskItem.lock_expires_ms > now_ms
    if project_id is None:
        items = TaskItem.locks_by_expiry.query(LOCK_INDEX_ALL, range_key_condition=condition)
    else:
        items = TaskItem.locks_by_project.query(project_id, range_key_condition=condition)
    for item in items:
        yield remember_read(item)


def count_live_locks(project_id: str, now_ms: int) -> int:
    connection()
    return TaskItem.locks_by_project.count(
        project_id, range_key_condition=TaskItem.lock_expires_ms > now_ms)


def iter_expired_locks(now_ms: int, limit: int = 1000) -> Iterator[TaskItem]:
    """Lock records that have expired (for the sweep), oldest first."""
    connection()
    for item in TaskItem.locks_by_expiry.query(
            LOCK_INDEX_ALL, range_key_condition=TaskItem.lock_expires_ms <= now_ms, limit=limit):
        yield remember_read(item)
