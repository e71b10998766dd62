"""The golden path through the real local server over real sockets: a project, an epic sized 8,
broken down into three subtasks, each sized and implemented with commits, the epic done by
itself, then the export (JSON and markdown). Plus: the lock sweep really runs in the server,
and the API answers nothing on this machine's non-loopback addresses."""
from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.integration.helpers import (
    LocalServer,
    cmdline,
    consistency_problems,
    listening_sockets,
    non_loopback_addresses,
    scores_for,
    sizing_body,
)

SWEEP_SECONDS = 5  # the server's sweep interval here (CHORUS_SWEEP_SECONDS; 60 by default)
REFINEMENT_TTL = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("golden") / "server.log"
    started = LocalServer(log, env={"CHORUS_LOCK_TTL_REFINEMENT": str(REFINEMENT_TTL),
                                    "CHORUS_SWEEP_SECONDS": str(SWEEP_SECONDS)})
    try:
        started.start()
        started.ready_at = time.monotonic()
        print(f"\nlocal server answered /health {started.startup_seconds:.2f}s after start")
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def call(server, http, method, path, body=None, status=200, **kw):
    response = server.call(method, path, body, session=http, **kw)
    assert response.status_code == status, (method, path, response.status_code,
                                            response.text[:500])
    assert response.headers.get("X-Request-ID")
    return response


def j(server, http, method, path, body=None, status=200, **kw):
    return call(server, http, method, path, body, status, **kw).json()


