"""Dependencies between tasks (SPEC §12): add, remove, read, and `propagate` jobs."""
from __future__ import annotations

from chalicelib.api.models import DependencyCreate
from chalicelib.clock import now_iso
from chalicelib.domain import dependencies as deps
from chalicelib.domain.events import SYSTEM
from chalicelib.domain.tree import stored_state, touch_if_changed
from chalicelib.errors import ConcurrentModification, InvalidDependency, NotFound
from chalicelib.services.auth import default_author
from chalicelib.services.changes import Change
from chalicelib.services.common import Call, Result, is_uuid, require_uuid, write
from chalicelib.services.jobs import Lease
from chalicelib.services.tasks import view
from chalicelib.store import dependencies as dep_store
from chalicelib.store import tasks as task_store
from chalicelib.store.db import Retry, Transaction, retrying
from chalicelib.store.tables import ProjectItem, TaskItem

PAGE = 90  # tasks per propagate transaction (plus the project, the job and counters)


def dependency_view(waiter: TaskItem, edge: deps.Edge) -> dict:
    return {"task_id": waiter.id, "blocker_id": edge.blocker_id,
            "created_at": edge.created_at, "author": edge.author}


def _blocker(blocker_id: str) -> TaskItem:
    blocker = task_store.get_task(blocker_id.lower()) if is_uuid(blocker_id) else None
    if blocker is None or task_store.get_project(blocker.project_id) is None:
        raise NotFound("Blocker not found.", {"blocker_id": blocker_id})
    return blocker


def _refuse(reason: str, message: str, waiter: TaskItem, blocker_id: str) -> InvalidDependency:
    return InvalidDependency(message, {"reason": reason, "task_id": waiter.id,
                                       "blocker_id": blocker_id})


def add_dependency(call: Call, task_id: str, body: DependencyCreate) -> Result:
    """`task_id` waits for `body.blocker_id`. No lock needed; an existing edge is 200."""
    task_id = require_uuid(task_id, "Task")
    author = default_author(call.caller, body.author, "anonymous")

    def attempt() -> Result:
        waiter, project = task_store.get_live_task(task_id)
        blocker = _blocker(body.blocker_id)
        edges = deps.blockers(waiter)
        existing = next((e for e in edges if e.blocker_id == blocker.id), None)
        if existing is not None:
            return Result(200, dependency_view(waiter, existing))
        if blocker.project_id != waiter.project_id:
            raise _refuse("cross_project", "A task can only wait for a task of its own "
                          "project.", waiter, blocker.id)
        if deps.would_cycle(waiter.path, blocker.path,
                            lambda path: dep_store.subtree_edges(waiter.project_id, path),
                            dep_store.task_edges):
            raise _refuse("cycle", "This dependency would make a task wait for itself (a "
                          "task cannot wait for itself, an ancestor or a descendant, nor close "
                          "a ring of dependencies).", waiter, blocker.id)
        if len(edges) >= deps.MAX_BLOCKERS or len(deps.dependents(blocker)) >= deps.MAX_DEPENDENTS:
            raise _refuse("limit", f"A task may wait for at most {deps.MAX_BLOCKERS} tasks and "
                          f"block at most {deps.MAX_DEPENDENTS}.", waiter, blocker.id)
        change = Change(waiter.project_id, author, [waiter, blocker], subject=waiter.id)
        # edge additions in a project are serialized: no two can close a cycle together
        change.project_actions = [ProjectItem.edges_version.set(int(project.edges_version) + 1)]
        change.project_condition = ProjectItem.edges_version == project.edges_version
        before = stored_state(waiter)
        edge = deps.Edge(blocker.id, blocker.path, change.now, author)
        deps.set_blockers(waiter, edges + [edge])
        deps.set_dependents(blocker, deps.dependents(blocker) + [waiter.id])
        touch_if_changed(waiter, before, change.now)
        flips = _count_blocker(change, waiter, blocker, +1)
        change.workspace.touch(blocker)
        change.workspace.record(waiter, "dependency_added", {"blocker_id": blocker.id})
        _note(change, waiter, author, f"Now waits for “{blocker.name}” ({blocker.id}).")
        change.propagate(flips)
        return change.commit(call, lambda: Result(201, dependency_view(waiter, edge)))

    return write(call, attempt)


