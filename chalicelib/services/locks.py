"""Acquire, heartbeat, release and list locks (SPEC §1 Locks, §3)."""
from __future__ import annotations

from chalicelib import config
from chalicelib.api.models import LockAcquire
from chalicelib.clock import iso_from_ms, now_ms
from chalicelib.domain.locks import PRECONDITIONS, LockView, acquire_verdict, is_live
from chalicelib.errors import (
    InvalidReadinessState,
    LockConflict,
    LockExpired,
    NotFound,
    NotLockHolder,
)
from chalicelib.services.auth import check_identity
from chalicelib.services.common import Call, Result, list_result, require_uuid
from chalicelib.store import locks as lock_store
from chalicelib.store.db import Cancelled, Retry, retrying
from chalicelib.store.records import new_log_entry
from chalicelib.store.tables import TaskItem
from chalicelib.store.tasks import get_project, get_task_for_write, refusals_visible, live_project_ids
from chalicelib.views import lock_view


def current_lock(task: TaskItem) -> LockView | None:
    if task.lock_caller is None or task.lock_expires_ms is None:
        return None
    return LockView(task.lock_caller, task.lock_purpose, int(task.lock_expires_ms))


def conflict(task: TaskItem, now: int) -> LockConflict:
    lock = lock_view(task, now)
    details = {key: lock[key] for key in ("caller_label", "lock_purpose", "expires_at")}
    return LockConflict(
        f"The task is locked by {lock['caller_label']} for {lock['lock_purpose']}.", details)


def _judge(task: TaskItem, caller: str, purpose: str, now: int) -> str:
    verdict = acquire_verdict(current_lock(task), now, caller, purpose, task.readiness,
                              task.status)
    if verdict == "conflict":
        raise conflict(task, now)
    if verdict == "precondition":
        raise InvalidReadinessState(
            f"A {purpose} lock needs another readiness or status.",
            {"readiness": task.readiness, "status": task.status, "lock_purpose": purpose},
        )
    return verdict


def acquire(call: Call, task_id: str, body: LockAcquire) -> Result:
    task_id = require_uuid(task_id, "Task")
    check_identity(call.caller, body.caller_label)
    purpose = body.lock_purpose

    def attempt() -> Result:
        task = get_task_for_write(task_id)
        with refusals_visible(task):
            now = now_ms()
            if _judge(task, body.caller_label, purpose, now) == "heartbeat":
                return Result(200, _renew(task, now))
            rule = PRECONDITIONS[purpose]
            start_work = purpose == "implementation" and task.status == "todo"
            try:
                lock_store.acquire_lock(
                    task, body.caller_label, purpose, config.lock_ttl_seconds(purpose), now,
                    rule[0] if rule else None, rule[1] if rule else None, start_work)
            except Cancelled as cancelled:
                if lock_store.project_missing(cancelled):
                    raise NotFound("Task not found.", {"task_id": task_id}) from cancelled
                seen = lock_store.failed_task_item(cancelled, task_id)
                if seen is not None:
                    _judge(seen, body.caller_label, purpose, now)
                raise Retry() from cancelled
            return Result(201, lock_view(task, now))

    return retrying(attempt)


def heartbeat(call: Call, task_id: str, caller: str) -> Result:
    task_id = require_uuid(task_id, "Task")
    check_identity(call.caller, caller)

    def attempt() -> Result:
        task = get_task_for_write(task_id)
        with refusals_visible(task):
            now = now_ms()
            if task.lock_caller is None:
                raise NotFound("The task has no lock.", {"task_id": task_id})
            if not is_live(int(task.lock_expires_ms), now):
                raise LockExpired("The lock has expired; acquire it again.",
                                  {"expired_at": iso_from_ms(int(task.lock_expires_ms))})
            if task.lock_caller != caller:
                raise NotLockHolder("Only the holder may heartbeat this lock.",
                                    {"caller_label": task.lock_caller})
            return Result(200, _renew(task, now))

    return retrying(attempt)


def _renew(task: TaskItem, now: int) -> dict:
    """Reset the live lock's heartbeat and expiry (same lock, same fencing token)."""
    ttl = config.lock_ttl_seconds(task.lock_purpose)
    try:
        lock_store.renew_lock(task, ttl, now)
    except Cancelled as cancelled:
        if lock_store.project_missing(cancelled):
            raise NotFound("Task not found.", {"task_id": task.id}) from cancelled
        raise Retry() from cancelled
    task.lock_heartbeat_at = iso_from_ms(now)
    task.lock_expires_ms = now + ttl * 1000
    task.lock_ttl = ttl
    return lock_view(task, now)


def release(call: Call, task_id: str, caller: str | None, force: bool) -> Result:
    task_id = require_uuid(task_id, "Task")
    if caller is not None:
        check_identity(call.caller, caller)

    def attempt() -> Result:
        task = get_task_for_write(task_id)
        with refusals_visible(task):
            now = now_ms()
            if task.lock_caller is None or not is_live(int(task.lock_expires_ms), now):
                raise NotFound("The task has no live lock.", {"task_id": task_id})
            note = None
            if task.lock_caller != caller:
                if not force:
                    raise NotLockHolder("Only the holder may release this lock (or use force=true).",
                                        {"caller_label": task.lock_caller})
                author = caller if caller is not None else "system"
                note = new_log_entry(
                    task, author, "note",
                    f"Force-released the {task.lock_purpose} lock held by {task.lock_caller}.",
                    iso_from_ms(now))
            try:
                lock_store.remove_lock(task, now, note)
            except Cancelled as cancelled:
                if lock_store.project_missing(cancelled):
                    raise NotFound("Task not found.", {"task_id": task_id}) from cancelled
                raise Retry() from cancelled
            return Result(204, None)

    return retrying(attempt)


def list_locks(project_id: str | None, offset: int, limit: int) -> Result:
    if project_id is not None:
        project_id = require_uuid(project_id, "Project")
        if get_project(project_id) is None:
            raise NotFound("Project not found.", {"project_id": project_id})
    now = now_ms()
    found, more = [], False
    for task in lock_store.iter_live_locks(project_id, now):
        if len(found) == offset + limit:
            more = True
            break
        found.append(task)
    if project_id is None:
        live = live_project_ids(task.project_id for task in found)
        found = [task for task in found if task.project_id in live]
    return list_result([lock_view(task, now) for task in found[offset:]], offset, more)