def test_golden_path(server, http):
    get = lambda path: j(server, http, "GET", path)  # noqa: E731
    project = j(server, http, "POST", "/projects",
                {"name": "Golden", "description": "The whole way."}, 201)
    pid = project["id"]
    epic = j(server, http, "POST", f"/projects/{pid}/tasks",
             {"name": "Epic", "task_type": "feature", "context": "why it matters"}, 201)
    eid = epic["id"]
    assert (epic["readiness"], epic["status"], epic["depth"]) == ("needs_sizing", "todo", 0)
    assert [t["id"] for t in get(f"/tasks/available?operation=sizing&project_id={pid}")] == [eid]

    # size 8 under a sizing lock
    lock = j(server, http, "POST", f"/tasks/{eid}/lock",
             {"caller_label": "sizer", "lock_purpose": "sizing"}, 201)
    assert (lock["fencing_token"], lock["lock_purpose"]) == (1, "sizing")
    assert get(f"/tasks/{eid}")["lock"]["caller_label"] == "sizer"
    sized = j(server, http, "POST", f"/tasks/{eid}/size",
              sizing_body("sizer", (2, 2, 2, 1, 1), confidence=4, release_lock=True,
                          risk_factors=["big"]))
    assert (sized["points"], sized["readiness"], sized["lock"]) == (8, "needs_breakdown", None)
    assert sized["points_breakdown"]["total"] == 8
    assert sized["points_breakdown"]["scored_by"] == "sizer"

    # break it down into three subtasks
    assert [t["id"] for t in get(f"/tasks/available?operation=breakdown&project_id={pid}")] == [
        eid]
    j(server, http, "POST", f"/tasks/{eid}/lock",
      {"caller_label": "planner", "lock_purpose": "breakdown"}, 201)
    parts = [{"name": f"Part {n}", "task_type": t}
             for n, t in ((1, "feature"), (2, "bug"), (3, "tech_debt"))]
    broken = j(server, http, "POST", f"/tasks/{eid}/breakdown",
               {"caller_label": "planner", "work_log_content": "three parts",
                "subtasks": parts, "release_lock": True},
               headers={"Idempotency-Key": "golden-breakdown"})
    subtasks = broken["subtasks"]
    assert [s["name"] for s in subtasks] == ["Part 1", "Part 2", "Part 3"]
    assert [s["position"] for s in subtasks] == [0, 1, 2]
    assert all(s["depth"] == 1 and s["parent_task_id"] == eid for s in subtasks)
    assert all(s["context_captured_at"] is not None for s in subtasks)
    assert (broken["readiness"], broken["unsized_children"], broken["children_count"],
            broken["rolled_up_points"], broken["effective_points"]) == (
        "blocked_by_children", 3, 3, None, 8)

    # size each subtask
    sizes = (3, 2, 1)
    for subtask, total in zip(subtasks, sizes):
        j(server, http, "POST", f"/tasks/{subtask['id']}/lock",
          {"caller_label": "sizer", "lock_purpose": "sizing"}, 201)
        done = j(server, http, "POST", f"/tasks/{subtask['id']}/size",
                 sizing_body("sizer", scores_for(total), release_lock=True))
        assert (done["points"], done["readiness"]) == (total, "ready")
    parent = get(f"/tasks/{eid}")
    assert (parent["rolled_up_points"], parent["effective_points"], parent["unsized_children"],
            parent["points"]) == (6, 6, 0, 8)
    assert get(f"/projects/{pid}")["points_total"] == 6

    # implement each: implementation lock (todo -> doing), complete with commits
    for n, subtask in enumerate(subtasks):
        sid = subtask["id"]
        j(server, http, "POST", f"/tasks/{sid}/lock",
          {"caller_label": f"coder-{n}", "lock_purpose": "implementation"}, 201)
        assert get(f"/tasks/{sid}")["status"] == "doing"
        in_progress = get(f"/projects/{pid}/in-progress")
        assert [t["id"] for t in in_progress] == [sid]
        completed = j(server, http, "POST", f"/tasks/{sid}/complete", {
            "caller_label": f"coder-{n}", "work_log_content": f"implemented part {n + 1}",
            "release_lock": True,
            "commits": [{"commit_hash": f"{n + 1:02d}ABCDEF0123", "message": f"part {n + 1}"},
                        {"commit_hash": f"{n + 1:02d}fedcba9876"}]},
            headers={"Idempotency-Key": f"golden-complete-{n}"})
        assert (completed["status"], completed["lock"]) == ("done", None)
        expected = "done" if n == 2 else "todo"
        assert get(f"/tasks/{eid}")["status"] == expected  # done by itself, at the last one

    detail = get(f"/projects/{pid}")
    assert detail["status_counts"] == {"todo": 0, "doing": 0, "done": 4, "wont_do": 0}
    assert (detail["task_count"], detail["points_total"], detail["points_completed"],
            detail["active_locks"]) == (4, 6, 6, 0)
    assert sum(detail["readiness_counts"].values()) == 0  # nothing open
    assert consistency_problems(get, pid) == []
    commits = get(f"/tasks/{subtasks[0]['id']}/commits")
    assert sorted(c["commit_hash"] for c in commits) == ["01abcdef0123", "01fedcba9876"]
    context = get(f"/tasks/{subtasks[0]['id']}/context?include_commits=true")
    assert [a["id"] for a in context["ancestors"]] == [eid]
    assert len(context["commits"]) == 2 and context["context_freshness"] == "fresh"

    # export, lossless
    export = get(f"/projects/{pid}/export")
    assert export["format_version"] == 2 and export["project"]["name"] == "Golden"
    assert [t["id"] for t in export["tasks"]] == [eid] + [s["id"] for s in subtasks]
    by_id = {t["id"]: t for t in export["tasks"]}
    assert [e["operation"] for e in by_id[eid]["work_log_entries"]] == ["sizing", "breakdown"]
    for subtask in subtasks:
        exported = by_id[subtask["id"]]
        assert [e["operation"] for e in exported["work_log_entries"]] == [
            "sizing", "implementation"]
        assert len(exported["commits"]) == 2 and exported["status"] == "done"
        assert not any(key.startswith("lock") or key == "fencing_token" for key in exported)
    assert by_id[eid]["points_breakdown"]["total"] == 8

    markdown = call(server, http, "GET", f"/projects/{pid}/export?format=markdown")
    assert markdown.headers["Content-Type"].startswith("text/markdown")
    assert "charset=utf-8" in markdown.headers["Content-Type"].lower()
    lines = markdown.text.splitlines()
    assert lines[0] == "# Golden" and "The whole way." in lines
    checklist = [line for line in lines if line.lstrip().startswith("- [")]
    assert checklist == [
        "- [x] Epic (feature, 6 pts)",
        "  - [x] Part 1 (feature, 3 pts)",
        "  - [x] Part 2 (bug, 2 pts)",
        "  - [x] Part 3 (tech_debt, 1 pts)",
    ]


