"""Tasks: create, read, update, delete, status, reorder, tree and ancestry (SPEC §1-§3)."""
from __future__ import annotations

from typing import Any, Iterable

from chalicelib.api.models import StatusChange, TaskCreate, TaskUpdate
from chalicelib.clock import now_iso, now_ms
from chalicelib.domain.status import OPEN, transition_allowed
from chalicelib.domain.tree import Workspace, stored_state, touch_if_changed
from chalicelib.errors import (
    DepthLimitExceeded,
    InvalidStatusTransition,
    NotFound,
    ResponseTooLarge,
)
from chalicelib.api.http import dumps
from chalicelib.services.common import (
    RESPONSE_LIMIT,
    Call,
    Caller,
    Result,
    commit_with,
    list_result,
    new_id,
    require_uuid,
    write,
)
from chalicelib.store.db import MAX_TRANSACTION_ITEMS, Retry, Transaction, retrying
from chalicelib.store.tables import ProjectItem, TaskItem, WorkLogItem, CommitItem
from chalicelib.store.tasks import (
    commit,
    get_ancestors,
    get_descendants,
    get_live_task,
    get_project,
    get_task_for_write,
    refusals_visible,
    require_visible,
    get_tasks,
    iter_children,
    list_children,
    parent_key,
    stage,
)
from chalicelib.views import task_view

MAX_DEPTH = 15
# items one round of a cascade may touch, leaving room for the project and a log entry
ROUND_BUDGET = MAX_TRANSACTION_ITEMS - 4


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
               position: int) -> TaskItem:
    task_id = new_id()
    ancestors = (list(parent.ancestor_ids) + [parent.id]) if parent is not None else []
    return TaskItem(
        task_id,
        project_id=project_id,
        parent_task_id=parent.id if parent is not None else None,
        ancestor_ids=ancestors,
        parent_key=parent_key(project_id, parent.id if parent is not None else None),
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
    )


def _siblings_from(key: str, position: int, expected_total: int) -> list[TaskItem]:
    """Siblings at `position` and after; the parent's count proves the index read complete."""
    if position >= expected_total:
        return []
    siblings = list(iter_children(key, position))
    if len(siblings) != expected_total - position:
        raise Retry()
    return siblings


def _shift(workspace: Workspace, tasks: list[TaskItem], by: int) -> None:
    """Position moves are not changes of the task (updated_at stays)."""
    for task in tasks:
        workspace.include(task)
        task.position = int(task.position) + by
        workspace.changed(task)


# -- create -------------------------------------------------------------------------------
def _insert_position(wanted: int | None, count: int) -> int:
    """Where a new task goes in its own transaction: an insert that would shift more
    siblings than one transaction holds is appended, then moved into place in rounds."""
    position = count if wanted is None else min(wanted, count)
    return position if count - position <= ROUND_BUDGET - MAX_DEPTH - 2 else count


def _moved_into_place(created: Result, wanted: int | None) -> Result:
    if (created.status != 201 or wanted is None or not isinstance(created.body, dict)
            or created.body["position"] <= wanted):
        return created
    moved = reorder(Call(caller=Caller()), created.body["id"], wanted)
    return Result(201, moved.body, created.headers)


def create_task(call: Call, project_id: str, body: TaskCreate) -> Result:
    project_id = require_uuid(project_id, "Project")

    def attempt() -> Result:
        project = get_project(project_id)
        if project is None:
            raise NotFound("Project not found.", {"project_id": project_id})
        count = int(project.top_level_count)
        position = _insert_position(body.position, count)
        now = now_iso()
        workspace = Workspace([], now)
        _shift(workspace, _siblings_from(project_id, position, count), +1)
        task = build_task(project_id, None, body, now, position)
        workspace.add(task)
        tx = Transaction()
        stage(workspace, project_id, tx,
              project_actions=[ProjectItem.top_level_count.set(count + 1)],
              project_condition=ProjectItem.top_level_count == count)
        return commit_with(call, tx, Result(201, view(task)), project_id)

    return _moved_into_place(write(call, attempt), body.position)


