"""Persistence of the local runtime (--data-dir): a kill -9 loses nothing, a restart keeps
live locks, the next start works on the same port, the DynamoDB Local credentials are
private, and DynamoDB Local never outlives its server."""
from __future__ import annotations

import json
import stat
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.helpers import (
    LocalServer,
    consistency_problems,
    free_port,
    live_processes_with_arg,
    sizing_body,
)


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """One data directory and one API port for every start in this module."""
    root = tmp_path_factory.mktemp("persistence")
    return {"data": root / "data", "logs": root, "port": free_port(), "starts": []}


@contextmanager
def running(place, name):
    """A server on the module's data dir and port; always stopped (one at a time)."""
    server = LocalServer(place["logs"] / f"{name}.log", port=place["port"],
                         data_dir=place["data"])
    try:
        server.start()
        place["starts"].append((name, server.startup_seconds))
        print(f"\n{name}: /health answered {server.startup_seconds:.2f}s after start")
        yield server
    finally:
        server.stop()


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.text[:500])
    return response.json() if response.content else None


def dynamodb_jvms(place) -> list[int]:
    return live_processes_with_arg(str(place["data"] / "dynamodb"))


def parent_of(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(text[text.rindex(")") + 2:].split()[1])


def wait_until_gone(place, seconds=15.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = dynamodb_jvms(place)
        if not left:
            return []
        time.sleep(0.2)
    return dynamodb_jvms(place)


def snapshot(server, project_id) -> dict:
    get = lambda path: ok(server.call("GET", path))  # noqa: E731
    export = get(f"/projects/{project_id}/export")
    export.pop("exported_at")
    ids = [task["id"] for task in export["tasks"]]
    return {
        "detail": get(f"/projects/{project_id}"),
        "projects": get("/projects?limit=200"),
        "export": export,
        "tasks": {i: get(f"/tasks/{i}") for i in ids},
        "logs": {i: get(f"/tasks/{i}/work-log") for i in ids},
        "commits": {i: get(f"/tasks/{i}/commits") for i in ids},
        "locks": get(f"/locks?project_id={project_id}"),
        "top": get(f"/projects/{project_id}/tasks"),
    }


def write_a_project(server) -> dict:
    def post(path, body, status=200):
        return ok(server.call("POST", path, body), status)

    project = post("/projects", {"name": "Durable", "description": "survives kill -9"}, 201)
    pid = project["id"]
    epic = post(f"/projects/{pid}/tasks", {"name": "Epic", "task_type": "feature"}, 201)
    post(f"/tasks/{epic['id']}/lock", {"caller_label": "sizer", "lock_purpose": "sizing"}, 201)
    post(f"/tasks/{epic['id']}/size",
         sizing_body("sizer", (2, 2, 2, 2, 0), release_lock=True))
    post(f"/tasks/{epic['id']}/lock", {"caller_label": "planner", "lock_purpose": "breakdown"},
         201)
    parts = post(f"/tasks/{epic['id']}/breakdown", {
        "caller_label": "planner", "work_log_content": "split", "release_lock": True,
        "subtasks": [{"name": "done part", "task_type": "feature", "points": 3},
                     {"name": "locked part", "task_type": "bug", "points": 2},
                     {"name": "flagged part", "task_type": "tech_debt"}]})["subtasks"]
    finished, locked, flagged = (part["id"] for part in parts)
    post(f"/tasks/{finished}/lock", {"caller_label": "coder", "lock_purpose": "implementation"},
         201)
    post(f"/tasks/{finished}/complete", {
        "caller_label": "coder", "work_log_content": "built", "release_lock": True,
        "commits": [{"commit_hash": "0123456789abcdef", "message": "first"}]})
    post(f"/tasks/{locked}/commits", {"commit_hash": "fedcba9876543210", "message": "wip"}, 201)
    post(f"/tasks/{locked}/work-log", {"operation": "note", "content": "started"}, 201)
    post(f"/tasks/{flagged}/flag-refinement", {"refinement_notes": "unclear"})
    lock = post(f"/tasks/{locked}/lock",
                {"caller_label": "coder-2", "lock_purpose": "implementation"}, 201)
    return {"project": pid, "epic": epic["id"], "locked": locked, "lock": lock}


def test_kill9_then_restart_reads_everything_back_and_keeps_the_live_lock(place):
    with running(place, "first start") as server:
        written = write_a_project(server)
        before = snapshot(server, written["project"])
        assert before["detail"]["active_locks"] == 1
        assert consistency_problems(lambda p: ok(server.call("GET", p)),
                                    written["project"]) == []

        credentials = place["data"] / "credentials.json"
        mode = stat.S_IMODE(credentials.stat().st_mode)
        assert mode == 0o600, oct(mode)
        saved = json.loads(credentials.read_text())
        assert saved["access_key_id"] and saved["access_key_id"] != "fakeMyKeyId"
        assert saved["secret_access_key"] and saved["secret_access_key"] != "fakeSecretAccessKey"
        place["credentials"] = saved

        jvms = dynamodb_jvms(place)  # the server's child, in a session of its own (a
        # terminal's Ctrl-C reaches only the server, which stops it in order)
        assert len(jvms) == 1 and parent_of(jvms[0]) == server.pid
        assert jvms[0] not in server.group_pids()
        server.kill9(whole_group=True)
        assert wait_until_gone(place) == [], "DynamoDB Local survived kill -9 of the group"

    with running(place, "restart after kill -9 of the process group") as server:
        after = snapshot(server, written["project"])
        assert after == before  # tasks, logs, commits, counters, and the live lock
        lock = after["tasks"][written["locked"]]["lock"]
        assert (lock["caller_label"], lock["fencing_token"]) == ("coder-2", 1)
        conflict = server.call("POST", f"/tasks/{written['locked']}/lock",
                               {"caller_label": "intruder", "lock_purpose": "implementation"})
        assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "LOCK_CONFLICT"
        renewed = ok(server.call(
            "PATCH", f"/tasks/{written['locked']}/lock/heartbeat?caller_label=coder-2"))
        assert renewed["fencing_token"] == 1
        done = ok(server.call("POST", f"/tasks/{written['locked']}/complete", {
            "caller_label": "coder-2", "work_log_content": "finished after the crash",
            "release_lock": True}))
        assert done["status"] == "done"
        place["project"] = written["project"]
        place["after_restart"] = snapshot(server, written["project"])
        assert json.loads((place["data"] / "credentials.json").read_text()) == (
            place["credentials"])

        assert len(dynamodb_jvms(place)) == 1
        server.kill9(whole_group=False)  # only the Python process: the JVM must follow
        assert wait_until_gone(place) == [], "DynamoDB Local outlived its server"


def test_the_next_start_works_on_the_same_port_and_data(place):
    if "project" not in place:
        pytest.skip("needs the data written by the previous test")
    with running(place, "third start (same port, same data)") as server:
        assert snapshot(server, place["project"]) == place["after_restart"]
        detail = ok(server.call("GET", f"/projects/{place['project']}"))
        assert detail["status_counts"]["done"] == 2 and detail["active_locks"] == 0
        assert ok(server.call("GET", "/locks")) == []  # no stale lock
        tid = ok(server.call("POST", f"/projects/{place['project']}/tasks",
                             {"name": "after three starts", "task_type": "bug"}), 201)["id"]
        assert ok(server.call("GET", f"/tasks/{tid}"))["position"] == 1
        assert consistency_problems(lambda p: ok(server.call("GET", p)),
                                    place["project"]) == []
        server.stop()  # a clean stop (SIGTERM) also takes DynamoDB Local down
        assert server.process.returncode == 0, server.log_text()[-2000:]
        assert wait_until_gone(place) == []
    print("\nstartup times: " + ", ".join(f"{name} {seconds:.2f}s"
                                          for name, seconds in place["starts"]))
