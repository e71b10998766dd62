"""Background jobs (SPEC §13): starting them, running their steps, reading them.

A job is an item in the jobs table. Whatever runs a step first takes the job's lease; the
step's writes carry the lease as a condition (so two workers never both write); a step that
runs out of time releases the lease, and that write's stream record starts the next step.
On AWS the stream drives a Lambda (`app.py`, `on_job_records`); `make run` polls DynamoDB
Local's stream in a thread and calls the same function. The scheduled sweep wakes jobs whose
worker vanished (its lease ran out). Kinds: `import`, `cancel`, `delete` (started by
requests too big to finish in one: they answer 202), and `propagate` (dependency waiting
past PROPAGATE_IN_WRITE tasks: run by the request itself when it reaches at most
JOB_THRESHOLD tasks, in the background otherwise).
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from chalicelib.clock import now_iso, now_ms
from chalicelib.errors import ChorusError, NotFound
from chalicelib.services.common import Call, Result, new_id, require_uuid
from chalicelib.store import jobs as job_store
from chalicelib.store.db import LeaseLost, Transaction
from chalicelib.store.tables import JobItem

JOB_THRESHOLD = 2000
LEASE_SECONDS = 120
STEP_SECONDS = 600.0  # one invocation's work; the worker Lambda's timeout is 900 s
STALLED_SECONDS = 30  # the sweep wakes a job nobody holds that long
MAX_FAILURES = 5
log = logging.getLogger("chorus")


@dataclass
class Lease:
    """A worker's hold on a job for one step."""
    job: JobItem
    lease_id: str
    deadline: float

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def params(self) -> dict:
        return job_store.decoded(self.job.params) or {}

    @property
    def cursor(self) -> dict:
        return job_store.decoded(self.job.cursor) or {}

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def checkpoint(self, tx: Transaction, now: str, done: int = 0, cursor: dict | None = None,
                   total: int | None = None) -> None:
        job_store.checkpoint(tx, self.job.id, self.lease_id, now, now_ms(), LEASE_SECONDS,
                             done, cursor, total)

    def finish(self, tx: Transaction, now: str, result: dict | None = None,
               error: dict | None = None, done: int = 0, total: int | None = None) -> None:
        job_store.finish(tx, self.job.id, self.lease_id, now, now_ms() // 1000,
                         "failed" if error else "succeeded", result, error, done, total)


# -- starting -----------------------------------------------------------------------------
def new_job(kind: str, owner: str, project_id: str | None, params: dict, total: int,
            job_id: str | None = None) -> JobItem:
    return job_store.new_job(job_id or new_id(), kind, owner, project_id, params, total,
                             now_iso())


def add_propagate_job(tx: Transaction, project_id: str, roots: list[Any],
                      owner: str) -> JobItem:
    """Recompute waiting below `roots` (SPEC §12). Small enough: the request that starts it
    holds it from the start and runs it before answering."""
    total = sum(int(root.descendants or 0) for root in roots)
    job = new_job("propagate", owner, project_id, {"roots": [root.id for root in roots]},
                  total)
    if total <= JOB_THRESHOLD:
        job.lease_owner = f"request-{uuid.uuid4().hex}"
        job.lease_until_ms = now_ms() + LEASE_SECONDS * 1000
    job_store.add_job(tx, job)
    return job


def after_start(job: JobItem) -> None:
    """Run a job its starting request holds (the others run in the background)."""
    if job.lease_owner:
        run_held(job, job.lease_owner, STEP_SECONDS)


def accepted(job: JobItem) -> Result:
    """The answer of a request that started (or found) a running job."""
    return Result(202, job_view(job), {"Location": f"/jobs/{job.id}"})


# -- running ------------------------------------------------------------------------------
def _runner(kind: str) -> Callable[[Lease], bool]:
    if kind == "propagate":
        from chalicelib.services.dependencies import run_propagate_step as run
    elif kind in ("cancel", "delete"):
        from chalicelib.services.cascades import run_cascade_step as run
    else:
        from chalicelib.services.transfer import run_import_step as run
    return run


def run_job(job_id: str, seconds: float = STEP_SECONDS) -> None:
    """Take the job if nobody holds it and run one step."""
    lease_id = f"worker-{uuid.uuid4().hex}"
    job = job_store.take_lease(job_id, lease_id, now_ms(), LEASE_SECONDS)
    if job is not None:
        run_held(job, lease_id, seconds)


def run_held(job: JobItem, lease_id: str, seconds: float) -> None:
    lease = Lease(job, lease_id, time.monotonic() + seconds)
    try:
        try:
            finished = _runner(job.kind)(lease)
        except ChorusError as error:  # the job's work itself is refused (an invalid import)
            _fail(lease, {"code": error.code, "message": error.message,
                          "details": error.details})
            return
        except LeaseLost:
            raise
        except Exception:
            log.exception(json.dumps({"event": "job_step_failed", "job_id": job.id}))
            if int(job.failures or 0) + 1 >= MAX_FAILURES:
                _fail(lease, {"code": "INTERNAL_ERROR", "message": "The job failed.",
                              "details": {}})
            else:
                job_store.release(job.id, lease_id, now_iso(), failed=True)
            return
        if not finished:
            job_store.release(job.id, lease_id, now_iso())
    except LeaseLost:
        return  # another worker took the job over and goes on


def _fail(lease: Lease, error: dict) -> None:
    from chalicelib.store.tasks import commit

    tx = Transaction()
    lease.finish(tx, now_iso(), error=error)
    commit(tx)


def on_job_records(images: Iterable[dict]) -> None:
    """The jobs table's stream: a running job that nobody holds gets its next step."""
    for image in images:
        status = image.get("status", {}).get("S")
        if status == job_store.RUNNING and "lease_owner" not in image:
            run_job(image["id"]["S"])


def run_pending() -> int:
    """Run every running job nobody holds, until each finishes (tests; the local sweep)."""
    ran = 0
    for _ in range(10_000):
        now = now_ms()
        free = [job for job in job_store.iter_running()
                if not job.lease_owner or int(job.lease_until_ms or 0) < now]
        if not free:
            return ran
        for job in free:
            run_job(job.id)
            ran += 1
    return ran


def wake_stalled() -> int:
    """The sweep: a running job whose holder vanished (lease run out), or that nobody has
    held for a while, gets a write whose stream record starts a worker."""
    woken = 0
    now, stamp = now_ms(), now_iso()
    for job in job_store.iter_running():
        lapsed = job.lease_owner and int(job.lease_until_ms or 0) < now
        idle = not job.lease_owner and _age_seconds(job.updated_at, now) > STALLED_SECONDS
        if (lapsed or idle) and job_store.nudge(job.id, stamp, now):
            woken += 1
    return woken


def _age_seconds(iso: str, now: int) -> float:
    from chalicelib.domain.tree import milliseconds

    return (now - milliseconds(iso)) / 1000


# -- reading ------------------------------------------------------------------------------
def job_view(job: JobItem) -> dict:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        # tasks created below a cascade while it runs are reached too: the total grows
        "progress": {"done": int(job.done), "total": max(int(job.total), int(job.done))},
        "result": job_store.decoded(job.result),
        "error": job_store.decoded(job.error),
    }


def get_job(call: Call, job_id: str) -> Result:
    job = job_store.get_job(require_uuid(job_id, "Job"))
    if job is None or not (call.caller.is_admin or job.owner == call.caller.scope):
        raise NotFound("Job not found.", {"job_id": job_id})
    return Result(200, job_view(job))
