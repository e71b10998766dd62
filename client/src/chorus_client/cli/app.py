"""The `chorus` commands, one per workflow step.

Only typer and the light config/error modules are imported here; the HTTP client, pydantic models,
rich and the MCP SDK load inside the command that needs them, so `chorus --help` stays quick.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args

import typer

from chorus_client import __version__
from chorus_client.cli.exit_codes import exit_code_for
from chorus_client.cli.output import emit, report_error
from chorus_client.config import DEFAULT_URL, Settings
from chorus_client.errors import ChorusError
from chorus_client.vocabulary import EventKind, Operation, QueueSort, Status, TaskType, WorkLogOperation

if TYPE_CHECKING:
    from chorus_client.api import ChorusClient
    from chorus_client.resources import Job

HELP = (
    "Work with Chorus tasks from the command line: queues, locks, sizing, breakdowns, work logs,"
    " dependencies, activity.\n\n"
    "Exit codes: 0 ok; 1 other error; 2 usage or bad request; 3 the lock is not yours (another agent won,"
    " or yours expired); 4 not found or queue empty; 5 the task's state does not allow it (also a refused"
    " dependency); 130 interrupted."
)

app = typer.Typer(
    name="chorus",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

deps_app = typer.Typer(
    name="deps",
    help="Dependencies: which task waits for which. A waiting task is not implemented until its blockers are"
    " done (or cancelled); sizing, breakdown and refinement go on meanwhile.",
    no_args_is_help=True,
)
app.add_typer(deps_app, name="deps")

job_app = typer.Typer(
    name="job",
    help="Background jobs: imports through an upload, and cancels or deletes that reach more than 2 000 tasks.",
    no_args_is_help=True,
)
app.add_typer(job_app, name="job")

CommandT = TypeVar("CommandT", bound=Callable[..., None])

# typer takes a list of an Enum for a repeatable option with a closed set of values (not of a Literal)
EventKindChoice = Enum("EventKindChoice", {kind: kind for kind in get_args(EventKind)}, type=str)

Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout (errors as JSON on stderr).")]
TaskId = Annotated[str, typer.Argument(help="Task id.", show_default=False)]
Message = Annotated[
    str, typer.Option("--message", "-m", help="Work-log entry: what you did and why, for the next agent.")
]
KeepLock = Annotated[
    bool, typer.Option("--keep-lock", help="Keep the lock after this operation (it is released by default).")
]
IdempotencyKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Give the same key when re-running this command (say, after a crash): the server then replays"
        " the first success instead of doing the work twice. Retries inside one run reuse a key by themselves.",
    ),
]
ProjectFilter = Annotated[str | None, typer.Option("--project", "-p", help="Only tasks of this project id.")]
TypeFilter = Annotated[TaskType | None, typer.Option("--type", help="Only tasks of this type.")]
MinPoints = Annotated[int | None, typer.Option("--min-points", help="Only tasks of at least this many points.")]
MaxPoints = Annotated[int | None, typer.Option("--max-points", help="Only tasks of at most this many points.")]
ProjectOption = Annotated[
    str | None,
    typer.Option("--project", "-p", help="Project id (may be left out when there is only one project)."),
]
NoWait = Annotated[
    bool,
    typer.Option(
        "--no-wait",
        help="When the server answers with a background job, print its id and return instead of following it"
        " to the end (chorus job wait ID follows it later).",
    ),
]
Interval = Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between two looks at the job.")]


def _dimension(help_text: str) -> Any:
    return typer.Option(metavar="SCORE REASON", help=help_text, show_default=False)


def command(name: str | None = None, group: typer.Typer = app) -> Callable[[CommandT], CommandT]:
    """Register a command whose Chorus errors become a report and a documented exit code."""

    def register(function: CommandT) -> CommandT:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                function(*args, **kwargs)
            except ChorusError as error:
                report_error(error, kwargs.get("as_json", False))
                raise typer.Exit(exit_code_for(error)) from None

        group.command(name)(run)
        return function

    return register


def _client(ctx: typer.Context) -> ChorusClient:
    """A client with the settings the top-level options resolved."""
    from chorus_client.api import ChorusClient

    return ChorusClient(ctx.find_root().obj)


def _version(value: bool) -> None:
    if value:
        print(f"chorus {__version__}")
        raise typer.Exit()


@app.callback()
def configure(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(envvar="CHORUS_URL", help=f"Chorus API base URL (default {DEFAULT_URL}).")
    ] = None,
    token: Annotated[str | None, typer.Option(envvar="CHORUS_TOKEN", help="Bearer token, when auth is on.")] = None,
    agent: Annotated[
        str | None, typer.Option(envvar="CHORUS_AGENT", help="Your caller label, unique to this agent.")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Connection settings, shared by every command."""
    ctx.obj = Settings.from_env(url=url, token=token, agent=agent)


