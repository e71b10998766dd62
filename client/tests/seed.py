"""Building test situations through the client (as a human or another agent would)."""

from __future__ import annotations

import uuid
from typing import Any

from chorus_client.api import ChorusClient
from chorus_client.bodies import ProjectCreate, SizeRequest, TaskCreate
from chorus_client.resources import Project, Task
from chorus_client.vocabulary import DIMENSIONS


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def scores_for(total: int) -> list[int]:
    """Five dimension scores (0-2 each) adding up to `total`."""
    return [min(2, max(0, total - 2 * index)) for index in range(len(DIMENSIONS))]


def rubric(total: int, confidence: int = 4) -> dict[str, Any]:
    """A size body's fields scoring `total` points."""
    dimensions = {
        name: {"score": score, "reasoning": f"{name}: {score}"}
        for name, score in zip(DIMENSIONS, scores_for(total), strict=True)
    }
    return {**dimensions, "confidence": confidence}


def project(api: ChorusClient) -> Project:
    return api.create_project(ProjectCreate.parse({"name": unique("project")}))


def task(api: ChorusClient, project_id: str, **fields: Any) -> Task:
    return api.create_task(project_id, TaskCreate.parse({"name": unique("task"), "task_type": "feature", **fields}))


def sized(api: ChorusClient, project_id: str, total: int) -> Task:
    """A top-level task already sized at `total` points (locked, sized and released)."""
    created = task(api, project_id)
    api.acquire_lock(created.id, "sizing")
    body = SizeRequest.parse({**rubric(total), "work_log_content": "sized for the test", "release_lock": True})
    return api.size(created.id, body)
