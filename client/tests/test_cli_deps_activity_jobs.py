"""Dependencies, activity and background jobs through `chorus`, against the local server."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from chorus_client.api import ChorusClient
from chorus_client.bodies import DependencyCreate, TaskCreate, WorkLogCreate

from clirun import Chorus, as_json, size_args
from conftest import CLIENT_BIN
from seed import project, sized, task

pytestmark = pytest.mark.integration



def queue_ids(chorus: Chorus, project_id: str) -> list[str]:
    return [item["id"] for item in as_json(chorus("next", "implementation", "-p", project_id, "--json"))]


# -- dependencies ----------------------------------------------------------------------------


def test_a_dependency_holds_a_task_out_of_the_implementation_queue_until_removed(
    chorus: Chorus, api: ChorusClient
) -> None:
    project_id = project(api).id
    schema = sized(api, project_id, 2)
    endpoint = sized(api, project_id, 3)
    assert set(queue_ids(chorus, project_id)) == {schema.id, endpoint.id}

    added = as_json(chorus("deps", "add", endpoint.id, schema.id, "--json"))
    assert (added["task_id"], added["blocker_id"], added["already_existed"]) == (endpoint.id, schema.id, False)
    assert added["author"] == api.settings.agent
    assert as_json(chorus("deps", "add", endpoint.id, schema.id, "--json"))["already_existed"] is True

    shown = as_json(chorus("show", endpoint.id, "--json"))
    assert (shown["blocked_by"], shown["open_blockers"], shown["waiting"], shown["readiness"]) == (
        [schema.id],
        1,
        True,
        "blocked_by_dependencies",
    )
    human = chorus("show", endpoint.id).stdout
    assert "Waits for" in human and f"“{schema.name}” (todo, {schema.id})" in human
    assert queue_ids(chorus, endpoint.project_id) == [schema.id]
    refused = chorus("claim", endpoint.id, "implementation", "--json", expect=5)
    assert json.loads(refused.stderr)["error"]["details"]["readiness"] == "blocked_by_dependencies"

    report = as_json(chorus("deps", "show", schema.id, "--json"))
    assert report["blocked_by"] == [] and [t["id"] for t in report["blocking"]] == [endpoint.id]
    assert (report["blocking"][0]["status"], report["blocking"][0]["readiness"]) == ("todo", "blocked_by_dependencies")
    listing = chorus("deps", "show", endpoint.id).stdout
    assert schema.id in listing and "open" in listing

    chorus("deps", "rm", endpoint.id, schema.id)
    after = as_json(chorus("show", endpoint.id, "--json"))
    assert (after["blocked_by"], after["waiting"], after["readiness"]) == ([], False, "ready")
    assert set(queue_ids(chorus, project_id)) == {schema.id, endpoint.id}
    chorus("deps", "rm", endpoint.id, schema.id, expect=4)


def test_a_cycle_is_refused_with_exit_5_and_says_why(chorus: Chorus, api: ChorusClient) -> None:
    project_id = project(api).id
    first, second = task(api, project_id), task(api, project_id)
    chorus("deps", "add", second.id, first.id)
    refused = chorus("deps", "add", first.id, second.id, "--json", expect=5)
    error = json.loads(refused.stderr)["error"]
    assert (error["code"], error["details"]["reason"]) == ("INVALID_DEPENDENCY", "cycle")
    human = chorus("deps", "add", first.id, first.id, expect=5).stderr
    assert "INVALID_DEPENDENCY" in human and "wait for itself" in human


def test_breakdown_in_order_makes_each_step_wait_for_the_one_before(chorus: Chorus, api: ChorusClient) -> None:
    epic = sized(api, project(api).id, 8)
    chorus("claim", epic.id, "breakdown")
    steps = ("--subtask", "Schema", "--subtask", "Endpoint", "--subtask", "Page")
    broken = as_json(chorus("breakdown", epic.id, *steps, "--in-order", "-m", "Ordered steps", "--json"))
    schema, endpoint, page = broken["subtasks"]
    assert (schema["blocked_by"], endpoint["blocked_by"], page["blocked_by"]) == ([], [schema["id"]], [endpoint["id"]])
    assert (schema["waiting"], endpoint["waiting"], page["waiting"]) == (False, True, True)
    context = chorus("context", page["id"]).stdout
    assert "Waits for" in context and f"“Endpoint” (todo, {endpoint['id']})" in context


def test_a_task_under_a_waiting_epic_says_it_waits_through_the_epic(chorus: Chorus, api: ChorusClient) -> None:
    project_id = project(api).id
    design = sized(api, project_id, 2)
    epic = task(api, project_id, name="Checkout")
    leaf = api.create_subtask(epic.id, TaskCreate.parse({"name": "Cart", "task_type": "feature", "points": 2}))
    chorus("deps", "add", epic.id, design.id)
    shown = as_json(chorus("show", leaf.id, "--json"))
    assert (shown["waiting"], shown["open_blockers"], shown["readiness"]) == (True, 0, "blocked_by_dependencies")
    human = chorus("show", leaf.id).stdout
    assert f"through its ancestor “Checkout” ({epic.id})" in human and design.id in human


# -- activity --------------------------------------------------------------------------------


def test_activity_shows_an_operation_with_its_actor(chorus: Chorus, api: ChorusClient, agent: str) -> None:
    created = task(api, project(api).id)
    chorus("claim", created.id, "sizing")
    chorus("size", created.id, *size_args(3), "-m", "Small enough")

    feed = as_json(chorus("activity", "-p", created.project_id, "--json"))
    assert [(e["kind"], e["actor"]) for e in feed[:2]] == [("lock_released", agent), ("sized", agent)]
    assert all(e["task_id"] == created.id for e in feed)
    sized_only = as_json(chorus("activity", "-p", created.project_id, "--kind", "sized", "--json"))
    assert [(e["kind"], e["actor"], e["task_name"]) for e in sized_only] == [("sized", agent, created.name)]
    by_agent = as_json(chorus("activity", "--task", created.id, "--actor", agent, "--json"))  # project from the task
    assert {e["kind"] for e in by_agent} == {"lock_acquired", "sized", "lock_released"}
    assert f"{agent} sized “{created.name}”" in chorus("activity", "-p", created.project_id).stdout
    chorus("activity", "-p", created.project_id, "--since", "2026-12-05", expect=2)
    (newest,) = as_json(chorus("activity", "-p", created.project_id, "--since", "1h", "--limit", "1", "--json"))
    assert newest["kind"] == "lock_released"


class Lines:
    """Reads a process's stdout in a thread, so a test can wait for a line with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._queue.put(line)

    def wait_for(self, wanted: Callable[[str], bool], seconds: float = 20) -> list[str]:
        """Every line read until one is wanted (included); fails at the deadline."""
        deadline = time.monotonic() + seconds
        lines: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            lines.append(line)
            if wanted(line):
                return lines
        raise AssertionError(f"no wanted line in {seconds}s; read: {lines}")


