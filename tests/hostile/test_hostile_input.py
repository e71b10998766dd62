"""Hostile input on every kind of field: a 4xx in the error envelope, and nothing written."""
import json

import pytest

DIMENSIONS = ("scope_clarity", "decision_points", "context_window_demand",
              "verification_complexity", "domain_specificity")


@pytest.fixture
def world(api):
    project = api.post("/projects", {"name": "hostile"}).data
    task = api.post(f"/projects/{project['id']}/tasks", {"name": "t", "task_type": "bug"}).data
    return api, project, task


def snapshot(api, project_id):
    """Everything a client can read about the project."""
    tasks = api.get(f"/projects/{project_id}/tasks").data
    return {
        "project": api.get(f"/projects/{project_id}").data,
        "tasks": tasks,
        "logs": [api.get(f"/tasks/{t['id']}/work-log").data for t in tasks],
        "projects": api.get("/projects?limit=200").data,
    }


def assert_refused(response, statuses=(400, 413, 422)):
    assert response.status_code in statuses, (response.status_code, response.body[:300])
    error = response.data["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["request_id"] == response.headers["X-Request-ID"]


RAW_BODIES = {
    "lone surrogate in a name": '{"name": "\\ud800", "task_type": "bug"}',
    "nested 100000 deep": '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "NaN points": '{"name": "x", "task_type": "bug", "points": NaN}',
    "Infinity priority": '{"name": "x", "task_type": "bug", "priority": Infinity}',
    "huge number": '{"name": "x", "task_type": "bug", "points": 1' + "0" * 400 + "}",
    "float points": '{"name": "x", "task_type": "bug", "points": 2.5}',
    "negative priority out of range": '{"name": "x", "task_type": "bug", "priority": -1001}',
    "points out of range": '{"name": "x", "task_type": "bug", "points": 11}',
    "object as name": '{"name": {"a": 1}, "task_type": "bug"}',
    "list as task_type": '{"name": "x", "task_type": ["bug"]}',
    "null name": '{"name": null, "task_type": "bug"}',
    "control-only name": '{"name": "\\u0000\\t\\n ", "task_type": "bug"}',
    "invalid UTF-8": b'{"name": "\xff\xfe", "task_type": "bug"}',
    "over 1 MiB": json.dumps({"name": "x", "task_type": "bug", "description": "d" * 1_100_000}),
    "name over 500 characters": json.dumps({"name": "n" * 501, "task_type": "bug"}),
    "duplicate-free but unknown field": '{"name": "x", "task_type": "bug", "depth": 3}',
}


@pytest.mark.parametrize("label", list(RAW_BODIES))
def test_hostile_task_bodies_are_refused_and_change_nothing(world, label):
    api, project, _task = world
    before = snapshot(api, project["id"])
    raw = RAW_BODIES[label]
    response = api.post(f"/projects/{project['id']}/tasks",
                        raw=raw if isinstance(raw, bytes) else raw.encode())
    assert_refused(response)
    assert snapshot(api, project["id"]) == before


@pytest.mark.parametrize("caller", ["\x07bell", " ", "x" * 256, "tab\there", "\ud800"])
def test_hostile_caller_labels_are_refused(world, caller):
    api, project, task = world
    before = snapshot(api, project["id"])
    raw = json.dumps({"caller_label": caller, "lock_purpose": "sizing"})
    assert_refused(api.post(f"/tasks/{task['id']}/lock", raw=raw.encode()))
    assert snapshot(api, project["id"]) == before
    assert api.get(f"/tasks/{task['id']}").data["is_locked"] is False


@pytest.mark.parametrize("reasoning", ["r" * 4097, "é" * 2049])
def test_sizing_reasoning_over_4_kib_is_refused_and_the_lock_stays(world, reasoning):
    api, project, task = world
    assert api.post(f"/tasks/{task['id']}/lock",
                    {"caller_label": "a", "lock_purpose": "sizing"}).status_code == 201
    before = snapshot(api, project["id"])
    body = {"caller_label": "a", "work_log_content": "x", "confidence": 3,
            **{d: {"score": 1, "reasoning": reasoning} for d in DIMENSIONS}}
    assert_refused(api.post(f"/tasks/{task['id']}/size", body))
    assert snapshot(api, project["id"]) == before


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "limit=abc",
                                   "sort=name", "operation=coding", "min_points=x"])
def test_hostile_queries_are_422(world, query):
    api, project, _task = world
    path = f"/tasks/available?{query}" + ("" if "operation=" in query else "&operation=sizing")
    assert_refused(api.get(path), (422,))


def test_a_huge_idempotency_key_is_refused_before_anything_is_written(world):
    api, project, _task = world
    before = snapshot(api, project["id"])
    response = api.post(f"/projects/{project['id']}/tasks", {"name": "x", "task_type": "bug"},
                        headers={"Idempotency-Key": "k" * 256})
    assert_refused(response, (422,))
    assert snapshot(api, project["id"]) == before
