"""Typed results: the SPEC's resources (section 2) as the server returns them.

Fields the server adds beyond the SPEC are kept (`extra="allow"`), so `--json` output loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from chorus_client.vocabulary import LockPurpose, Status, TaskType, WorkLogOperation


class Resource(BaseModel):
    model_config = ConfigDict(extra="allow")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Health(Resource):
    status: str
    version: str | None = None
    datastore: str | None = None


class Project(Resource):
    id: str
    name: str
    description: str | None = None
    created_at: datetime
    updated_at: datetime


class ProjectDetail(Project):
    task_count: int
    points_total: int
    points_completed: int
    status_counts: dict[str, int]
    readiness_counts: dict[str, int]
    active_locks: int


class Lock(Resource):
    task_id: str
    caller_label: str
    lock_purpose: LockPurpose
    acquired_at: datetime
    last_heartbeat_at: datetime
    expires_at: datetime
    fencing_token: int
    ttl_seconds: int


class Task(Resource):
    id: str
    project_id: str
    parent_task_id: str | None = None
    name: str
    description: str | None = None
    context: str | None = None
    task_type: TaskType
    status: Status
    priority: int
    points: int | None = None
    points_breakdown: dict[str, Any] | None = None
    sizing_confidence: int | None = None
    needs_refinement: bool
    refinement_notes: str | None = None
    context_captured_at: datetime | None = None
    content_changed_at: datetime | None = None
    position: int
    depth: int
    created_at: datetime
    updated_at: datetime
    effective_points: int | None = None
    rolled_up_points: int | None = None
    unsized_children: int
    children_count: int
    readiness: str
    is_locked: bool
    lock: Lock | None = None


class TaskTree(Task):
    children: list[TaskTree]


class Breakdown(Task):
    """The broken-down parent, with the subtasks the breakdown created."""

    subtasks: list[Task]


class WorkLogEntry(Resource):
    id: str
    task_id: str
    author: str
    operation: WorkLogOperation
    content: str
    created_at: datetime


class Commit(Resource):
    id: str
    task_id: str
    author: str | None = None
    commit_hash: str
    message: str | None = None
    committed_at: datetime


class Ancestor(Resource):
    id: str
    name: str
    description: str | None = None
    context: str | None = None
    updated_at: datetime


class ContextProject(Resource):
    id: str
    name: str
    description: str | None = None


class TaskContext(Resource):
    """Everything an agent needs to start on a task (SPEC section 6)."""

    task: Task
    project: ContextProject
    ancestors: list[Ancestor]
    work_log: list[WorkLogEntry]
    commits: list[Commit] | None = None
    context_captured_at: datetime | None = None
    context_freshness: str
    stale_reasons: list[str]
    truncated: bool
    truncation: dict[str, Any] | None = None


class Claim(Resource):
    """A task this caller won, and the lock that makes it theirs."""

    task: Task
    lock: Lock


ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """One page of a list endpoint; `next_offset` (from `X-Next-Offset`) is None on the last page."""

    items: list[ItemT]
    next_offset: int | None
