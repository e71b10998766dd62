"""The atomic operations (size, breakdown, refine, complete) and the work log and commits
(SPEC §1 Atomic operations, §4). Each operation is one transaction: the change, the rollups,
the log entry, the commits, the lock check (and release), its events and the idempotency
record."""
from __future__ import annotations

import json
from typing import Any, Callable

from chalicelib.api.models import (
    BreakdownBody,
    CommitCreate,
    CommitSpec,
    CompleteBody,
    FlagRefinement,
    OperationBody,
    RefineBody,
    SizeBody,
    WorkLogCreate,
)
from chalicelib.clock import iso_from_ms, normalize_iso, now_iso, now_ms
from chalicelib.domain import dependencies as deps
from chalicelib.domain.locks import OPERATION_PURPOSES, operation_verdict
from chalicelib.domain.sizing import DIMENSIONS, low_confidence_note, total_points
from chalicelib.domain.tree import Workspace, clear_lock, stored_state, touch_if_changed
from chalicelib.errors import (
    DepthLimitExceeded,
    InvalidStatusTransition,
    LockRequired,
)
from chalicelib.services.auth import check_identity, default_author
from chalicelib.services.changes import Change
from chalicelib.services.common import (
    Call,
    Result,
    list_result,
    new_id,
    require_uuid,
    write,
)
from chalicelib.services.locks import conflict, current_lock
from chalicelib.services.tasks import MAX_DEPTH, build_task, refuse_under_cancelled, view
from chalicelib.store import records as record_store
from chalicelib.store import tasks as task_store
from chalicelib.store.tables import CommitItem, TaskItem
from chalicelib.views import commit_view, work_log_view

LOG_OPERATION = {"size": "sizing", "breakdown": "breakdown", "refine": "refinement",
                 "complete": "implementation"}
EVENT_OF = {"size": "sized", "breakdown": "broken_down", "refine": "refined",
            "complete": "completed"}


def new_commit(task: TaskItem, spec: CommitSpec, author: str, now: str) -> CommitItem:
    committed = normalize_iso(spec.committed_at) if spec.committed_at else now
    return record_store.new_commit(task, new_id(), spec.commit_hash, author, spec.message,
                                   committed, now_iso())


def _lock_condition(task: TaskItem, caller: str, operation: str, now: int):
    return ((TaskItem.lock_caller == caller)
            & TaskItem.lock_purpose.is_in(*OPERATION_PURPOSES[operation])
            & (TaskItem.lock_expires_ms > now)
            & (TaskItem.fencing_token == task.fencing_token))


def lock_required(task: TaskItem, caller: str, operation: str) -> LockRequired:
    """No live lock: say which purposes would do, and where the task stands now (a retry of
    an operation that already succeeded finds the task done, not a lock to take)."""
    return LockRequired(
        f"{operation} needs a live lock held by {caller}; re-read the task before locking "
        f"again (it is {task.status}, readiness {task.readiness}).",
        {"accepted_purposes": sorted(OPERATION_PURPOSES[operation]), "status": task.status,
         "readiness": task.readiness})


# mutate(change, task, author) -> the response body's builder
Mutation = Callable[[Change, TaskItem, str], Callable[[], dict]]


def _operate(call: Call, task_id: str, body: OperationBody, operation: str,
             mutate: Mutation, needs_ancestors: Callable[[TaskItem], bool]) -> Result:
    """Check the lock, apply `mutate`, log, optionally release, and commit as one."""
    task_id = require_uuid(task_id, "Task")
    check_identity(call.caller, body.caller_label)
    author = default_author(call.caller, body.author, body.caller_label)

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)
        with task_store.refusals_visible(task):
            now = now_ms()
            verdict = operation_verdict(current_lock(task), now, body.caller_label, operation)
            if verdict == "required":
                raise lock_required(task, body.caller_label, operation)
            if verdict == "conflict":
                raise conflict(task, now, body.caller_label)
            chain = task_store.get_ancestors(task) if needs_ancestors(task) else []
            change = Change(task.project_id, author, chain + [task], subject=task.id,
                            now=iso_from_ms(now))
            body_out = mutate(change, task, author)
            if body.release_lock:
                change.workspace.record(task, "lock_released",
                                        {"lock_purpose": task.lock_purpose})
                clear_lock(task)
                change.workspace.changed(task)
            record_store.add_work_log(change.tx, record_store.new_log_entry(
                task, author, LOG_OPERATION[operation], body.work_log_content, change.now))
            change.conditions[task.id] = _lock_condition(task, body.caller_label, operation,
                                                         now)
            change.settle()
            return change.commit(call, lambda: Result(200, body_out()))

    return write(call, attempt)


