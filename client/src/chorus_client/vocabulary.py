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

DIMENSIONS: tuple[str, ...] = (
    "scope_clarity",
    "decision_points",
    "context_window_demand",
    "verification_complexity",
    "domain_specificity",
)
"""The five sizing dimensions, each scored 0-2."""