def _count_blocker(change: Change, waiter: TaskItem, blocker: TaskItem, delta: int) -> list:
    """An open blocker counts in the waiter's `open_blockers`; returns [waiter] when its own
    waiting flipped (its subtree follows)."""
    change.workspace.touch(waiter)
    if not deps.is_open(blocker):
        return []
    was = deps.waits_itself(waiter)
    waiter.open_blockers = int(waiter.open_blockers or 0) + delta
    return [waiter] if deps.waits_itself(waiter) != was else []


def _note(change: Change, task: TaskItem, author: str, content: str) -> None:
    """The note an endpoint logs by itself (no `note` event, SPEC §14)."""
    from chalicelib.store.records import add_work_log, new_log_entry

    add_work_log(change.tx, new_log_entry(task, author, "note", content, change.now))


def remove_dependency(call: Call, task_id: str, blocker_id: str, author: str | None) -> Result:
    task_id = require_uuid(task_id, "Task")
    author = default_author(call.caller, author, "anonymous")

    def attempt() -> Result:
        waiter, _project = task_store.get_live_task(task_id)
        edges = deps.blockers(waiter)
        wanted = blocker_id.lower()
        edge = next((e for e in edges if e.blocker_id == wanted), None)
        if edge is None:
            raise NotFound("This task does not wait for that task.",
                           {"task_id": waiter.id, "blocker_id": blocker_id})
        blocker = task_store.get_tasks([wanted]).get(wanted)
        if blocker is None:
            raise Retry()  # its delete is removing the edge right now
        change = Change(waiter.project_id, author, [waiter, blocker], subject=waiter.id)
        before = stored_state(waiter)
        deps.set_blockers(waiter, [e for e in edges if e.blocker_id != wanted])
        deps.set_dependents(blocker, [i for i in deps.dependents(blocker) if i != waiter.id])
        touch_if_changed(waiter, before, change.now)
        flips = _count_blocker(change, waiter, blocker, -1)
        change.workspace.touch(blocker)
        change.workspace.record(waiter, "dependency_removed", {"blocker_id": wanted})
        _note(change, waiter, author, f"No longer waits for “{blocker.name}” ({blocker.id}).")
        change.propagate(flips)
        change.commit()
        return Result(204, None)

    return retrying(attempt)


def list_dependencies(task_id: str) -> Result:
    """The task's blockers and the tasks that wait for it, oldest edge first."""
    task, _project = task_store.get_live_task(require_uuid(task_id, "Task"))
    blocker_ids, dependent_ids = deps.blocker_ids(task), deps.dependents(task)
    found = task_store.get_tasks(blocker_ids + dependent_ids)
    return Result(200, {"blocked_by": [view(found[i]) for i in blocker_ids if i in found],
                        "blocking": [view(found[i]) for i in dependent_ids if i in found]})


# -- propagate jobs -----------------------------------------------------------------------
def run_propagate_step(lease: Lease) -> bool:
    """Recompute `waiting_ancestors` below each root, page by page in path order (absolute
    values: a page written twice, or after another propagation, stays right)."""
    roots: list[str] = lease.params["roots"]
    cursor = lease.cursor
    start = int(cursor.get("root", 0))
    for index in range(start, len(roots)):
        after = cursor.get("after") if index == start else None
        root = task_store.get_task(roots[index])
        if root is not None and task_store.get_project(root.project_id) is not None:
            if not _propagate_below(lease, index, root, after):
                return False
    tx = Transaction()
    lease.finish(tx, now_iso())
    task_store.commit(tx)
    return True


def _propagate_below(lease: Lease, index: int, root: TaskItem, after: str | None) -> bool:
    inherited: dict[str, int] = {root.id: deps.inherited_by_children(root)}
    conflicts = 0
    while True:
        page = dep_store.subtree_page(root.project_id, root.path, after, PAGE)
        if not page:
            return True
        missing = {t.parent_task_id for t in page} - set(inherited) - {t.id for t in page}
        for parent in task_store.get_tasks(missing).values():
            inherited[parent.id] = deps.inherited_by_children(parent)
        change = Change(root.project_id, SYSTEM, page, propagate_in_write=0)
        for task in page:
            value = inherited.get(task.parent_task_id, 0)
            if int(task.waiting_ancestors or 0) != value:
                task.waiting_ancestors = value
                change.workspace.touch(task)
            inherited[task.id] = deps.inherited_by_children(task)
        lease.checkpoint(change.tx, change.now, done=len(page),
                         cursor={"root": index, "after": page[-1].path})
        try:
            change.commit()
        except Retry:
            conflicts += 1
            if conflicts > 12:
                raise ConcurrentModification()
            continue
        after = page[-1].path
        if lease.out_of_time():
            return False