def _leaf_points_matter(task: TaskItem) -> bool:
    """Its points reach the parent only while no counted child has effective points."""
    return task.depth > 0 and task.sized_children == 0


# -- size ---------------------------------------------------------------------------------
def size(call: Call, task_id: str, body: SizeBody) -> Result:
    def mutate(change: Change, task: TaskItem, author: str):
        workspace = change.workspace
        before = stored_state(task)
        total = total_points({name: getattr(body, name).score for name in DIMENSIONS})
        breakdown: dict[str, Any] = {
            name: getattr(body, name).model_dump() for name in DIMENSIONS}
        breakdown.update(
            total=total, confidence=body.confidence, risk_factors=body.risk_factors or [],
            breakdown_suggestions=body.breakdown_suggestions,
            scored_by=body.scored_by or author, scored_at=workspace.now,
        )
        task.points = total
        task.points_breakdown = json.dumps(breakdown, ensure_ascii=False)
        task.sizing_confidence = body.confidence
        workspace.record(task, "sized")
        note = low_confidence_note(body.confidence)
        if note is not None:
            flagged_notes = task.refinement_notes if task.needs_refinement else None
            task.refinement_notes = f"{flagged_notes}\n{note}" if flagged_notes else note
            task.needs_refinement = True
            workspace.record(task, "flagged")
        touch_if_changed(task, before, workspace.now)
        workspace.changed(task)
        return lambda: view(task)

    return _operate(call, task_id, body, "size", mutate, _leaf_points_matter)


# -- breakdown ----------------------------------------------------------------------------
def breakdown(call: Call, task_id: str, body: BreakdownBody) -> Result:
    def mutate(change: Change, task: TaskItem, author: str):
        workspace = change.workspace
        if task.depth + 1 > MAX_DEPTH:
            raise DepthLimitExceeded(details={"max_depth": MAX_DEPTH, "parent_depth": task.depth})
        refuse_under_cancelled(workspace.ancestors(task)[::-1] + [task])
        before = stored_state(task)
        workspace.record(task, "broken_down")
        if (body.parent_description_update is not None
                and body.parent_description_update != task.description):
            task.description = body.parent_description_update
            task.content_changed_at = workspace.now
        if task.status == "doing":
            workspace.set_status(task, "todo")
        first = int(task.children_count)
        children = []
        for offset, spec in enumerate(body.subtasks):
            child = build_task(task.project_id, task, spec, workspace.now, first + offset)
            child.context_captured_at = workspace.now
            workspace.add(child)
            children.append(child)
        for child, spec in zip(children, body.subtasks):
            _order_after(workspace, child, [children[i] for i in spec.after or []], author)
        touch_if_changed(task, before, workspace.now)
        return lambda: {**view(task), "subtasks": [view(child) for child in children]}

    return _operate(call, task_id, body, "breakdown", mutate, lambda task: True)


def _order_after(workspace: Workspace, child: TaskItem, earlier: list[TaskItem],
                 author: str) -> None:
    """`after`: the new subtask waits for earlier ones of the same breakdown (SPEC §4)."""
    if not earlier:
        return
    deps.set_blockers(child, [deps.Edge(b.id, b.path, workspace.now, author) for b in earlier])
    child.open_blockers = len(earlier)  # new subtasks are open
    for blocker in earlier:
        deps.set_dependents(blocker, deps.dependents(blocker) + [child.id])
        workspace.record(child, "dependency_added", {"blocker_id": blocker.id})


# -- refine -------------------------------------------------------------------------------
def refine(call: Call, task_id: str, body: RefineBody) -> Result:
    sent = body.model_fields_set

    def mutate(change: Change, task: TaskItem, author: str):
        workspace = change.workspace
        before = stored_state(task)
        for field in ("name", "description", "context"):
            if field in sent and getattr(body, field) != getattr(task, field):
                setattr(task, field, getattr(body, field))
                task.content_changed_at = workspace.now
        if "task_type" in sent:
            task.task_type = body.task_type
        if "context" in sent:
            task.context_captured_at = workspace.now if body.context is not None else None
        elif body.confirm_context:
            task.context_captured_at = workspace.now
        task.needs_refinement = False
        task.refinement_notes = None
        workspace.record(task, "refined")
        touch_if_changed(task, before, workspace.now)
        workspace.changed(task)
        return lambda: view(task)

    return _operate(call, task_id, body, "refine", mutate, lambda task: False)