# -- reading ---------------------------------------------------------------------------------


@command()
def projects(ctx: typer.Context, as_json: Json = False) -> None:
    """List every project, oldest first."""
    from chorus_client.api import all_items
    from chorus_client.cli import render

    with _client(ctx) as client:
        items = all_items(lambda offset: client.list_projects(limit=200, offset=offset))
    emit(items, as_json, render.projects)


@command()
def tree(
    ctx: typer.Context,
    project_id: Annotated[str | None, typer.Argument(help="Project id: show all of its tasks.")] = None,
    task: Annotated[str | None, typer.Option("--task", "-t", help="Show only this task's subtree.")] = None,
    depth: Annotated[int | None, typer.Option(help="Levels below each root to show.")] = None,
    as_json: Json = False,
) -> None:
    """Show a project's task tree (or one task's subtree) with status, points and readiness."""
    from chorus_client.api import project_trees
    from chorus_client.cli import render

    if (project_id is None) == (task is None):
        raise typer.BadParameter("give exactly one of PROJECT_ID and --task TASK_ID", param_hint="PROJECT_ID / --task")
    with _client(ctx) as client:
        if task is not None:
            roots = [client.get_tree(task, depth=depth)]
            title = roots[0].name
        else:
            title = client.get_project(project_id).name
            roots = project_trees(client, project_id, depth=depth)
    emit(roots, as_json, lambda items: render.trees(items, title))


@command()
def show(ctx: typer.Context, task_id: TaskId, as_json: Json = False) -> None:
    """Show one task: status, readiness, points, lock, dependencies, description and context.

    A waiting task (blocked_by_dependencies) says which open blockers it waits for.
    """
    from chorus_client.cli import render
    from chorus_client.dependencies import dependency_report

    with _client(ctx) as client:
        item = client.get_task(task_id)
        report = None if as_json else dependency_report(client, item)
    emit(item, as_json, lambda task: render.task(task, report))


@command()
def context(
    ctx: typer.Context,
    task_id: TaskId,
    commits: Annotated[bool, typer.Option("--commits", help="Include the task's commits.")] = False,
    max_bytes: Annotated[int | None, typer.Option(help="Answer size limit (1024-6000000).")] = None,
    as_json: Json = False,
) -> None:
    """Everything needed to start a task: it, its ancestors, its work log, whether its context is stale.

    A waiting task (blocked_by_dependencies) also says which open blockers it waits for.
    """
    from chorus_client.cli import render
    from chorus_client.dependencies import dependency_report

    with _client(ctx) as client:
        result = client.get_context(task_id, include_commits=commits, max_bytes=max_bytes)
        report = None if as_json else dependency_report(client, result.task)
    emit(result, as_json, lambda item: render.context(item, report))


@command("next")
def next_tasks(
    ctx: typer.Context,
    operation: Annotated[Operation, typer.Argument(help="Which queue.", show_default=False)],
    project: ProjectFilter = None,
    task_type: TypeFilter = None,
    min_points: MinPoints = None,
    max_points: MaxPoints = None,
    sort: Annotated[QueueSort | None, typer.Option(help="Order (default -priority).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many.")] = 10,
    as_json: Json = False,
) -> None:
    """List unlocked tasks waiting for OPERATION, best first. Seeing a task is not a claim: claim-next is."""
    from chorus_client.cli import render

    with _client(ctx) as client:
        page = client.available(
            operation,
            project_id=project,
            task_type=task_type,
            min_points=min_points,
            max_points=max_points,
            sort=sort,
            limit=limit,
        )
    emit(page.items, as_json, lambda items: render.tasks(items, f"Waiting for {operation}"))


# -- locks -----------------------------------------------------------------------------------


