"""Small builders for the API tests: each makes one thing through the public API and checks
that it worked, so a test body reads like the SPEC."""
from __future__ import annotations

import re
from typing import Any

AGENT = "agent-1"
OTHER = "agent-2"
DIMENSIONS = ("scope_clarity", "decision_points", "context_window_demand",
              "verification_complexity", "domain_specificity")
UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MISSING_ID = "00000000-0000-4000-8000-000000000000"

TASK_FIELDS = {
    "id", "project_id", "parent_task_id", "name", "description", "context", "task_type",
    "status", "priority", "points", "points_breakdown", "sizing_confidence",
    "needs_refinement", "refinement_notes", "context_captured_at", "content_changed_at",
    "position", "depth", "created_at", "updated_at", "effective_points", "rolled_up_points",
    "unsized_children", "children_count", "readiness", "is_locked", "lock",
    "blocked_by", "open_blockers", "waiting",
}
LOCK_FIELDS = {"task_id", "caller_label", "lock_purpose", "acquired_at", "last_heartbeat_at",
               "expires_at", "fencing_token", "ttl_seconds"}


def ok(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.data)
    return response.data


def assert_error(response, status: int, code: str) -> dict:
    """SPEC §5: the envelope, with request_id equal to the X-Request-ID header."""
    assert response.status_code == status, (response.status_code, response.data)
    body = response.data
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


def validation_locs(response) -> list[list]:
    error = assert_error(response, 422, "VALIDATION_ERROR")
    problems = error["details"]["errors"]
    assert problems and all(set(p) >= {"loc", "msg", "type"} for p in problems), problems
    return [p["loc"] for p in problems]


def project(api, name: str = "Project", **fields) -> dict:
    return ok(api.post("/projects", {"name": name, **fields}), 201)


def task(api, project_id: str, name: str = "Task", task_type: str = "feature",
         **fields) -> dict:
    return ok(api.post(f"/projects/{project_id}/tasks",
                       {"name": name, "task_type": task_type, **fields}), 201)


def subtask(api, parent_id: str, name: str = "Subtask", task_type: str = "feature",
            **fields) -> dict:
    return ok(api.post(f"/tasks/{parent_id}/subtasks",
                       {"name": name, "task_type": task_type, **fields}), 201)


def get(api, task_id: str) -> dict:
    return ok(api.get(f"/tasks/{task_id}"))


def detail(api, project_id: str) -> dict:
    return ok(api.get(f"/projects/{project_id}"))


def set_status(api, task_id: str, status: str) -> dict:
    return ok(api.patch(f"/tasks/{task_id}/status", {"status": status}))


def lock(api, task_id: str, purpose: str, caller: str = AGENT, status: int = 201) -> dict:
    return ok(api.post(f"/tasks/{task_id}/lock",
                       {"caller_label": caller, "lock_purpose": purpose}), status)


def release(api, task_id: str, caller: str = AGENT):
    response = api.delete(f"/tasks/{task_id}/lock?caller_label={caller}")
    assert response.status_code == 204, response.data
    return response


def size_body(scores=(1, 1, 1, 1, 1), confidence: int = 4, caller: str = AGENT,
              **extra) -> dict:
    body = {name: {"score": score, "reasoning": f"{name} reasoning"}
            for name, score in zip(DIMENSIONS, scores)}
    return {"caller_label": caller, "work_log_content": "sized it", "confidence": confidence,
            **body, **extra}


def scores_for(points: int) -> tuple[int, ...]:
    """Five 0-2 scores adding up to `points` (0-10)."""
    scores = [0] * 5
    for i in range(points):
        scores[i % 5] += 1
    return tuple(scores)


def size(api, task_id: str, points: int = 5, confidence: int = 4, caller: str = AGENT,
         purpose: str = "sizing", **extra) -> dict:
    """Lock for sizing (unless the caller holds a lock), size, and release."""
    lock(api, task_id, purpose, caller)
    return ok(api.post(f"/tasks/{task_id}/size",
                       size_body(scores_for(points), confidence, caller, release_lock=True,
                                 **extra)))


def specs(count: int, prefix: str = "Sub", **fields) -> list[dict]:
    return [{"name": f"{prefix} {i}", "task_type": "feature", **fields} for i in range(count)]


def breakdown(api, task_id: str, subtasks: list[dict], caller: str = AGENT,
              take_lock: bool = True, **extra) -> dict:
    if take_lock:
        lock(api, task_id, "breakdown", caller)
    return ok(api.post(f"/tasks/{task_id}/breakdown",
                       {"caller_label": caller, "work_log_content": "broke it down",
                        "subtasks": subtasks, **extra}))


def complete(api, task_id: str, caller: str = AGENT, take_lock: bool = True, **extra) -> dict:
    if take_lock:
        lock(api, task_id, "implementation", caller)
    return ok(api.post(f"/tasks/{task_id}/complete",
                       {"caller_label": caller, "work_log_content": "did it", **extra}))


def chain(api, project_id: str, depth: int, **fields) -> list[dict]:
    """A line of tasks from depth 0 to `depth` (inclusive), root first."""
    tasks = [task(api, project_id, "Level 0", **fields)]
    for level in range(1, depth + 1):
        tasks.append(subtask(api, tasks[-1]["id"], f"Level {level}", **fields))
    return tasks


def work_log(api, task_id: str) -> list[dict]:
    return ok(api.get(f"/tasks/{task_id}/work-log?limit=200"))


def ids(tasks: list[dict]) -> list[str]:
    return [t["id"] for t in tasks]


def without(mapping: dict, *keys: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}


def big_children(api, parent_id: str, count: int = 49, caller: str = AGENT, **fields) -> None:
    """`count` children of 128 KiB each (64 KiB description and context) under a parent the
    caller holds a breakdown lock on: 49 make a subtree over 6 MB. Bodies stay under 1 MiB."""
    text = "t" * 65536
    for start in range(0, count, 7):
        ok(api.post(f"/tasks/{parent_id}/breakdown",
                    {"caller_label": caller, "work_log_content": f"batch {start // 7}",
                     "subtasks": [{"name": f"Big {start + i}", "task_type": "feature",
                                   "description": text, "context": text, **fields}
                                  for i in range(min(7, count - start))]}))


def run_jobs() -> int:
    """Run every pending background job to its end, as the stream-driven worker would (the
    in-process tests have no worker), with the test stage's environment."""
    import os
    from unittest import mock

    from chalicelib.services.jobs import run_pending

    with mock.patch.dict(os.environ, {"CHORUS_EXPORT_BUCKET": "chorus-test-exports"}):
        return run_pending()