# -- complete -----------------------------------------------------------------------------
def complete(call: Call, task_id: str, body: CompleteBody) -> Result:
    def mutate(change: Change, task: TaskItem, author: str):
        workspace = change.workspace
        if task.status == "wont_do":
            raise InvalidStatusTransition("A cancelled task cannot be completed; reopen it.",
                                          {"from": "wont_do", "to": "done"})
        if task.open_descendants > 0:
            raise InvalidStatusTransition(
                "A task may be done only when none of its descendants is todo or doing; "
                "finish or cancel those first.",
                {"from": task.status, "to": "done",
                 "open_descendants": int(task.open_descendants)})
        specs = {spec.commit_hash.lower(): spec for spec in body.commits or []}
        known = record_store.get_commits(task.id, specs)
        new = [h for h in specs if h not in known]
        workspace.record(task, "completed", {"commits": len(new)})
        workspace.set_status(task, "done")
        for commit_hash in new:
            spec = specs[commit_hash]
            record_store.add_commit(change.tx, new_commit(
                task, spec, default_author(call.caller, spec.author, author), workspace.now))
            workspace.record(task, "commit_recorded", {"commit_hash": commit_hash})
        return lambda: view(task)

    return _operate(call, task_id, body, "complete", mutate, lambda task: task.depth > 0)


# -- flag, work log, commits ---------------------------------------------------------------
def flag_refinement(call: Call, task_id: str, body: FlagRefinement) -> Result:
    task_id = require_uuid(task_id, "Task")
    author = default_author(call.caller, body.author, "anonymous")

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)
        with task_store.refusals_visible(task):
            change = Change(task.project_id, author, [task], subject=task.id)
            before = stored_state(task)
            existing = task.refinement_notes if task.needs_refinement else None
            task.refinement_notes = (f"{existing}\n{body.refinement_notes}" if existing
                                     else body.refinement_notes)
            task.needs_refinement = True
            touch_if_changed(task, before, change.now)
            change.workspace.changed(task)
            change.workspace.record(task, "flagged")
            record_store.add_work_log(change.tx, record_store.new_log_entry(
                task, author, "note", body.refinement_notes, change.now))
            return change.commit(call, lambda: Result(200, view(task)))

    return write(call, attempt)


def add_work_log(call: Call, task_id: str, body: WorkLogCreate) -> Result:
    task_id = require_uuid(task_id, "Task")
    author = default_author(call.caller, body.author, "anonymous")

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)
        with task_store.refusals_visible(task):
            change = Change(task.project_id, author, [task], subject=task.id)
            entry = record_store.new_log_entry(task, author, body.operation, body.content,
                                               change.now)
            record_store.add_work_log(change.tx, entry)
            change.workspace.record(task, "note", {"operation": body.operation})
            change.conditions[task.id] = TaskItem.id.exists()
            return change.commit(call, lambda: Result(201, work_log_view(entry)))

    return write(call, attempt)


def list_work_log(task_id: str, offset: int, limit: int) -> Result:
    task, _project = task_store.get_live_task(require_uuid(task_id, "Task"))
    entries = record_store.list_work_log(task.id)
    page = entries[offset: offset + limit]
    return list_result([work_log_view(e) for e in page], offset, len(entries) > offset + limit)


def record_commit(call: Call, task_id: str, body: CommitCreate) -> Result:
    """No lock needed: a commit is metadata on the task, whoever holds it (a reviewer may
    record the commit that fixed it)."""
    task_id = require_uuid(task_id, "Task")
    author = default_author(call.caller, body.author, "anonymous")

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)  # both paths commit a transaction
        change = Change(task.project_id, author, [task], subject=task.id)
        change.conditions[task.id] = TaskItem.id.exists()
        commit_hash = body.commit_hash.lower()
        known = record_store.get_commits(task.id, [commit_hash]).get(commit_hash)
        if known is not None:  # the stored record, unchanged (and replayable by its key)
            return change.commit(call, lambda: Result(200, commit_view(known)))
        commit = new_commit(task, body, author, change.now)
        record_store.add_commit(change.tx, commit)
        change.workspace.record(task, "commit_recorded", {"commit_hash": commit_hash})
        return change.commit(call, lambda: Result(201, commit_view(commit)))

    return write(call, attempt)


def list_commits(task_id: str, offset: int, limit: int) -> Result:
    task, _project = task_store.get_live_task(require_uuid(task_id, "Task"))
    commits = record_store.list_commits(task.id)
    page = commits[offset: offset + limit]
    return list_result([commit_view(c) for c in page], offset, len(commits) > offset + limit)
