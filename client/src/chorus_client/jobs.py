"""Following background jobs (SPEC section 13) to the end: an import through an upload, and a cancel or
delete that reaches more than 2 000 tasks, answer 202 with a Job instead of their result."""

from __future__ import annotations

import time
from collections.abc import Callable

from chorus_client.api import ChorusClient
from chorus_client.errors import ChorusError, JobTimeoutError, error_from_envelope
from chorus_client.resources import Job

DEFAULT_INTERVAL_SECONDS = 1.0


def wait_for_job(
    client: ChorusClient,
    job: Job | str,
    *,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    timeout_seconds: float | None = None,
    on_update: Callable[[Job], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Job:
    """Poll the job until it has finished (succeeded or failed) and return it as it ended.

    `on_update` sees the job after every read, the first included. Past `timeout_seconds` this raises
    `JobTimeoutError`; the job itself goes on in the background either way.
    """
    current = client.get_job(job) if isinstance(job, str) else job
    deadline = None if timeout_seconds is None else clock() + timeout_seconds
    if on_update is not None:
        on_update(current)
    while not current.finished:
        if deadline is not None and clock() >= deadline:
            raise JobTimeoutError(
                "JOB_TIMEOUT",
                f"Job {current.id} ({current.kind}) is still running after {timeout_seconds:g}s"
                f" ({current.progress.done}/{current.progress.total} tasks).",
                details={"job_id": current.id, "progress": current.progress.to_json()},
            )
        sleep(interval_seconds)
        current = client.get_job(current.id)
        if on_update is not None:
            on_update(current)
    return current


def job_failure(job: Job) -> ChorusError:
    """A failed job's error as the typed exception its code maps to (an import that fails validation
    fails with the 422 code the same document gets inline, so it is typed and exits the same way)."""
    error = job.error
    code = error.code if error else "JOB_FAILED"
    message = error.message if error else "The job failed without an error."
    details = {**(error.details if error else {})}
    details.setdefault("job_id", job.id)
    envelope = {"error": {"code": code, "message": f"job {job.id} ({job.kind}) failed: {message}", "details": details}}
    return error_from_envelope(None, envelope, None)


def raise_for_failure(job: Job) -> Job:
    """The job when it succeeded; its typed error when it failed."""
    if job.status == "failed":
        raise job_failure(job)
    return job
