"""The same races as test_concurrency.py, but in-process: threads call the services directly
(no HTTP layer) against DynamoDB Local (never moto). This separates the store's concurrency
semantics (conditional writes, versions, idempotency records) from the HTTP layer's."""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.helpers import consistency_problems, scores_for, sizing_body

ROUND_TIMEOUT = 90


def run_together(calls):
    """Each call in its own thread, released together; returns (result, error) pairs."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call):
        barrier.wait()
        try:
            return call(), None
        except Exception as error:  # the services raise ChorusError subclasses
            return None, error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        deadline = time.monotonic() + ROUND_TIMEOUT
        return [f.result(timeout=max(1, deadline - time.monotonic())) for f in futures]


def _call(method="POST", path="/", key=None, body=None):
    from chalicelib.services.common import Call, Caller

    return Call(caller=Caller(), method=method, path=path, idempotency_key=key, body=body)


def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.data)
    return response.data


@pytest.fixture
def api(local_api, monkeypatch):
    monkeypatch.setenv("CHORUS_LOCK_TTL_SIZING", "60")
    return local_api


def _project(api, name):
    return _ok(api.post("/projects", {"name": name}), 201)["id"]


def _task(api, pid, name, parent=None, **fields):
    path = f"/tasks/{parent}/subtasks" if parent else f"/projects/{pid}/tasks"
    return _ok(api.post(path, {"name": name, "task_type": "feature", **fields}), 201)


def _consistent(api, pid):
    return consistency_problems(lambda path: _ok(api.get(path)), pid)


def test_32_threads_acquire_one_lock_exactly_one_wins(api):
    from chalicelib.api.models import LockAcquire
    from chalicelib.errors import LockConflict
    from chalicelib.services import locks

    pid = _project(api, "race")
    tid = _task(api, pid, "contested")["id"]
    labels = [f"agent-{i:02d}" for i in range(32)]
    outcomes = run_together([
        (lambda label=label: locks.acquire(
            _call(), tid, LockAcquire(caller_label=label, lock_purpose="sizing")))
        for label in labels])
    winners = [(label, result) for label, (result, _) in zip(labels, outcomes) if result]
    assert len(winners) == 1, [(l, r.status) for l, r in winners]
    winner, result = winners[0]
    assert (result.status, result.body["caller_label"], result.body["fencing_token"]) == (
        201, winner, 1)
    for label, (result, error) in zip(labels, outcomes):
        if label != winner:
            assert isinstance(error, LockConflict), (label, repr(error))
            assert error.details["caller_label"] == winner
    assert _ok(api.get(f"/tasks/{tid}"))["lock"]["fencing_token"] == 1


def test_16_identical_completes_with_one_key_apply_once(api):
    from chalicelib.api.models import CompleteBody
    from chalicelib.errors import IdempotencyInProgress
    from chalicelib.services import operations

    pid = _project(api, "idempotent")
    tid = _task(api, pid, "finish", points=2)["id"]
    _ok(api.post(f"/tasks/{tid}/lock",
                 {"caller_label": "coder", "lock_purpose": "implementation"}), 201)
    sent = {"caller_label": "coder", "work_log_content": "did it",
            "commits": [{"commit_hash": "abcdef1234"}]}
    body = CompleteBody.model_validate(sent)
    key = f"k-{uuid.uuid4()}"
    outcomes = run_together([
        (lambda: operations.complete(_call(path=f"/tasks/{tid}/complete", key=key, body=sent),
                                     tid, body))
        for _ in range(16)])
    errors = [error for _, error in outcomes if error is not None]
    assert all(isinstance(error, IdempotencyInProgress) for error in errors), errors
    results = [result for result, _ in outcomes if result is not None]
    firsts = [r for r in results if "Idempotent-Replayed" not in r.headers]
    assert len(firsts) == 1 and all(r.status == 200 for r in results)
    assert [e["operation"] for e in _ok(api.get(f"/tasks/{tid}/work-log"))] == [
        "implementation"]
    assert len(_ok(api.get(f"/tasks/{tid}/commits"))) == 1
    assert _ok(api.get(f"/tasks/{tid}"))["status"] == "done"
    assert _consistent(api, pid) == []


def test_8_agents_sizing_under_one_ancestor_keep_rollups_exact(api):
    from chalicelib.api.models import LockAcquire, SizeBody
    from chalicelib.errors import ConcurrentModification
    from chalicelib.services import locks, operations

    pid = _project(api, "rollups")
    root = _task(api, pid, "root")
    parents = [_task(api, pid, f"parent {i}", parent=root["id"]) for i in range(8)]
    families = [[_task(api, pid, f"child {i}.{j}", parent=p["id"])["id"] for j in range(3)]
                for i, p in enumerate(parents)]
    totals = [[(i + 2 * j) % 7 for j in range(3)] for i in range(8)]
    retries = {"n": 0}

    def agent(i):
        label = f"agent-{i}"
        for tid, total in zip(families[i], totals[i]):
            locks.acquire(_call(), tid, LockAcquire(caller_label=label, lock_purpose="sizing"))
            sent = sizing_body(label, scores_for(total), 2 if total % 3 == 0 else 4,
                               release_lock=True)
            for attempt in range(5):
                try:
                    result = operations.size(_call(path=f"/tasks/{tid}/size", body=sent), tid,
                                             SizeBody.model_validate(sent))
                    break
                except ConcurrentModification:
                    retries["n"] += 1
                    time.sleep(0.2 * (attempt + 1))
            assert result.body["points"] == total
        return True

    outcomes = run_together([(lambda i=i: agent(i)) for i in range(8)])
    assert [error for _, error in outcomes if error is not None] == []
    print(f"\n{retries['n']} CONCURRENT_MODIFICATION retries")
    assert _consistent(api, pid) == []
    expected = sum(map(sum, totals))
    top = _ok(api.get(f"/tasks/{root['id']}"))
    assert (top["rolled_up_points"], top["unsized_children"], top["children_count"]) == (
        expected, 0, 8)
    detail = _ok(api.get(f"/projects/{pid}"))
    assert (detail["points_total"], detail["active_locks"], detail["task_count"]) == (
        expected, 0, 33)


def test_concurrent_creates_keep_positions_dense_and_make_what_was_asked(api):
    from chalicelib.api.models import TaskCreate
    from chalicelib.errors import ConcurrentModification
    from chalicelib.services import tasks

    pid = _project(api, "positions")
    parent = _task(api, pid, "parent")["id"]
    retries = {"n": 0}

    def create(kind, name, position):
        spec = {"name": name, "task_type": "bug"}
        if position is not None:
            spec["position"] = position
        body = TaskCreate.model_validate(spec)
        for attempt in range(5):
            try:
                if kind == "top":
                    return tasks.create_task(_call(body=spec), pid, body)
                return tasks.create_subtask(_call(body=spec), parent, body)
            except ConcurrentModification:
                retries["n"] += 1
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError(f"{name}: still conflicting after 5 tries")

    jobs = [(kind, f"{kind} {i}", (0, 1, None)[i % 3]) for i in range(10)
            for kind in ("top", "sub")]
    outcomes = run_together([(lambda job=job: create(*job)) for job in jobs])
    print(f"\n{retries['n']} CONCURRENT_MODIFICATION retries")
    assert [error for _, error in outcomes if error is not None] == []
    assert [r.body["name"] for r, _ in outcomes] == [name for _, name, _ in jobs]
    top = _ok(api.get(f"/projects/{pid}/tasks?limit=200"))
    assert [t["position"] for t in top] == list(range(11))
    assert sorted(t["name"] for t in top) == sorted(["parent"] + [f"top {i}" for i in range(10)])
    tree = _ok(api.get(f"/tasks/{parent}/tree"))
    assert [c["position"] for c in tree["children"]] == list(range(10))
    assert sorted(c["name"] for c in tree["children"]) == sorted(f"sub {i}" for i in range(10))
    assert _consistent(api, pid) == []