def create_subtask(call: Call, parent_id: str, body: TaskCreate) -> Result:
    parent_id = require_uuid(parent_id, "Task")

    def attempt() -> Result:
        parent = get_task_for_write(parent_id)
        with refusals_visible(parent):
            if parent.depth + 1 > MAX_DEPTH:
                raise DepthLimitExceeded(details={"max_depth": MAX_DEPTH, "parent_depth": parent.depth})
            chain = get_ancestors(parent) + [parent]
            refuse_under_cancelled(chain)
            count = int(parent.children_count)
            position = _insert_position(body.position, count)
            now = now_iso()
            workspace = Workspace(chain, now)
            _shift(workspace, _siblings_from(parent.id, position, count), +1)
            task = build_task(parent.project_id, parent, body, now, position)
            workspace.add(task)
            tx = Transaction()
            stage(workspace, parent.project_id, tx)
            return commit_with(call, tx, Result(201, view(task)), parent.project_id)

    return _moved_into_place(write(call, attempt), body.position)


# -- read ---------------------------------------------------------------------------------
def get_task(task_id: str) -> Result:
    task, _project = get_live_task(require_uuid(task_id, "Task"))
    return Result(200, view(task))


def list_top_level(project_id: str, offset: int, limit: int) -> Result:
    project_id = require_uuid(project_id, "Project")
    if get_project(project_id) is None:
        raise NotFound("Project not found.", {"project_id": project_id})
    page, more = list_children(project_id, offset, limit)
    return list_result([view(task) for task in page], offset, more)


def get_ancestry(task_id: str) -> Result:
    task, _project = get_live_task(require_uuid(task_id, "Task"))
    return Result(200, [view(t) for t in get_ancestors(task) + [task]])


def _levels_below(task: TaskItem, depth: int) -> list[TaskItem]:
    """Breadth first, one index read per node that has children: reads only the answer."""
    found, frontier = [], [task]
    for _ in range(depth):
        next_level = [child for node in frontier if node.children_count
                      for child in iter_children(node.id)]
        found += next_level
        frontier = next_level
        if not frontier:
            break
    return found


def get_tree(task_id: str, depth: int | None) -> Result:
    task, _project = get_live_task(require_uuid(task_id, "Task"))
    now = now_ms()
    if depth == 0 or not task.children_count:
        below = []
    elif depth is None:
        below = get_descendants(task)
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
        task = get_task_for_write(task_id)
        with refusals_visible(task):
            now = now_iso()
            points_change = "points" in sent and body.points != task.points
            workspace = Workspace((get_ancestors(task) if points_change else []) + [task], now)
            before = stored_state(task)
            for field in ("name", "description", "context"):
                if field in sent and getattr(body, field) != getattr(task, field):
                    setattr(task, field, getattr(body, field))
                    task.content_changed_at = now
            if "context" in sent:
                task.context_captured_at = now if body.context is not None else None
            for field in ("task_type", "priority"):
                if field in sent:
                    setattr(task, field, getattr(body, field))
            if "points" in sent:
                task.points = body.points
                task.points_breakdown = None
                task.sizing_confidence = None
            if not touch_if_changed(task, before, now):
                require_visible(task)
                return Result(200, view(task))
            workspace.changed(task)
            tx = Transaction()
            stage(workspace, task.project_id, tx)
            commit(tx)
            return Result(200, view(task))

    return retrying(attempt)


# -- status -------------------------------------------------------------------------------
def change_status(call: Call, task_id: str, body: StatusChange) -> Result:
    task_id = require_uuid(task_id, "Task")
    target = body.status
    if target == "wont_do":
        return cancel_subtree(task_id)

    def attempt() -> Result:
        task = get_task_for_write(task_id)
        with refusals_visible(task):
            current = task.status
            if current == target:
                require_visible(task)
                return Result(200, view(task))
            move = {"from": current, "to": target}
            if not transition_allowed(current, target):
                raise InvalidStatusTransition(f"A task cannot go from {current} to {target}.", move)
            chain = get_ancestors(task)
            if target in OPEN:
                refuse_under_cancelled(chain, move)
            if target == "done" and task.open_descendants > 0:
                raise InvalidStatusTransition(
                    "A task may be done only when none of its descendants is todo or doing.",
                    {**move, "open_descendants": int(task.open_descendants)},
                )
            workspace = Workspace(chain + [task], now_iso())
            workspace.set_status(task, target)
            tx = Transaction()
            stage(workspace, task.project_id, tx)
            commit(tx)
            return Result(200, view(task))

    return retrying(attempt)


