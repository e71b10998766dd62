"""Readiness and the point figures derived from a task's stored aggregates (SPEC §1)."""
from __future__ import annotations

from typing import Protocol

READINESS_STATES = (
    "needs_refinement", "blocked_by_children", "needs_sizing", "needs_breakdown",
    "blocked_by_dependencies", "ready",
)
LARGEST_SINGLE_SESSION_SIZE = 6


class Aggregated(Protocol):
    needs_refinement: bool
    points: int | None
    counted_children: int
    sized_children: int
    rolled_sum: int
    open_blockers: int
    waiting_ancestors: int


def rolled_up_points(task: Aggregated) -> int | None:
    return int(task.rolled_sum) if task.sized_children > 0 else None


def effective_points(task: Aggregated) -> int | None:
    rolled = rolled_up_points(task)
    if rolled is not None:
        return rolled
    return None if task.points is None else int(task.points)


def unsized_children(task: Aggregated) -> int:
    return int(task.counted_children - task.sized_children)


def is_waiting(task: Aggregated) -> bool:
    """SPEC §12: the task or one of its ancestors has a blocker that is still open."""
    return int(task.open_blockers or 0) > 0 or int(task.waiting_ancestors or 0) > 0


def readiness(task: Aggregated) -> str:
    """First match wins; only children that are not `wont_do` count as children."""
    if task.needs_refinement:
        return "needs_refinement"
    if task.counted_children > 0:
        return "blocked_by_children"
    if task.points is None:
        return "needs_sizing"
    if task.points > LARGEST_SINGLE_SESSION_SIZE:
        return "needs_breakdown"
    if is_waiting(task):
        return "blocked_by_dependencies"
    return "ready"
