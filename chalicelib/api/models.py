"""Request bodies and response shapes (pydantic v2). The same classes validate requests and
generate /openapi.json, so the documentation cannot drift from the checks."""
from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

KIB = 1024
TEXT_LIMIT = 64 * KIB
REASONING_LIMIT = 4 * KIB

TaskType = Literal["feature", "bug", "tech_debt"]
Status = Literal["todo", "doing", "done", "wont_do"]
LockPurpose = Literal["sizing", "breakdown", "refinement", "implementation"]
Operation = Literal["sizing", "breakdown", "refinement", "implementation", "note"]
Readiness = Literal["needs_refinement", "blocked_by_children", "needs_sizing",
                    "needs_breakdown", "blocked_by_dependencies", "ready"]
EventKind = Literal[
    "task_created", "task_updated", "task_deleted", "status_changed", "sized", "broken_down",
    "refined", "completed", "flagged", "note", "lock_acquired", "lock_released",
    "lock_forced", "lock_expired", "dependency_added", "dependency_removed",
    "commit_recorded"]


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from error
    return value


def _utf8_limit(limit: int):
    def check(value: str) -> str:
        if len(_encodable(value).encode("utf-8")) > limit:
            raise ValueError(f"at most {limit} bytes of UTF-8")
        return value
    return check


def _name(limit: int):
    def check(value: str) -> str:
        trimmed = _encodable(value).strip()
        if not trimmed:
            raise ValueError("must not be blank")
        if any(unicodedata.category(char) == "Cc" for char in trimmed):
            raise ValueError("must not contain control characters")
        if len(trimmed) > limit:
            raise ValueError(f"at most {limit} characters")
        return trimmed
    return check


def _label(value: str) -> str:
    _encodable(value)
    if not value.strip():
        raise ValueError("must not be blank")
    if not value.isprintable():
        raise ValueError("must contain printable characters only")
    if len(value) > 255:
        raise ValueError("at most 255 characters")
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Text = Annotated[str, AfterValidator(_utf8_limit(TEXT_LIMIT))]
NonBlankText = Annotated[str, AfterValidator(_utf8_limit(TEXT_LIMIT)), AfterValidator(_non_blank)]
Reasoning = Annotated[str, AfterValidator(_utf8_limit(REASONING_LIMIT))]
ProjectName = Annotated[str, AfterValidator(_name(255))]
TaskName = Annotated[str, AfterValidator(_name(500))]
Label = Annotated[str, AfterValidator(_label)]
Priority = Annotated[int, Field(ge=-1000, le=1000)]
Points = Annotated[int, Field(ge=0, le=10)]
Score = Annotated[int, Field(ge=0, le=2)]
Confidence = Annotated[int, Field(ge=0, le=5)]
CommitHash = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{7,64}$")]


class Body(BaseModel):
    """Request bodies: unknown fields rejected, JSON types strict; the optional fields named
    in `not_nullable` may be left out but not sent as null."""
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    not_nullable: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_nulls_where_a_value_is_required(self) -> "Body":
        for name in self.not_nullable:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


# -- projects and tasks -------------------------------------------------------------------
class ProjectCreate(Body):
    name: ProjectName
    description: Optional[Text] = None


class ProjectUpdate(Body):
    name: Optional[ProjectName] = None
    description: Optional[Text] = None

    not_nullable = ("name",)


class SubtaskSpec(Body):
    """One task to create (a breakdown's subtasks have no position: they are appended)."""
    name: TaskName
    task_type: TaskType
    description: Optional[Text] = None
    context: Optional[Text] = None
    priority: Priority = 0
    points: Optional[Points] = None


class TaskCreate(SubtaskSpec):
    position: Optional[Annotated[int, Field(ge=0)]] = None


class BreakdownSubtask(SubtaskSpec):
    """`after`: indexes of earlier subtasks of the same breakdown this one waits for."""
    after: Optional[Annotated[list[Annotated[int, Field(ge=0)]], Field(max_length=49)]] = None


class TaskUpdate(Body):
    """Partial: only the fields sent change; `null` clears description, context or points."""
    name: Optional[TaskName] = None
    description: Optional[Text] = None
    context: Optional[Text] = None
    task_type: Optional[TaskType] = None
    priority: Optional[Priority] = None
    points: Optional[Points] = None

    not_nullable = ("name", "task_type", "priority")


class StatusChange(Body):
    status: Status


class Reorder(Body):
    position: Annotated[int, Field(ge=0)]


# -- locks -------------------------------------------------------------------------------
class LockAcquire(Body):
    caller_label: Label
    lock_purpose: LockPurpose


# -- atomic operations ------------------------------------------------------------------
class OperationBody(Body):
    caller_label: Label
    work_log_content: NonBlankText
    author: Optional[Label] = None
    release_lock: bool = False


