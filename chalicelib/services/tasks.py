"""Tasks: create, read, update, delete, status, reorder, tree and ancestry (SPEC §1-§3)."""
from __future__ import annotations

from typing import Any, Iterable

from chalicelib.api.http import dumps
from chalicelib.api.models import StatusChange, TaskCreate, TaskUpdate
from chalicelib.clock import now_ms
from chalicelib.domain.dependencies import inherited_by_children
from chalicelib.domain.status import OPEN, transition_allowed
from chalicelib.domain.tree import STORED_FIELDS, stored_state, touch_if_changed
from chalicelib.errors import (
    DepthLimitExceeded,
    InvalidStatusTransition,
    NotFound,
    ResponseTooLarge,
)
from chalicelib.services import jobs, positions
from chalicelib.services.auth import request_actor
from chalicelib.services.changes import Change
from chalicelib.services.common import (
    RESPONSE_LIMIT,
    Call,
    Caller,
    Result,
    list_result,
    new_id,
    require_uuid,
    write,
)
from chalicelib.store import jobs as job_store
from chalicelib.store import tasks as task_store
from chalicelib.store.db import Transaction, retrying
from chalicelib.store.tables import ProjectItem, TaskItem
from chalicelib.views import task_view

MAX_DEPTH = positions.MAX_DEPTH


def view(task: TaskItem) -> dict:
    return task_view(task, now_ms())


def highest_cancelled(chain: Iterable[TaskItem]) -> TaskItem | None:
    """Root first: the highest `wont_do` task, the one to reopen first."""
    return next((task for task in chain if task.status == "wont_do"), None)


def refuse_under_cancelled(chain: list[TaskItem], details: dict | None = None) -> None:
    cancelled = highest_cancelled(chain)
    if cancelled is not None:
        raise InvalidStatusTransition(
            "Nothing may open under a cancelled (wont_do) task; reopen it first.",
            {**(details or {}), "cancelled_ancestor": cancelled.id},
        )


def build_task(project_id: str, parent: TaskItem | None, spec: Any, now: str,
               position: int, task_id: str | None = None) -> TaskItem:
    task_id = task_id or new_id()
    ancestors = (list(parent.ancestor_ids) + [parent.id]) if parent is not None else []
    return TaskItem(
        task_id,
        project_id=project_id,
        parent_task_id=parent.id if parent is not None else None,
        ancestor_ids=ancestors,
        parent_key=task_store.parent_key(project_id, parent.id if parent is not None else None),
        path="/".join(ancestors + [task_id]),
        depth=len(ancestors),
        position=position,
        version=0,
        name=spec.name,
        description=spec.description,
        context=spec.context,
        task_type=spec.task_type,
        status="todo",
        priority=spec.priority,
        points=spec.points,
        needs_refinement=False,
        context_captured_at=now if spec.context is not None else None,
        content_changed_at=now,
        created_at=now,
        updated_at=now,
        readiness="needs_sizing",
        waiting_ancestors=inherited_by_children(parent) if parent is not None else 0,
    )


# -- create -------------------------------------------------------------------------------
def _moved_into_place(call: Call, created: Result, wanted: int | None) -> Result:
    if (created.status != 201 or wanted is None or not isinstance(created.body, dict)
            or created.body["position"] <= wanted):
        return created
    moved = reorder(Call(caller=call.caller), created.body["id"], wanted)
    return Result(201, moved.body, created.headers)


def create_task(call: Call, project_id: str, body: TaskCreate) -> Result:
    project_id = require_uuid(project_id, "Project")

    def attempt() -> Result:
        project = task_store.get_project(project_id)
        if project is None:
            raise NotFound("Project not found.", {"project_id": project_id})
        count = int(project.top_level_count)
        position = positions.insert_position(body.position, count)
        change = Change(project_id, request_actor(call.caller))
        positions.shift(change.workspace,
                        positions.siblings_from(project_id, position, count), +1)
        task = build_task(project_id, None, body, change.now, position)
        change.workspace.add(task)
        change.project_actions = [ProjectItem.top_level_count.set(count + 1)]
        change.project_condition = ProjectItem.top_level_count == count
        return change.commit(call, lambda: Result(201, view(task)))

    return _moved_into_place(call, write(call, attempt), body.position)


