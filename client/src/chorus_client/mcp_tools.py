"""The MCP tools: their input models (the SPEC's request bodies plus the task id) and what each does.

Nothing here touches the MCP SDK, so the tools can be read and tested as plain functions;
`mcp_server` publishes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import Field

from chorus_client import claims
from chorus_client.activity import recent_events
from chorus_client.api import ChorusClient, all_items, project_trees
from chorus_client.bodies import (
    Body,
    BreakdownRequest,
    CompleteRequest,
    DependencyCreate,
    OperationBody,
    RefinementFlag,
    RefineRequest,
    SizeRequest,
    WorkLogCreate,
)
from chorus_client.dependencies import dependency_report
from chorus_client.errors import InvalidRequestError
from chorus_client.vocabulary import EventKind, Operation, TaskType

TaskId = Annotated[str, Field(description="The task's id (a UUID).")]
ReleaseLock = Annotated[
    bool,
    Field(description="Release the lock in the same write (default). Pass false only to do another operation next."),
]

INSTRUCTIONS = """\
Chorus holds this project's work as a tree of tasks. Each step is one atomic operation under a lock:
1. Find work: next_tasks(operation) shows a queue; claim_next(operation) locks the first task you win.
   Operations: sizing (score a new task), breakdown (split a task sized 7+), implementation (build a
   ready task), refinement (clarify a flagged task).
2. Read get_context(task_id) before you start.
3. Do the one operation: size_task, break_down_task, complete_task or refine_task. Each writes your
   work-log entry and releases the lock.
4. During long work call heartbeat(task_id) every third of the lock's ttl_seconds, or the lock expires.
A LOCK_CONFLICT error means another agent won the task: claim another one, never wait for it.
If you must stop early, release_lock(task_id); if a task is unclear, flag_for_refinement(task_id).
Dependencies: a task that must wait for others is "blocked_by_dependencies" and stays out of the
implementation queue until they are done; get_context's waiting_for and list_dependencies say what it
waits for. add_dependency(task_id, blocker_id) makes one task wait for another; in break_down_task,
a subtask's "after" lists earlier subtasks (by index) it must wait for. recent_activity shows what
other agents did lately.
"""


class Arguments(Body):
    """Tool input, validated like a request body (unknown fields refused)."""


class NoArguments(Arguments):
    pass


class TaskArguments(Arguments):
    task_id: TaskId


class ShowTreeArguments(Arguments):
    project_id: str | None = Field(None, description="Show every task of this project. Give this or task_id.")
    task_id: str | None = Field(None, description="Show only this task's subtree. Give this or project_id.")
    depth: Annotated[int, Field(ge=0, le=15)] | None = Field(None, description="Levels below each root to show.")


class QueueArguments(Arguments):
    operation: Operation = Field(description="Which queue: sizing, breakdown, implementation or refinement.")
    project_id: str | None = Field(None, description="Only tasks of this project (default: every project).")
    task_type: TaskType | None = Field(None, description="Only tasks of this type.")
    min_points: Annotated[int, Field(ge=0, le=10)] | None = Field(None, description="Only tasks this big or more.")
    max_points: Annotated[int, Field(ge=0, le=10)] | None = Field(None, description="Only tasks this big or less.")


class NextTasksArguments(QueueArguments):
    limit: Annotated[int, Field(ge=1, le=50, description="How many tasks to list.")] = 10


class ClaimNextArguments(QueueArguments):
    attempts: Annotated[int, Field(ge=1, le=50, description="Tasks to try before giving up.")] = claims.DEFAULT_ATTEMPTS


class ClaimTaskArguments(TaskArguments):
    purpose: Operation = Field(description="What the lock is for: sizing, breakdown, implementation or refinement.")


class GetContextArguments(TaskArguments):
    include_commits: bool = Field(False, description="Also list the task's commits.")
    max_bytes: Annotated[int, Field(ge=1024, le=6_000_000)] | None = Field(
        None, description="Answer size limit; oldest work-log entries are dropped first."
    )


class SizeTaskArguments(SizeRequest):
    task_id: TaskId
    release_lock: ReleaseLock = True


class BreakDownTaskArguments(BreakdownRequest):
    task_id: TaskId
    release_lock: ReleaseLock = True


class RefineTaskArguments(RefineRequest):
    task_id: TaskId
    release_lock: ReleaseLock = True


class CompleteTaskArguments(CompleteRequest):
    task_id: TaskId
    release_lock: ReleaseLock = True


class AddNoteArguments(TaskArguments):
    content: Annotated[str, Field(min_length=1, max_length=65536, description="The note: a finding, a decision.")]


class FlagArguments(RefinementFlag):
    task_id: TaskId


class AddDependencyArguments(Arguments):
    task_id: str = Field(description="The task that must wait (its id).")
    blocker_id: str = Field(
        description="The task it waits for: until that one is done (or cancelled), task_id is not implemented."
    )


class RemoveDependencyArguments(Arguments):
    task_id: str = Field(description="The task that waits (its id).")
    blocker_id: str = Field(description="The task it should no longer wait for.")


class RecentActivityArguments(Arguments):
    project_id: str = Field(description="The project whose activity to read.")
    task_id: str | None = Field(None, description="Only this task's events (also after it was deleted).")
    since: datetime | None = Field(
        None,
        description="Only events at or after this ISO-8601 timestamp, e.g. 2026-12-05T14:00:00Z (UTC if no offset).",
    )
    kinds: list[EventKind] | None = Field(
        None, description='Only these kinds of event, e.g. ["completed", "lock_expired"].'
    )
    limit: Annotated[int, Field(ge=1, le=500, description="At most this many events, newest first.")] = 50


BodyT = TypeVar("BodyT", bound=OperationBody)


def _operation_body(arguments: OperationBody, body_type: type[BodyT]) -> BodyT:
    """The request body inside a tool's arguments; `release_lock` is always sent, as its default differs."""
    fields = arguments.model_dump(mode="json", exclude_unset=True, exclude={"task_id"})
    return body_type.parse({**fields, "release_lock": arguments.release_lock})


