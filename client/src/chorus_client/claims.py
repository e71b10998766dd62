"""Claiming work from a queue: seeing a task is not a claim, the lock is, and 409 means try the next."""

from __future__ import annotations

from chorus_client.api import ChorusClient
from chorus_client.errors import AllClaimsLostError, InvalidStateError, LockConflictError, QueueEmptyError
from chorus_client.resources import Claim, Task
from chorus_client.vocabulary import Operation, TaskType

DEFAULT_ATTEMPTS = 5


def claim_task(client: ChorusClient, task_id: str, purpose: Operation) -> Claim:
    """Lock one task for `purpose` and read it back as it now is (an implementation lock moves it to doing)."""
    lock = client.acquire_lock(task_id, purpose)
    return Claim(task=client.get_task(task_id), lock=lock)


def claim_next(
    client: ChorusClient,
    operation: Operation,
    *,
    project_id: str | None = None,
    task_type: TaskType | None = None,
    min_points: int | None = None,
    max_points: int | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
) -> Claim:
    """Lock the first task of the queue this caller wins, trying at most `attempts` candidates.

    A candidate is skipped when another agent locked it first (409) or changed it so that it no longer
    fits the queue (422); any other error stops the walk, since the next candidate would meet it too.
    """
    candidates = client.available(
        operation,
        project_id=project_id,
        task_type=task_type,
        min_points=min_points,
        max_points=max_points,
        limit=attempts,
    ).items
    if not candidates:
        raise QueueEmptyError("QUEUE_EMPTY", f"No task is waiting for {operation}.", details={"operation": operation})
    lost: list[dict[str, object]] = []
    for candidate in candidates:
        try:
            return claim_task(client, candidate.id, operation)
        except (LockConflictError, InvalidStateError) as error:
            lost.append(_lost_to(candidate, error))
    raise AllClaimsLostError(
        "ALL_CLAIMS_LOST",
        f"Another agent won each of the {len(lost)} task(s) tried for {operation}.",
        details={"operation": operation, "tried": lost},
    )


def _lost_to(task: Task, error: LockConflictError | InvalidStateError) -> dict[str, object]:
    return {"task_id": task.id, "code": error.code, "details": error.details}
