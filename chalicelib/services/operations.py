"""The atomic operations (size, breakdown, refine, complete) and the work log and commits
(SPEC §1 Atomic operations, §4). Each operation is one transaction: the change, the rollups,
the log entry, the commits, the lock check (and release) and the idempotency record."""
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
from chalicelib.domain.locks import OPERATION_PURPOSES, operation_verdict
from chalicelib.domain.sizing import DIMENSIONS, low_confidence_note, total_points
from chalicelib.domain.tree import Workspace, clear_lock, stored_state, touch_if_changed
from chalicelib.errors import (
    DepthLimitExceeded,
    InvalidStatusTransition,
    LockRequired,
)
from chalicelib.services.auth import check_identity, default_author
from chalicelib.services.common import (
    Call,
    Result,
    commit_with,
    list_result,
    new_id,
    require_uuid,
    write,
)
from chalicelib.services.locks import conflict, current_lock
from chalicelib.services.tasks import MAX_DEPTH, build_task, refuse_under_cancelled, view
from chalicelib.store import records as record_store
from chalicelib.store.db import Transaction
from chalicelib.store.tables import CommitItem, TaskItem
from chalicelib.store.tasks import get_ancestors, get_live_task, get_task_for_write, refusals_visible, stage
from chalicelib.views import commit_view, work_log_view

LOG_OPERATION = {"size": "sizing", "breakdown": "breakdown", "refine": "refinement",
                 "complete": "implementation"}


def new_commit(task: TaskItem, spec: CommitSpec, author: str, now: str) -> CommitItem:
    committed = normalize_iso(spec.committed_at) if spec.committed_at else now
    return CommitItem(task.id, spec.commit_hash.lower(), id=new_id(), project_id=task.project_id,
                      author=author, message=spec.message, committed_at=committed,
                      recorded_at=now_iso())


def _lock_condition(task: TaskItem, caller: str, operation: str, now: int):
    return ((TaskItem.lock_caller == caller)
            & TaskItem.lock_purpose.is_in(*OPERATION_PURPOSES[operation])
            & (TaskItem.lock_expires_ms > now)
            & (TaskItem.fencing_token == task.fencing_token))


Mutation = Callable[[Workspace, TaskItem, Transaction, str], dict]


def _operate(call: Call, task_id: str, body: OperationBody, operation: str,
             mutate: Mutation, needs_ancestors: Callable[[TaskItem], bool]) -> Result:
    """Check the lock, apply `mutate`, log, optionally release, and commit as one."""
    task_id = require_uuid(task_id, "Task")
    check_identity(call.caller, body.caller_label)
    author = default_author(call.caller, body.author, body.caller_label)

    def attempt() -> Result:
        task = get_task_for_write(task_id)
        with refusals_visible(task):
            now = now_ms()
            verdict = operation_verdict(current_lock(task), now, body.caller_label, operation)
            if verdict == "required":
                raise LockRequired(f"{operation} needs a live lock held by {body.caller_label}.",
                                   {"accepted_purposes": sorted(OPERATION_PURPOSES[operation])})
            if verdict == "conflict":
                raise conflict(task, now)
            at = iso_from_ms(now)
            chain = get_ancestors(task) if needs_ancestors(task) else []
            workspace = Workspace(chain + [task], at)
            tx = Transaction()
            condition = _lock_condition(task, body.caller_label, operation, now)
            body_out = mutate(workspace, task, tx, author)
            if body.release_lock:
                clear_lock(task)
                workspace.changed(task)
            record_store.add_work_log(
                tx, record_store.new_log_entry(task, author, LOG_OPERATION[operation], body.work_log_content, at))
            stage(workspace, task.project_id, tx, conditions={task.id: condition})
            return commit_with(call, tx, Result(200, body_out()), task.project_id)

    return write(call, attempt)


def _leaf_points_matter(task: TaskItem) -> bool:
    """Its points reach the parent only while no counted child has effective points."""
    return task.depth > 0 and task.sized_children == 0


# -- size ---------------------------------------------------------------------------------
def size(call: Call, task_id: str, body: SizeBody) -> Result:
    def mutate(workspace: Workspace, task: TaskItem, tx: Transaction, author: str):
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
        note = low_confidence_note(body.confidence)
        if note is not None:
            flagged_notes = task.refinement_notes if task.needs_refinement else None
            task.refinement_notes = f"{flagged_notes}\n{note}" if flagged_notes else note
            task.needs_refinement = True
        touch_if_changed(task, before, workspace.now)
        workspace.changed(task)
        return lambda: view(task)

    return _operate(call, task_id, body, "size", mutate, _leaf_points_matter)


# -- breakdown ----------------------------------------------------------------------------
def breakdown(call: Call, task_id: str, body: BreakdownBody) -> Result:
    def mutate(workspace: Workspace, task: TaskItem, tx: Transaction, author: str):
        if task.depth + 1 > MAX_DEPTH:
            raise DepthLimitExceeded(details={"max_depth": MAX_DEPTH, "parent_depth": task.depth})
        refuse_under_cancelled(workspace.ancestors(task)[::-1] + [task])
        before = stored_state(task)
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
        touch_if_changed(task, before, workspace.now)
        return lambda: {**view(task), "subtasks": [view(child) for child in children]}

    return _operate(call, task_id, body, "breakdown", mutate, lambda task: True)