ArgumentsT = TypeVar("ArgumentsT", bound=Body)


@dataclass(frozen=True)
class ChorusTool(Generic[ArgumentsT]):
    name: str
    description: str
    arguments: type[ArgumentsT]
    run: Callable[[ChorusClient, ArgumentsT], dict[str, Any]]
    read_only: bool = False

    def call(self, client: ChorusClient, raw_arguments: dict[str, Any]) -> dict[str, Any]:
        """Validate the arguments (a bad one is a VALIDATION_ERROR like the server's) and run the tool."""
        return self.run(client, self.arguments.parse(raw_arguments))


def _list_projects(client: ChorusClient, _: NoArguments) -> dict[str, Any]:
    projects = all_items(lambda offset: client.list_projects(limit=200, offset=offset))
    return {"projects": [project.to_json() for project in projects]}


def _show_tree(client: ChorusClient, arguments: ShowTreeArguments) -> dict[str, Any]:
    if (arguments.project_id is None) == (arguments.task_id is None):
        raise InvalidRequestError("VALIDATION_ERROR", "Give project_id or task_id (exactly one).")
    if arguments.task_id is not None:
        trees = [client.get_tree(arguments.task_id, depth=arguments.depth)]
    else:
        trees = project_trees(client, arguments.project_id, depth=arguments.depth)
    return {"trees": [tree.to_json() for tree in trees]}


def _queue_filters(arguments: QueueArguments) -> dict[str, Any]:
    return {
        "project_id": arguments.project_id,
        "task_type": arguments.task_type,
        "min_points": arguments.min_points,
        "max_points": arguments.max_points,
    }


def _next_tasks(client: ChorusClient, arguments: NextTasksArguments) -> dict[str, Any]:
    page = client.available(arguments.operation, limit=arguments.limit, **_queue_filters(arguments))
    return {"tasks": [task.to_json() for task in page.items]}


def _claim_next(client: ChorusClient, arguments: ClaimNextArguments) -> dict[str, Any]:
    claim = claims.claim_next(client, arguments.operation, attempts=arguments.attempts, **_queue_filters(arguments))
    return claim.to_json()