def create_subtask(call: Call, parent_id: str, body: TaskCreate) -> Result:
    parent_id = require_uuid(parent_id, "Task")

    def attempt() -> Result:
        parent = task_store.get_task_for_write(parent_id)
        with task_store.refusals_visible(parent):
            if parent.depth + 1 > MAX_DEPTH:
                raise DepthLimitExceeded(details={"max_depth": MAX_DEPTH,
                                                  "parent_depth": parent.depth})
            chain = task_store.get_ancestors(parent) + [parent]
            refuse_under_cancelled(chain)
            count = int(parent.children_count)
            position = positions.insert_position(body.position, count)
            change = Change(parent.project_id, request_actor(call.caller), chain,
                            subject=parent.id)
            positions.shift(change.workspace,
                            positions.siblings_from(parent.id, position, count), +1)
            task = build_task(parent.project_id, parent, body, change.now, position)
            change.workspace.add(task)
            change.settle()
            return change.commit(call, lambda: Result(201, view(task)))

    return _moved_into_place(call, write(call, attempt), body.position)


# -- read ---------------------------------------------------------------------------------
def get_task(task_id: str) -> Result:
    task, _project = task_store.get_live_task(require_uuid(task_id, "Task"))
    return Result(200, view(task))


def list_top_level(project_id: str, offset: int, limit: int) -> Result:
    project_id = require_uuid(project_id, "Project")
    if task_store.get_project(project_id) is None:
        raise NotFound("Project not found.", {"project_id": project_id})
    page, more = task_store.list_children(project_id, offset, limit)
    return list_result([view(task) for task in page], offset, more)


def get_ancestry(task_id: str) -> Result:
    task, _project = task_store.get_live_task(require_uuid(task_id, "Task"))
    return Result(200, [view(t) for t in task_store.get_ancestors(task) + [task]])


def _levels_below(task: TaskItem, depth: int) -> list[TaskItem]:
    """Breadth first, one index read per node that has children: reads only the answer."""
    found, frontier = [], [task]
    for _ in range(depth):
        next_level = [child for node in frontier if node.children_count
                      for child in task_store.iter_children(node.id)]
        found += next_level
        frontier = next_level
        if not frontier:
            break
    return found


def get_tree(task_id: str, depth: int | None) -> Result:
    task, _project = task_store.get_live_task(require_uuid(task_id, "Task"))
    now = now_ms()
    if depth == 0 or not task.children_count:
        below = []
    elif depth is None:
        below = task_store.get_descendants(task)
    else:
        below = _levels_below(task, depth)
    children: dict[str, list[TaskItem]] = {}
    for item in below:
        children.setdefault(item.parent_task_id, []).append(item)

    def node(item: TaskItem) -> dict:
        kids = sorted(children.get(item.id, []), key=lambda child: child.position)
        return {**task_view(item, now), "children": [node(kid) for kid in kids]}

    text = dumps(node(task))
    size = len(text.encode("utf-8"))
    if size > RESPONSE_LIMIT:
        raise ResponseTooLarge(
            "The tree is larger than 6 MB; ask for fewer levels with ?depth=N or read subtrees.",
            {"size_bytes": size, "limit_bytes": RESPONSE_LIMIT},
        )
    return Result(200, text)


# -- update -------------------------------------------------------------------------------
def update_task(call: Call, task_id: str, body: TaskUpdate) -> Result:
    task_id = require_uuid(task_id, "Task")
    sent = body.model_fields_set

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)
        with task_store.refusals_visible(task):
            points_change = "points" in sent and body.points != task.points
            chain = task_store.get_ancestors(task) if points_change else []
            change = Change(task.project_id, request_actor(call.caller), chain + [task],
                            subject=task.id)
            now = change.now
            before = stored_state(task)
            fields = [field for field in TaskUpdate.model_fields
                      if field in sent and getattr(body, field) != getattr(task, field)]
            for field in ("name", "description", "context"):
                if field in fields:
                    setattr(task, field, getattr(body, field))
                    task.content_changed_at = now
            if "context" in sent:  # writing the context captures it again, even unchanged
                task.context_captured_at = now if body.context is not None else None
            for field in ("task_type", "priority"):
                if field in sent:
                    setattr(task, field, getattr(body, field))
            if "points" in sent:  # a human's points replace the sizing that produced them
                task.points = body.points
                task.points_breakdown = None
                task.sizing_confidence = None
            for field, stored in (("context", "context_captured_at"),
                                  ("points", "points_breakdown")):
                if field in sent and field not in fields and \
                        before[STORED_FIELDS.index(stored)] != getattr(task, stored):
                    fields.append(field)
            if not touch_if_changed(task, before, now):
                task_store.require_visible(task)
                return Result(200, view(task))
            change.workspace.changed(task)
            change.workspace.record(task, "task_updated", {"fields": fields})
            change.commit()
            return Result(200, view(task))

    return retrying(attempt)