def _round(pending: list[TaskItem], budget: int) -> list[TaskItem]:
    """As many of `pending` (deepest first) as fit one transaction with their ancestors."""
    chosen, touched = [], set()
    for task in pending:
        needed = touched | set(task.ancestor_ids) | {task.id}
        if len(needed) > budget:
            break
        chosen.append(task)
        touched = needed
    return chosen


def _deepest_first(tasks: list[TaskItem]) -> list[TaskItem]:
    return sorted(tasks, key=lambda task: (-task.depth, task.path))


def cancel_subtree(task_id: str) -> Result:
    """Deepest level first, one transaction per round: an interrupted cancel leaves a valid
    tree, and repeating the request finishes the job."""
    while True:
        done, task = retrying(lambda: _cancel_round(task_id))
        if done:
            return Result(200, view(task))


def _cancel_round(task_id: str) -> tuple[bool, TaskItem]:
    task, _project = get_live_task(task_id)
    if task.status == "wont_do":
        return True, task
    chain = get_ancestors(task)
    descendants = get_descendants(task) if task.children_count else []
    pending = _deepest_first([d for d in descendants if d.status in OPEN]) + [task]
    chosen = _round(pending, ROUND_BUDGET)
    workspace = Workspace(chain + [task] + descendants, now_iso())
    workspace.hold_complete_upward = {task.id} | {d.id for d in descendants}
    for item in chosen:
        workspace.set_status(item, "wont_do")
    if any(int(workspace.tasks[i].open_children) for i in workspace.cancelled):
        raise Retry()  # the index missed a new child: read again
    tx = Transaction()
    stage(workspace, task.project_id, tx)
    commit(tx)
    return task.id in workspace.cancelled, task


# -- delete -------------------------------------------------------------------------------
def delete_task(call: Call, task_id: str) -> Result:
    """The subtree goes deepest first; the last round removes the task and closes the gap in
    its siblings' positions. Logs and commits of the removed tasks follow."""
    task_id = require_uuid(task_id, "Task")
    removed: list[str] = []
    while True:
        finished, ids = retrying(lambda: _delete_round(task_id))
        removed += ids
        if finished:
            break
    _delete_records(removed)
    return Result(204, None)


def _delete_round(task_id: str) -> tuple[bool, list[str]]:
    task, project = get_live_task(task_id)
    chain = get_ancestors(task)
    descendants = get_descendants(task) if task.children_count else []
    chosen = _round(_deepest_first(descendants) + [task], ROUND_BUDGET)
    final = chosen[-1] is task
    workspace = Workspace(chain + [task] + descendants, now_iso())
    project_actions, project_condition = None, None
    if final:
        key = parent_key(task.project_id, task.parent_task_id)
        total = _sibling_count(task, chain, project)
        siblings = _siblings_from(key, int(task.position) + 1, total)
        room = ROUND_BUDGET - len(set(task.ancestor_ids)) - 1
        _shift(workspace, siblings[:room], -1)
        if task.parent_task_id is None:
            project_actions = [ProjectItem.top_level_count.set(total - 1)]
            project_condition = ProjectItem.top_level_count == total
    for item in chosen:
        workspace.delete(item)
    if not final and any(int(workspace.tasks[i].children_count) for i in workspace.deleted):
        raise Retry()  # the index missed a child: read again
    tx = Transaction()
    stage(workspace, task.project_id, tx, project_actions, project_condition)
    commit(tx)
    if final and len(siblings) > room:
        retrying(lambda: _close_gap(key, total - 1, task))
    return final, [item.id for item in chosen]


def _sibling_count(task: TaskItem, chain: list[TaskItem], project: ProjectItem) -> int:
    if task.parent_task_id is None:
        return int(project.top_level_count)
    return int(chain[-1].children_count)