def test_unknown_routes_answer_in_the_error_envelope_over_http(server, http):
    response = server.call("GET", "/no/such/route", session=http, headers={"X-Request-ID":
                                                                            "e2e-probe.1"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert response.json()["error"]["request_id"] == "e2e-probe.1"
    assert response.headers["X-Request-ID"] == "e2e-probe.1"


def test_nothing_answers_on_a_non_loopback_address(server):
    addresses = non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback address")
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            try:
                sock.connect((address, server.port))
            except (ConnectionRefusedError, socket.timeout, OSError):
                continue
            pytest.fail(f"the API port {server.port} accepts connections on {address}")

    # every listening socket of the server's processes: only DynamoDB Local (which has no
    # bind option, docs: per-data-dir random access key) may listen beyond loopback
    listeners = listening_sockets(server.group_pids())
    api_and_s3 = [(pid, host, port) for pid, host, port in listeners
                  if not any("DynamoDBLocal.jar" in part for part in cmdline(pid))]
    assert any(port == server.port for _, _, port in api_and_s3)
    assert all(host in ("127.0.0.1", "::1") for _, host, _ in api_and_s3), api_and_s3


def test_dynamodb_local_shows_nothing_to_another_access_key(server):
    """DynamoDB Local listens on every interface: without this run's random key it shows no
    Chorus table (no -sharedDb: data is kept per access key)."""
    import boto3

    endpoint = server.dynamodb_endpoint()
    assert endpoint, "the server did not print its DynamoDB Local endpoint"
    port = endpoint.rsplit(":", 1)[1]
    targets = [endpoint] + [f"http://{a}:{port}" for a in non_loopback_addresses()
                            if ":" not in a]
    for target in targets:
        stranger = boto3.client("dynamodb", endpoint_url=target, region_name="us-east-1",
                                aws_access_key_id="fakeMyKeyId",
                                aws_secret_access_key="fakeSecretAccessKey")
        assert stranger.list_tables()["TableNames"] == [], target


def _heartbeat(server, http, tid):
    return server.call("PATCH", f"/tasks/{tid}/lock/heartbeat?caller_label=brief", session=http)


def _until_swept(server, http, tid, seconds: float) -> float:
    """Heartbeat every 0.1 s until the sweep has removed the expired record (404); when."""
    deadline = time.monotonic() + seconds
    while True:
        answer = _heartbeat(server, http, tid)
        if answer.status_code == 404:
            return time.monotonic()
        assert (answer.status_code, answer.json()["error"]["code"]) == (409, "LOCK_EXPIRED")
        assert time.monotonic() < deadline, "the sweep never removed the expired lock"
        time.sleep(0.1)


def test_the_sweep_really_runs_in_the_server(server, http):
    """The server's own sweep thread (every SWEEP_SECONDS here; every minute by default, like
    the deployed schedule) removes an expired lock record, in real time. A first lock finds
    when a sweep runs, so the second one expires well between two sweeps."""
    from scripts import local_server

    assert local_server.SWEEP_SECONDS == 60  # the default: the deployed schedule's minute
    project = j(server, http, "POST", "/projects", {"name": "Sweep"}, 201)
    pid = project["id"]
    probe, tid = (j(server, http, "POST", f"/projects/{pid}/tasks",
                    {"name": name, "task_type": "bug"}, 201)["id"]
                  for name in ("probe", "short lock"))
    j(server, http, "POST", f"/tasks/{probe}/lock",
      {"caller_label": "brief", "lock_purpose": "refinement"}, 201)
    time.sleep(REFINEMENT_TTL + 0.1)
    swept_at = _until_swept(server, http, probe, 2 * SWEEP_SECONDS + 20)  # a sweep ran

    lock = j(server, http, "POST", f"/tasks/{tid}/lock",
             {"caller_label": "brief", "lock_purpose": "refinement"}, 201)
    assert lock["ttl_seconds"] == REFINEMENT_TTL
    assert [item["task_id"] for item in j(server, http, "GET", "/locks")] == [tid]

    time.sleep(REFINEMENT_TTL + 0.1)
    expired_at = time.monotonic()
    assert expired_at < swept_at + SWEEP_SECONDS - 0.5, "too slow to test between two sweeps"
    assert j(server, http, "GET", "/locks") == []  # gone from the list the instant it expired
    assert j(server, http, "GET", f"/projects/{pid}")["active_locks"] == 0
    first = _heartbeat(server, http, tid)
    assert (first.status_code, first.json()["error"]["code"]) == (409, "LOCK_EXPIRED")

    # the record stays until the sweep removes it; then heartbeat says 404
    removed_after = _until_swept(server, http, tid, 2 * SWEEP_SECONDS + 20) - expired_at
    print(f"\nthe server's sweep removed the expired lock record {removed_after:.1f}s after "
          f"it expired (sweeps every {SWEEP_SECONDS}s here)")
    assert removed_after < 2 * SWEEP_SECONDS  # SPEC: visible for at most two sweep intervals
    assert j(server, http, "GET", f"/tasks/{tid}")["status"] == "todo"  # never moves status