def test_activity_follow_prints_each_new_event_as_it_arrives_until_ctrl_c(
    cli_env: dict[str, str], api: ChorusClient
) -> None:
    created = task(api, project(api).id)
    process = subprocess.Popen(
        [str(CLIENT_BIN / "chorus"), "activity", "-p", created.project_id, "--follow", "--interval", "0.3", "--json"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        lines = Lines(process)
        backlog = lines.wait_for(lambda line: json.loads(line)["kind"] == "task_created")
        assert len(backlog) == 1
        api.add_work_log(created.id, WorkLogCreate.parse({"operation": "note", "content": "Tail me"}))
        api.acquire_lock(created.id, "sizing")
        arrived = lines.wait_for(lambda line: json.loads(line)["kind"] == "lock_acquired")
        assert [(json.loads(line)["kind"], json.loads(line)["actor"]) for line in arrived] == [
            ("note", api.settings.agent),
            ("lock_acquired", api.settings.agent),
        ]
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=20) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_agents_names_who_holds_a_lock_and_history_matches_the_project(
    chorus: Chorus, api: ChorusClient, agent: str
) -> None:
    created = sized(api, project(api).id, 2)
    chorus("claim", created.id, "implementation")
    rows = as_json(chorus("agents", "-p", created.project_id, "--json"))
    mine = next(row for row in rows if row["actor"] == agent)
    assert [lock["task_id"] for lock in mine["live_locks"]] == [created.id] and mine["events"] >= 3
    assert agent in chorus("agents", "-p", created.project_id).stdout

    today = as_json(chorus("history", "-p", created.project_id, "--days", "3", "--json"))[-1]
    detail = api.get_project(created.project_id)
    assert (today["tasks_total"], today["points_total"], today["tasks_done"]) == (
        detail.task_count,
        detail.points_total,
        detail.status_counts["done"],
    )
    assert "Burn-up" in chorus("history", "-p", created.project_id).stdout


# -- status, delete, import: answered at once, or as a job -----------------------------------


def test_a_small_cancel_and_delete_answer_at_once(chorus: Chorus, api: ChorusClient) -> None:
    epic = task(api, project(api).id)
    child = api.create_subtask(epic.id, TaskCreate.parse({"name": "Part", "task_type": "bug"}))
    cancelled = as_json(chorus("status", epic.id, "wont_do", "--json"))
    assert cancelled["status"] == "wont_do" and api.get_task(child.id).status == "wont_do"
    deleted = as_json(chorus("delete", epic.id, "--yes", "--json"))
    assert deleted == {"task_id": epic.id, "deleted": True}
    chorus("show", child.id, expect=4)


def exported(chorus: Chorus, api: ChorusClient, folder: Path) -> tuple[str, Path]:
    """A project of two tasks, one waiting for the other, exported to a file."""
    project_id = project(api).id
    blocker, waiter = sized(api, project_id, 2), sized(api, project_id, 3)
    api.add_dependency(waiter.id, DependencyCreate.parse({"blocker_id": blocker.id}))
    path = folder / "export.json"
    chorus("export", project_id, "-o", str(path))
    return project_id, path


def test_export_then_import_inline_copies_the_project_and_its_dependency(
    chorus: Chorus, api: ChorusClient, tmp_path: Path
) -> None:
    source, path = exported(chorus, api, tmp_path)
    copy = as_json(chorus("import", str(path), "--json"))
    assert copy["id"] != source and copy["task_count"] == 2
    waiting = [t for t in api.list_top_level_tasks(copy["id"]).items if t.blocked_by]
    assert len(waiting) == 1 and waiting[0].readiness == "blocked_by_dependencies"
    assert "# " in chorus("export", source, "--markdown").stdout


def test_an_import_through_an_upload_answers_a_job_that_no_wait_prints(
    chorus: Chorus, api: ChorusClient, tmp_path: Path
) -> None:
    _, path = exported(chorus, api, tmp_path)
    job = as_json(chorus("import", str(path), "--upload", "--no-wait", "--json"))
    assert (job["kind"], job["status"] in ("running", "succeeded")) == ("import", True)
    assert as_json(chorus("job", "show", job["id"], "--json"))["id"] == job["id"]
    again = chorus("import", str(path), "--upload", "--no-wait").stdout  # a new upload: a new job
    assert again.startswith("Started job ") and "Follow it with: chorus job wait " in again
    chorus("job", "show", "00000000-0000-4000-8000-000000000000", expect=4)


def test_an_import_through_an_upload_is_followed_to_its_end_with_progress_lines(
    cli_env: dict[str, str], chorus: Chorus, api: ChorusClient, tmp_path: Path
) -> None:
    _, path = exported(chorus, api, tmp_path)
    done = subprocess.run(
        [str(CLIENT_BIN / "chorus"), "import", str(path), "--upload", "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stdout)
    assert imported["task_count"] == 2
    progress = done.stderr.splitlines()
    assert progress[0].startswith("chorus: job ") and "(import) running" in progress[0]
    assert progress[-1].endswith("(import) succeeded: 2/2 tasks")
    job_id = progress[-1].split()[2]
    finished = as_json(chorus("job", "wait", job_id, "--json"))
    assert finished["result"] == {"project_id": imported["id"]}