@command("claim-next")
def claim_next(
    ctx: typer.Context,
    operation: Annotated[Operation, typer.Argument(help="Which queue.", show_default=False)],
    project: ProjectFilter = None,
    task_type: TypeFilter = None,
    min_points: MinPoints = None,
    max_points: MaxPoints = None,
    attempts: Annotated[int, typer.Option(min=1, max=50, help="Tasks to try before giving up.")] = 5,
    as_json: Json = False,
) -> None:
    """Lock the first task of OPERATION's queue that you win, trying the next when another agent won."""
    from chorus_client import claims
    from chorus_client.cli import render

    with _client(ctx) as client:
        result = claims.claim_next(
            client,
            operation,
            project_id=project,
            task_type=task_type,
            min_points=min_points,
            max_points=max_points,
            attempts=attempts,
        )
    emit(result, as_json, render.claim)


@command()
def claim(
    ctx: typer.Context,
    task_id: TaskId,
    purpose: Annotated[Operation, typer.Argument(help="What the lock is for.", show_default=False)],
    as_json: Json = False,
) -> None:
    """Lock one given task for PURPOSE (claim-next picks the task for you)."""
    from chorus_client import claims
    from chorus_client.cli import render

    with _client(ctx) as client:
        emit(claims.claim_task(client, task_id, purpose), as_json, render.claim)


@command()
def heartbeat(ctx: typer.Context, task_id: TaskId, as_json: Json = False) -> None:
    """Renew your lock on a task (hold does this for you while a command runs)."""
    from chorus_client.cli import render

    with _client(ctx) as client:
        emit(client.heartbeat(task_id), as_json, render.lock)


@command()
def release(
    ctx: typer.Context,
    task_id: TaskId,
    force: Annotated[bool, typer.Option(help="Release another agent's lock (logged as a note).")] = False,
    as_json: Json = False,
) -> None:
    """Release your lock on a task, leaving its status as it is."""
    with _client(ctx) as client:
        client.release_lock(task_id, force=force)
    emit({"task_id": task_id, "released": True}, as_json, lambda result: print(f"Released the lock on {task_id}."))


@command()
def hold(
    ctx: typer.Context,
    task_id: TaskId,
    command_line: Annotated[list[str], typer.Argument(metavar="-- COMMAND...", help="The command to run.")],
    as_json: Json = False,
) -> None:
    """Run a command while heartbeating your lock; release it if the command fails or is interrupted.

    Exits with the command's exit code (130 when interrupted, 3 when the lock was lost).
    """
    from chorus_client.cli import render
    from chorus_client.cli.hold import hold as run_holding

    with _client(ctx) as client:
        result = run_holding(client, task_id, command_line, say=lambda text: render.stderr.print(f"chorus: {text}"))
    emit(dataclasses.asdict(result), as_json, lambda _: None)
    raise typer.Exit(result.exit_code)


# -- operations ------------------------------------------------------------------------------


@command()
def size(
    ctx: typer.Context,
    task_id: TaskId,
    scope_clarity: Annotated[tuple[int, str], _dimension("0 clear .. 2 vague, and why.")],
    decision_points: Annotated[tuple[int, str], _dimension("0 no open decisions .. 2 many, and why.")],
    context_window_demand: Annotated[tuple[int, str], _dimension("0 little code to read .. 2 a lot, and why.")],
    verification_complexity: Annotated[tuple[int, str], _dimension("0 easy to prove .. 2 hard, and why.")],
    domain_specificity: Annotated[tuple[int, str], _dimension("0 general .. 2 specialist, and why.")],
    confidence: Annotated[int, typer.Option(min=0, max=5, help="0-5; 2 or less flags the task for refinement.")],
    message: Message,
    risk: Annotated[list[str] | None, typer.Option(help="A risk factor (repeatable).")] = None,
    suggestions: Annotated[str | None, typer.Option(help="How to break it down, if too big.")] = None,
    keep_lock: KeepLock = False,
    idempotency_key: IdempotencyKey = None,
    as_json: Json = False,
) -> None:
    """Size a task you hold a sizing (or refinement) lock on: five dimensions scored 0-2, total computed."""
    from chorus_client.bodies import SizeRequest
    from chorus_client.cli import render

    scores = {
        "scope_clarity": scope_clarity,
        "decision_points": decision_points,
        "context_window_demand": context_window_demand,
        "verification_complexity": verification_complexity,
        "domain_specificity": domain_specificity,
    }
    body = SizeRequest.parse(
        {
            **{name: {"score": score, "reasoning": reason} for name, (score, reason) in scores.items()},
            "confidence": confidence,
            "work_log_content": message,
            "release_lock": not keep_lock,
            **_given(risk_factors=risk or None, breakdown_suggestions=suggestions),
        }
    )
    with _client(ctx) as client:
        emit(client.size(task_id, body, idempotency_key=idempotency_key), as_json, render.task)


