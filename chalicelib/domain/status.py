"""Status values and the transitions a client may ask for (SPEC §1, Status)."""
from __future__ import annotations

STATUSES = ("todo", "doing", "done", "wont_do")
OPEN = frozenset({"todo", "doing"})
CLOSED = frozenset({"done", "wont_do"})

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "todo": frozenset({"doing", "wont_do"}),
    "doing": frozenset({"done", "todo", "wont_do"}),
    "done": frozenset({"todo", "wont_do"}),
    "wont_do": frozenset({"todo"}),
}


def is_open(status: str) -> bool:
    return status in OPEN


def transition_allowed(current: str, requested: str) -> bool:
    """Whether a client may move a task from `current` to `requested` (same status: a no-op)."""
    return requested == current or requested in ALLOWED_TRANSITIONS[current]
