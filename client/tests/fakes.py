"""A scripted fake of the Chorus API for unit tests: canned answers, and a record of what was sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from chorus_client.api import ChorusClient
from chorus_client.config import Settings

NOW = "2030-01-01T00:00:00Z"
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def task_json(task_id: str = "t1", **fields: Any) -> dict[str, Any]:
    return {
        "id": task_id,
        "project_id": "p1",
        "parent_task_id": None,
        "name": f"task {task_id}",
        "description": None,
        "context": None,
        "task_type": "feature",
        "status": "todo",
        "priority": 0,
        "points": None,
        "points_breakdown": None,
        "sizing_confidence": None,
        "needs_refinement": False,
        "refinement_notes": None,
        "context_captured_at": None,
        "content_changed_at": NOW,
        "position": 0,
        "depth": 0,
        "created_at": NOW,
        "updated_at": NOW,
        "effective_points": None,
        "rolled_up_points": None,
        "unsized_children": 0,
        "children_count": 0,
        "readiness": "needs_sizing",
        "is_locked": False,
        "lock": None,
        **fields,
    }


def lock_json(task_id: str = "t1", caller: str = "agent-a", purpose: str = "sizing") -> dict[str, Any]:
    return {
        "task_id": task_id,
        "caller_label": caller,
        "lock_purpose": purpose,
        "acquired_at": NOW,
        "last_heartbeat_at": NOW,
        "expires_at": NOW,
        "fencing_token": 1,
        "ttl_seconds": 900,
    }


def error(status: int, code: str, details: dict[str, Any] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code} happened", "details": details or {}, "request_id": "req-1"}}
    return httpx.Response(status, json=body, headers={"X-Request-ID": "req-1"})


class FakeApi:
    """Answers each request with the next canned answer for its `METHOD path`, and records it."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: Answer) -> FakeApi:
        self.answers.setdefault(f"{method} {path}", []).extend(answers)
        return self

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.answers.get(f"{request.method} {request.url.path}")
        if not queue:
            return error(404, "NOT_FOUND")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    def client(self, agent: str | None = "agent-a", token: str | None = None) -> ChorusClient:
        settings = Settings(url="http://chorus.test", agent=agent, token=token)
        return ChorusClient(settings, transport=httpx.MockTransport(self.handle), backoff_seconds=0)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