@command()
def breakdown(
    ctx: typer.Context,
    task_id: TaskId,
    message: Message,
    subtask: Annotated[list[str] | None, typer.Option(help="A subtask name (repeatable), of type --type.")] = None,
    task_type: Annotated[TaskType, typer.Option("--type", help="Type of the --subtask tasks.")] = "feature",
    subtasks_file: Annotated[
        Path | None,
        typer.Option(
            help="JSON list of {name, task_type, description?, context?, priority?, points?, after?}; - for stdin."
            " after: indexes of earlier subtasks in the list that this one waits for, e.g. [0, 1].",
        ),
    ] = None,
    in_order: Annotated[
        bool,
        typer.Option("--in-order", help="Each --subtask waits for the one before it (ordered steps)."),
    ] = False,
    parent_description: Annotated[str | None, typer.Option(help="New description for the parent.")] = None,
    keep_lock: KeepLock = False,
    idempotency_key: IdempotencyKey = None,
    as_json: Json = False,
) -> None:
    """Break a task you hold a breakdown lock on into subtasks.

    With --in-order each --subtask waits for the one before; in --subtasks-file, `after` says which wait.
    """
    from chorus_client.bodies import BreakdownRequest
    from chorus_client.cli import render

    if bool(subtask) == (subtasks_file is not None):
        raise typer.BadParameter(
            "give exactly one of --subtask NAME (repeatable) and --subtasks-file", param_hint="--subtask"
        )
    if in_order and not subtask:
        raise typer.BadParameter("--in-order orders --subtask names; in a file, use after", param_hint="--in-order")
    if subtask:
        specs = [
            {"name": name, "task_type": task_type, **({"after": [index - 1]} if in_order and index else {})}
            for index, name in enumerate(subtask)
        ]
    else:
        specs = _read_json_list(subtasks_file)
    body = BreakdownRequest.parse(
        {
            "subtasks": specs,
            "work_log_content": message,
            "release_lock": not keep_lock,
            **_given(parent_description_update=parent_description),
        }
    )
    with _client(ctx) as client:
        emit(client.breakdown(task_id, body, idempotency_key=idempotency_key), as_json, render.breakdown)


@command()
def refine(
    ctx: typer.Context,
    task_id: TaskId,
    message: Message,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    new_context: Annotated[str | None, typer.Option("--context", help="New context.")] = None,
    task_type: Annotated[TaskType | None, typer.Option("--type", help="New type.")] = None,
    confirm_context: Annotated[
        bool, typer.Option("--confirm-context", help="The context is still right: mark it fresh.")
    ] = False,
    keep_lock: KeepLock = False,
    idempotency_key: IdempotencyKey = None,
    as_json: Json = False,
) -> None:
    """Clarify a task you hold a refinement lock on; clears its needs-refinement flag."""
    from chorus_client.bodies import RefineRequest
    from chorus_client.cli import render

    body = RefineRequest.parse(
        {
            "work_log_content": message,
            "release_lock": not keep_lock,
            **_given(
                name=name,
                description=description,
                context=new_context,
                task_type=task_type,
                confirm_context=confirm_context or None,
            ),
        }
    )
    with _client(ctx) as client:
        emit(client.refine(task_id, body, idempotency_key=idempotency_key), as_json, render.task)