class Dimension(Body):
    score: Score
    reasoning: Reasoning


class SizeBody(OperationBody):
    scope_clarity: Dimension
    decision_points: Dimension
    context_window_demand: Dimension
    verification_complexity: Dimension
    domain_specificity: Dimension
    confidence: Confidence
    risk_factors: Optional[Annotated[list[Reasoning], Field(max_length=20)]] = None
    breakdown_suggestions: Optional[Text] = None
    scored_by: Optional[Label] = None


class BreakdownBody(OperationBody):
    subtasks: Annotated[list[BreakdownSubtask], Field(min_length=1, max_length=50)]
    parent_description_update: Optional[Text] = None

    @model_validator(mode="after")
    def _after_names_earlier_subtasks(self) -> "BreakdownBody":
        for index, subtask in enumerate(self.subtasks):
            after = subtask.after or []
            if any(i >= index for i in after):
                raise ValueError(f"subtasks[{index}].after may name only earlier subtasks "
                                 f"(indexes 0..{index - 1})")
            if len(set(after)) != len(after):
                raise ValueError(f"subtasks[{index}].after names a subtask twice")
        return self


class RefineBody(OperationBody):
    name: Optional[TaskName] = None
    description: Optional[Text] = None
    context: Optional[Text] = None
    task_type: Optional[TaskType] = None
    confirm_context: bool = False

    not_nullable = ("name", "task_type")


class CommitSpec(Body):
    commit_hash: CommitHash
    message: Optional[Text] = None
    author: Optional[Label] = None
    committed_at: Optional[datetime] = None


class CompleteBody(OperationBody):
    commits: Optional[Annotated[list[CommitSpec], Field(max_length=50)]] = None


class FlagRefinement(Body):
    refinement_notes: NonBlankText
    author: Optional[Label] = None


class WorkLogCreate(Body):
    operation: Operation
    content: NonBlankText
    author: Optional[Label] = None


class CommitCreate(CommitSpec):
    pass


class DependencyCreate(Body):
    blocker_id: Annotated[str, Field(min_length=1, max_length=255)]
    author: Optional[Label] = None


