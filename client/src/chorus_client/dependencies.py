"""What a task waits for (SPEC section 12), in words a person or an agent can act on.

A task is *waiting* when it, or one of its ancestors, has a blocker that is still todo or doing. The
Task resource says so (`waiting`, `open_blockers`, `blocked_by` ids); this module fetches the blockers
themselves, so "blocked_by_dependencies" can be said as "waits for “Schema” (doing)".
"""

from __future__ import annotations

from typing import Any

from chorus_client.api import ChorusClient
from chorus_client.resources import Resource, Task, WaitingOn


class DependencyReport(Resource):
    """A task's own blockers (any status, oldest edge first), the tasks waiting for it (when read),
    and the open blockers that hold it back now: its own, then its ancestors', nearest first."""

    task: Task
    blocked_by: list[Task]
    blocking: list[Task] | None = None
    waiting_on: list[WaitingOn]

    def waiting_for(self) -> list[dict[str, Any]]:
        """The open blockers, compactly: what an agent needs to know about why it must wait."""
        return [
            {
                "blocker_id": item.blocker.id,
                "name": item.blocker.name,
                "status": item.blocker.status,
                "readiness": item.blocker.readiness,
                **(
                    {"through_ancestor_id": item.holder.id, "through_ancestor": item.holder.name}
                    if item.inherited
                    else {}
                ),
            }
            for item in self.waiting_on
        ]


def dependency_report(client: ChorusClient, task: Task, *, with_blocking: bool = False) -> DependencyReport:
    """The report for `task`; reads nothing more than the task when it has no blockers and is not waiting
    (and `with_blocking` is false). Otherwise one read of its dependencies, and, when it may be held back
    by an ancestor, its ancestry plus one read per waiting ancestor."""
    blocked_by: list[Task] = []
    blocking: list[Task] | None = None
    if task.blocked_by or with_blocking:
        dependencies = client.list_dependencies(task.id)
        blocked_by, blocking = dependencies.blocked_by, dependencies.blocking
        if not with_blocking:
            blocking = None
    waiting_on = [WaitingOn(task_id=task.id, holder=task, blocker=blocker) for blocker in blocked_by if blocker.is_open]
    if task.waiting and task.parent_task_id is not None:
        ancestors = client.get_ancestry(task.id)[:-1]  # root first, the task itself last
        for ancestor in reversed(ancestors):  # nearest first
            if ancestor.open_blockers:
                for blocker in client.list_dependencies(ancestor.id).blocked_by:
                    if blocker.is_open:
                        waiting_on.append(WaitingOn(task_id=task.id, holder=ancestor, blocker=blocker))
    return DependencyReport(task=task, blocked_by=blocked_by, blocking=blocking, waiting_on=waiting_on)


def describe_waiting(item: WaitingOn) -> str:
    """One line: what the task waits for, and through which ancestor when it is not its own blocker."""
    line = f"“{item.blocker.name}” ({item.blocker.status}, {item.blocker.id})"
    if item.inherited:
        line += f", through its ancestor “{item.holder.name}” ({item.holder.id})"
    return line