@command()
def complete(
    ctx: typer.Context,
    task_id: TaskId,
    message: Message,
    commit: Annotated[
        list[str] | None, typer.Option(metavar="HASH", help="A commit of this work (repeatable).")
    ] = None,
    keep_lock: KeepLock = False,
    idempotency_key: IdempotencyKey = None,
    as_json: Json = False,
) -> None:
    """Mark a task you hold an implementation lock on done, recording its commits."""
    from chorus_client.bodies import CompleteRequest
    from chorus_client.cli import render

    body = CompleteRequest.parse(
        {
            "work_log_content": message,
            "release_lock": not keep_lock,
            **_given(commits=[{"commit_hash": sha} for sha in commit] if commit else None),
        }
    )
    with _client(ctx) as client:
        emit(client.complete(task_id, body, idempotency_key=idempotency_key), as_json, render.task)


@command()
def log(
    ctx: typer.Context,
    task_id: TaskId,
    content: Annotated[str | None, typer.Argument(help="Note to add; leave out to list the work log.")] = None,
    operation: Annotated[WorkLogOperation, typer.Option(help="Kind of entry to add.")] = "note",
    as_json: Json = False,
) -> None:
    """Add a note to a task's work log, or list its work log (oldest first)."""
    from chorus_client.api import all_items
    from chorus_client.bodies import WorkLogCreate
    from chorus_client.cli import render

    with _client(ctx) as client:
        if content is None:
            entries = all_items(lambda offset: client.list_work_log(task_id, limit=200, offset=offset))
            emit(entries, as_json, render.work_log)
        else:
            entry = client.add_work_log(task_id, WorkLogCreate.parse({"operation": operation, "content": content}))
            emit(entry, as_json, lambda item: render.work_log([item]))


@command()
def flag(
    ctx: typer.Context,
    task_id: TaskId,
    notes: Annotated[str, typer.Argument(help="What is unclear or wrong.", show_default=False)],
    as_json: Json = False,
) -> None:
    """Flag a task for refinement (no lock needed); it moves to the refinement queue."""
    from chorus_client.bodies import RefinementFlag
    from chorus_client.cli import render

    with _client(ctx) as client:
        task = client.flag_for_refinement(task_id, RefinementFlag.parse({"refinement_notes": notes}))
    emit(task, as_json, render.task)


# -- setting up ------------------------------------------------------------------------------


@command("create-project")
def create_project(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Project name.", show_default=False)],
    description: Annotated[str | None, typer.Option(help="What the project is for.")] = None,
    as_json: Json = False,
) -> None:
    """Create a project."""
    from chorus_client.bodies import ProjectCreate
    from chorus_client.cli import render

    with _client(ctx) as client:
        project = client.create_project(ProjectCreate.parse({"name": name, **_given(description=description)}))
    emit(project, as_json, lambda item: render.projects([item]))


@command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Task name.", show_default=False)],
    project: Annotated[str | None, typer.Option("--project", "-p", help="Add a top-level task here.")] = None,
    parent: Annotated[str | None, typer.Option(help="Add a subtask of this task.")] = None,
    task_type: Annotated[TaskType, typer.Option("--type", help="Task type.")] = "feature",
    description: Annotated[str | None, typer.Option(help="What done looks like.")] = None,
    new_context: Annotated[str | None, typer.Option("--context", help="What an agent needs to start.")] = None,
    priority: Annotated[int | None, typer.Option(help="-1000..1000, higher first.")] = None,
    points: Annotated[int | None, typer.Option(help="Size by hand (0-10); leave out to have it sized.")] = None,
    as_json: Json = False,
) -> None:
    """Add a task to a project (--project) or under another task (--parent)."""
    from chorus_client.bodies import TaskCreate
    from chorus_client.cli import render

    if (project is None) == (parent is None):
        raise typer.BadParameter(
            "give exactly one of --project PROJECT_ID and --parent TASK_ID", param_hint="--project"
        )
    body = TaskCreate.parse(
        {
            "name": name,
            "task_type": task_type,
            **_given(description=description, context=new_context, priority=priority, points=points),
        }
    )
    with _client(ctx) as client:
        task = client.create_task(project, body) if project else client.create_subtask(parent, body)
    emit(task, as_json, render.task)


# -- dependencies ----------------------------------------------------------------------------

BlockerId = Annotated[str, typer.Argument(help="The task it waits for (the blocker).", show_default=False)]
WaiterId = Annotated[str, typer.Argument(help="The task that waits.", show_default=False)]


