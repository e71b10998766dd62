"""Lock records on task items: acquire, heartbeat, release, list, sweep (SPEC §1, Locks).

Every lock write is a single conditional write (inside a one-request transaction when it also
moves a task's status or needs the project to exist).
"""
from __future__ import annotations

from typing import Iterator

from pynamodb.exceptions import UpdateError

from chalicelib.clock import iso_from_ms
from chalicelib.domain.tree import LOCK_FIELDS, Workspace
from chalicelib.store.db import Cancelled, Transaction, connection
from chalicelib.store.records import add_work_log
from chalicelib.store.tables import TaskItem, WorkLogItem
from chalicelib.store.tasks import PROJECT_TAG, update_actions, remember_read, add_project_counters

LOCK_INDEX_ALL = "lock"


def _no_live_lock(now_ms: int):
    return TaskItem.lock_expires_ms.does_not_exist() | (TaskItem.lock_expires_ms <= now_ms)


def _grant(task: TaskItem, caller: str, purpose: str, ttl: int, now_ms: int) -> None:
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


def acquire_lock(task: TaskItem, caller: str, purpose: str, ttl: int, now_ms: int,
                 readiness: frozenset[str] | None, statuses: frozenset[str] | None,
                 start_work: bool) -> None:
    """One conditional write: no live lock, the purpose's precondition, the fencing counter
    as read, and (for an implementation lock on a `todo` task) the move to `doing`. On
    success `task` holds the new lock; a failure raises Cancelled carrying the item as it was."""
    tx = Transaction()
    condition = _no_live_lock(now_ms) & (TaskItem.fencing_token == task.fencing_token)
    if readiness is not None:
        condition &= TaskItem.readiness.is_in(*readiness)
    if statuses is not None:
        condition &= TaskItem.status.is_in(*statuses)
    deltas: dict[str, int] = {}
    if start_work:
        workspace = Workspace([task], iso_from_ms(now_ms))
        workspace.set_status(task, "doing")
        deltas = workspace.finish()
        condition &= TaskItem.version == task.version
    _grant(task, caller, purpose, ttl, now_ms)
    actions = update_actions(task)
    if start_work:
        actions.append(TaskItem.version.set(task.version + 1))
    tx.update(task, actions, f"task:{task.id}", condition=condition)
    add_project_counters(tx, task.project_id, deltas)
    tx.commit()


def renew_lock(task: TaskItem, ttl: int, now_ms: int) -> None:
    """Heartbeat: the same lock (fencing token) must still be live."""
    tx = Transaction()
    tx.update(
        task,
        [TaskItem.lock_heartbeat_at.set(iso_from_ms(now_ms)),
         TaskItem.lock_expires_ms.set(now_ms + ttl * 1000),
         TaskItem.lock_ttl.set(ttl)],
        f"task:{task.id}",
        condition=(TaskItem.fencing_token == task.fencing_token)
        & (TaskItem.lock_expires_ms > now_ms),
    )
    add_project_counters(tx, task.project_id, {})
    tx.commit()


def remove_lock(task: TaskItem, now_ms: int, note: WorkLogItem | None = None) -> None:
    """Release: the same lock must still be live; a forced release logs its note with it."""
    tx = Transaction()
    tx.update(
        task,
        [getattr(TaskItem, field).remove() for field in LOCK_FIELDS],
        f"task:{task.id}",
        condition=(TaskItem.fencing_token == task.fencing_token)
        & (TaskItem.lock_expires_ms > now_ms),
    )
    if note is not None:
        add_work_log(tx, note)
    add_project_counters(tx, task.project_id, {})
    tx.commit()


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


def sweep_expired_locks(now_ms: int, limit: int = 1000) -> int:
    """Remove lock records that expired; a lock renewed after we looked is left alone."""
    connection()
    removed = 0
    expired = TaskItem.locks_by_expiry.query(
        LOCK_INDEX_ALL, range_key_condition=TaskItem.lock_expires_ms <= now_ms, limit=limit)
    for item in expired:
        try:
            item.update(
                actions=[getattr(TaskItem, field).remove() for field in LOCK_FIELDS],
                condition=TaskItem.lock_expires_ms == item.lock_expires_ms,
            )
            removed += 1
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
    return removed
