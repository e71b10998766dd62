"""Which queues a task belongs to, and the sort key that encodes the default queue order.

Default order (SPEC §3): priority desc, effective points asc (unsized last), created_at asc,
id asc. The key is a string, so one index range read returns a queue already in that order.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.domain.readiness import effective_points

OPERATIONS = ("sizing", "breakdown", "implementation", "refinement")
SORTS = ("-priority", "priority", "points", "-points", "created_at", "-created_at",
         "updated_at", "-updated_at")
DEFAULT_SORT = "-priority"
MAX_PRIORITY = 1000
_UNSIZED = 999_999_999


def operation_queue(status: str, readiness: str) -> str | None:
    """The /tasks/available queue a task is in (ignoring locks), if any."""
    if status not in ("todo", "doing"):
        return None
    if readiness == "needs_refinement":
        return "refinement"
    if readiness == "needs_sizing":
        return "sizing" if status == "todo" else None
    if readiness == "needs_breakdown":
        return "breakdown"
    if readiness == "ready":
        return "implementation"
    return None


def board_list(status: str, readiness: str) -> str | None:
    """`backlog` (todo and ready) or `in_progress` (doing), if either."""
    if status == "doing":
        return "in_progress"
    if status == "todo" and readiness == "ready":
        return "backlog"
    return None


def sort_key(task: Any) -> str:
    points = effective_points(task)
    return "{:04d}#{:09d}#{}#{}".format(
        MAX_PRIORITY - int(task.priority),
        _UNSIZED if points is None else points,
        task.created_at,
        task.id,
    )


def _points_key(task: dict, descending: bool) -> tuple:
    points = task["effective_points"]
    if points is None:
        return (1, 0)
    return (0, -points if descending else points)


def _default_key(task: dict) -> tuple:
    points = task["effective_points"]
    return (-task["priority"], _UNSIZED if points is None else points, task["created_at"],
            task["id"])


def ordering(sort: str) -> Callable[[dict], Any]:
    """A key function over API task dicts for `sort`; ties fall back to the default order."""
    if sort == "-priority":
        return _default_key
    if sort == "priority":
        return lambda task: (task["priority"], _default_key(task))
    if sort in ("points", "-points"):
        return lambda task: (_points_key(task, sort == "-points"), _default_key(task))
    field = sort.lstrip("-")
    if sort.startswith("-"):
        return lambda task: (_Reversed(task[field]), _default_key(task))
    return lambda task: (task[field], _default_key(task))


class _Reversed:
    """Wraps a value so that sorting ascending puts larger values first."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __lt__(self, other: "_Reversed") -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value
