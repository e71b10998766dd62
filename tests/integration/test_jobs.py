"""Jobs on DynamoDB Local (SPEC §13): the stream-driven worker of `make run` runs them; a
worker that dies mid-job is replaced and the job finishes; injected faults do not corrupt
anything."""
from __future__ import annotations

import threading
import time

import pytest

from tests.api.test_jobs import epic_document

pytestmark = pytest.mark.slow


def _ok(response):
    assert 200 <= response.status_code < 300, (response.status_code, response.data)
    return response.data


def wait_for_job(api, job_id: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = _ok(api.get(f"/jobs/{job_id}"))
        if job["status"] != "running":
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still running after {seconds} s: {job}")


def no_drift(project_id: str) -> None:
    from scripts.check_integrity import check

    assert check([project_id]) == {project_id: []}


@pytest.fixture
def stream_worker(local_api, dynamodb_local):
    """The job worker of `make run`: DynamoDB Local's stream of the jobs table, read in a
    thread that calls the Lambda's handler."""
    from scripts import job_worker

    stop = threading.Event()
    thread = job_worker.start(dynamodb_local.endpoint, "us-east-1", stop)
    time.sleep(0.5)  # the worker has read the stream's shards
    yield
    stop.set()
    thread.join(timeout=10)


def big_epic(api, groups=40, per_group=50):
    created = _ok(api.post("/projects/import", epic_document(groups, per_group)))
    return created["id"], _ok(api.get(f"/projects/{created['id']}/tasks"))[0]


def test_the_stream_worker_runs_a_cancel_job(local_api, stream_worker):
    pid, epic = big_epic(local_api)
    started = local_api.patch(f"/tasks/{epic['id']}/status", {"status": "wont_do"})
    assert started.status_code == 202
    job = wait_for_job(local_api, started.data["id"])
    assert job["status"] == "succeeded" and job["progress"]["done"] == 2041
    no_drift(pid)


def test_a_job_whose_worker_died_is_resumed_and_finishes(local_api, stream_worker, clock):
    from chalicelib.services import jobs

    pid, epic = big_epic(local_api)
    job_id = local_api.delete(f"/tasks/{epic['id']}").data["id"]
    # a worker takes it, does one round, and dies without letting go
    deadline = time.monotonic() + 30
    while jobs.job_store.get_job(job_id).lease_owner is None and time.monotonic() < deadline:
        time.sleep(0.05)
    held = jobs.job_store.get_job(job_id)
    if held.status == "running":
        clock.advance(jobs.LEASE_SECONDS + 1)  # its lease runs out
        jobs.wake_stalled()  # the sweep: a write whose stream record starts a worker
    job = wait_for_job(local_api, job_id)
    assert job["status"] == "succeeded"
    assert _ok(local_api.get(f"/projects/{pid}"))["task_count"] == 0
    no_drift(pid)


def test_injected_faults_do_not_break_a_job(local_api, monkeypatch):
    """5 % of DynamoDB calls fail (throttling, conflicts, 5xx, timeouts): the job still
    finishes and every invariant holds."""
    from chalicelib.services import jobs
    from chalicelib.store import tables

    pid, epic = big_epic(local_api, groups=22, per_group=90)
    job_id = local_api.delete(f"/tasks/{epic['id']}").data["id"]
    monkeypatch.setenv("CHORUS_FAULT_RATE", "0.05")
    tables.configure(endpoint=tables.TaskItem.Meta.host, prefix=None)  # clients with faults
    try:
        for _ in range(50):
            try:
                jobs.run_pending()
            except Exception:  # a fault outside the step's retries: run it again
                continue
            if jobs.job_store.get_job(job_id).status != "running":
                break
    finally:
        monkeypatch.delenv("CHORUS_FAULT_RATE")
        tables.configure(endpoint=tables.TaskItem.Meta.host, prefix=None)
    assert jobs.job_store.get_job(job_id).status == "succeeded"
    assert _ok(local_api.get(f"/projects/{pid}"))["task_count"] == 0
