"""The status cascades, rollups, dependency effects and events of one write, worked out in
memory (SPEC §1, §12, §14).

A Workspace holds the tasks one write touches: the targets, every ancestor (and, for
cascades, the descendants; for dependency changes, the tasks on the other side of an edge).
Each change updates the parents' stored aggregates by deltas and runs reopen-upward and
complete-upward; every change is also journalled as the SPEC's events. `finish()` refreshes
every derived attribute and returns the project counters' deltas; the store writes tasks,
counters and events in one transaction. A workspace can outlive one transaction: after a
commit, `rebase()` makes the written state the new starting point, so a cascade that needs
many transactions keeps one workspace and reads each task once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from chalicelib.domain import dependencies as deps
from chalicelib.domain import queues
from chalicelib.domain.events import SYSTEM, Event
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
    "context_captured_at", "content_changed_at", "blocker_edges",
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


def has_live_lock(task: Any, now_ms: int) -> bool:
    return task.lock_expires_ms is not None and now_ms < int(task.lock_expires_ms)


def refresh_derived(task: Any) -> None:
    """Stored copies of computed values that conditions and indexes need."""
    task.readiness = readiness(task)
    task.queue_op = queues.operation_queue(task.status, task.readiness)
    task.queue_part = queues.task_partition(task)
    keys = queues.sort_keys(task) if task.queue_part else {}
    for attribute in queues.SORT_ATTRIBUTES.values():
        setattr(task, attribute, keys.get(attribute))
    task.dep_path = task.path if task.blocker_edges else None


def milliseconds(iso: str) -> int:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


class Workspace:
    def __init__(self, tasks: Iterable[Any], now: str, subject: str | None = None):
        self.now = now
        self.now_ms = milliseconds(now)
        self.subject = subject  # the task in the request's path: its moves have cause `request`
        self.tasks: dict[str, Any] = {}
        self.children: dict[str, set[str]] = {}
        self.hold_complete_upward: set[str] = set()
        self._applied: dict[str, Vector] = {}
        self._project_before: dict[str, Vector] = {}
        self._reset_journal()
        for task in tasks:
            self.include(task)

    def advance(self, now: str) -> None:
        """A later round of a long write happens at a later time."""
        self.now = now
        self.now_ms = milliseconds(now)

    def discard(self) -> None:
        """Forget the uncommitted changes' journal (their tasks are read again)."""
        self._reset_journal()

    def _reset_journal(self) -> None:
        self.touched: set[str] = set()
        self.created: set[str] = set()
        self.deleted: set[str] = set()
        self.cancelled: set[str] = set()
        self.journal: list[Event] = []
        self._status_events: dict[str, Event] = {}
        self._status_before: dict[str, str] = {}

    def include(self, task: Any) -> None:
        """Load an existing task into the workspace (not yet touched)."""
        if task.id in self.tasks:
            return
        self._load(task)

    def replace(self, task: Any) -> None:
        """A fresh read of a task already here (after a write conflict): it becomes the
        starting point for that task."""
        self._load(task)

    def _load(self, task: Any) -> None:
        self.tasks[task.id] = task
        self._applied[task.id] = contribution_to_parent(task)
        self._project_before[task.id] = contribution_to_project(task)
        if task.parent_task_id is not None:
            self.children.setdefault(task.parent_task_id, set()).add(task.id)

    def forget(self, task_id: str) -> None:
        """Drop a task that no longer exists (deleted and committed)."""
        task = self.tasks.pop(task_id, None)
        if task is not None and task.parent_task_id is not None:
            self.children.get(task.parent_task_id, set()).discard(task_id)

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

    def known_children(self, task_id: str) -> int:
        return len(self.children.get(task_id, ()))

    # -- changes ------------------------------------------------------------------------
    def record(self, task: Any, kind: str, details: dict | None = None,
               actor: str | None = None) -> None:
        self.touched.add(task.id)
        self.journal.append(Event(task.id, kind, dict(details or {}), actor))

    def add(self, task: Any) -> None:
        self.tasks[task.id] = task
        self._applied[task.id] = ZERO
        self._project_before[task.id] = ZERO
        if task.parent_task_id is not None:
            self.children.setdefault(task.parent_task_id, set()).add(task.id)
        self.created.add(task.id)
        self.record(task, "task_created", {"parent_task_id": task.parent_task_id})
        if task.status in OPEN:
            self._reopen_ancestors(task)
        self._propagate(task, closed_now=False)

    def touch(self, task: Any) -> None:
        """A field that no rollup depends on changed (waiting, edges, a lock record)."""
        self.touched.add(task.id)

    def add_tree(self, tasks: list[Any]) -> None:
        """New whole subtrees at once (an import): their aggregates are summed bottom-up in
        one pass, not carried up the chain task by task. Records no events."""
        for task in tasks:
            self.tasks[task.id] = task
            self._applied[task.id] = ZERO
            self._project_before[task.id] = ZERO
            if task.parent_task_id is not None:
                self.children.setdefault(task.parent_task_id, set()).add(task.id)
            self.created.add(task.id)
            self.touched.add(task.id)
        for task in sorted(tasks, key=lambda t: -int(t.depth)):
            if task.parent_task_id is None:
                continue
            contribution = contribution_to_parent(task)
            parent = self.tasks[task.parent_task_id]
            for field, value in contribution.items():
                setattr(parent, field, int(getattr(parent, field) or 0) + value)
            self._applied[task.id] = contribution

    def changed(self, task: Any) -> None:
        """Stored fields of `task` changed (points, flags...): rollups follow."""
        self.touched.add(task.id)
        self._propagate(task, closed_now=False)

    def set_status(self, task: Any, status: str, cause: str = "request") -> None:
        previous = task.status
        if previous == status:
            return
        self._move(task, status, cause)
        if status == "wont_do":
            self._drop_lock(task)
            self.cancelled.add(task.id)
        if status in OPEN and previous not in OPEN:
            self._reopen_ancestors(task)
        self._propagate(task, closed_now=status in CLOSED)

    def _drop_lock(self, task: Any) -> None:
        """A cancelled task loses its lock: a live one is released, an expired record is
        removed as expired."""
        if task.lock_caller is None:
            return
        if has_live_lock(task, self.now_ms):
            self.record(task, "lock_released", {"lock_purpose": task.lock_purpose})
        else:
            self.record_expiry(task)
        clear_lock(task)

    def record_expiry(self, task: Any) -> None:
        """An expired lock record is removed or replaced: `lock_expired`, by the system."""
        self.record(task, "lock_expired", {"lock_purpose": task.lock_purpose}, SYSTEM)
        self.journal[-1].holder = task.lock_caller

    def delete(self, task: Any) -> None:
        self.deleted.add(task.id)
        self.touched.add(task.id)
        self.journal.append(Event(task.id, "task_deleted"))
        self._propagate(task, closed_now=True)

    # -- cascades -----------------------------------------------------------------------
    def _reopen_ancestors(self, task: Any) -> None:
        reopened = []
        for ancestor in self.ancestors(task):
            if ancestor.status == "done":
                self._move(ancestor, "todo", "reopen_upward")
                reopened.append(ancestor)
        for ancestor in reopened:
            self._propagate(ancestor, closed_now=False)

    def _move(self, task: Any, status: str, cause: str) -> None:
        """Set the status and journal it: one `status_changed` per task and write, from the
        first status to the last (the cause of the last move)."""
        if task.id not in self._status_before:
            self._status_before[task.id] = task.status
            event = Event(task.id, "status_changed")
            self._status_events[task.id] = event
            self.journal.append(event)
        self._status_events[task.id].details["cause"] = (
            "request" if task.id == self.subject else cause)
        task.status = status
        task.updated_at = self.now
        self.touched.add(task.id)

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
                setattr(parent, field, int(getattr(parent, field) or 0) + change)
            self.touched.add(parent.id)
            self._propagate(parent, closed_now=False)
        if (closed_now and parent.status in OPEN and parent.open_children == 0
                and parent.done_children > 0 and parent.id not in self.hold_complete_upward):
            self.set_status(parent, "done", "complete_upward")

    # -- dependencies (SPEC §12) ----------------------------------------------------------
    def openness_changes(self) -> dict[str, int]:
        """Tasks that stopped (-1) or started (+1) holding their dependents back."""
        changes = {}
        for task_id, before in self._status_before.items():
            if task_id in self.created:
                continue
            now_open = task_id not in self.deleted and self.tasks[task_id].status in OPEN
            was_open = before in OPEN
            if now_open != was_open:
                changes[task_id] = 1 if now_open else -1
        for task_id in self.deleted - self.created:
            if task_id not in self._status_before and self.tasks[task_id].status in OPEN:
                changes[task_id] = -1
        return changes

    def edge_neighbours(self) -> set[str]:
        """Ids on the other side of an edge that this write's changes reach: dependents of
        tasks whose openness changed or that are deleted, blockers of deleted tasks."""
        wanted: set[str] = set()
        for task_id in self.openness_changes():
            wanted.update(deps.dependents(self.tasks[task_id]))
        for task_id in self.deleted:
            task = self.tasks[task_id]
            wanted.update(deps.dependents(task))
            wanted.update(deps.blocker_ids(task))
        return wanted - self.deleted

    def settle_edges(self) -> list[Any]:
        """Apply this write's effects across edges (the neighbours must be loaded): deleted
        tasks leave every edge (a waiting task records `dependency_removed`), dependents'
        open-blocker counts follow their blockers. Returns the tasks whose own waiting
        changed: their subtrees need `refresh_waiting`."""
        before = {}

        def note(task: Any) -> None:
            before.setdefault(task.id, deps.waits_itself(task))

        for task_id, delta in self.openness_changes().items():
            for waiter_id in deps.dependents(self.tasks[task_id]):
                if waiter_id in self.deleted:
                    continue
                waiter = self.tasks[waiter_id]
                note(waiter)
                waiter.open_blockers = int(waiter.open_blockers or 0) + delta
                self.touched.add(waiter_id)
        for task_id in sorted(self.deleted):
            task = self.tasks[task_id]
            self._cut_edges(task, [i for i in deps.dependents(task) if i not in self.deleted],
                            [i for i in deps.blocker_ids(task) if i not in self.deleted])
        return [self.tasks[i] for i, was in before.items()
                if deps.waits_itself(self.tasks[i]) != was]

    def _cut_edges(self, task: Any, waiter_ids: list[str], blocker_ids: list[str]) -> None:
        """The neighbours' side of removing a task's edges: waiters drop it from their
        blockers (and record `dependency_removed`), blockers from their dependents."""
        for waiter_id in waiter_ids:
            waiter = self.tasks[waiter_id]
            deps.set_blockers(waiter, [e for e in deps.blockers(waiter)
                                       if e.blocker_id != task.id])
            waiter.updated_at = self.now
            self.record(waiter, "dependency_removed", {"blocker_id": task.id})
        for blocker_id in blocker_ids:
            blocker = self.tasks[blocker_id]
            deps.set_dependents(blocker, [i for i in deps.dependents(blocker) if i != task.id])
            self.touched.add(blocker_id)

    def detach(self, task: Any, waiter_ids: list[str], blocker_ids: list[str]) -> list[Any]:
        """Remove some of a task's edges ahead of its delete, with the changes and events
        its delete would make (neighbours must be loaded). Returns the tasks whose own
        waiting changed."""
        flips_of = [self.tasks[i] for i in waiter_ids] + [task]
        before = [deps.waits_itself(t) for t in flips_of]
        self._cut_edges(task, waiter_ids, blocker_ids)
        if deps.is_open(task):
            for waiter_id in waiter_ids:
                waiter = self.tasks[waiter_id]
                waiter.open_blockers = int(waiter.open_blockers or 0) - 1
        task.open_blockers = int(task.open_blockers or 0) - sum(
            1 for i in blocker_ids if deps.is_open(self.tasks[i]))
        deps.set_dependents(task, [i for i in deps.dependents(task) if i not in waiter_ids])
        deps.set_blockers(task, [e for e in deps.blockers(task)
                                 if e.blocker_id not in blocker_ids])
        self.touched.add(task.id)
        return [t for t, was in zip(flips_of, before) if deps.waits_itself(t) != was]

    def refresh_waiting(self, root: Any) -> None:
        """Every loaded task below `root` gets its inherited waiting recomputed."""
        below = [self.tasks[i] for i in self.subtree_ids(root.id)]
        for task in deps.refresh_waiting(root, below):
            self.touched.add(task.id)

    def subtree_ids(self, task_id: str) -> list[str]:
        found, stack = [], [task_id]
        while stack:
            for child in self.children.get(stack.pop(), ()):
                found.append(child)
                stack.append(child)
        return found

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

    def events(self) -> list[Event]:
        """The journal in recording order, names filled in; a status that came back to where
        it started records nothing."""
        found = []
        for event in self.journal:
            if event.kind == "status_changed":
                before = self._status_before[event.task_id]
                after = self.tasks[event.task_id].status
                if before == after or event.task_id in self.deleted:
                    continue
                event.details = {"from": before, "to": after, "cause": event.details["cause"]}
            if event.task_id in self.deleted and event.kind != "task_deleted":
                continue  # a deleted task records only its deletion
            event.task_name = self.tasks[event.task_id].name
            found.append(event)
        return found

    def written(self) -> list[Any]:
        """Touched tasks that still exist, deepest first."""
        alive = [self.tasks[i] for i in self.touched if i not in self.deleted]
        return sorted(alive, key=lambda task: -task.depth)

    def rebase(self) -> None:
        """The write committed: its result is the new starting point."""
        for task_id in self.touched:
            if task_id in self.deleted:
                self.forget(task_id)
                self._applied.pop(task_id, None)
                self._project_before.pop(task_id, None)
            else:
                self._project_before[task_id] = contribution_to_project(self.tasks[task_id])
        self._reset_journal()