# -- status -------------------------------------------------------------------------------
def change_status(call: Call, task_id: str, body: StatusChange) -> Result:
    task_id = require_uuid(task_id, "Task")
    target = body.status
    if target == "wont_do":
        return cancel(call, task_id)

    def attempt() -> Result:
        task = task_store.get_task_for_write(task_id)
        with task_store.refusals_visible(task):
            current = task.status
            if current == target:
                task_store.require_visible(task)
                return Result(200, view(task))
            move = {"from": current, "to": target}
            if not transition_allowed(current, target):
                raise InvalidStatusTransition(
                    f"A task cannot go from {current} to {target}.", move)
            chain = task_store.get_ancestors(task)
            if target in OPEN:
                refuse_under_cancelled(chain, move)
            if target == "done" and task.open_descendants > 0:
                raise InvalidStatusTransition(
                    "A task may be done only when none of its descendants is todo or doing; "
                    "finish or cancel those first.",
                    {**move, "open_descendants": int(task.open_descendants)},
                )
            change = Change(task.project_id, request_actor(call.caller), chain + [task],
                            subject=task.id)
            change.workspace.set_status(task, target)
            change.settle()
            change.commit()
            return Result(200, view(task))

    return retrying(attempt)


def _running_job(task: TaskItem) -> Any | None:
    if not task.job_id:
        return None
    job = job_store.get_job(task.job_id)
    return job if job is not None and job.status == job_store.RUNNING else None


def _start_job(call: Call, kind: str, task: TaskItem, total: int) -> Result:
    """A cascade too big for one request: a job, named on the task so that repeating the
    request finds it (SPEC §13)."""
    job = jobs.new_job(kind, call.caller.scope, task.project_id,
                       {"task_id": task.id, "actor": request_actor(call.caller)}, total)
    tx = Transaction()
    job_store.add_job(tx, job)
    tx.update(task, [TaskItem.job_id.set(job.id)], f"task:{task.id}",
              condition=TaskItem.version == task.version)
    task_store.add_project_counters(tx, task.project_id, {})
    task_store.commit(tx)
    return jobs.accepted(job)


def cancel(call: Call, task_id: str) -> Result:
    """Cancel downward: synchronously up to JOB_THRESHOLD tasks, else a `cancel` job."""
    from chalicelib.services.cascades import Cascade

    def start() -> Result | None:
        task, _project = task_store.get_live_task(task_id)
        job = _running_job(task)
        if job is not None:
            return jobs.accepted(job)
        if task.status == "wont_do":
            return Result(200, view(task))
        reach = 1 + int(task.open_descendants)
        if reach > jobs.JOB_THRESHOLD:
            return _start_job(call, "cancel", task, reach)
        return None

    started = retrying(start)
    if started is not None:
        return started
    Cascade("cancel", task_id, request_actor(call.caller)).run()
    task, _project = task_store.get_live_task(task_id)
    return Result(200, view(task))


# -- delete -------------------------------------------------------------------------------
def delete_task(call: Call, task_id: str) -> Result:
    """The subtree goes deepest first; the last round removes the task and closes the gap
    in its siblings' positions; then its logs and commits. Past JOB_THRESHOLD: a job."""
    from chalicelib.services.cascades import Cascade

    task_id = require_uuid(task_id, "Task")

    def start() -> Result | None:
        task, _project = task_store.get_live_task(task_id)
        job = _running_job(task)
        if job is not None:
            return jobs.accepted(job)
        size = 1 + int(task.descendants or 0)
        if size > jobs.JOB_THRESHOLD:
            return _start_job(call, "delete", task, size)
        return None

    started = retrying(start)
    if started is not None:
        return started
    Cascade("delete", task_id, request_actor(call.caller)).run()
    return Result(204, None)


# -- reorder ------------------------------------------------------------------------------
def reorder(call: Call, task_id: str, position: int) -> Result:
    task_id = require_uuid(task_id, "Task")

    def attempt() -> Result:
        task, project = task_store.get_live_task(task_id)
        parent = task_store.get_tasks([task.parent_task_id])[task.parent_task_id] \
            if task.parent_task_id else None
        key = task_store.parent_key(task.project_id, task.parent_task_id)
        total = int(parent.children_count if parent is not None else project.top_level_count)
        siblings = positions.current_order(key, total)
        moved = next(s for s in siblings if s.id == task_id)
        order = [s for s in siblings if s.id != task_id]
        order.insert(min(position, len(order)), moved)
        positions.write_order(order, task.project_id, moved, parent, total,
                              request_actor(call.caller))
        return Result(200, view(moved))

    return retrying(attempt)