# -- refine -------------------------------------------------------------------------------
def refine(call: Call, task_id: str, body: RefineBody) -> Result:
    sent = body.model_fields_set

    def mutate(workspace: Workspace, task: TaskItem, tx: Transaction, author: str):
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
        touch_if_changed(task, before, workspace.now)
        workspace.changed(task)
        return lambda: view(task)

    return _operate(call, task_id, body, "refine", mutate, lambda task: False)


# -- complete -----------------------------------------------------------------------------
def complete(call: Call, task_id: str, body: CompleteBody) -> Result:
    def mutate(workspace: Workspace, task: TaskItem, tx: Transaction, author: str):
        if task.status == "wont_do":
            raise InvalidStatusTransition("A cancelled task cannot be completed; reopen it.",
                                          {"from": "wont_do", "to": "done"})
        if task.open_descendants > 0:
            raise InvalidStatusTransition(
                "A task may be done only when none of its descendants is todo or doing.",
                {"from": task.status, "to": "done",
                 "open_descendants": int(task.open_descendants)})
        if task.status == "todo":
            workspace.set_status(task, "doing")
        workspace.set_status(task, "done")
        specs = {spec.commit_hash.lower(): spec for spec in body.commits or []}
        known = record_store.get_commits(task.id, specs)
        for commit_hash, spec in specs.items():
            if commit_hash not in known:
                record_store.add_commit(
                    tx, new_commit(task, spec, default_author(call.caller, spec.author, author),
                                   workspace.now))
        return lambda: view(task)

    return _operate(call, task_id, body, "complete", mutate, lambda task: task.depth > 0)


# -- flag, work log, commits ---------------------------------------------------------------
def flag_refinement(call: Call, task_id: str, body: FlagRefinement) -> Result:
    task_id = require_uuid(task_id, "Task")
    author = default_author(call.caller, body.author, "anonymous")

    def attempt() -> Result:
        task = get_task_for_write(task_id)
        with refusals_visible(task):
            at = now_iso()
            workspace = Workspace([task], at)
            before = stored_state(task)
            existing = task.refinement_notes if task.needs_refinement else None
            task.refinement_notes = (f"{existing}\n{body.refinement_notes}" if existing
                                     else body.refinement_notes)
            task.needs_refinement = True
            touch_if_changed(task, before, at)
            workspace.changed(task)
            tx = Transaction()
            record_store.add_work_log(
                tx, record_store.new_log_entry(task, author, "note", body.refinement_notes, at))
            stage(workspace, task.project_id, tx)
            return commit_with(call, tx, Result(200, view(task)), task.project_id)

    return write(call, attempt)


def add_work_log(call: Call, task_id: str, body: WorkLogCreate) -> Result:
    task_id = require_uuid(task_id, "Task")
    author = default_author(call.caller, body.author, "anonymous")

    def attempt() -> Result:
        task = get_task_for_write(task_id)
        with refusals_visible(task):
            entry = record_store.new_log_entry(task, author, body.operation, body.content, now_iso())
            tx = Transaction()
            record_store.add_work_log(tx, entry)
            stage(Workspace([], entry.created_at), task.project_id, tx,
                  conditions={task.id: TaskItem.id.exists()})
            return commit_with(call, tx, Result(201, work_log_view(entry)), task.project_id)

    return write(call, attempt)


def list_work_log(task_id: str, offset: int, limit: int) -> Result:
    task, _project = get_live_task(require_uuid(task_id, "Task"))
    entries = record_store.list_work_log(task.id)
    page = entries[offset: offset + limit]
    return list_result([work_log_view(e) for e in page], offset, len(entries) > offset + limit)


def record_commit(call: Call, task_id: str, body: CommitCreate) -> Result:
    task_id = require_uuid(task_id, "Task")
    author = default_author(call.caller, body.author, "anonymous")

    def attempt() -> Result:
        task = get_task_for_write(task_id)  # both paths commit a transaction that checks the project
        commit_hash = body.commit_hash.lower()
        known = record_store.get_commits(task.id, [commit_hash]).get(commit_hash)
        tx = Transaction()
        if known is not None:  # the stored record, unchanged (and replayable by its key)
            stage(Workspace([], now_iso()), task.project_id, tx,
                  conditions={task.id: TaskItem.id.exists()})
            return commit_with(call, tx, Result(200, commit_view(known)), task.project_id)
        commit = new_commit(task, body, author, now_iso())
        record_store.add_commit(tx, commit)
        stage(Workspace([], commit.recorded_at), task.project_id, tx,
              conditions={task.id: TaskItem.id.exists()})
        return commit_with(call, tx, Result(201, commit_view(commit)), task.project_id)

    return write(call, attempt)


def list_commits(task_id: str, offset: int, limit: int) -> Result:
    task, _project = get_live_task(require_uuid(task_id, "Task"))
    commits = record_store.list_commits(task.id)
    page = commits[offset: offset + limit]
    return list_result([commit_view(c) for c in page], offset, len(commits) > offset + limit)
