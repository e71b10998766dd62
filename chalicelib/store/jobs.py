"""Job items (SPEC §13): creation, the lease that keeps one worker at a time, checkpoints.

A worker holds a job while `lease_owner` is its own id and `lease_until_ms` is in the future;
every write a step makes carries the condition "I still hold the lease", so a worker that
lost it (it stalled past the lease) can write nothing more. Releasing the lease with work
left is what schedules the next step: the jobs table's stream delivers that write.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from pynamodb.exceptions import UpdateError

from chalicelib.store.db import Transaction, connection
from chalicelib.store.tables import JobItem

RUNNING = "running"
KEEP_FINISHED_SECONDS = 7 * 24 * 3600


def new_job(job_id: str, kind: str, owner: str, project_id: str | None, params: dict,
            total: int, now: str) -> JobItem:
    return JobItem(job_id, kind=kind, status=RUNNING, owner=owner, project_id=project_id,
                   created_at=now, updated_at=now, done=0, total=total,
                   params=json.dumps(params), state_key=RUNNING)


def add_job(tx: Transaction, job: JobItem) -> None:
    tx.put(job, f"job:{job.id}", condition=JobItem.id.does_not_exist())


def get_job(job_id: str) -> JobItem | None:
    connection()
    try:
        return JobItem.get(job_id, consistent_read=True)
    except JobItem.DoesNotExist:
        return None


def _holding(lease: str):
    return (JobItem.lease_owner == lease) & (JobItem.status == RUNNING)


def take_lease(job_id: str, lease: str, now_ms: int, seconds: int) -> JobItem | None:
    """Hold the job (a running one that nobody holds, or whose holder's lease ran out)."""
    connection()
    job = JobItem(job_id)
    try:
        job.update(
            actions=[JobItem.lease_owner.set(lease),
                     JobItem.lease_until_ms.set(now_ms + seconds * 1000)],
            condition=(JobItem.status == RUNNING) & (
                JobItem.lease_owner.does_not_exist() | (JobItem.lease_until_ms < now_ms)
                | (JobItem.lease_owner == lease)),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return get_job(job_id)


def checkpoint(tx: Transaction, job_id: str, lease: str, now: str, now_ms: int, seconds: int,
               done: int = 0, cursor: dict | None = None, total: int | None = None) -> None:
    """Progress (added), cursor and a renewed lease, in the transaction of the step's work."""
    actions = [JobItem.updated_at.set(now), JobItem.lease_until_ms.set(now_ms + seconds * 1000),
               JobItem.failures.set(0)]  # progress: the failures counted are consecutive ones
    if done:
        actions.append(JobItem.done.add(done))
    if cursor is not None:
        actions.append(JobItem.cursor.set(json.dumps(cursor)))
    if total is not None:
        actions.append(JobItem.total.set(total))
    tx.update(JobItem(job_id), actions, f"job:{job_id}", condition=_holding(lease))


def finish(tx: Transaction, job_id: str, lease: str, now: str, now_s: int, status: str,
           result: dict | None = None, error: dict | None = None, done: int = 0,
           total: int | None = None) -> None:
    """The job's last write (in the transaction of its last step): it never changes again."""
    actions = [JobItem.status.set(status), JobItem.updated_at.set(now),
               JobItem.state_key.remove(), JobItem.lease_owner.remove(),
               JobItem.lease_until_ms.remove(),
               JobItem.expires_at.set(now_s + KEEP_FINISHED_SECONDS)]
    if result is not None:
        actions.append(JobItem.result.set(json.dumps(result)))
    if error is not None:
        actions.append(JobItem.error.set(json.dumps(error)))
    if done:
        actions.append(JobItem.done.add(done))
    if total is not None:
        actions.append(JobItem.total.set(total))
    tx.update(JobItem(job_id), actions, f"job:{job_id}", condition=_holding(lease))


def release(job_id: str, lease: str, now: str, failed: bool = False) -> bool:
    """Let go with work left: the stream record of this write schedules the next step."""
    connection()
    actions = [JobItem.lease_owner.remove(), JobItem.lease_until_ms.remove(),
               JobItem.updated_at.set(now)]
    if failed:
        actions.append(JobItem.failures.add(1))
    try:
        JobItem(job_id).update(actions=actions, condition=_holding(lease))
        return True
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def nudge(job_id: str, now: str, now_ms: int) -> bool:
    """Wake a stalled job (its holder is gone): drop the lapsed lease, so the write's stream
    record starts a worker."""
    connection()
    try:
        JobItem(job_id).update(
            actions=[JobItem.nudges.add(1), JobItem.lease_owner.remove(),
                     JobItem.lease_until_ms.remove(), JobItem.updated_at.set(now)],
            condition=(JobItem.status == RUNNING) & (
                JobItem.lease_owner.does_not_exist() | (JobItem.lease_until_ms < now_ms)))
        return True
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def iter_running() -> Iterator[JobItem]:
    """Running jobs, least recently updated first."""
    connection()
    yield from JobItem.by_state.query(RUNNING)


def decoded(raw: str | None) -> Any:
    return json.loads(raw) if raw else None
