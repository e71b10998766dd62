"""The status cascades and rollups of one write, worked out in memory (SPEC §1).

A Workspace holds the tasks one write touches: the targets, every ancestor (and for cancels and
deletes the descendants). Each change updates the parents' stored aggregates by deltas and runs
reopen-upward and complete-upward; `finish()` then refreshes every derived attribute and returns
the project counters' deltas. The store writes the result in one transaction.
"""
from __future__ import annotations

from typing import Any, Iterable

from chalicelib.domain import queues
from chalicelib.domain.readiness import readiness
from chalicelib.domain.rollup import (
    ZERO,
    Vector,
    contribution_to_parent,
    contribution_to_project,
    difference,
)
from chalicelib.domain.status import CLOSED, OPEN

LOCK_FIELDS = (
    "lock_caller", "lock_purpose", "lock_acquired_at", "lock_heartbeat_at", "lock_expires_ms",
    "lock_ttl", "lock_scope", "lock_all",
)


# the SPEC's stored Task fields whose change moves `updated_at` (position shifts do not)
STORED_FIELDS = (
    "name", "description", "context", "task_type", "status", "priority", "points",
    "points_breakdown", "sizing_confidence", "needs_refinement", "refinement_notes",
    "context_captured_at", "content_changed_at",
)


def stored_state(task: Any) -> tuple:
    return tuple(getattr(task, field) for field in STORED_FIELDS)


def touch_if_changed(task: Any, before: tuple, now: str) -> bool:
    if stored_state(task) == before:
        return False
    task.updated_at = now
    return True


def clear_lock(task: Any) -> None:
    for field in LOCK_FIELDS:
        setattr(task, field, None)


def refresh_derived(task: Any) -> None:
    """Stored copies of computed values that conditions and indexes need."""
    task.readiness = readiness(task)
    operation = queues.operation_queue(task.status, task.readiness)
    board = queues.board_list(task.status, task.readiness)
    task.queue_op = operation
    task.queue_scope = f"{task.project_id}#{operation}" if operation else None
    task.board_key = f"{task.project_id}#{board}" if board else None
    task.queue_sort = queues.sort_key(task) if (operation or board) else None


class Workspace:
    def __init__(self, tasks: Iterable[Any], now: str):
        self.now = now
        self.tasks: dict[str, Any] = {}
        self.touched: set[str] = set()
        self.created: set[str] = set()
        self.deleted: set[str] = set()
        self.cancelled: set[str] = set()
        self.hold_complete_upward: set[str] = set()
        self._applied: dict[str, Vector] = {}
        self._project_before: dict[str, Vector] = {}
        for task in tasks:
            self.include(task)

    def include(self, task: Any) -> None:
        """Load an existing task into the workspace (not yet touched)."""
        if task.id in self.tasks:
            return
        self.tasks[task.id] = task
        self._applied[task.id] = contribution_to_parent(task)
        self._project_before[task.id] = contribution_to_project(task)

    # -- navigation ---------------------------------------------------------------------
    def parent(self, task: Any) -> Any | None:
        if task.parent_task_id is None:
            return None
        return self.tasks[task.parent_task_id]

    def ancestors(self, task: Any) -> list[Any]:
        """Nearest first."""
        chain, current = [], self.parent(task)
        while current is not None:
            chain.append(current)
            current = self.parent(current)
        return chain

    # -- changes ------------------------------------------------------------------------
    def add(self, task: Any) -> None:
        self.tasks[task.id] = task
        self._applied[task.id] = ZERO
        self._project_before[task.id] = ZERO
        self.created.add(task.id)
        self.touched.add(task.id)
        if task.status in OPEN:
            self._reopen_ancestors(task)
        self._propagate(task, closed_now=False)

    def changed(self, task: Any) -> None:
        """Stored fields of `task` changed (points, flags...): rollups follow."""
        self.touched.add(task.id)
        self._propagate(task, closed_now=False)

    def set_status(self, task: Any, status: str) -> None:
        previous = task.status
        if previous == status:
            return
        task.status = status
        task.updated_at = self.now
        self.touched.add(task.id)
        if status == "wont_do":
            clear_lock(task)
            self.cancelled.add(task.id)
        if status in OPEN and previous not in OPEN:
            self._reopen_ancestors(task)
        self._propagate(task, closed_now=status in CLOSED)

    def delete(self, task: Any) -> None:
        self.deleted.add(task.id)
        self.touched.add(task.id)
        self._propagate(task, closed_now=True)

    # -- cascades -----------------------------------------------------------------------
    def _reopen_ancestors(self, task: Any) -> None:
        reopened = []
        for ancestor in self.ancestors(task):
            if ancestor.status == "done":
                ancestor.status = "todo"
                ancestor.updated_at = self.now
                self.touched.add(ancestor.id)
                reopened.append(ancestor)
        for ancestor in reopened:
            self._propagate(ancestor, closed_now=False)

    def _propagate(self, task: Any, closed_now: bool) -> None:
        if task.parent_task_id is None:
            return
        new = ZERO if task.id in self.deleted else contribution_to_parent(task)
        delta = difference(new, self._applied[task.id])
        if not delta and not closed_now:
            return
        parent = self.tasks[task.parent_task_id]
        self._applied[task.id] = new
        if delta:
            for field, change in delta.items():
                setattr(parent, field, int(getattr(parent, field)) + change)
            self.touched.add(parent.id)
            self._propagate(parent, closed_now=False)
        if (closed_now and parent.status in OPEN and parent.open_children == 0
                and parent.done_children > 0 and parent.id not in self.hold_complete_upward):
            self.set_status(parent, "done")

    # -- result -------------------------------------------------------------------------
    def finish(self) -> Vector:
        """Refresh derived attributes of touched tasks; return the project counters' deltas."""
        total: Vector = {}
        for task_id in self.touched:
            task = self.tasks[task_id]
            if task_id in self.deleted:
                after = ZERO
            else:
                refresh_derived(task)
                after = contribution_to_project(task)
            for field, change in difference(after, self._project_before[task_id]).items():
                total[field] = total.get(field, 0) + change
        return {field: change for field, change in total.items() if change}

    def written(self) -> list[Any]:
        """Touched tasks that still exist, deepest first."""
        alive = [self.tasks[i] for i in self.touched if i not in self.deleted]
        return sorted(alive, key=lambda task: -task.depth)
