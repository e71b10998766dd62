"""Dependencies, activity and jobs against a scripted fake: what is sent, how answers are typed,
how the feed is followed and how a job is waited for."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from chorus_client import api as api_module
from chorus_client.activity import ActivityFollower
from chorus_client.bodies import BreakdownRequest, DependencyCreate
from chorus_client.cli.app import app
from chorus_client.cli.exit_codes import exit_code_for
from chorus_client.dependencies import dependency_report
from chorus_client.errors import (
    ChorusError,
    InvalidDependencyError,
    InvalidRequestError,
    JobTimeoutError,
)
from chorus_client.jobs import job_failure, wait_for_job
from chorus_client.resources import Job, Task

from fakes import NOW, FakeApi, body_of, error, task_json


def job_json(status: str = "running", done: int = 0, total: int = 10, **fields: Any) -> dict[str, Any]:
    return {
        "id": "j1",
        "kind": "import",
        "status": status,
        "created_at": NOW,
        "updated_at": NOW,
        "progress": {"done": done, "total": total},
        "result": None,
        "error": None,
        **fields,
    }


def event_json(event_id: str, at: datetime, kind: str = "note", actor: str = "agent-a") -> dict[str, Any]:
    return {
        "id": event_id,
        "project_id": "p1",
        "task_id": "t1",
        "task_name": "task t1",
        "kind": kind,
        "actor": actor,
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "summary": f"{actor} did {kind}",
        "details": {},
    }


# -- dependencies ----------------------------------------------------------------------------


def test_adding_a_dependency_sends_the_blocker_signed_and_keyed_and_tells_a_new_edge_from_an_old() -> None:
    edge = {"task_id": "t1", "blocker_id": "t2", "created_at": NOW, "author": "agent-a"}
    fake = FakeApi().on(
        "POST", "/tasks/t1/dependencies", httpx.Response(201, json=edge), httpx.Response(200, json=edge)
    )
    with fake.client() as client:
        created = client.add_dependency("t1", DependencyCreate.parse({"blocker_id": "t2"}))
        again = client.add_dependency("t1", DependencyCreate.parse({"blocker_id": "t2"}))
    first, second = fake.sent("POST", "/tasks/t1/dependencies")
    assert body_of(first) == {"author": "agent-a", "blocker_id": "t2"}
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]
    assert (created.existed, again.existed) == (False, True)
    assert "_existed" not in created.to_json()


def test_removing_a_dependency_names_the_author() -> None:
    fake = FakeApi().on("DELETE", "/tasks/t1/dependencies/t2", httpx.Response(204))
    with fake.client() as client:
        client.remove_dependency("t1", "t2")
    assert fake.requests[0].url.params["author"] == "agent-a"


@pytest.mark.parametrize(
    ("reason", "advice"), [("cycle", "wait for itself"), ("cross_project", "own project"), ("limit", "at most 50")]
)
def test_a_refused_dependency_is_typed_with_advice_for_its_reason_and_exits_5(reason: str, advice: str) -> None:
    details = {"reason": reason, "task_id": "t1", "blocker_id": "t2"}
    fake = FakeApi().on("POST", "/tasks/t1/dependencies", error(422, "INVALID_DEPENDENCY", details))
    with fake.client() as client, pytest.raises(InvalidDependencyError) as raised:
        client.add_dependency("t1", DependencyCreate.parse({"blocker_id": "t2"}))
    assert raised.value.reason == reason
    assert advice in raised.value.next_step and raised.value.to_dict()["next_step"] == raised.value.next_step
    assert exit_code_for(raised.value) == 5


def test_breakdown_after_names_only_earlier_subtasks_once() -> None:
    ok = BreakdownRequest.parse(
        {
            "work_log_content": "steps",
            "subtasks": [
                {"name": "a", "task_type": "feature"},
                {"name": "b", "task_type": "feature", "after": [0]},
                {"name": "c", "task_type": "bug", "after": [0, 1]},
            ],
        }
    )
    assert [subtask.get("after") for subtask in ok.payload()["subtasks"]] == [None, [0], [0, 1]]
    for after, index in (([1], 1), ([0, 0], 1), ([0], 0)):
        subtasks = [{"name": "a", "task_type": "feature"}, {"name": "b", "task_type": "feature"}]
        subtasks[index]["after"] = after
        with pytest.raises(InvalidRequestError) as raised:
            BreakdownRequest.parse({"work_log_content": "steps", "subtasks": subtasks})
        assert raised.value.code == "VALIDATION_ERROR" and f"subtasks[{index}].after" in raised.value.message


def test_a_report_reads_nothing_more_for_a_task_without_dependencies() -> None:
    fake = FakeApi()
    with fake.client() as client:
        report = dependency_report(client, Task.model_validate(task_json()))
    assert fake.requests == [] and report.waiting_on == []


def test_a_report_names_own_and_ancestors_open_blockers_nearest_first() -> None:
    waiter = task_json("t3", parent_task_id="t2", depth=2, blocked_by=["b1", "b2"], open_blockers=1, waiting=True)
    root = task_json("t1", open_blockers=1, blocked_by=["b3"], waiting=True)
    middle = task_json("t2", parent_task_id="t1", depth=1, waiting=True)
    fake = (
        FakeApi()
        .on(
            "GET",
            "/tasks/t3/dependencies",
            httpx.Response(
                200,
                json={"blocked_by": [task_json("b1", status="done"), task_json("b2", status="doing")], "blocking": []},
            ),
        )
        .on("GET", "/tasks/t3/ancestry", httpx.Response(200, json=[root, middle, waiter]))
        .on(
            "GET",
            "/tasks/t1/dependencies",
            httpx.Response(200, json={"blocked_by": [task_json("b3", status="todo")], "blocking": []}),
        )
    )
    with fake.client() as client:
        report = dependency_report(client, Task.model_validate(waiter))
    assert [(item.blocker.id, item.holder.id, item.inherited) for item in report.waiting_on] == [
        ("b2", "t3", False),
        ("b3", "t1", True),
    ]
    assert [entry["blocker_id"] for entry in report.waiting_for()] == ["b2", "b3"]
    assert report.waiting_for()[1]["through_ancestor_id"] == "t1"


# -- activity --------------------------------------------------------------------------------


def test_activity_repeats_kind_and_sends_since_in_utc() -> None:
    fake = FakeApi().on("GET", "/projects/p1/activity", httpx.Response(200, json=[]))
    with fake.client() as client:
        client.activity("p1", kinds=["sized", "completed"], since=datetime(2026, 12, 5, 14, 0), actor="a")
    params = fake.requests[0].url.params
    assert params.get_list("kind") == ["sized", "completed"]
    assert params["since"] == "2026-12-05T14:00:00.000000Z" and params["actor"] == "a"


class Feed:
    """A fake activity feed: newest first, `since` inclusive, paged by `limit` and `offset`."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []  # recording order
        self.clock = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
        self.ids = itertools.count()
        self.queries: list[httpx.QueryParams] = []

    def record(self, count: int = 1, *, at: datetime | None = None) -> list[str]:
        made = []
        for _ in range(count):
            self.clock += timedelta(seconds=1)
            event = event_json(f"e{next(self.ids)}", at or self.clock)
            self.events.append(event)
            made.append(event["id"])
        return made

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        self.queries.append(params)
        # newest first, ties in reverse order of recording (the sort is stable)
        newest_first = sorted(reversed(self.events), key=lambda e: e["at"], reverse=True)
        since = params.get("since")
        if since:
            newest_first = [e for e in newest_first if e["at"] >= since]
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 50))
        page = newest_first[offset : offset + limit]
        more = offset + limit < len(newest_first)
        return httpx.Response(200, json=page, headers={"X-Next-Offset": str(offset + len(page))} if more else {})


