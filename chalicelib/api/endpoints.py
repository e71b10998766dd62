"""The endpoint table: for each route, its body and query models, what it returns, and the
service that does the work. Requests are validated from it and /openapi.json is made from it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from chalice import Response

from chalicelib import config
from chalicelib.api import models as m
from chalicelib.api import queries as q
from chalicelib.api.http import (
    BODY_LIMIT,
    IMPORT_BODY_LIMIT,
    guarded,
    json_response,
    parse_body,
    parse_query,
    read_json_object,
)
from chalicelib.errors import validation_error
from chalicelib.services.common import Call, Caller, Result

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    run: Callable[..., Result]
    summary: str
    status: int = 200
    body: type | None = None
    query: type | None = None
    response: Any = None
    idempotent: bool = False
    body_limit: int = BODY_LIMIT
    alternative_body: type | None = None  # a body carrying exactly this model's fields
    other_responses: tuple = ()  # (status, model or None, description): other successes


def _services(name: str):
    import importlib

    return importlib.import_module(f"chalicelib.services.{name}")


def _health(call, body, query) -> Result:
    return Result(200, {"status": "ok", "version": config.VERSION,
                        "datastore": config.datastore_label()})


def _openapi(call, body, query) -> Result:
    from chalicelib.api.openapi import document

    return Result(200, document())


ENDPOINTS: list[Endpoint] = [
    Endpoint("health", "GET", "/health", _health, "Liveness, version and datastore.",
             response=m.Health),
    Endpoint("openapi", "GET", "/openapi.json", _openapi, "This OpenAPI 3.1 document.",
             response=dict[str, Any]),
    # projects
    Endpoint("create_project", "POST", "/projects",
             lambda c, b, qy: _services("projects").create_project(c, b),
             "Create a project.", 201, m.ProjectCreate, response=m.Project, idempotent=True),
    Endpoint("list_projects", "GET", "/projects",
             lambda c, b, qy: _services("projects").list_projects(qy.offset, qy.limit),
             "Projects, oldest first.", query=q.Paging, response=list[m.Project]),
    Endpoint("get_project", "GET", "/projects/{project_id}",
             lambda c, b, qy, project_id: _services("projects").project_detail(project_id),
             "A project with its counters.", response=m.ProjectDetail),
    Endpoint("update_project", "PUT", "/projects/{project_id}",
             lambda c, b, qy, project_id: _services("projects").update_project(c, project_id, b),
             "Rename or describe a project.", body=m.ProjectUpdate, response=m.Project),
    Endpoint("delete_project", "DELETE", "/projects/{project_id}",
             lambda c, b, qy, project_id: _services("projects").delete_project(c, project_id),
             "Delete a project and everything in it.", 204),
    Endpoint("list_top_level_tasks", "GET", "/projects/{project_id}/tasks",
             lambda c, b, qy, project_id: _services("tasks").list_top_level(
                 project_id, qy.offset, qy.limit),
             "Top-level tasks by position.", query=q.Paging, response=list[m.Task]),
    Endpoint("create_task", "POST", "/projects/{project_id}/tasks",
             lambda c, b, qy, project_id: _services("tasks").create_task(c, project_id, b),
             "Create a top-level task.", 201, m.TaskCreate, response=m.Task, idempotent=True),
    Endpoint("export_project", "GET", "/projects/{project_id}/export",
             lambda c, b, qy, project_id: _services("transfer").export_project(
                 project_id, qy.format == "markdown"),
             "A lossless snapshot (or a download URL when over 6 MB); ?format=markdown gives "
             "a checklist.", query=q.ExportQuery,
             response=m.ProjectExport | m.LargeExport),
    Endpoint("import_project", "POST", "/projects/import",
             lambda c, b, qy: _services("transfer").import_project(c, b),
             "Create a new project from an export (inline, or {upload_id}: a job).", 201,
             m.ProjectExport, response=m.ProjectDetail, idempotent=True,
             body_limit=IMPORT_BODY_LIMIT, alternative_body=m.ImportUploadRef,
             other_responses=((202, m.Job, "A background job started (or already running); Location: /jobs/{id}"),)),
    Endpoint("create_import_upload", "POST", "/projects/import-uploads",
             lambda c, b, qy: _services("transfer").create_upload(c),
             "A short-lived URL to PUT an import larger than 6 MB.", 201,
             response=m.ImportUpload),
    # tasks
    Endpoint("create_subtask", "POST", "/tasks/{task_id}/subtasks",
             lambda c, b, qy, task_id: _services("tasks").create_subtask(c, task_id, b),
             "Create a subtask.", 201, m.TaskCreate, response=m.Task, idempotent=True),
    Endpoint("get_task", "GET", "/tasks/{task_id}",
             lambda c, b, qy, task_id: _services("tasks").get_task(task_id),
             "A task.", response=m.Task),
    Endpoint("update_task", "PUT", "/tasks/{task_id}",
             lambda c, b, qy, task_id: _services("tasks").update_task(c, task_id, b),
             "Change some of a task's fields.", body=m.TaskUpdate, response=m.Task),
    Endpoint("delete_task", "DELETE", "/tasks/{task_id}",
             lambda c, b, qy, task_id: _services("tasks").delete_task(c, task_id),
             "Delete a task and its subtree (a job past 2 000 tasks).", 204,
             other_responses=((202, m.Job, "A background job started (or already running); Location: /jobs/{id}"),)),
    Endpoint("get_tree", "GET", "/tasks/{task_id}/tree",
             lambda c, b, qy, task_id: _services("tasks").get_tree(task_id, qy.depth),
             "A task and its subtree.", query=q.TreeQuery, response=m.TaskTree),
    Endpoint("get_ancestry", "GET", "/tasks/{task_id}/ancestry",
             lambda c, b, qy, task_id: _services("tasks").get_ancestry(task_id),
             "Ancestors root first, then the task.", response=list[m.Task]),
    Endpoint("get_context", "GET", "/tasks/{task_id}/context",
             lambda c, b, qy, task_id: _services("context").get_context(
                 task_id, qy.include_commits, qy.max_bytes),
             "Everything needed to work on a task, within max_bytes.", query=q.ContextQuery,
             response=m.TaskContext),
    Endpoint("change_status", "PATCH", "/tasks/{task_id}/status",
             lambda c, b, qy, task_id: _services("tasks").change_status(c, task_id, b),
             "Change a task's status (with cascades; a cancel past 2 000 tasks is a job).",
             body=m.StatusChange, response=m.Task, other_responses=((202, m.Job, "A background job started (or already running); Location: /jobs/{id}"),)),
    Endpoint("reorder_task", "PATCH", "/tasks/{task_id}/reorder",
             lambda c, b, qy, task_id: _services("tasks").reorder(c, task_id, b.position),
             "Move a task among its siblings.", body=m.Reorder, response=m.Task),
    # locks
    Endpoint("acquire_lock", "POST", "/tasks/{task_id}/lock",
             lambda c, b, qy, task_id: _services("locks").acquire(c, task_id, b),
             "Lock a task for one operation (200 when the holder re-acquires).", 201,
             m.LockAcquire, response=m.Lock),
    Endpoint("heartbeat_lock", "PATCH", "/tasks/{task_id}/lock/heartbeat",
             lambda c, b, qy, task_id: _services("locks").heartbeat(c, task_id, qy.caller_label),
             "Extend the caller's lock.", query=q.HeartbeatQuery, response=m.Lock),
    Endpoint("release_lock", "DELETE", "/tasks/{task_id}/lock",
             lambda c, b, qy, task_id: _services("locks").release(
                 c, task_id, qy.caller_label, qy.force),
             "Release a lock (the holder's, or any with force=true).", 204,
             query=q.ReleaseQuery),
    Endpoint("list_locks", "GET", "/locks",
             lambda c, b, qy: _services("locks").list_locks(qy.project_id, qy.offset, qy.limit),
             "Live locks, soonest expiry first.", query=q.LocksQuery, response=list[m.Lock]),
    # atomic operations
    Endpoint("size_task", "POST", "/tasks/{task_id}/size",
             lambda c, b, qy, task_id: _services("operations").size(c, task_id, b),
             "Record a sizing (sizing or refinement lock).", body=m.SizeBody, response=m.Task,
             idempotent=True),
    Endpoint("break_down_task", "POST", "/tasks/{task_id}/breakdown",
             lambda c, b, qy, task_id: _services("operations").breakdown(c, task_id, b),
             "Create subtasks (breakdown lock).", body=m.BreakdownBody, response=m.Breakdown,
             idempotent=True),
    Endpoint("refine_task", "POST", "/tasks/{task_id}/refine",
             lambda c, b, qy, task_id: _services("operations").refine(c, task_id, b),
             "Clarify a task and clear its refinement flag (refinement lock).",
             body=m.RefineBody, response=m.Task, idempotent=True),
    Endpoint("complete_task", "POST", "/tasks/{task_id}/complete",
             lambda c, b, qy, task_id: _services("operations").complete(c, task_id, b),
             "Finish a task with its commits (implementation lock).", body=m.CompleteBody,
             response=m.Task, idempotent=True),
    Endpoint("flag_refinement", "POST", "/tasks/{task_id}/flag-refinement",
             lambda c, b, qy, task_id: _services("operations").flag_refinement(c, task_id, b),
             "Flag a task for refinement (no lock needed).", body=m.FlagRefinement,
             response=m.Task),
    Endpoint("add_work_log", "POST", "/tasks/{task_id}/work-log",
             lambda c, b, qy, task_id: _services("operations").add_work_log(c, task_id, b),
             "Append a work-log entry.", 201, m.WorkLogCreate, response=m.WorkLogEntry,
             idempotent=True),
    Endpoint("list_work_log", "GET", "/tasks/{task_id}/work-log",
             lambda c, b, qy, task_id: _services("operations").list_work_log(
                 task_id, qy.offset, qy.limit),
             "The work log, oldest first.", query=q.Paging, response=list[m.WorkLogEntry]),
    Endpoint("record_commit", "POST", "/tasks/{task_id}/commits",
             lambda c, b, qy, task_id: _services("operations").record_commit(c, task_id, b),
             "Record a commit (200 with the stored one if known).", 201, m.CommitCreate,
             response=m.Commit, idempotent=True,
             other_responses=((200, m.Commit, "The commit was known: the stored record"),)),
    # dependencies
    Endpoint("add_dependency", "POST", "/tasks/{task_id}/dependencies",
             lambda c, b, qy, task_id: _services("dependencies").add_dependency(c, task_id, b),
             "Make the task wait for another (200 with the edge if it exists).", 201,
             m.DependencyCreate, response=m.Dependency, idempotent=True,
             other_responses=((200, m.Dependency, "The edge existed: unchanged"),)),
    Endpoint("remove_dependency", "DELETE", "/tasks/{task_id}/dependencies/{blocker_id}",
             lambda c, b, qy, task_id, blocker_id: _services("dependencies").remove_dependency(
                 c, task_id, blocker_id, qy.author),
             "Stop the task waiting for that blocker.", 204, query=q.AuthorQuery),
    Endpoint("list_dependencies", "GET", "/tasks/{task_id}/dependencies",
             lambda c, b, qy, task_id: _services("dependencies").list_dependencies(task_id),
             "The task's blockers and the tasks that wait for it.",
             response=m.Dependencies),
    # jobs, activity, history
    Endpoint("get_job", "GET", "/jobs/{job_id}",
             lambda c, b, qy, job_id: _services("jobs").get_job(c, job_id),
             "A background job (its starter or an admin may read it).", response=m.Job),
    Endpoint("activity", "GET", "/projects/{project_id}/activity",
             lambda c, b, qy, project_id: _services("activity").activity(
                 project_id, qy.offset, qy.limit, qy.task_id, qy.actor, qy.kind, qy.since),
             "Events, newest first.", query=q.ActivityQuery, response=list[m.Event]),
    Endpoint("history", "GET", "/projects/{project_id}/history",
             lambda c, b, qy, project_id: _services("activity").history(project_id, qy.days),
             "The daily burn-up series, oldest first, ending today.", query=q.HistoryQuery,
             response=list[m.HistoryPoint]),
    Endpoint("agents", "GET", "/projects/{project_id}/agents",
             lambda c, b, qy, project_id: _services("activity").agents(project_id, qy.hours),
             "Actors seen in the last hours: last seen, operations, expired locks, live "
             "locks.", query=q.AgentsQuery, response=list[m.Agent]),
    Endpoint("list_commits", "GET", "/tasks/{task_id}/commits",
             lambda c, b, qy, task_id: _services("operations").list_commits(
                 task_id, qy.offset, qy.limit),
             "Commits, oldest committed_at first.", query=q.Paging, response=list[m.Commit]),
    # queues
    Endpoint("backlog", "GET", "/projects/{project_id}/backlog",
             lambda c, b, qy, project_id: _services("queues").backlog(
                 project_id, qy.offset, qy.limit, qy.sort),
             "todo tasks that are ready.", query=q.QueueQuery, response=list[m.Task]),
    Endpoint("in_progress", "GET", "/projects/{project_id}/in-progress",
             lambda c, b, qy, project_id: _services("queues").in_progress(
                 project_id, qy.offset, qy.limit, qy.sort),
             "doing tasks, each with its live lock or null (stalled).", query=q.QueueQuery,
             response=list[m.Task]),
    Endpoint("needs_refinement", "GET", "/projects/{project_id}/needs-refinement",
             lambda c, b, qy, project_id: _services("queues").needs_refinement(
                 project_id, qy.offset, qy.limit, qy.sort),
             "Open tasks flagged for refinement.", query=q.QueueQuery, response=list[m.Task]),
    Endpoint("available", "GET", "/tasks/available",
             lambda c, b, qy: _services("queues").available(
                 qy.operation, qy.project_id, qy.task_type, qy.min_points, qy.max_points,
                 qy.offset, qy.limit, qy.sort),
             "Unlocked tasks ready for an operation.", query=q.AvailableQuery,
             response=list[m.Task]),
]
BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def _caller(request: Any) -> Caller:
    """Authenticated by the middleware (chalicelib.api.http) before anything else."""
    from chalicelib.api.http import request_caller
    from chalicelib.services.tokens import authenticate

    return request_caller() or authenticate(request.headers.get("authorization"))


def _idempotency_key(request: Any) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise validation_error(["header", "Idempotency-Key"],
                               "must be 1-255 visible ASCII characters")
    return key


def _to_response(result: Result) -> Response:
    headers = dict(result.headers)
    if result.body is None:
        return Response(body="", status_code=result.status, headers=headers)
    if isinstance(result.body, str):
        return Response(body=result.body, status_code=result.status,
                        headers={"Content-Type": "application/json", **headers})
    return json_response(result.body, result.status, headers)


def handle(request: Any, name: str, **path: str) -> Response:
    """Validate the request against its endpoint's models, run the service, answer."""
    endpoint = BY_NAME[name]

    @guarded
    def run() -> Response:
        caller = _caller(request) if endpoint.name != "health" else Caller()
        raw = request.raw_body
        body, sent = None, None
        if endpoint.body is not None:
            sent = read_json_object(raw, endpoint.body_limit)
            model = endpoint.body
            alternative = endpoint.alternative_body
            if alternative is not None and set(sent) == set(alternative.model_fields):
                model = alternative
            body = parse_body(raw, model, endpoint.body_limit)
        query = parse_query(request.query_params, endpoint.query) if endpoint.query else None
        call = Call(caller=caller, method=endpoint.method, path=endpoint.path.format(**path),
                    idempotency_key=_idempotency_key(request) if endpoint.idempotent else None,
                    body=sent)
        return _to_response(endpoint.run(call, body, query, **path))

    return run()

