"""Lock policy (SPEC §1, Locks and Atomic operations)."""
from __future__ import annotations

from dataclasses import dataclass

# purpose -> (readiness required, statuses allowed); None: no precondition
PRECONDITIONS: dict[str, tuple[frozenset[str], frozenset[str]] | None] = {
    "sizing": (frozenset({"needs_sizing"}), frozenset({"todo"})),
    "breakdown": (frozenset({"needs_breakdown"}), frozenset({"todo", "doing"})),
    "refinement": None,
    "implementation": (frozenset({"ready"}), frozenset({"todo", "doing"})),
}

OPERATION_PURPOSES: dict[str, frozenset[str]] = {
    "size": frozenset({"sizing", "refinement"}),
    "breakdown": frozenset({"breakdown"}),
    "refine": frozenset({"refinement"}),
    "complete": frozenset({"implementation"}),
}


@dataclass(frozen=True)
class LockView:
    caller: str
    purpose: str
    expires_ms: int


def is_live(expires_ms: int | None, now_ms: int) -> bool:
    """An expired lock is no lock, the instant it expires."""
    return expires_ms is not None and now_ms < expires_ms


def precondition_met(purpose: str, readiness: str, status: str) -> bool:
    rule = PRECONDITIONS[purpose]
    if rule is None:
        return True
    readiness_required, statuses = rule
    return readiness in readiness_required and status in statuses


def acquire_verdict(lock: LockView | None, now_ms: int, caller: str, purpose: str,
                    readiness: str, status: str) -> str:
    """`heartbeat`, `conflict`, `precondition` or `acquire`: a live lock is checked first."""
    if lock is not None and is_live(lock.expires_ms, now_ms):
        if lock.caller == caller and lock.purpose == purpose:
            return "heartbeat"
        return "conflict"
    if not precondition_met(purpose, readiness, status):
        return "precondition"
    return "acquire"


def operation_verdict(lock: LockView | None, now_ms: int, caller: str, operation: str) -> str:
    """`ok`, `required` (no live lock) or `conflict` (someone else's, or another purpose)."""
    if lock is None or not is_live(lock.expires_ms, now_ms):
        return "required"
    if lock.caller != caller or lock.purpose not in OPERATION_PURPOSES[operation]:
        return "conflict"
    return "ok"