@command("add", deps_app)
def deps_add(
    ctx: typer.Context,
    task_id: WaiterId,
    blocker_id: BlockerId,
    idempotency_key: IdempotencyKey = None,
    as_json: Json = False,
) -> None:
    """TASK waits for BLOCKER: it is not implemented until BLOCKER is done or cancelled. No lock needed."""
    from chorus_client.bodies import DependencyCreate
    from chorus_client.cli import render
    from chorus_client.dependencies import dependency_report

    with _client(ctx) as client:
        body = DependencyCreate.parse({"blocker_id": blocker_id})
        dependency = client.add_dependency(task_id, body, idempotency_key=idempotency_key)
        if as_json:
            emit({**dependency.to_json(), "already_existed": dependency.existed}, as_json, lambda _: None)
            return
        report = dependency_report(client, client.get_task(task_id))
    render.dependency_added(report, dependency.blocker_id, dependency.existed)


@command("rm", deps_app)
def deps_rm(
    ctx: typer.Context,
    task_id: WaiterId,
    blocker_id: BlockerId,
    as_json: Json = False,
) -> None:
    """TASK no longer waits for BLOCKER."""
    from chorus_client.cli import render
    from chorus_client.dependencies import dependency_report

    with _client(ctx) as client:
        client.remove_dependency(task_id, blocker_id)
        if as_json:
            emit({"task_id": task_id, "blocker_id": blocker_id, "removed": True}, as_json, lambda _: None)
            return
        report = dependency_report(client, client.get_task(task_id))
    render.dependency_removed(report, blocker_id)


@command("show", deps_app)
def deps_show(ctx: typer.Context, task_id: TaskId, as_json: Json = False) -> None:
    """What TASK waits for and what waits for it, each with its status and readiness.

    When TASK is waiting, it also names the open blockers that hold it back (its own, or an ancestor's).
    """
    from chorus_client.cli import render
    from chorus_client.dependencies import dependency_report

    with _client(ctx) as client:
        report = dependency_report(client, client.get_task(task_id), with_blocking=True)
    emit(report, as_json, render.dependencies)


# -- activity --------------------------------------------------------------------------------


def _project_id(client: ChorusClient, project: str | None, task: str | None = None) -> str:
    """The project given; else the task's; else the only project there is."""
    if project:
        return project
    if task:
        return client.get_task(task).project_id
    listed = client.list_projects(limit=2).items
    if len(listed) == 1:
        return listed[0].id
    raise typer.BadParameter(
        "give the project id (chorus projects lists them)"
        + (": there is no project yet" if not listed else ": there is more than one project"),
        param_hint="--project",
    )