def test_following_prints_the_backlog_then_each_new_event_once_oldest_first() -> None:
    feed = Feed()
    feed.record(5)
    fake = FakeApi().on("GET", "/projects/p1/activity", feed)
    with fake.client() as client:
        follower = ActivityFollower(client, "p1")
        assert [e.id for e in follower.start(2)] == ["e3", "e4"]
        assert follower.poll() == []
        feed.record(3)
        assert [e.id for e in follower.poll()] == ["e5", "e6", "e7"]
        late = feed.record(at=feed.clock - timedelta(seconds=5))  # committed late, stamped earlier
        assert [e.id for e in follower.poll()] == late
        assert follower.poll() == []
    assert feed.queries[-1]["since"].startswith("2026-12-05T11:59:38")  # newest (12:00:08) minus 30 s


def test_following_pages_through_a_burst_and_a_backlog_of_zero_prints_nothing_old() -> None:
    feed = Feed()
    feed.record(450)
    fake = FakeApi().on("GET", "/projects/p1/activity", feed)
    with fake.client() as client:
        follower = ActivityFollower(client, "p1")
        assert follower.start(0) == []
        feed.record(420)
        fresh = [e.id for e in follower.poll()]
    assert fresh == [f"e{n}" for n in range(450, 870)]


# -- jobs ------------------------------------------------------------------------------------


