"""Dense sibling positions (SPEC §3): inserts, reorders and the gap a delete leaves.

Positions are 0..n-1 without gaps or duplicates, so moving a task across k siblings
rewrites k positions. A move wider than one transaction parks the task at the end, shifts
the others block by block toward free positions (a moment's gap, never a duplicate) and then
places it; an interrupted move leaves a valid order that the next move or delete repairs.
"""
from __future__ import annotations

from typing import Any

from chalicelib.clock import now_iso
from chalicelib.domain.tree import Workspace
from chalicelib.services.changes import Change
from chalicelib.store import tasks as task_store
from chalicelib.store.db import MAX_TRANSACTION_ITEMS, Retry
from chalicelib.store.tables import ProjectItem, TaskItem

MAX_DEPTH = 15
# items one round of positions may touch, leaving room for the project, events and counters
ROUND_BUDGET = MAX_TRANSACTION_ITEMS - 8
# siblings a create may shift in its own transaction: besides them it writes the new task,
# its ancestors and their events items (reopened), its creation batch, the project,
# day and actor counters and the idempotency record
INSERT_SHIFT_LIMIT = MAX_TRANSACTION_ITEMS - 2 * MAX_DEPTH - 8


def siblings_from(key: str, position: int, expected_total: int) -> list[Any]:
    """Siblings at `position` and after; the parent's count proves the index read complete."""
    if position >= expected_total:
        return []
    siblings = list(task_store.iter_children(key, position))
    if len(siblings) != expected_total - position:
        raise Retry()
    return siblings


def shift(workspace: Workspace, tasks: list[Any], by: int) -> None:
    """Position moves are not changes of the task (updated_at stays, no event)."""
    for task in tasks:
        workspace.include(task)
        task.position = int(task.position) + by
        workspace.changed(task)


def insert_position(wanted: int | None, count: int) -> int:
    """Where a new task goes in its own transaction: an insert that would shift more
    siblings than one transaction holds is appended, then moved into place in rounds."""
    position = count if wanted is None else min(wanted, count)
    return position if count - position <= INSERT_SHIFT_LIMIT else count


def current_order(key: str, total: int) -> list[Any]:
    """Siblings in position order; the parent's count proves the index read complete. An
    interrupted wide move leaves a gap, never a duplicate, so the order is still known."""
    siblings = sorted(task_store.iter_children(key),
                      key=lambda s: (int(s.position), s.created_at))
    if len(siblings) != total:
        raise Retry()
    return siblings


def write_order(order: list[Any], project_id: str, moved: Any | None, parent: Any | None,
                total: int, actor: str) -> None:
    """Number `order` 0..n-1 (the moved task records `task_updated` once, when placed)."""
    now = now_iso()
    changes = [(index, s) for index, s in enumerate(order) if int(s.position) != index]
    if len(changes) <= ROUND_BUDGET:
        _commit_positions(changes, project_id, moved, parent, total, now, actor)
        return
    others = [(index, s) for index, s in changes if s is not moved]
    if moved is not None and any(s is moved for _, s in changes):
        target = order.index(moved)
        _commit_positions([(total, moved)], project_id, None, parent, total, now, actor)
        changes_after = [(target, moved)]
    else:
        changes_after = []
    # rising shifts from the top down, falling ones from the bottom up: each target is free
    others.sort(key=lambda change: -change[0] if change[0] > int(change[1].position)
                else change[0])
    for start in range(0, len(others), ROUND_BUDGET):
        _commit_positions(others[start:start + ROUND_BUDGET], project_id, None, parent,
                          total, now, actor)
    if changes_after:
        _commit_positions(changes_after, project_id, moved, parent, total, now, actor)


def _commit_positions(changes: list[tuple[int, Any]], project_id: str, announced: Any | None,
                      parent: Any | None, total: int, now: str, actor: str) -> None:
    """One transaction of position changes, guarded against a sibling arriving or leaving."""
    change = Change(project_id, actor, now=now)
    workspace = change.workspace
    for index, sibling in changes:
        shift(workspace, [sibling], index - int(sibling.position))
        if sibling is announced:
            sibling.updated_at = now  # its own move is a change; its siblings' are not
            workspace.record(sibling, "task_updated", {"fields": ["position"]})
    if parent is not None:
        change.conditions[parent.id] = TaskItem.version == parent.version
    else:
        change.project_actions = [ProjectItem.top_level_count.set(total)]
        change.project_condition = ProjectItem.top_level_count == total
    change.commit()


def close_gap(key: str, total: int, removed: Any) -> None:
    """Renumber siblings after a delete too wide to shift in its own transaction."""
    if task_store.get_project(removed.project_id) is None:
        return
    parent = task_store.get_tasks([removed.parent_task_id])[removed.parent_task_id] \
        if removed.parent_task_id else None
    write_order(current_order(key, total), removed.project_id, None, parent, total, "system")
