"""Acquire, heartbeat, release, list and sweep locks (SPEC §1 Locks, §3, §14)."""
from __future__ import annotations

from urllib.parse import quote

from chalicelib import config
from chalicelib.api.models import LockAcquire
from chalicelib.clock import iso_from_ms, now_ms
from chalicelib.domain.events import SYSTEM
from chalicelib.domain.locks import PRECONDITIONS, LockView, acquire_verdict, is_live
from chalicelib.domain.status import OPEN
from chalicelib.domain.tree import clear_lock
from chalicelib.errors import (
    InvalidReadinessState,
    LockConflict,
    LockExpired,
    NotFound,
    NotLockHolder,
)
from chalicelib.services.auth import check_identity
from chalicelib.services.changes import Change
from chalicelib.services.common import Call, Result, list_result, require_uuid
from chalicelib.store import locks as lock_store
from chalicelib.store import tasks as task_store
from chalicelib.store.db import Retry, retrying
from chalicelib.store.records import add_work_log, new_log_entry
from chalicelib.store.tables import TaskItem
from chalicelib.views import lock_view


def current_lock(task: TaskItem) -> LockView | None:
    if task.lock_caller is None or task.lock_expires_ms is None:
        return None
    return LockView(task.lock_caller, task.lock_purpose, int(task.lock_expires_ms))


def conflict(task: TaskItem, now: int, caller: str | None = None) -> LockConflict:
    lock = lock_view(task, now)
    details = {key: lock[key] for key in ("caller_label", "lock_purpose", "expires_at")}
    if caller is not None and lock["caller_label"] == caller:
        message = (f"You ({caller}) hold this task's {lock['lock_purpose']} lock: release it "
                   f"first (DELETE /tasks/{task.id}/lock?caller_label={quote(caller)}) to "
                   f"take another purpose, or use that purpose's operation.")
    else:
        message = (f"The task is locked by {lock['caller_label']} for "
                   f"{lock['lock_purpose']}; take another task.")
    return LockConflict(message, details)


def _article(word: str) -> str:
    return "An" if word[:1] in "aeiou" else "A"


def _precondition(purpose: str) -> str:
    readiness, statuses = PRECONDITIONS[purpose]
    return (f"readiness {' or '.join(sorted(readiness))} and status "
            f"{' or '.join(sorted(statuses))}")


def _hint(purpose: str, task: TaskItem) -> str:
    """The way forward an agent most often misses."""
    if purpose == "sizing" and task.status in OPEN and task.points is not None:
        return " To re-size a sized task, take a refinement lock: size accepts it."
    return ""


def _judge(task: TaskItem, caller: str, purpose: str, now: int) -> str:
    verdict = acquire_verdict(current_lock(task), now, caller, purpose, task.readiness,
                              task.status)
    if verdict == "conflict":
        raise conflict(task, now, caller)
    if verdict == "precondition":
        raise InvalidReadinessState(
            f"{_article(purpose)} {purpose} lock needs {_precondition(purpose)}; the task "
            f"is {task.status}, readiness {task.readiness}.{_hint(purpose, task)}",
            {"readiness": task.readiness, "status": task.status, "lock_purpose": purpose},
        )
    return verdict


def acquire(call: Call, task_id: str, body: LockAcquire) -> Result:
    task_id = require_uuid(task_id, "Task")
    check_identity(call.caller, body.caller_label)
    purpose = body.lock_purpose

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)
        with task_store.refusals_visible(task):
            now = now_ms()
            if _judge(task, body.caller_label, purpose, now) == "heartbeat":
                return Result(200, _renew(task, body.caller_label, now))
            rule = PRECONDITIONS[purpose]
            change = Change(task.project_id, body.caller_label, [task], subject=task.id,
                            now=iso_from_ms(now))
            workspace = change.workspace
            if task.lock_caller is not None:  # an expired record is replaced
                workspace.record_expiry(task)
            condition = lock_store.acquire_condition(
                task, now, rule[0] if rule else None, rule[1] if rule else None)
            workspace.record(task, "lock_acquired", {"lock_purpose": purpose})
            if purpose == "implementation" and task.status == "todo":
                workspace.set_status(task, "doing")  # versioned: the status moves
            else:
                change.lock_only.add(task.id)
            change.conditions[task.id] = condition
            lock_store.grant(task, body.caller_label, purpose,
                             config.lock_ttl_seconds(purpose), now)
            change.settle()
            change.commit()
            return Result(201, lock_view(task, now))

    return retrying(attempt)