def test_waiting_polls_until_the_job_ends_and_shows_every_read() -> None:
    fake = FakeApi().on(
        "GET",
        "/jobs/j1",
        httpx.Response(200, json=job_json(done=4)),
        httpx.Response(200, json=job_json("succeeded", done=10, result={"project_id": "p9"})),
    )
    seen: list[tuple[str, int]] = []
    naps: list[float] = []
    with fake.client() as client:
        done = wait_for_job(
            client,
            Job.model_validate(job_json()),
            interval_seconds=0.5,
            on_update=lambda job: seen.append((job.status, job.progress.done)),
            sleep=naps.append,
        )
    assert done.succeeded and done.result == {"project_id": "p9"}
    assert seen == [("running", 0), ("running", 4), ("succeeded", 10)] and naps == [0.5, 0.5]


def test_waiting_gives_up_after_the_timeout_and_says_the_job_goes_on() -> None:
    fake = FakeApi().on("GET", "/jobs/j1", httpx.Response(200, json=job_json()))
    ticks = itertools.count()
    with fake.client() as client, pytest.raises(JobTimeoutError) as raised:
        wait_for_job(client, "j1", timeout_seconds=3, sleep=lambda _: None, clock=lambda: float(next(ticks)))
    assert raised.value.details["job_id"] == "j1" and "background" in raised.value.next_step


def test_a_failed_job_raises_the_error_its_code_maps_to() -> None:
    failed = Job.model_validate(
        job_json("failed", error={"code": "VALIDATION_ERROR", "message": "bad task", "details": {"errors": []}})
    )
    typed = job_failure(failed)
    assert isinstance(typed, InvalidRequestError) and exit_code_for(typed) == 2
    assert typed.details == {"errors": [], "job_id": "j1"} and "j1" in typed.message
    odd = job_failure(
        Job.model_validate(job_json("failed", error={"code": "SOMETHING", "message": "x", "details": {}}))
    )
    assert type(odd) is ChorusError and exit_code_for(odd) == 1


def test_a_cancel_or_delete_answered_202_returns_the_job() -> None:
    fake = (
        FakeApi()
        .on("PATCH", "/tasks/t1/status", httpx.Response(202, json=job_json(kind="cancel")))
        .on("DELETE", "/tasks/t1", httpx.Response(202, json=job_json(kind="delete")))
        .on("DELETE", "/tasks/t2", httpx.Response(204))
    )
    with fake.client() as client:
        assert isinstance(client.set_status("t1", "wont_do"), Job)
        assert client.delete_task("t1").kind == "delete"
        assert client.delete_task("t2") is None


# -- the CLI over the fake -------------------------------------------------------------------


