"""A crash of `make run` loses no acknowledged write (issue 20).

DynamoDB Local answers a TransactWriteItems before its SQLite COMMIT has run; the local server
therefore waits for the COMMIT before it answers (scripts/dynamodb_local.py,
commit_before_answering). Without that, a kill -9 right after a `201 Created` lost the last
task in 5 of 5 runs here. Each round below writes over HTTP, stops the server the moment the
last `201` arrives (or 0.5 s later), restarts on the same data dir and finds every write.
The signals it can catch (SIGHUP, SIGQUIT, Ctrl-C to the process group) stop it in order."""
from __future__ import annotations

import os
import signal
import time

from tests.integration.helpers import LocalServer, free_port, live_processes_with_arg

# (how the server ends, seconds between the last answer and that end). Without the fix, one
# immediate kill -9 lost the last write in about 4 of 5 rounds; three of them all miss it in
# less than 1% of runs.
ROUNDS = (
    ("kill -9 of the process group", 0.0),
    ("kill -9 of the process group", 0.0),
    ("kill -9 of the process group", 0.0),
    ("kill -9 of the server process only", 0.5),
    ("SIGHUP", 0.0),
    ("SIGQUIT", 0.0),
    ("Ctrl-C (SIGINT to the process group)", 0.0),
)


def _end(server: LocalServer, how: str) -> None:
    if how == "kill -9 of the process group":
        server.kill9(whole_group=True)
    elif how == "kill -9 of the server process only":
        server.kill9(whole_group=False)
    elif how.startswith("Ctrl-C"):
        os.killpg(server.pid, signal.SIGINT)
    else:
        os.kill(server.pid, getattr(signal, how))


def _wait_until_gone(data_dir, seconds: float = 20.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        left = live_processes_with_arg(str(data_dir / "dynamodb"))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _titles(server: LocalServer, project_id: str) -> list[str]:
    response = server.call("GET", f"/projects/{project_id}/tasks?limit=200")
    assert response.status_code == 200, response.text[:500]
    return [task["name"] for task in response.json()]


def test_every_acknowledged_write_survives_a_crash_or_a_signal_right_after_it(tmp_path):
    data_dir, port = tmp_path / "data", free_port()
    written: list[str] = []
    project_id = None
    for n, (how, delay) in enumerate(ROUNDS):
        server = LocalServer(tmp_path / f"round-{n}.log", port=port, data_dir=data_dir)
        try:
            server.start()
            if project_id is None:
                created = server.call("POST", "/projects", {"name": "Crash"})
                assert created.status_code == 201, created.text[:500]
                project_id = created.json()["id"]
            assert _titles(server, project_id) == written, f"before round {n} ({how})"
            for k in range(3):  # no read between the writes and the end: nothing waits
                name = f"round {n} task {k}"
                answer = server.call("POST", f"/projects/{project_id}/tasks",
                                     {"name": name, "task_type": "bug"})
                assert answer.status_code == 201, answer.text[:500]
                written.append(name)
            if delay:
                time.sleep(delay)
            _end(server, how)
            if not how.startswith("kill -9"):  # caught: an orderly stop, exit code 0
                assert server.process.wait(timeout=30) == 0, server.log_text()[-2000:]
                assert "Stopped." in server.log_text(), server.log_text()[-2000:]
            else:
                server.process.wait(timeout=30)
            assert _wait_until_gone(data_dir) == [], f"DynamoDB Local outlived {how}"
        finally:
            server.stop()

    server = LocalServer(tmp_path / "after.log", port=port, data_dir=data_dir)
    try:
        server.start()
        assert _titles(server, project_id) == written
    finally:
        server.stop()
