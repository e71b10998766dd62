"""What one task contributes to its parent's stored aggregates and to its project's counters.

Aggregates are kept by deltas: when a task changes, its parent's aggregates move by
(new contribution - old contribution), and so on up the ancestor chain.
"""
from __future__ import annotations

from typing import Protocol

from chalicelib.domain.readiness import Aggregated, effective_points, readiness
from chalicelib.domain.status import OPEN

CHILD_AGGREGATES = (
    "children_count", "counted_children", "sized_children", "rolled_sum",
    "open_children", "done_children", "open_descendants", "completed_sum", "descendants",
)


class TaskLike(Aggregated, Protocol):
    status: str
    depth: int
    open_descendants: int
    completed_sum: int
    descendants: int


Vector = dict[str, int]
ZERO: Vector = {}


def completed_points(task: TaskLike) -> int:
    """Points of `done` leaves in the subtree (a leaf has no counted children)."""
    if task.counted_children > 0:
        return int(task.completed_sum)
    return int(task.points or 0) if task.status == "done" else 0


def contribution_to_parent(task: TaskLike) -> Vector:
    counted = task.status != "wont_do"
    effective = effective_points(task) if counted else None
    is_open = task.status in OPEN
    return {
        "children_count": 1,
        "counted_children": int(counted),
        "sized_children": int(effective is not None),
        "rolled_sum": effective or 0,
        "open_children": int(is_open),
        "done_children": int(task.status == "done"),
        "open_descendants": int(is_open) + int(task.open_descendants),
        "completed_sum": completed_points(task) if counted else 0,
        "descendants": 1 + int(task.descendants or 0),
    }


def contribution_to_project(task: TaskLike) -> Vector:
    """The project counters this task accounts for (SPEC §2, ProjectDetail)."""
    vector = {"task_count": 1, f"status_{task.status}": 1}
    if task.status in OPEN:
        vector[f"readiness_{readiness(task)}"] = 1
    if task.depth == 0 and task.status != "wont_do":
        vector["points_total"] = effective_points(task) or 0
        vector["points_completed"] = completed_points(task)
    return vector


def difference(new: Vector, old: Vector) -> Vector:
    keys = set(new) | set(old)
    delta = {key: new.get(key, 0) - old.get(key, 0) for key in keys}
    return {key: value for key, value in delta.items() if value}