def _claim_task(client: ChorusClient, arguments: ClaimTaskArguments) -> dict[str, Any]:
    return claims.claim_task(client, arguments.task_id, arguments.purpose).to_json()


def _get_context(client: ChorusClient, arguments: GetContextArguments) -> dict[str, Any]:
    context = client.get_context(
        arguments.task_id, include_commits=arguments.include_commits, max_bytes=arguments.max_bytes
    )
    result = context.to_json()
    if context.task.waiting:
        result["waiting_for"] = dependency_report(client, context.task).waiting_for()
    return result


def _size_task(client: ChorusClient, arguments: SizeTaskArguments) -> dict[str, Any]:
    return client.size(arguments.task_id, _operation_body(arguments, SizeRequest)).to_json()


def _break_down_task(client: ChorusClient, arguments: BreakDownTaskArguments) -> dict[str, Any]:
    return client.breakdown(arguments.task_id, _operation_body(arguments, BreakdownRequest)).to_json()


def _refine_task(client: ChorusClient, arguments: RefineTaskArguments) -> dict[str, Any]:
    return client.refine(arguments.task_id, _operation_body(arguments, RefineRequest)).to_json()


def _complete_task(client: ChorusClient, arguments: CompleteTaskArguments) -> dict[str, Any]:
    return client.complete(arguments.task_id, _operation_body(arguments, CompleteRequest)).to_json()


def _add_note(client: ChorusClient, arguments: AddNoteArguments) -> dict[str, Any]:
    entry = client.add_work_log(
        arguments.task_id, WorkLogCreate.parse({"operation": "note", "content": arguments.content})
    )
    return entry.to_json()


def _flag(client: ChorusClient, arguments: FlagArguments) -> dict[str, Any]:
    flag = RefinementFlag.parse(arguments.model_dump(mode="json", exclude_unset=True, exclude={"task_id"}))
    return client.flag_for_refinement(arguments.task_id, flag).to_json()


def _heartbeat(client: ChorusClient, arguments: TaskArguments) -> dict[str, Any]:
    return client.heartbeat(arguments.task_id).to_json()


def _release_lock(client: ChorusClient, arguments: TaskArguments) -> dict[str, Any]:
    client.release_lock(arguments.task_id)
    return {"task_id": arguments.task_id, "released": True}


def _add_dependency(client: ChorusClient, arguments: AddDependencyArguments) -> dict[str, Any]:
    dependency = client.add_dependency(arguments.task_id, DependencyCreate.parse({"blocker_id": arguments.blocker_id}))
    return {**dependency.to_json(), "already_existed": dependency.existed}


def _remove_dependency(client: ChorusClient, arguments: RemoveDependencyArguments) -> dict[str, Any]:
    client.remove_dependency(arguments.task_id, arguments.blocker_id)
    return {"task_id": arguments.task_id, "blocker_id": arguments.blocker_id, "removed": True}


def _list_dependencies(client: ChorusClient, arguments: TaskArguments) -> dict[str, Any]:
    report = dependency_report(client, client.get_task(arguments.task_id), with_blocking=True)
    return {
        "task_id": report.task.id,
        "readiness": report.task.readiness,
        "waiting": report.task.waiting,
        "waiting_for": report.waiting_for(),
        "blocked_by": [_brief(task) for task in report.blocked_by],
        "blocking": [_brief(task) for task in report.blocking or []],
    }


def _brief(task: Any) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "status": task.status,
        "readiness": task.readiness,
        "open": task.is_open,
        "waiting": task.waiting,
    }


def _recent_activity(client: ChorusClient, arguments: RecentActivityArguments) -> dict[str, Any]:
    events = recent_events(
        client,
        arguments.project_id,
        limit=arguments.limit,
        task_id=arguments.task_id,
        kinds=arguments.kinds,
        since=arguments.since,
    )
    return {"events": [event.to_json() for event in events]}