def _close_gap(key: str, total: int, removed: TaskItem) -> None:
    """Renumber siblings after a delete too wide to shift in its own transaction."""
    project = get_project(removed.project_id)
    if project is None:
        return
    parent = get_tasks([removed.parent_task_id])[removed.parent_task_id] \
        if removed.parent_task_id else None
    _write_order(_current_order(key, total), removed.project_id, None, parent, total)


def _delete_records(task_ids: list[str]) -> None:
    for model in (WorkLogItem, CommitItem):
        with model.batch_write() as batch:
            for task_id in task_ids:
                for item in model.query(task_id):
                    batch.delete(item)


# -- reorder ------------------------------------------------------------------------------
def reorder(call: Call, task_id: str, position: int) -> Result:
    task_id = require_uuid(task_id, "Task")

    def attempt() -> Result:
        task, project = get_live_task(task_id)
        parent = get_tasks([task.parent_task_id])[task.parent_task_id] \
            if task.parent_task_id else None
        key = parent_key(task.project_id, task.parent_task_id)
        total = int(parent.children_count if parent is not None else project.top_level_count)
        siblings = _current_order(key, total)
        moved = next(s for s in siblings if s.id == task_id)
        order = [s for s in siblings if s.id != task_id]
        order.insert(min(position, len(order)), moved)
        _write_order(order, task.project_id, moved, parent, total)
        return Result(200, view(moved))

    return retrying(attempt)


def _current_order(key: str, total: int) -> list[TaskItem]:
    """Siblings in position order; the parent's count proves the index read complete. An
    interrupted wide move leaves a gap, never a duplicate, so the order is still known."""
    siblings = sorted(iter_children(key), key=lambda s: (int(s.position), s.created_at))
    if len(siblings) != total:
        raise Retry()
    return siblings


def _write_order(order: list[TaskItem], project_id: str, moved: TaskItem | None,
                 parent: TaskItem | None, total: int) -> None:
    """Number `order` 0..n-1. A move wider than one transaction parks the moved task at the
    end, shifts the others block by block toward free positions, then places it."""
    now = now_iso()
    changes = [(index, s) for index, s in enumerate(order) if int(s.position) != index]
    if len(changes) <= ROUND_BUDGET:
        _commit_positions(changes, project_id, moved, parent, total, now)
        return
    others = [(index, s) for index, s in changes if s is not moved]
    if moved is not None and any(s is moved for _, s in changes):
        target = order.index(moved)
        _commit_positions([(total, moved)], project_id, moved, parent, total, now)
        changes_after = [(target, moved)]
    else:
        changes_after = []
    # rising shifts from the top down, falling ones from the bottom up: each target is free
    others.sort(key=lambda change: -change[0] if change[0] > int(change[1].position)
                else change[0])
    for start in range(0, len(others), ROUND_BUDGET):
        _commit_positions(others[start:start + ROUND_BUDGET], project_id, moved, parent,
                          total, now)
    if changes_after:
        _commit_positions(changes_after, project_id, moved, parent, total, now)


def _commit_positions(changes: list[tuple[int, TaskItem]], project_id: str,
                      moved: TaskItem | None, parent: TaskItem | None, total: int,
                      now: str) -> None:
    """One transaction of position changes, guarded against a sibling arriving or leaving."""
    workspace = Workspace([], now)
    for index, sibling in changes:
        _shift(workspace, [sibling], index - int(sibling.position))
        if sibling is moved:
            sibling.updated_at = now  # its own move is a change; its siblings' are not
    tx = Transaction()
    if parent is not None:
        tx.check(TaskItem, parent.id, TaskItem.version == parent.version, f"task:{parent.id}")
        stage(workspace, project_id, tx)
    else:
        stage(workspace, project_id, tx,
              project_actions=[ProjectItem.top_level_count.set(total)],
              project_condition=ProjectItem.top_level_count == total)
    commit(tx)
    for _, sibling in changes:  # written: later rounds compare against the new state
        sibling._snapshot = sibling.serialize(null_check=False)
        sibling.version = int(sibling.version) + 1
