"""Which queues a task belongs to, and the sort keys that put every queue in every order.

Each open task sits in exactly one *queue partition* of its project, named by its status and
readiness; every queue of SPEC §3 is the union of a few partitions (QUEUE_PARTITIONS). For
each `sort` value the task stores one string key that sorts in that order with ties in the
default order, so a page of any queue in any order is a merge of short index range reads.
Default order (SPEC §3): priority desc, effective points asc (unsized last), created_at asc,
id asc.
"""
from __future__ import annotations

from typing import Any

from chalicelib.domain.readiness import READINESS_STATES, effective_points

OPERATIONS = ("sizing", "breakdown", "implementation", "refinement")
SORTS = ("-priority", "priority", "points", "-points", "created_at", "-created_at",
         "updated_at", "-updated_at")
DEFAULT_SORT = "-priority"
MAX_PRIORITY = 1000
_UNSIZED = 999_999_999

# sort value -> the task attribute holding its key (one index per attribute)
SORT_ATTRIBUTES = {
    "-priority": "qs_default", "priority": "qs_priority",
    "points": "qs_points", "-points": "qs_points_desc",
    "created_at": "qs_created", "-created_at": "qs_created_desc",
    "updated_at": "qs_updated", "-updated_at": "qs_updated_desc",
}

# queue -> the (status, readiness) partitions it is made of
QUEUE_PARTITIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "backlog": (("todo", "ready"),),
    "in_progress": tuple(("doing", readiness) for readiness in READINESS_STATES),
    "needs_refinement": (("todo", "needs_refinement"), ("doing", "needs_refinement")),
    "sizing": (("todo", "needs_sizing"),),
    "breakdown": (("todo", "needs_breakdown"), ("doing", "needs_breakdown")),
    "implementation": (("todo", "ready"), ("doing", "ready")),
    "refinement": (("todo", "needs_refinement"), ("doing", "needs_refinement")),
}


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


def partition(project_id: str, status: str, readiness: str) -> str:
    return f"{project_id}#{status}#{readiness}"


def task_partition(task: Any) -> str | None:
    """The task's queue partition, or None for a closed task (it is in no queue)."""
    if task.status not in ("todo", "doing"):
        return None
    return partition(task.project_id, task.status, task.readiness)


def queue_partitions(project_id: str, queue: str) -> list[str]:
    return [partition(project_id, status, readiness)
            for status, readiness in QUEUE_PARTITIONS[queue]]


def in_queue(task: Any, queue: str) -> bool:
    return (task.status, task.readiness) in QUEUE_PARTITIONS[queue]


_DESCENDING = str.maketrans("0123456789", "9876543210")


def _descending(text: str) -> str:
    """Digits complemented: fixed-width timestamps then sort newest first."""
    return text.translate(_DESCENDING)


def _points(task: Any, descending: bool) -> str:
    points = effective_points(task)
    if points is None:
        return f"1#{0:09d}"
    return f"0#{(_UNSIZED - points) if descending else points:09d}"


def default_key(task: Any) -> str:
    points = effective_points(task)
    return "{:04d}#{:09d}#{}#{}".format(
        MAX_PRIORITY - int(task.priority),
        _UNSIZED if points is None else points,
        task.created_at,
        task.id,
    )


def sort_keys(task: Any) -> dict[str, str]:
    """Every sort attribute's key for `task` (ties fall back to the default order)."""
    default = default_key(task)
    return {
        "qs_default": default,
        "qs_priority": f"{int(task.priority) + MAX_PRIORITY:04d}#{default}",
        "qs_points": f"{_points(task, False)}#{default}",
        "qs_points_desc": f"{_points(task, True)}#{default}",
        "qs_created": f"{task.created_at}#{default}",
        "qs_created_desc": f"{_descending(task.created_at)}#{default}",
        "qs_updated": f"{task.updated_at}#{default}",
        "qs_updated_desc": f"{_descending(task.updated_at)}#{default}",
    }