def heartbeat(call: Call, task_id: str, caller: str) -> Result:
    task_id = require_uuid(task_id, "Task")
    check_identity(call.caller, caller)

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)
        with task_store.refusals_visible(task):
            now = now_ms()
            if task.lock_caller is None:
                raise NotFound("The task has no lock.", {"task_id": task_id})
            if not is_live(int(task.lock_expires_ms), now):
                raise LockExpired("The lock has expired; re-read the task and acquire it "
                                  "again.",
                                  {"expired_at": iso_from_ms(int(task.lock_expires_ms))})
            if task.lock_caller != caller:
                raise NotLockHolder("Only the holder may heartbeat this lock.",
                                    {"caller_label": task.lock_caller})
            return Result(200, _renew(task, caller, now))

    return retrying(attempt)


def _renew(task: TaskItem, caller: str, now: int) -> dict:
    """Reset the live lock's heartbeat and expiry (same lock, same fencing token). A renewal
    records no event, but the caller was seen."""
    change = Change(task.project_id, caller, [task], now=iso_from_ms(now))
    change.conditions[task.id] = lock_store.same_live_lock(task, now)
    change.lock_only.add(task.id)
    lock_store.renew(task, config.lock_ttl_seconds(task.lock_purpose), now)
    change.workspace.changed(task)
    change.commit()
    return lock_view(task, now)


def release(call: Call, task_id: str, caller: str | None, force: bool) -> Result:
    task_id = require_uuid(task_id, "Task")
    if caller is not None:
        check_identity(call.caller, caller)

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)
        with task_store.refusals_visible(task):
            now = now_ms()
            if task.lock_caller is None or not is_live(int(task.lock_expires_ms), now):
                raise NotFound("The task has no live lock.", {"task_id": task_id})
            actor = caller if caller is not None else SYSTEM
            change = Change(task.project_id, actor, [task], now=iso_from_ms(now))
            holder, purpose = task.lock_caller, task.lock_purpose
            if holder != caller:
                if not force:
                    raise NotLockHolder(
                        "Only the holder may release this lock (force=true releases it "
                        "anyway: only for a holder known to be gone, and it is logged).",
                        {"caller_label": holder})
                add_work_log(change.tx, new_log_entry(
                    task, actor, "note",
                    f"Force-released the {purpose} lock held by {holder}.", change.now))
                change.workspace.record(task, "lock_forced",
                                        {"lock_purpose": purpose, "previous_holder": holder})
            else:
                change.workspace.record(task, "lock_released", {"lock_purpose": purpose})
            change.conditions[task.id] = lock_store.same_live_lock(task, now)
            change.lock_only.add(task.id)
            clear_lock(task)
            change.commit()
            return Result(204, None)

    return retrying(attempt)


def list_locks(project_id: str | None, offset: int, limit: int) -> Result:
    if project_id is not None:
        project_id = require_uuid(project_id, "Project")
        if task_store.get_project(project_id) is None:
            raise NotFound("Project not found.", {"project_id": project_id})
    now = now_ms()
    found, more = [], False
    for task in lock_store.iter_live_locks(project_id, now):
        if len(found) == offset + limit:
            more = True
            break
        found.append(task)
    if project_id is None:
        live = task_store.live_project_ids(task.project_id for task in found)
        found = [task for task in found if task.project_id in live]
    return list_result([lock_view(task, now) for task in found[offset:]], offset, more)


def sweep_expired_locks(now: int) -> int:
    """Remove expired lock records, each with its `lock_expired` event; a lock renewed after
    we looked is left alone (the condition compares its expiry)."""
    removed = 0
    for task in lock_store.iter_expired_locks(now):
        change = Change(task.project_id, SYSTEM, [task], now=iso_from_ms(now))
        change.conditions[task.id] = TaskItem.lock_expires_ms == task.lock_expires_ms
        change.lock_only.add(task.id)
        change.workspace.record_expiry(task)
        clear_lock(task)
        try:
            change.commit()
            removed += 1
        except (Retry, NotFound):
            continue  # renewed, re-acquired or gone meanwhile
    return removed
