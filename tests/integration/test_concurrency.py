"""Races against the real threaded local server (DynamoDB Local underneath, never moto):
requests from many threads at once, over real sockets."""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pytest
import requests

from tests.integration.helpers import (
    LocalServer,
    consistency_problems,
    scores_for,
    sizing_body,
)

LOCK_TTL = "30"  # short, but far longer than any round below takes
ROUND_TIMEOUT = 90  # seconds for every thread of one round to finish


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("concurrency") / "server.log"
    env = {f"CHORUS_LOCK_TTL_{p}": LOCK_TTL
           for p in ("SIZING", "BREAKDOWN", "REFINEMENT", "IMPLEMENTATION")}
    started = LocalServer(log, env=env)
    try:
        started.start()
        print(f"\nlocal server answered /health {started.startup_seconds:.2f}s after start")
        yield started
    finally:
        started.stop()


def run_together(calls: list[Callable[[], requests.Response]]) -> list:
    """Every call in its own thread, released at the same instant by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        deadline = time.monotonic() + ROUND_TIMEOUT
        return [f.result(timeout=max(1, deadline - time.monotonic())) for f in futures]


def ok(response: requests.Response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.text[:500])
    return response.json()


def get_json(server):
    return lambda path: ok(server.call("GET", path))


def new_project(server, name):
    return ok(server.call("POST", "/projects", {"name": name}), 201)


def new_task(server, project_id, name, parent=None, **fields):
    path = f"/tasks/{parent}/subtasks" if parent else f"/projects/{project_id}/tasks"
    return ok(server.call("POST", path, {"name": name, "task_type": "feature", **fields}), 201)


def code(response: requests.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None



# -- one request, one answer ---------------------------------------------------------------
def test_concurrent_requests_each_see_their_own_body(server):
    """32 concurrent project creates with distinct names, up to 10 rounds (20 s): every
    answer must carry the name its own request sent (today some carry another's: the
    project is stored under the wrong name, and one name is stored twice)."""
    deadline = time.monotonic() + 20
    for round_number in range(10):
        names = [f"own body {round_number}.{i}" for i in range(32)]
        answers = run_together([
            (lambda name=name: server.call("POST", "/projects", {"name": name}))
            for name in names])
        assert [r.status_code for r in answers] == [201] * 32
        mixed = [(name, r.json()["name"]) for name, r in zip(names, answers)
                 if r.json()["name"] != name]
        assert mixed == [], f"round {round_number}: (sent, answered) {mixed}"
        if time.monotonic() > deadline:
            break


# -- 32 acquirers, one lock ---------------------------------------------------------------
@pytest.fixture(scope="module", params=range(3), ids=lambda n: f"round{n}")
def lock_race(server, request):
    project = new_project(server, f"lock race {request.param}")
    task = new_task(server, project["id"], "contested")
    labels = [f"agent-{i:02d}" for i in range(32)]
    answers = run_together([
        (lambda label=label: server.call("POST", f"/tasks/{task['id']}/lock",
                                         {"caller_label": label, "lock_purpose": "sizing"}))
        for label in labels])
    return project, task, labels, answers


def test_of_32_concurrent_acquirers_exactly_one_lock_is_granted(server, lock_race):
    project, task, labels, answers = lock_race
    assert all(r.status_code in (200, 201, 409) for r in answers), [
        (r.status_code, r.text[:200]) for r in answers if r.status_code not in (200, 201, 409)]
    assert [r.status_code for r in answers].count(201) == 1
    stored = ok(server.call("GET", f"/tasks/{task['id']}"))["lock"]
    assert stored["fencing_token"] == 1  # one successful acquisition, ever
    assert stored["caller_label"] in labels
    assert ok(server.call("GET", f"/projects/{project['id']}"))["active_locks"] == 1
    assert [lock["task_id"] for lock in ok(server.call(
        "GET", f"/locks?project_id={project['id']}"))] == [task["id"]]


def test_of_32_concurrent_acquirers_the_others_get_lock_conflict(server, lock_race):
    project, task, labels, answers = lock_race
    stored = ok(server.call("GET", f"/tasks/{task['id']}"))["lock"]
    for label, response in zip(labels, answers):
        if label == stored["caller_label"]:
            assert response.status_code == 201, response.text[:300]
            assert response.json()["caller_label"] == label
            assert response.json()["fencing_token"] == 1
        else:
            assert (response.status_code, code(response)) == (409, "LOCK_CONFLICT"), (
                label, response.text[:300])
            details = response.json()["error"]["details"]
            assert details == {"caller_label": stored["caller_label"],
                               "lock_purpose": "sizing", "expires_at": stored["expires_at"]}


# -- 16 identical completes, one Idempotency-Key --------------------------------------------
def test_sixteen_concurrent_identical_completes_apply_once(server):
    project = new_project(server, "idempotent complete")
    task = new_task(server, project["id"], "finish me", points=3)
    ok(server.call("POST", f"/tasks/{task['id']}/lock",
                   {"caller_label": "coder", "lock_purpose": "implementation"}), 201)
    body = {"caller_label": "coder", "work_log_content": "implemented it",
            "commits": [{"commit_hash": "a1b2c3d4e5f6", "message": "the change"}]}
    key = {"Idempotency-Key": f"complete-{uuid.uuid4()}"}
    answers = run_together([
        (lambda: server.call("POST", f"/tasks/{task['id']}/complete", body, headers=key))
        for _ in range(16)])

    statuses = [(r.status_code, code(r), r.headers.get("Idempotent-Replayed")) for r in answers]
    firsts = [r for r in answers if r.status_code == 200
              and r.headers.get("Idempotent-Replayed") is None]
    replays = [r for r in answers if r.status_code == 200
               and r.headers.get("Idempotent-Replayed") == "true"]
    in_progress = [r for r in answers if (r.status_code, code(r)) ==
                   (409, "IDEMPOTENCY_IN_PROGRESS")]
    assert len(firsts) == 1, statuses
    assert len(firsts) + len(replays) + len(in_progress) == 16, statuses
    for replay in replays:
        assert replay.json() == firsts[0].json()

    log = ok(server.call("GET", f"/tasks/{task['id']}/work-log"))
    assert [e["operation"] for e in log] == ["implementation"]
    assert len(ok(server.call("GET", f"/tasks/{task['id']}/commits"))) == 1
    final = ok(server.call("GET", f"/tasks/{task['id']}"))
    assert final["status"] == "done"
    assert final["updated_at"] == firsts[0].json()["updated_at"]  # one status change
    detail = ok(server.call("GET", f"/projects/{project['id']}"))
    assert detail["status_counts"] == {"todo": 0, "doing": 0, "done": 1, "wont_do": 0}
    assert detail["points_completed"] == 3
    assert consistency_problems(get_json(server), project["id"]) == []


# -- 8 agents sizing under one shared ancestor ------------------------------------------------
def _size_all(server, agent: str, children: list[dict], totals: list[int],
              attempts: dict) -> list[str]:
    """One agent: lock, size (releasing the lock) each child; retries a 409
    CONCURRENT_MODIFICATION like a real client would (bounded)."""
    problems = []
    for child, total in zip(children, totals):
        response = server.call("POST", f"/tasks/{child['id']}/lock",
                               {"caller_label": agent, "lock_purpose": "sizing"})
        if response.status_code != 201:
            problems.append(f"{agent} lock {child['name']}: {response.status_code} "
                            f"{response.text[:200]}")
            continue
        confidence = 2 if total % 3 == 0 else 4  # some are flagged for refinement
        body = sizing_body(agent, scores_for(total), confidence, release_lock=True)
        for attempt in range(5):
            response = server.call("POST", f"/tasks/{child['id']}/size", body,
                                   headers={"Idempotency-Key": f"size-{child['id']}"})
            if code(response) != "CONCURRENT_MODIFICATION":
                break
            attempts["retried"] += 1
            time.sleep(0.2 * (attempt + 1))
        if response.status_code != 200:
            problems.append(f"{agent} size {child['name']}: {response.status_code} "
                            f"{response.text[:200]}")
        elif response.json()["points"] != total or response.json()["name"] != child["name"]:
            problems.append(f"{agent} size {child['name']}: answered {response.text[:200]}")
    return problems


@pytest.fixture(scope="module")
def sizing_race(server):
    project = new_project(server, "rollup race")
    pid = project["id"]
    root = new_task(server, pid, "shared ancestor")
    middle = new_task(server, pid, "middle", parent=root["id"])
    parents = [new_task(server, pid, f"parent {i}", parent=middle["id"]) for i in range(8)]
    families = [[new_task(server, pid, f"child {i}.{j}", parent=parent["id"])
                 for j in range(3)] for i, parent in enumerate(parents)]
    totals = [[(i + 2 * j) % 7 for j in range(3)] for i in range(8)]  # 0..6: all ready
    attempts = {"retried": 0}
    started = time.monotonic()
    results = run_together([
        (lambda i=i: _size_all(server, f"agent-{i}", families[i], totals[i], attempts))
        for i in range(8)])
    print(f"\n8 agents sized 24 tasks in {time.monotonic() - started:.1f}s "
          f"({attempts['retried']} CONCURRENT_MODIFICATION retries)")
    return pid, root, middle, totals, [problem for result in results for problem in result]


def test_concurrent_sizing_keeps_every_rollup_equal_to_a_recomputation(server, sizing_race):
    pid, root, middle, totals, problems = sizing_race
    assert consistency_problems(get_json(server), pid) == []
    locks = ok(server.call("GET", f"/locks?project_id={pid}"))
    assert ok(server.call("GET", f"/projects/{pid}"))["active_locks"] == len(locks)


def test_concurrent_sizing_every_agent_sizes_its_own_tasks(server, sizing_race):
    pid, root, middle, totals, problems = sizing_race
    assert problems == []
    shared = ok(server.call("GET", f"/tasks/{root['id']}"))
    expected_sum = sum(sum(row) for row in totals)
    assert shared["rolled_up_points"] == expected_sum
    assert (shared["unsized_children"], shared["children_count"]) == (0, 1)
    mid = ok(server.call("GET", f"/tasks/{middle['id']}"))
    assert (mid["rolled_up_points"], mid["unsized_children"], mid["children_count"]) == (
        expected_sum, 0, 8)
    detail = ok(server.call("GET", f"/projects/{pid}"))
    assert detail["points_total"] == expected_sum
    assert detail["task_count"] == 2 + 8 + 24 and detail["active_locks"] == 0


# -- positions under concurrent creates -------------------------------------------------------
def _create(server, path: str, name: str, position: int | None, retries: dict):
    body = {"name": name, "task_type": "feature"}
    if position is not None:
        body["position"] = position
    for attempt in range(5):
        response = server.call("POST", path, body)  # a 409 wrote nothing: safe to resend
        if code(response) != "CONCURRENT_MODIFICATION":
            return response
        retries["retried"] += 1
        time.sleep(0.2 * (attempt + 1))
    return response


@pytest.fixture(scope="module")
def create_race(server):
    project = new_project(server, "position race")
    pid = project["id"]
    parent = new_task(server, pid, "parent")  # position 0 at the top level
    retries = {"retried": 0}
    jobs = []
    for i in range(10):
        position = (0, 1, None)[i % 3]  # inserts at the front, in the middle, appends
        jobs.append((f"/projects/{pid}/tasks", f"top {i}", position))
        jobs.append((f"/tasks/{parent['id']}/subtasks", f"sub {i}", position))
    answers = run_together([
        (lambda job=job: _create(server, job[0], job[1], job[2], retries)) for job in jobs])
    print(f"\n20 concurrent creates ({retries['retried']} CONCURRENT_MODIFICATION retries)")
    return pid, parent, jobs, answers


def test_concurrent_creates_keep_positions_dense(server, create_race):
    pid, parent, jobs, answers = create_race
    assert [r.status_code for r in answers] == [201] * len(jobs), [
        (r.status_code, r.text[:200]) for r in answers if r.status_code != 201]
    top = ok(server.call("GET", f"/projects/{pid}/tasks?limit=200"))
    tree = ok(server.call("GET", f"/tasks/{parent['id']}/tree"))
    created = len(top) - 1 + len(tree["children"])
    assert created == len(jobs)
    assert [t["position"] for t in top] == list(range(len(top)))
    assert [c["position"] for c in tree["children"]] == list(range(len(tree["children"])))
    assert tree["children_count"] == len(tree["children"])
    assert consistency_problems(get_json(server), pid) == []
    assert ok(server.call("GET", f"/projects/{pid}"))["task_count"] == 1 + len(jobs)


def test_concurrent_creates_each_make_the_task_they_asked_for(server, create_race):
    pid, parent, jobs, answers = create_race
    for (path, name, _), response in zip(jobs, answers):
        assert response.json()["name"] == name  # the answer is about this request
    top = ok(server.call("GET", f"/projects/{pid}/tasks?limit=200"))
    assert sorted(t["name"] for t in top) == sorted(["parent"] + [f"top {i}" for i in range(10)])
    tree = ok(server.call("GET", f"/tasks/{parent['id']}/tree"))
    assert sorted(c["name"] for c in tree["children"]) == sorted(f"sub {i}" for i in range(10))


# -- dependencies (SPEC §12) ------------------------------------------------------------------
def test_a_blocker_completing_while_an_edge_to_it_is_added_leaves_counts_right(server):
    """Eight rounds of one complete against one edge addition, released together: whichever
    commits first, the waiter ends with no open blocker and every count agrees."""
    pid = new_project(server, "edge race")["id"]
    for round_number in range(8):
        blocker = new_task(server, pid, f"B{round_number}", points=1)
        waiter = new_task(server, pid, f"W{round_number}", points=1)
        ok(server.call("POST", f"/tasks/{blocker['id']}/lock",
                       {"caller_label": "racer", "lock_purpose": "implementation"}), 201)
        completed, added = run_together([
            lambda: server.call("POST", f"/tasks/{blocker['id']}/complete",
                                {"caller_label": "racer", "work_log_content": "done"}),
            lambda: server.call("POST", f"/tasks/{waiter['id']}/dependencies",
                                {"blocker_id": blocker["id"]}),
        ])
        assert (completed.status_code, added.status_code) == (200, 201), (
            completed.text[:300], added.text[:300])
        now = ok(server.call("GET", f"/tasks/{waiter['id']}"))
        assert (now["blocked_by"], now["open_blockers"], now["waiting"], now["readiness"]) == (
            [blocker["id"]], 0, False, "ready")
    assert consistency_problems(get_json(server), pid) == []