def _since(value: str | None) -> Any:
    """An ISO-8601 timestamp (UTC without an offset), or a span back from now: 90s, 15m, 2h, 3d."""
    import re
    from datetime import UTC, datetime, timedelta

    if value is None:
        return None
    span = re.fullmatch(r"(\d+)\s*([smhd])", value.strip())
    if span:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[span[2]]
        return datetime.now(UTC) - timedelta(**{unit: int(span[1])})
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or "T" not in value.upper():
        raise typer.BadParameter(
            "an ISO-8601 timestamp such as 2026-12-05T14:00:00Z, or a span such as 15m, 2h, 3d", param_hint="--since"
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@command()
def activity(
    ctx: typer.Context,
    project: ProjectOption = None,
    task: Annotated[str | None, typer.Option("--task", "-t", help="Only this task's events.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only events by this actor (agent label, author).")] = None,
    kind: Annotated[
        list[EventKindChoice] | None, typer.Option("--kind", "-k", help="Only this kind of event (repeatable).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only events from then on: 2026-12-05T14:00:00Z, or 15m, 2h, 3d ago.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, max=1000, help="How many events (default 20; with --follow, the last 10 first)."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events, oldest first, until Ctrl-C.")
    ] = False,
    interval: Annotated[float, typer.Option(min=0.2, help="With --follow: seconds between two looks.")] = 2.0,
    as_json: Json = False,
) -> None:
    """What happened in a project, newest first: who created, locked, sized, broke down, completed what.

    With --follow it tails the feed: the last events, then each new one as it arrives, until Ctrl-C (exit 0).

    With --json, --follow prints one JSON object per line (JSON Lines).
    """
    from chorus_client.activity import ActivityFollower, recent_events
    from chorus_client.cli import render

    since_at = _since(since)
    with _client(ctx) as client:
        project_id = _project_id(client, project, task)
        kinds = [choice.value for choice in kind] if kind else None
        if not follow:
            events = recent_events(
                client, project_id, limit=limit or 20, task_id=task, actor=actor, kinds=kinds, since=since_at
            )
            emit(events, as_json, render.events)
            return
        follower = ActivityFollower(client, project_id, task_id=task, actor=actor, kinds=kinds, since=since_at)
        try:
            render.event_lines(follower.start(10 if limit is None else limit), as_json)
            while True:
                time.sleep(interval)
                render.event_lines(follower.poll(), as_json)
        except KeyboardInterrupt:
            return


@command()
def agents(
    ctx: typer.Context,
    project: ProjectOption = None,
    hours: Annotated[int, typer.Option(min=1, max=168, help="Look back this many hours.")] = 24,
    as_json: Json = False,
) -> None:
    """Who worked on a project lately: last seen, events, operations, expired locks, live locks.

    An agent whose locks expired and who was not seen since may be stuck or gone.
    """
    from chorus_client.cli import render

    with _client(ctx) as client:
        rows = client.agents(_project_id(client, project), hours=hours)
    emit(rows, as_json, lambda items: render.agents(items, hours))


@command()
def history(
    ctx: typer.Context,
    project: ProjectOption = None,
    days: Annotated[int, typer.Option(min=1, max=365, help="How many days, ending today.")] = 14,
    as_json: Json = False,
) -> None:
    """The project's burn-up, one line per UTC day: points and tasks done of the total, and events."""
    from chorus_client.cli import render

    with _client(ctx) as client:
        points = client.history(_project_id(client, project), days=days)
    emit(points, as_json, render.history)


# -- jobs, and the commands that may start one ----------------------------------------------


def _follow_job(client: ChorusClient, job: Job, *, no_wait: bool, as_json: bool, interval: float = 1.0) -> Job | None:
    """The job, followed to its end with progress (a failure raises its typed error); None with --no-wait,
    after printing the job for the caller to follow later."""
    from chorus_client.cli import render
    from chorus_client.cli.progress import wait_with_progress
    from chorus_client.jobs import raise_for_failure

    if no_wait:
        emit(job, as_json, render.job_started)
        return None
    return raise_for_failure(wait_with_progress(client, job, interval_seconds=interval))


@command("show", job_app)
def job_show(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job id.", show_default=False)],
    as_json: Json = False,
) -> None:
    """A job's kind, status, progress, and its result or error."""
    from chorus_client.cli import render

    with _client(ctx) as client:
        emit(client.get_job(job_id), as_json, render.job)


@command("wait", job_app)
def job_wait(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job id.", show_default=False)],
    interval: Interval = 1.0,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Give up waiting after this many seconds (exit 1; the job goes on).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Follow a job to its end: a progress bar on a terminal, progress lines otherwise (on stderr).

    Exits 0 when it succeeded; when it failed, prints its error and exits with that error's code.
    """
    from chorus_client.cli import render
    from chorus_client.cli.progress import wait_with_progress
    from chorus_client.jobs import raise_for_failure

    with _client(ctx) as client:
        job = client.get_job(job_id)
        finished = wait_with_progress(client, job, interval_seconds=interval, timeout_seconds=timeout)
    emit(raise_for_failure(finished), as_json, render.job)


@command("status")
def set_status(
    ctx: typer.Context,
    task_id: TaskId,
    new_status: Annotated[Status, typer.Argument(metavar="STATUS", help="todo, doing, done or wont_do.")],
    no_wait: NoWait = False,
    as_json: Json = False,
) -> None:
    """Set a task's status, with the SPEC's cascades (wont_do cancels the open subtasks too).

    A cancel that reaches more than 2 000 tasks runs as a background job, followed to its end unless --no-wait.
    """
    from chorus_client.cli import render
    from chorus_client.resources import Job as JobResource

    with _client(ctx) as client:
        result = client.set_status(task_id, new_status)
        if isinstance(result, JobResource):
            if _follow_job(client, result, no_wait=no_wait, as_json=as_json) is None:
                return
            result = client.get_task(task_id)
    emit(result, as_json, render.task)


@command()
def delete(
    ctx: typer.Context,
    task_id: TaskId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: needed when not on a terminal.")] = False,
    no_wait: NoWait = False,
    as_json: Json = False,
) -> None:
    """Delete a task and its whole subtree, with their work logs, commits, locks and dependencies.

    More than 2 000 tasks run as a background job, followed to its end unless --no-wait.
    """
    with _client(ctx) as client:
        if not yes:
            if not sys.stdin.isatty():
                raise typer.BadParameter("a delete cannot be undone: pass --yes to confirm it", param_hint="--yes")
            doomed = client.get_task(task_id)
            typer.confirm(
                f"Delete “{doomed.name}” ({task_id}) and all below it ({doomed.children_count} direct subtasks)?",
                abort=True,
            )
        job = client.delete_task(task_id)
        if job is not None and _follow_job(client, job, no_wait=no_wait, as_json=as_json) is None:
            return
    emit({"task_id": task_id, "deleted": True}, as_json, lambda _: print(f"Deleted {task_id} and its subtree."))


INLINE_IMPORT_LIMIT = 6_000_000
"""Bytes: a larger export goes through an upload URL and a background job (SPEC section 7)."""


@command("import")
def import_project(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An export (JSON) to import as a new project; - for stdin.")],
    upload: Annotated[
        bool,
        typer.Option(
            "--upload", help="Go through an upload URL and a job even when under 6 MB (larger ones always do)."
        ),
    ] = False,
    no_wait: NoWait = False,
    as_json: Json = False,
) -> None:
    """Import an export as a new project (new ids, same tree, logs, commits and dependencies).

    Up to 6 MB it is sent inline; larger, it is uploaded and imported by a job, followed unless --no-wait.
    """
    from chorus_client.cli import render

    document = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    with _client(ctx) as client:
        if upload or len(document) > INLINE_IMPORT_LIMIT:
            uploaded = client.upload_import(document)
            job = client.import_upload(uploaded.upload_id)
            finished = _follow_job(client, job, no_wait=no_wait, as_json=as_json)
            if finished is None:
                return
            project = client.get_project(str((finished.result or {})["project_id"]))
        else:
            project = client.import_project(_json_object(document, path))
    emit(project, as_json, render.project_detail)


@command()
def export(
    ctx: typer.Context,
    project_id: Annotated[str, typer.Argument(help="Project id.", show_default=False)],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write it to this file (default: stdout).")
    ] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="A TASKS.md-style checklist instead of JSON.")] = False,
    as_json: Json = False,
) -> None:
    """Export a project: the lossless JSON snapshot that `chorus import` reads, or a Markdown checklist."""
    import json

    with _client(ctx) as client:
        if markdown:
            content = client.export_project_markdown(project_id).encode("utf-8")
        else:
            snapshot = client.export_project(project_id)
            if "download_url" in snapshot and "tasks" not in snapshot:  # over 6 MB: fetched from storage
                content = client.download(snapshot["download_url"])
            else:
                content = json.dumps(snapshot, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    output.write_bytes(content)
    summary = {"project_id": project_id, "path": str(output), "bytes": len(content)}
    emit(summary, as_json, lambda _: print(f"Wrote {len(content)} bytes to {output}."))


@command("mcp")
def mcp_server(ctx: typer.Context) -> None:
    """Serve the Chorus tools to an MCP client over stdio (configure it with CHORUS_URL and CHORUS_AGENT)."""
    from chorus_client.mcp_server import serve

    serve(ctx.find_root().obj)


def _given(**fields: Any) -> dict[str, Any]:
    """Only the options the user gave, so the server's defaults apply to the rest."""
    return {key: value for key, value in fields.items() if value is not None}


def _json_object(document: bytes, path: Path) -> dict[str, Any]:
    import json

    try:
        value = json.loads(document)
    except ValueError as error:
        raise typer.BadParameter(f"{path} is not JSON: {error}", param_hint="PATH") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{path} must hold a JSON object (an export)", param_hint="PATH")
    return value


def _read_json_list(path: Path) -> list[Any]:
    import json

    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    items = json.loads(text)
    if not isinstance(items, list):
        raise typer.BadParameter(f"{path} must hold a JSON list of subtasks", param_hint="--subtasks-file")
    return items


def main() -> None:
    """Console-script entry point."""
    app()