@pytest.fixture
def cli_with(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Runs `chorus` in-process with its client talking to a FakeApi."""

    def run(fake: FakeApi, *args: str) -> Any:
        monkeypatch.setattr(api_module, "ChorusClient", lambda settings: fake.client(agent=settings.agent))
        monkeypatch.setattr("chorus_client.jobs.time.sleep", lambda _: None)
        return CliRunner().invoke(app, list(args), env={"CHORUS_URL": "http://chorus.test", "CHORUS_AGENT": "agent-a"})

    return run


def test_a_cancel_answered_202_is_followed_with_progress_lines_then_prints_the_task(cli_with: Any) -> None:
    fake = (
        FakeApi()
        .on("PATCH", "/tasks/t1/status", httpx.Response(202, json=job_json(kind="cancel", total=2041)))
        .on(
            "GET",
            "/jobs/j1",
            httpx.Response(200, json=job_json(kind="cancel", done=1000, total=2041)),
            httpx.Response(200, json=job_json(kind="cancel", done=1000, total=2041)),
            httpx.Response(200, json=job_json("succeeded", kind="cancel", done=2041, total=2041)),
        )
        .on("GET", "/tasks/t1", httpx.Response(200, json=task_json(status="wont_do")))
    )
    result = cli_with(fake, "status", "t1", "wont_do", "--json")
    assert result.exit_code == 0, result.stderr
    assert body_of(fake.requests[0]) == {"status": "wont_do"}
    assert result.stderr.splitlines() == [
        "chorus: job j1 (cancel) running: 0/2041 tasks",
        "chorus: job j1 (cancel) running: 1000/2041 tasks",
        "chorus: job j1 (cancel) succeeded: 2041/2041 tasks",
    ]
    assert '"status": "wont_do"' in result.stdout


def test_no_wait_prints_the_job_and_job_wait_exits_with_the_failure(cli_with: Any) -> None:
    fake = FakeApi().on("DELETE", "/tasks/t1", httpx.Response(202, json=job_json(kind="delete")))
    started = cli_with(fake, "delete", "t1", "--yes", "--no-wait")
    assert started.exit_code == 0 and "chorus job wait j1" in started.stdout
    assert fake.sent("GET", "/jobs/j1") == []

    failed = job_json("failed", error={"code": "INTERNAL_ERROR", "message": "The job failed.", "details": {}})
    fake = FakeApi().on("GET", "/jobs/j1", httpx.Response(200, json=job_json()), httpx.Response(200, json=failed))
    result = cli_with(fake, "job", "wait", "j1")
    assert result.exit_code == 1
    assert "INTERNAL_ERROR" in result.stderr and "job j1 (import) failed: The job failed." in result.stderr


def test_delete_asks_for_yes_when_not_on_a_terminal(cli_with: Any) -> None:
    fake = FakeApi()
    result = cli_with(fake, "delete", "t1")
    assert result.exit_code == 2 and "--yes" in result.stderr and fake.requests == []


def test_activity_lines_name_the_actor_when_the_summary_does_not(cli_with: Any) -> None:
    at = datetime(2026, 12, 5, 12, 0, 1, tzinfo=UTC)
    moved = {**event_json("e1", at, "status_changed", "agent-b"), "summary": "“task t1” went from todo to doing"}
    fake = FakeApi().on("GET", "/projects/p1/activity", httpx.Response(200, json=[moved, event_json("e0", at)]))
    result = cli_with(fake, "activity", "-p", "p1", "--kind", "status_changed", "--kind", "note")
    assert result.exit_code == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("2026-12-05 12:00:01  status_changed") and "(by agent-b)" in first
    assert "agent-a did note" in second and "(by" not in second
    assert fake.requests[0].url.params.get_list("kind") == ["status_changed", "note"]


def test_on_a_terminal_the_progress_is_a_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import re

    from rich.console import Console

    from chorus_client.cli import render
    from chorus_client.cli.progress import ProgressDisplay

    screen = io.StringIO()
    monkeypatch.setattr(render, "stderr", Console(file=screen, force_terminal=True, width=100))
    with ProgressDisplay() as display:
        for status, done, total in (("running", 0, 0), ("running", 500, 2041), ("succeeded", 2041, 2041)):
            display.update(Job.model_validate(job_json(status, done, total, kind="cancel")))
    last = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", screen.getvalue()).splitlines()[-1]
    assert last.startswith("cancel j1 succeeded ━") and "2041/2041 tasks" in last
