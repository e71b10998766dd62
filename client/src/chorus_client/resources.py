"""Typed results: the SPEC's resources (section 2) as the server returns them.

Fields the server adds beyond the SPEC are kept (`extra="allow"`), so `--json` output loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from chorus_client.vocabulary import OPEN_STATUSES, LockPurpose, Status, TaskType, WorkLogOperation


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
    blocked_by: list[str] = []
    """Ids of the tasks this one waits for (SPEC section 12), oldest edge first."""
    open_blockers: int = 0
    """How many of `blocked_by` are still todo or doing."""
    waiting: bool = False
    """True when this task or one of its ancestors has an open blocker: it cannot be implemented yet."""

    @property
    def is_open(self) -> bool:
        """todo or doing: as a blocker, it still holds its dependents back."""
        return self.status in OPEN_STATUSES


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


class Dependency(Resource):
    """An edge: `task_id` waits for `blocker_id` (SPEC section 12)."""

    task_id: str
    blocker_id: str
    created_at: datetime
    author: str | None = None
    _existed: bool = PrivateAttr(default=False)

    @property
    def existed(self) -> bool:
        """True when the edge was already there (the server answered 200 and changed nothing)."""
        return self._existed


class Dependencies(Resource):
    """A task's blockers and the tasks that wait for it, each a full Task, oldest edge first."""

    blocked_by: list[Task]
    blocking: list[Task]


class WaitingOn(Resource):
    """One open blocker that holds `task_id` back: one of the task's own (`holder` is the task), or an
    ancestor's (`holder` is that ancestor: a waiting epic holds back every task below it)."""

    task_id: str
    holder: Task
    blocker: Task

    @property
    def inherited(self) -> bool:
        return self.holder.id != self.task_id


class JobProgress(Resource):
    done: int
    total: int


class JobError(Resource):
    code: str
    message: str
    details: dict[str, Any] = {}


class Job(Resource):
    """Background work (SPEC section 13): an import through an upload, or a cancel, delete or
    dependency propagation too big for one request."""

    id: str
    kind: str
    status: str
    created_at: datetime
    updated_at: datetime
    progress: JobProgress
    result: dict[str, Any] | None = None
    error: JobError | None = None

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


class ImportUpload(Resource):
    """Where to PUT an import larger than 6 MB, and the id that names it afterwards."""

    upload_id: str
    upload_url: str
    expires_at: datetime


class Event(Resource):
    """One thing that happened in a project (SPEC section 14); events outlive their task."""

    id: str
    project_id: str
    task_id: str
    task_name: str
    kind: str
    actor: str
    at: datetime
    summary: str
    details: dict[str, Any] = {}


class HistoryPoint(Resource):
    """A project's counters at the end of one UTC day (today: now)."""

    date: str
    points_total: int
    points_completed: int
    tasks_total: int
    tasks_done: int
    events: int


class AgentActivity(Resource):
    """One actor seen in a project lately: when, how much, locks lost to expiry, locks held now."""

    actor: str
    last_seen_at: datetime | None = None
    events: int
    operations: int
    locks_expired: int
    live_locks: list[Lock] = []


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
