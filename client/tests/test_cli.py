"""The `chorus` CLI through typer's runner, against the local server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from chorus_client.api import ChorusClient
from chorus_client.config import Settings

from clirun import Chorus, Ran, as_json, checked, size_args
from conftest import CLIENT_BIN, SHORT_TTL_SECONDS
from seed import project, sized, task
from timing import record_timing

pytestmark = pytest.mark.integration

MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(params=["typer runner", "chorus processes"])
def any_chorus(request: pytest.FixtureRequest, chorus: Chorus, cli_env: dict[str, str]) -> Chorus:
    """The in-process runner, or a real `chorus` process per command as an agent runs it."""
    if request.param == "typer runner":
        return chorus

    def run(*args: str, expect: int = 0) -> Ran:
        done = subprocess.run(
            [str(CLIENT_BIN / "chorus"), *args], env=cli_env, capture_output=True, text=True, timeout=60, check=False
        )
        return checked(args, Ran(done.returncode, done.stdout, done.stderr), expect)

    return run


def test_the_whole_pipeline_ends_with_the_epic_done(any_chorus: Chorus, request: pytest.FixtureRequest) -> None:
    started = time.perf_counter()
    steps = 0

    def step(*args: str, expect: int = 0) -> Any:
        nonlocal steps
        steps += 1
        result = any_chorus(*args, "--json", expect=expect)
        return as_json(result) if expect == 0 else json.loads(result.stderr)

    project_id = step("create-project", "Pipeline")["id"]
    epic = step("add", "Checkout epic", "--project", project_id, "--type", "feature")
    claim = step("claim-next", "sizing", "--project", project_id)
    assert claim["task"]["id"] == epic["id"] and claim["lock"]["lock_purpose"] == "sizing"
    sized_epic = step("size", epic["id"], *size_args(8), "-m", "Too big for one session")
    assert (sized_epic["points"], sized_epic["readiness"]) == (8, "needs_breakdown")

    step("claim-next", "breakdown", "--project", project_id)
    broken = step("breakdown", epic["id"], "--subtask", "Cart API", "--subtask", "Cart page", "-m", "Split by layer")
    assert [sub["name"] for sub in broken["subtasks"]] == ["Cart API", "Cart page"]

    for _ in broken["subtasks"]:
        subtask_id = step("claim-next", "sizing", "--project", project_id)["task"]["id"]
        assert step("size", subtask_id, *size_args(3), "-m", "Fits a session")["readiness"] == "ready"

    for sha in ("a1b2c3d", "e4f5a6b"):
        claimed = step("claim-next", "implementation", "--project", project_id)
        assert claimed["task"]["status"] == "doing"
        done = step("complete", claimed["task"]["id"], "-m", "Built and tested", "--commit", sha)
        assert done["status"] == "done" and done["is_locked"] is False

    assert step("claim-next", "implementation", "--project", project_id, expect=4)["error"]["code"] == "QUEUE_EMPTY"
    record_timing(f"golden path, CLI ({request.node.callspec.id})", time.perf_counter() - started, steps)

    assert step("show", epic["id"])["status"] == "done"
    (tree,) = step("tree", project_id)
    assert tree["status"] == "done" and {child["status"] for child in tree["children"]} == {"done"}
    assert "Checkout epic" in any_chorus("tree", project_id).stdout


def test_human_output_names_the_task_and_its_lock(chorus: Chorus, api: ChorusClient) -> None:
    created = task(api, project(api).id, name="Docs")
    listing = chorus("next", "sizing", "--project", created.project_id).stdout
    assert created.id in listing and "Docs" in listing
    claimed = chorus("claim", created.id, "sizing").stdout
    assert created.id in claimed and "sizing lock held by" in claimed


def test_exit_code_3_when_another_agent_holds_the_lock(chorus: Chorus, api: ChorusClient) -> None:
    created = task(api, project(api).id)
    chorus("claim", created.id, "sizing")

    rival = chorus("claim", created.id, "sizing", "--json", agent="rival-agent", expect=3)
    error = json.loads(rival.stderr)["error"]
    assert error["code"] == "LOCK_CONFLICT" and error["details"]["caller_label"] == api.settings.agent
    assert rival.stdout == ""

    human = chorus("size", created.id, *size_args(2), "-m", "mine now", agent="rival-agent", expect=3)
    assert "LOCK_CONFLICT" in human.stderr and "pick another task" in human.stderr


def test_exit_codes_for_not_found_invalid_state_and_usage(chorus: Chorus, api: ChorusClient) -> None:
    chorus("show", MISSING_ID, expect=4)
    unsized = task(api, project(api).id)
    state = chorus("claim", unsized.id, "implementation", "--json", expect=5)
    assert json.loads(state.stderr)["error"]["code"] == "INVALID_READINESS_STATE"
    chorus("next", "cooking", expect=2)
    chorus("complete", unsized.id, "-m", "x", "--commit", "not-a-hash", expect=2)


def test_rerunning_complete_with_the_same_idempotency_key_does_the_work_once(chorus: Chorus, api: ChorusClient) -> None:
    ready = sized(api, project(api).id, 2)
    chorus("claim", ready.id, "implementation")
    rerun = ("complete", ready.id, "-m", "Built", "--idempotency-key", "run-42", "--json")
    first, second = as_json(chorus(*rerun)), as_json(chorus(*rerun))
    assert first == second and first["status"] == "done"
    assert [e.operation for e in api.list_work_log(ready.id).items].count("implementation") == 1


def test_log_adds_a_note_and_lists_the_work_log(chorus: Chorus, api: ChorusClient) -> None:
    created = task(api, project(api).id)
    chorus("log", created.id, "Found the flaky test: it is the clock")
    entries = as_json(chorus("log", created.id, "--json"))
    assert [(e["operation"], e["content"], e["author"]) for e in entries] == [
        ("note", "Found the flaky test: it is the clock", api.settings.agent)
    ]


def test_flag_sends_the_task_to_the_refinement_queue(chorus: Chorus, api: ChorusClient) -> None:
    created = task(api, project(api).id)
    flagged = as_json(chorus("flag", created.id, "Which payment provider?", "--json"))
    assert flagged["readiness"] == "needs_refinement"
    queue = as_json(chorus("next", "refinement", "--project", created.project_id, "--json"))
    assert [item["id"] for item in queue] == [created.id]


def test_heartbeat_and_release(chorus: Chorus, api: ChorusClient) -> None:
    created = sized(api, project(api).id, 2)
    lock = as_json(chorus("claim", created.id, "implementation", "--json"))["lock"]
    renewed = as_json(chorus("heartbeat", created.id, "--json"))
    assert renewed["fencing_token"] == lock["fencing_token"] and renewed["expires_at"] >= lock["expires_at"]
    chorus("release", created.id)
    assert api.get_task(created.id).is_locked is False
    chorus("heartbeat", created.id, expect=3)


class LockWatcher:
    """Samples a task's lock from another thread while a command runs."""

    def __init__(self, api: ChorusClient, task_id: str) -> None:
        self.samples: list[tuple[float, bool, int | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(api, task_id), daemon=True)

    def _watch(self, api: ChorusClient, task_id: str) -> None:
        started = time.monotonic()
        while not self._stop.wait(0.5):
            current = api.get_task(task_id)
            token = current.lock.fencing_token if current.lock else None
            self.samples.append((time.monotonic() - started, current.is_locked, token))

    def __enter__(self) -> LockWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def hold_command(seconds: float, exit_code: int) -> list[str]:
    return [sys.executable, "-c", f"import sys, time; time.sleep({seconds}); sys.exit({exit_code})"]


def test_hold_keeps_a_short_lock_alive_over_a_long_command_and_releases_it_on_failure(
    chorus: Chorus, api: ChorusClient
) -> None:
    created = task(api, project(api).id)
    lock = as_json(chorus("claim", created.id, "refinement", "--json"))["lock"]
    assert lock["ttl_seconds"] == SHORT_TTL_SECONDS

    with LockWatcher(api, created.id) as watcher:
        result = chorus("hold", created.id, "--json", "--", *hold_command(10, 7), expect=7)

    summary = as_json(result)
    assert summary["lock_released"] is True and summary["heartbeats"] >= 8
    assert watcher.samples[-1][0] > 3 * SHORT_TTL_SECONDS
    assert all(locked and token == lock["fencing_token"] for _, locked, token in watcher.samples), watcher.samples
    assert api.get_task(created.id).is_locked is False


def test_hold_keeps_the_lock_when_the_command_succeeds(chorus: Chorus, api: ChorusClient) -> None:
    created = task(api, project(api).id)
    chorus("claim", created.id, "refinement")
    chorus("hold", created.id, "--", *hold_command(SHORT_TTL_SECONDS + 1.5, 0))
    still = api.get_task(created.id)
    assert still.is_locked and still.lock.caller_label == api.settings.agent


def test_hold_stops_the_command_when_another_agent_takes_the_lock(
    chorus: Chorus, api: ChorusClient, server_url: str
) -> None:
    created = task(api, project(api).id)
    chorus("claim", created.id, "refinement")

    def take_over() -> None:
        time.sleep(1.5)
        with ChorusClient(Settings(url=server_url, agent="supervisor")) as supervisor:
            supervisor.release_lock(created.id, force=True)
            supervisor.acquire_lock(created.id, "refinement")

    thief = threading.Thread(target=take_over)
    started = time.monotonic()
    thief.start()
    chorus("hold", created.id, "--", *hold_command(30, 0), expect=3)
    thief.join()
    assert time.monotonic() - started < 10, "the command was stopped well before its 30 s"
    assert api.get_task(created.id).lock.caller_label == "supervisor"


def test_hold_releases_the_lock_on_ctrl_c(cli_env: dict[str, str], api: ChorusClient) -> None:
    created = task(api, project(api).id)
    api.acquire_lock(created.id, "refinement")
    process = subprocess.Popen(
        [str(CLIENT_BIN / "chorus"), "hold", created.id, "--", *hold_command(30, 0)],
        env=cli_env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert "holding the refinement lock" in process.stderr.readline()
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    assert process.wait(timeout=20) == 130
    assert "interrupted; lock released" in process.stderr.read()
    assert api.get_task(created.id).is_locked is False
