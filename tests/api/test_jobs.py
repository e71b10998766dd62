"""SPEC §13 Long-running work: cascades past 2 000 tasks and imports through an upload run as
jobs; small cascades stay synchronous and read each task a bounded number of times."""
import json

import pytest

from tests.api.helpers import (
    AGENT,
    MISSING_ID,
    assert_error,
    detail,
    get,
    lock,
    ok,
    project,
    run_jobs,
    set_status,
    subtask,
)

JOB_FIELDS = {"id", "kind", "status", "created_at", "updated_at", "progress", "result",
              "error"}


def epic_document(groups: int, per_group: int, with_records: bool = False) -> dict:
    """An epic with `groups` children of `per_group` leaves each (1 + groups * (1 +
    per_group) tasks), all open."""
    tasks = [{"id": "epic", "name": "Epic", "task_type": "feature", "status": "todo"}]
    for g in range(groups):
        tasks.append({"id": f"g{g}", "parent_task_id": "epic", "name": f"Group {g}",
                      "task_type": "feature", "status": "todo"})
        for leaf in range(per_group):
            record = {"id": f"g{g}-{leaf}", "parent_task_id": f"g{g}", "name": f"Leaf {leaf}",
                      "task_type": "bug", "status": "todo", "points": 1}
            if with_records and leaf == 0:
                record["work_log_entries"] = [{"author": "a", "operation": "note",
                                               "content": "hi",
                                               "created_at": "2026-01-01T00:00:00Z"}]
                record["commits"] = [{"author": "a", "commit_hash": "abcdef1",
                                      "committed_at": "2026-01-01T00:00:00Z"}]
            tasks.append(record)
    return {"format_version": 2, "project": {"name": "Big"}, "tasks": tasks}


def imported_epic(api, groups, per_group, **kw):
    created = ok(api.post("/projects/import", epic_document(groups, per_group, **kw)), 201)
    top = ok(api.get(f"/projects/{created['id']}/tasks"))[0]
    return created["id"], top


def assert_job(job, kind, status):
    assert set(job) == JOB_FIELDS
    assert (job["kind"], job["status"]) == (kind, status)
    return job


def all_tasks(api, pid):
    exported = ok(api.get(f"/projects/{pid}/export"))
    return exported["tasks"]


def test_a_cancel_reaching_more_than_2000_tasks_is_a_job(api):
    pid, epic = imported_epic(api, 40, 50)  # 2 041 tasks
    started = api.patch(f"/tasks/{epic['id']}/status", {"status": "wont_do"})
    job = assert_job(ok(started, 202), "cancel", "running")
    assert started.headers["Location"] == f"/jobs/{job['id']}"
    assert job["progress"] == {"done": 0, "total": 2041} and job["result"] is None
    again = ok(api.patch(f"/tasks/{epic['id']}/status", {"status": "wont_do"}), 202)
    assert again["id"] == job["id"]  # repeating the request finds the running job
    assert get(api, epic["id"])["status"] == "todo"  # nothing happened in the request
    run_jobs()
    finished = assert_job(ok(api.get(f"/jobs/{job['id']}")), "cancel", "succeeded")
    assert finished["result"] == {"task_id": epic["id"]} and finished["error"] is None
    assert finished["progress"] == {"done": 2041, "total": 2041}
    assert {t["status"] for t in all_tasks(api, pid)} == {"wont_do"}
    counts = detail(api, pid)["status_counts"]
    assert counts == {"todo": 0, "doing": 0, "done": 0, "wont_do": 2041}
    events = ok(api.get(f"/projects/{pid}/activity?kind=status_changed&limit=200"))
    assert (events[0]["task_id"], events[0]["details"]["cause"]) == (epic["id"], "request")
    assert {e["details"]["cause"] for e in events[1:]} == {"cancel_downward"}
    assert ok(api.patch(f"/tasks/{epic['id']}/status", {"status": "wont_do"}))["status"] == \
        "wont_do"  # done: the request is a no-op again


def test_a_delete_of_more_than_2000_tasks_is_a_job(api):
    pid, epic = imported_epic(api, 40, 50, with_records=True)
    started = api.delete(f"/tasks/{epic['id']}")
    job = assert_job(ok(started, 202), "delete", "running")
    assert ok(api.delete(f"/tasks/{epic['id']}"), 202)["id"] == job["id"]
    run_jobs()
    finished = assert_job(ok(api.get(f"/jobs/{job['id']}")), "delete", "succeeded")
    assert finished["result"] == {"task_id": epic["id"]}
    assert_error(api.get(f"/tasks/{epic['id']}"), 404, "NOT_FOUND")
    assert detail(api, pid)["task_count"] == 0 and all_tasks(api, pid) == []
    from chalicelib.store.tables import CommitItem, WorkLogItem

    assert list(WorkLogItem.by_path.query(pid)) == [] and list(CommitItem.by_path.query(pid)) == []


