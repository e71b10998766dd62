"""The SPEC's closed sets of values, in one place for the client, the CLI and the MCP server."""

from typing import Literal

Operation = Literal["sizing", "breakdown", "refinement", "implementation"]
"""A queue of `/tasks/available`, and the lock purpose that claims a task from it."""

LockPurpose = Operation

TaskType = Literal["feature", "bug", "tech_debt"]

Status = Literal["todo", "doing", "done", "wont_do"]

WorkLogOperation = Literal["sizing", "breakdown", "refinement", "implementation", "note"]

QueueSort = Literal[
    "-priority", "priority", "points", "-points", "created_at", "-created_at", "updated_at", "-updated_at"
]

EventKind = Literal[
    "task_created",
    "task_updated",
    "task_deleted",
    "status_changed",
    "sized",
    "broken_down",
    "refined",
    "completed",
    "flagged",
    "note",
    "lock_acquired",
    "lock_released",
    "lock_forced",
    "lock_expired",
    "dependency_added",
    "dependency_removed",
    "commit_recorded",
]
"""What an activity event records (SPEC section 14)."""

JobKind = Literal["import", "cancel", "delete", "propagate"]

JobStatus = Literal["running", "succeeded", "failed"]

DependencyReason = Literal["cross_project", "cycle", "limit"]
"""Why the server refused a dependency (`INVALID_DEPENDENCY`, `details.reason`)."""

OPEN_STATUSES: frozenset[str] = frozenset({"todo", "doing"})
"""A blocker in one of these holds its dependents back; done and wont_do both satisfy the edge."""

DIMENSIONS: tuple[str, ...] = (
    "scope_clarity",
    "decision_points",
    "context_window_demand",
    "verification_complexity",
    "domain_specificity",
)
"""The five sizing dimensions, each scored 0-2."""
