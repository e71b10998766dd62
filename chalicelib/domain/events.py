"""Activity events (SPEC §14): what a write records, and the one-line summary people read."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EVENT_KINDS = (
    "task_created", "task_updated", "task_deleted", "status_changed",
    "sized", "broken_down", "refined", "completed", "flagged", "note",
    "lock_acquired", "lock_released", "lock_forced", "lock_expired",
    "dependency_added", "dependency_removed", "commit_recorded",
)
CAUSES = ("request", "complete_upward", "reopen_upward", "cancel_downward")
OPERATION_KINDS = frozenset({"sized", "broken_down", "refined", "completed"})
SYSTEM = "system"


@dataclass
class Event:
    """One event as the workspace records it; the name is filled in when the write is done
    (an event carries the task's name just after the write)."""
    task_id: str
    kind: str
    details: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None  # None: the request's actor
    task_name: str = ""
    holder: str | None = None  # lock_expired: whose lock it was (counted, not shown)


def summary(kind: str, actor: str, name: str, details: dict[str, Any]) -> str:
    quoted = f"“{name}”"
    if kind == "task_created":
        return f"{actor} created {quoted}"
    if kind == "task_updated":
        return f"{actor} changed {', '.join(details.get('fields', []))} of {quoted}"
    if kind == "task_deleted":
        return f"{actor} deleted {quoted}"
    if kind == "status_changed":
        how = {"complete_upward": " (all subtasks finished)",
               "reopen_upward": " (a subtask reopened)",
               "cancel_downward": " (its parent was cancelled)"}.get(details.get("cause"), "")
        return f"{quoted} went from {details.get('from')} to {details.get('to')}{how}"
    if kind == "sized":
        return f"{actor} sized {quoted}"
    if kind == "broken_down":
        return f"{actor} broke down {quoted}"
    if kind == "refined":
        return f"{actor} refined {quoted}"
    if kind == "completed":
        commits = details.get("commits", 0)
        return f"{actor} completed {quoted}" + (
            f" with {commits} new commit{'s' if commits != 1 else ''}" if commits else "")
    if kind == "flagged":
        return f"{actor} flagged {quoted} for refinement"
    if kind == "note":
        operation = details.get("operation", "note")
        article = "an" if operation[:1] in "aeiou" else "a"
        return f"{actor} logged {article} {operation} entry on {quoted}"
    if kind == "lock_acquired":
        return f"{actor} took the {details.get('lock_purpose')} lock on {quoted}"
    if kind == "lock_released":
        return f"{actor} released the {details.get('lock_purpose')} lock on {quoted}"
    if kind == "lock_forced":
        return (f"{actor} force-released {details.get('previous_holder')}'s "
                f"{details.get('lock_purpose')} lock on {quoted}")
    if kind == "lock_expired":
        return f"The {details.get('lock_purpose')} lock on {quoted} expired"
    if kind == "dependency_added":
        return f"{actor} made {quoted} wait for another task"
    if kind == "dependency_removed":
        return f"{actor} removed a dependency of {quoted}"
    if kind == "commit_recorded":
        return f"{actor} recorded commit {str(details.get('commit_hash', ''))[:12]} on {quoted}"
    return f"{actor}: {kind} on {quoted}"