def test_a_running_cascade_keeps_the_tree_valid_and_reaches_tasks_created_meanwhile(api):
    from chalicelib.services import jobs

    pid, epic = imported_epic(api, 41, 50)
    job = ok(api.patch(f"/tasks/{epic['id']}/status", {"status": "wont_do"}), 202)
    taken = jobs.job_store.take_lease(job["id"], "slow-worker", jobs.now_ms(), 60)
    jobs.run_held(taken, "slow-worker", seconds=0.0)  # one round, then out of time
    partway = ok(api.get(f"/jobs/{job['id']}"))
    assert partway["status"] == "running" and 0 < partway["progress"]["done"] < 2092
    tasks = all_tasks(api, pid)
    by_id = {t["id"]: t for t in tasks}
    for t in tasks:  # no open task under a cancelled one, at any step
        parent = by_id.get(t["parent_task_id"])
        if parent is not None and parent["status"] == "wont_do":
            assert t["status"] == "wont_do"
    open_group = next(t for t in tasks if t["parent_task_id"] and t["status"] == "todo"
                      and by_id[t["parent_task_id"]]["id"] == epic["id"])
    late = subtask(api, open_group["id"], "Late")
    run_jobs()
    assert get(api, late["id"])["status"] == "wont_do"
    assert ok(api.get(f"/jobs/{job['id']}"))["status"] == "succeeded"


def test_a_job_whose_worker_died_is_resumed(api, clock):
    from chalicelib.services import jobs

    pid, epic = imported_epic(api, 40, 50)
    job = ok(api.delete(f"/tasks/{epic['id']}"), 202)
    assert jobs.job_store.take_lease(job["id"], "crashed", jobs.now_ms(), 60)  # then dies
    assert run_jobs() == 0  # held: nobody else runs it
    clock.advance(jobs.LEASE_SECONDS + 1)
    assert jobs.wake_stalled() == 1
    run_jobs()
    assert ok(api.get(f"/jobs/{job['id']}"))["status"] == "succeeded"
    assert detail(api, pid)["task_count"] == 0


def test_jobs_are_404_when_unknown(api):
    assert_error(api.get(f"/jobs/{MISSING_ID}"), 404, "NOT_FOUND")
    assert_error(api.get("/jobs/nope"), 404, "NOT_FOUND")


def test_an_import_that_fails_validation_fails_its_job_and_leaves_nothing(api):
    import requests

    upload = ok(api.post("/projects/import-uploads"), 201)
    document = epic_document(1, 2)
    document["tasks"][1]["status"] = "done"  # an open task under a done one
    requests.put(upload["upload_url"], data=json.dumps(document).encode(),
                 headers={"Content-Type": "application/json"})
    job = ok(api.post("/projects/import", {"upload_id": upload["upload_id"]}), 202)
    run_jobs()
    failed = assert_job(ok(api.get(f"/jobs/{job['id']}")), "import", "failed")
    assert failed["error"]["code"] == "VALIDATION_ERROR" and failed["result"] is None
    assert ok(api.get("/projects")) == []


def test_an_upload_over_the_limit_fails_its_job_with_413(api, monkeypatch):
    import requests

    from chalicelib.services import transfer

    upload = ok(api.post("/projects/import-uploads"), 201)
    body = json.dumps(epic_document(2, 5)).encode()
    monkeypatch.setattr(transfer, "UPLOAD_LIMIT", len(body) - 1)
    requests.put(upload["upload_url"], data=body, headers={"Content-Type": "application/json"})
    job = ok(api.post("/projects/import", {"upload_id": upload["upload_id"]}), 202)
    run_jobs()
    failed = assert_job(ok(api.get(f"/jobs/{job['id']}")), "import", "failed")
    assert failed["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert ok(api.get("/projects")) == []


# -- synchronous cascades are linear ------------------------------------------------------
@pytest.mark.parametrize("operation", ["cancel", "delete"])
def test_a_synchronous_cascade_reads_each_task_a_bounded_number_of_times(api, operation):
    pid, epic = imported_epic(api, 6, 49)  # 301 tasks
    lock(api, epic["id"], "refinement")
    if operation == "cancel":
        response = api.patch(f"/tasks/{epic['id']}/status", {"status": "wont_do"})
        assert ok(response)["status"] == "wont_do"
    else:
        response = api.delete(f"/tasks/{epic['id']}")
        assert response.status_code == 204
    timing = response.headers["Server-Timing"]
    requests_made, items = (int(part.split()[0]) for part in
                            timing.split('desc="')[1].rstrip('"').split(", "))
    assert items <= 3 * 301, timing  # each changed task read at most three times
    assert requests_made <= 0.2 * 301 + 10, timing
    if operation == "cancel":
        assert detail(api, pid)["status_counts"]["wont_do"] == 301
    else:
        assert detail(api, pid)["task_count"] == 0


def test_a_cancel_that_fits_a_request_is_synchronous_with_its_lock_dropped(api):
    pid, epic = imported_epic(api, 3, 10)
    leaf = ok(api.get(f"/tasks/{epic['id']}/tree"))["children"][0]["children"][0]
    lock(api, leaf["id"], "implementation", AGENT)
    cancelled = set_status(api, epic["id"], "wont_do")
    assert cancelled["status"] == "wont_do"
    assert get(api, leaf["id"])["lock"] is None
    assert detail(api, pid)["active_locks"] == 0