TOOLS: tuple[ChorusTool[Any], ...] = (
    ChorusTool(
        "list_projects",
        "List every Chorus project (id, name, description). Start here to find the project_id to work in.",
        NoArguments,
        _list_projects,
        read_only=True,
    ),
    ChorusTool(
        "show_tree",
        "Show a project's task tree, or one task's subtree: each task with status, points, readiness and lock.",
        ShowTreeArguments,
        _show_tree,
        read_only=True,
    ),
    ChorusTool(
        "next_tasks",
        "List unlocked tasks waiting for an operation, best first. Only a look: claim_next makes one yours.",
        NextTasksArguments,
        _next_tasks,
        read_only=True,
    ),
    ChorusTool(
        "claim_next",
        "Lock the first task of an operation's queue that you win (trying the next when another agent won)."
        " Returns the task and your lock. Then call get_context and do that one operation.",
        ClaimNextArguments,
        _claim_next,
    ),
    ChorusTool(
        "claim_task",
        "Lock one given task for an operation, when you were told which task to work on.",
        ClaimTaskArguments,
        _claim_task,
    ),
    ChorusTool(
        "get_context",
        "Everything needed to start a task: the task, its project, ancestors' descriptions and context, its work"
        " log, and whether its context is stale (then check it before relying on it).",
        GetContextArguments,
        _get_context,
        read_only=True,
    ),
    ChorusTool(
        "size_task",
        "Size a task you hold a sizing (or refinement) lock on: score five dimensions 0-2 with a reason each,"
        " and your confidence 0-5. Total 6 or less: one session; 7 or more: it goes to breakdown.",
        SizeTaskArguments,
        _size_task,
    ),
    ChorusTool(
        "break_down_task",
        "Split a task you hold a breakdown lock on into 1-50 subtasks, each small enough for one session.",
        BreakDownTaskArguments,
        _break_down_task,
    ),
    ChorusTool(
        "refine_task",
        "Clarify a task you hold a refinement lock on (name, description, context, type); clears its flag.",
        RefineTaskArguments,
        _refine_task,
    ),
    ChorusTool(
        "complete_task",
        "Mark a task you hold an implementation lock on done, with a work-log entry and the commits of the work."
        " Parents become done by themselves when all their subtasks are.",
        CompleteTaskArguments,
        _complete_task,
    ),
    ChorusTool(
        "add_work_log_note",
        "Add a note to a task's work log: a finding, a decision or a warning for the next agent. No lock needed.",
        AddNoteArguments,
        _add_note,
    ),
    ChorusTool(
        "flag_for_refinement",
        "Flag a task as unclear or wrong, with notes saying why; it moves to the refinement queue. No lock needed.",
        FlagArguments,
        _flag,
    ),
    ChorusTool(
        "heartbeat",
        "Renew your lock on a task; call it every third of the lock's ttl_seconds while you work, or lose it.",
        TaskArguments,
        _heartbeat,
    ),
    ChorusTool(
        "release_lock",
        "Release your lock on a task without finishing the operation, so another agent can take it.",
        TaskArguments,
        _release_lock,
    ),
    ChorusTool(
        "add_dependency",
        "Make a task wait for another task of the same project: it is not offered for implementation until the"
        " blocker is done or cancelled (sizing, breakdown and refinement go on). No lock needed. Refused with"
        " INVALID_DEPENDENCY when it would make a task wait for itself (cycle), crosses projects, or passes 50.",
        AddDependencyArguments,
        _add_dependency,
    ),
    ChorusTool(
        "remove_dependency",
        "Stop a task waiting for another (remove the dependency). No lock needed.",
        RemoveDependencyArguments,
        _remove_dependency,
    ),
    ChorusTool(
        "list_dependencies",
        "What a task waits for and what waits for it, each with status and readiness; waiting_for lists the open"
        " blockers holding it back now (also an ancestor's, which hold back everything below it).",
        TaskArguments,
        _list_dependencies,
        read_only=True,
    ),
    ChorusTool(
        "recent_activity",
        "What happened in a project lately, newest first: tasks created, locks taken and lost, sizings,"
        " breakdowns, completions, dependencies, by whom and when. Filter by task, kinds of event, or since.",
        RecentActivityArguments,
        _recent_activity,
        read_only=True,
    ),
)