# -- responses (documentation; handlers build plain dicts of these shapes) ---------------
class Response(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Lock(Response):
    task_id: str
    caller_label: str
    lock_purpose: LockPurpose
    acquired_at: str
    last_heartbeat_at: str
    expires_at: str
    fencing_token: int
    ttl_seconds: int


class ScoredDimension(Response):
    score: int
    reasoning: str


class PointsBreakdown(Response):
    scope_clarity: ScoredDimension
    decision_points: ScoredDimension
    context_window_demand: ScoredDimension
    verification_complexity: ScoredDimension
    domain_specificity: ScoredDimension
    total: int
    confidence: int
    risk_factors: list[str]
    breakdown_suggestions: Optional[str]
    scored_by: str
    scored_at: str


class Task(Response):
    id: str
    project_id: str
    parent_task_id: Optional[str]
    name: str
    description: Optional[str]
    context: Optional[str]
    task_type: TaskType
    status: Status
    priority: int
    points: Optional[int]
    points_breakdown: Optional[PointsBreakdown]
    sizing_confidence: Optional[int]
    needs_refinement: bool
    refinement_notes: Optional[str]
    context_captured_at: Optional[str]
    content_changed_at: str
    position: int
    depth: int
    created_at: str
    updated_at: str
    effective_points: Optional[int]
    rolled_up_points: Optional[int]
    unsized_children: int
    children_count: int
    readiness: Readiness
    is_locked: bool
    lock: Optional[Lock]
    blocked_by: list[str]
    open_blockers: int
    waiting: bool


class TaskTree(Task):
    children: list["TaskTree"]


class Breakdown(Task):
    subtasks: list[Task]


class Project(Response):
    id: str
    name: str
    description: Optional[str]
    created_at: str
    updated_at: str


class StatusCounts(Response):
    todo: int
    doing: int
    done: int
    wont_do: int


class ReadinessCounts(Response):
    needs_refinement: int
    blocked_by_children: int
    needs_sizing: int
    needs_breakdown: int
    blocked_by_dependencies: int
    ready: int


class ProjectDetail(Project):
    task_count: int
    points_total: int
    points_completed: int
    status_counts: StatusCounts
    readiness_counts: ReadinessCounts
    active_locks: int


class WorkLogEntry(Response):
    id: str
    task_id: str
    author: str
    operation: Operation
    content: str
    created_at: str


class Commit(Response):
    id: str
    task_id: str
    author: str
    commit_hash: str
    message: Optional[str]
    committed_at: str


class ContextAncestor(Response):
    id: str
    name: str
    description: Optional[str]
    context: Optional[str]
    updated_at: str


class ContextProject(Response):
    id: str
    name: str
    description: Optional[str]


class Shortened(Response):
    ancestor_id: str
    field: Literal["description", "context"]
    original_chars: int
    kept_chars: int


class Truncation(Response):
    work_log_entries_dropped: int
    work_log_entries_total: int
    commits_dropped: int
    commits_total: int
    ancestors_shortened: int
    shortened: list[Shortened]


class TaskContext(Response):
    task: Task
    project: ContextProject
    ancestors: list[ContextAncestor]
    work_log: list[WorkLogEntry]
    commits: Optional[list[Commit]]
    context_captured_at: Optional[str]
    context_freshness: Literal["fresh", "stale"]
    stale_reasons: list[str]
    truncated: bool
    truncation: Optional[Truncation]


class Dependency(Response):
    task_id: str
    blocker_id: str
    created_at: str
    author: str


class Dependencies(Response):
    blocked_by: list[Task]
    blocking: list[Task]


class JobProgress(Response):
    done: int
    total: int


class JobError(Response):
    code: str
    message: str
    details: dict[str, Any]


class Job(Response):
    id: str
    kind: Literal["import", "cancel", "delete", "propagate"]
    status: Literal["running", "succeeded", "failed"]
    created_at: str
    updated_at: str
    progress: JobProgress
    result: Optional[dict[str, str]]
    error: Optional[JobError]


class Event(Response):
    id: str
    project_id: str
    task_id: str
    task_name: str
    kind: EventKind
    actor: str
    at: str
    summary: str
    details: dict[str, Any]


class HistoryPoint(Response):
    date: str
    points_total: int
    points_completed: int
    tasks_total: int
    tasks_done: int
    events: int


class Agent(Response):
    """One actor seen in the project (an extension of the SPEC: docs/decisions.md)."""
    actor: str
    last_seen_at: Optional[str]
    events: int
    operations: int
    locks_expired: int
    live_locks: list[Lock]


class Health(Response):
    status: str
    version: str
    datastore: str


class ErrorDetail(Response):
    code: str
    message: str
    details: dict[str, Any]
    request_id: str


class ErrorEnvelope(Response):
    error: ErrorDetail


# -- export and import (SPEC §7) ----------------------------------------------------------
Timestamp = datetime


class ExportedLogEntry(Body):
    id: Optional[str] = None
    author: Label
    operation: Operation
    content: NonBlankText
    created_at: Timestamp


class ExportedCommit(Body):
    id: Optional[str] = None
    author: Label
    commit_hash: CommitHash
    message: Optional[Text] = None
    committed_at: Timestamp


class ExportedBreakdown(Body):
    scope_clarity: Dimension
    decision_points: Dimension
    context_window_demand: Dimension
    verification_complexity: Dimension
    domain_specificity: Dimension
    total: Annotated[int, Field(ge=0, le=10)]
    confidence: Confidence
    risk_factors: Annotated[list[Reasoning], Field(max_length=20)] = []
    breakdown_suggestions: Optional[Text] = None
    scored_by: Label
    scored_at: Timestamp


class ExportedTask(Body):
    id: Annotated[str, Field(min_length=1, max_length=255)]
    parent_task_id: Optional[str] = None
    name: TaskName
    description: Optional[Text] = None
    context: Optional[Text] = None
    task_type: TaskType
    status: Status
    priority: Priority = 0
    points: Optional[Points] = None
    points_breakdown: Optional[ExportedBreakdown] = None
    sizing_confidence: Optional[Confidence] = None
    needs_refinement: bool = False
    refinement_notes: Optional[Text] = None
    context_captured_at: Optional[Timestamp] = None
    content_changed_at: Optional[Timestamp] = None
    position: Optional[Annotated[int, Field(ge=0)]] = None
    created_at: Optional[Timestamp] = None
    updated_at: Optional[Timestamp] = None
    work_log_entries: list[ExportedLogEntry] = []
    commits: list[ExportedCommit] = []
    blocked_by: list[Annotated[str, Field(min_length=1, max_length=255)]] = []


class ExportedProject(Body):
    id: Optional[str] = None
    name: ProjectName
    description: Optional[Text] = None
    created_at: Optional[Timestamp] = None
    updated_at: Optional[Timestamp] = None


class ProjectExport(Body):
    format_version: Literal[1, 2]
    exported_at: Optional[Timestamp] = None
    project: ExportedProject
    tasks: list[ExportedTask] = []


class ImportUploadRef(Body):
    upload_id: Annotated[str, Field(min_length=1, max_length=64)]


class ImportUpload(Response):
    upload_id: str
    upload_url: str
    expires_at: str


class LargeExport(Response):
    download_url: str
    expires_at: str
    size_bytes: int
