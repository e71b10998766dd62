"""Export and import of whole projects (SPEC §7), and the markdown checklist."""
from __future__ import annotations

import json
import uuid
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.api.http import dumps, parse_body
from chalicelib.api.models import ImportUploadRef, ProjectExport
from chalicelib.clock import normalize_iso, now_iso
from chalicelib.domain.dependencies import (
    MAX_BLOCKERS,
    MAX_DEPENDENTS,
    Edge,
    blocker_ids,
    blockers,
    dependents,
    inherited_by_children,
    set_blockers,
    set_dependents,
    would_cycle,
)
from chalicelib.domain.readiness import effective_points
from chalicelib.domain.status import OPEN
from chalicelib.domain.tree import Workspace
from chalicelib.errors import (
    ChorusError,
    DepthLimitExceeded,
    Forbidden,
    InvalidDependency,
    NotFound,
    validation_error,
)
from chalicelib.services import jobs
from chalicelib.services.auth import request_actor
from chalicelib.services.common import (
    RESPONSE_LIMIT,
    Call,
    Result,
    add_claim,
    new_id,
    require_uuid,
    write,
)
from chalicelib.services.jobs import Lease
from chalicelib.services.tasks import MAX_DEPTH, build_task
from chalicelib.store import jobs as job_store
from chalicelib.store import objects, projects as project_store, transfer as transfer_store
from chalicelib.store.db import Transaction
from chalicelib.store.records import new_commit, new_log_entry
from chalicelib.store.tables import ProjectItem, TaskItem
from chalicelib.store.tasks import commit, get_project
from chalicelib.views import project_detail_view

FORMAT_VERSION = 2
UPLOAD_LIMIT = 250_000_000  # a 100 000-task export with logs; the worker parses it in ~2 GB
EXPORTED_TASK_FIELDS = (
    "id", "parent_task_id", "name", "description", "context", "task_type", "status",
    "priority", "points", "points_breakdown", "sizing_confidence", "needs_refinement",
    "refinement_notes", "context_captured_at", "content_changed_at", "position",
    "created_at", "updated_at",
)


# -- export -------------------------------------------------------------------------------
def _tree_order(tasks: list[TaskItem]) -> list[TaskItem]:
    """Depth-first by position: parents before children, siblings in order."""
    children: dict[str | None, list[TaskItem]] = {}
    for task in tasks:
        children.setdefault(task.parent_task_id, []).append(task)
    ordered: list[TaskItem] = []
    stack = sorted(children.get(None, []), key=lambda t: t.position, reverse=True)
    while stack:
        task = stack.pop()
        ordered.append(task)
        stack += sorted(children.get(task.id, []), key=lambda t: t.position, reverse=True)
    return ordered


def _exported_task(task: TaskItem, logs: list, commits: list) -> dict:
    record: dict[str, Any] = {field: getattr(task, field) for field in EXPORTED_TASK_FIELDS}
    for field in ("priority", "points", "sizing_confidence", "position"):
        if record[field] is not None:
            record[field] = int(record[field])
    record["needs_refinement"] = bool(task.needs_refinement)
    record["points_breakdown"] = json.loads(task.points_breakdown) if task.points_breakdown \
        else None
    record["work_log_entries"] = [
        {"id": e.id, "author": e.author, "operation": e.operation, "content": e.content,
         "created_at": e.created_at} for e in logs]
    record["blocked_by"] = blocker_ids(task)
    record["commits"] = [
        {"id": c.id, "author": c.author, "commit_hash": c.commit_hash, "message": c.message,
         "committed_at": c.committed_at} for c in commits]
    return record


def _load(project_id: str) -> tuple[ProjectItem, list[TaskItem], dict, dict]:
    project = get_project(require_uuid(project_id, "Project"))
    if project is None:
        raise NotFound("Project not found.", {"project_id": project_id})
    tasks, logs, commits = transfer_store.read_project(project.id)
    return project, _tree_order(tasks), logs, commits


def export_project(project_id: str, markdown: bool) -> Result:
    project, tasks, logs, commits = _load(project_id)
    if markdown:
        return Result(200, _markdown(project, tasks),
                      {"Content-Type": "text/markdown; charset=utf-8"})
    document = {
        "format_version": FORMAT_VERSION,
        "exported_at": now_iso(),
        "project": {"id": project.id, "name": project.name, "description": project.description,
                    "created_at": project.created_at, "updated_at": project.updated_at},
        "tasks": [
            _exported_task(task, logs.get(task.id, []),
                           sorted(commits.get(task.id, []),
                                  key=lambda c: (c.committed_at, c.recorded_at)))
            for task in tasks
        ],
    }
    text = dumps(document)
    size = len(text.encode("utf-8"))
    if size <= RESPONSE_LIMIT:
        return Result(200, text)
    url, expires_at = objects.store_export(project.id, text.encode("utf-8"))
    return Result(200, {"download_url": url, "expires_at": expires_at, "size_bytes": size})


def _markdown_line(task: TaskItem) -> str:
    done = task.status in ("done", "wont_do")
    name = f"~~{task.name}~~" if task.status == "wont_do" else task.name
    notes = [task.task_type]
    points = effective_points(task)
    if points is not None:
        notes.append(f"{points} pts")
    if task.status in ("doing", "wont_do"):
        notes.append(task.status)
    indent = "  " * int(task.depth)
    return f"{indent}- [{'x' if done else ' '}] {name} ({', '.join(notes)})"


def _markdown(project: ProjectItem, tasks: list[TaskItem]) -> str:
    lines = [f"# {project.name}", ""]
    if project.description:
        lines += [project.description, ""]
    lines += [_markdown_line(task) for task in tasks]
    return "\n".join(lines) + "\n"


# -- import -------------------------------------------------------------------------------
IMPORT_NAMESPACE = uuid.UUID("3b0f7a56-52a7-4a43-9b64-7b2f62a0e1c4")
WRITE_SLICE = 4000  # items between two progress checkpoints of an import job


def create_upload(call: Call) -> Result:
    if not call.caller.is_admin:
        raise Forbidden("Only an admin token may import projects.")
    upload_id, url, expires_at = objects.create_import_upload()
    return Result(201, {"upload_id": upload_id, "upload_url": url, "expires_at": expires_at})


def _iso(value) -> str | None:
    return normalize_iso(value) if value is not None else None


@dataclass
class Plan:
    """Every item of a new project, built in memory and checked against the SPEC's rules."""
    project: ProjectItem
    tasks: list[TaskItem]
    logs: list
    commits: list

    def items(self) -> list:
        return [*self.tasks, *self.logs, *self.commits]


def _ids(seed: str | None) -> Callable[[str], str]:
    """New ids: random inline; derived from the job inline with a job, so a step that
    resumes after a crash writes the same items again, not new ones."""
    if seed is None:
        return lambda key: new_id()
    namespace = uuid.UUID(seed)
    return lambda key: str(uuid.uuid5(namespace, key))


def _plan(export: ProjectExport, now: str, actor: str, seed: str | None = None) -> Plan:
    make_id = _ids(seed)
    project = project_store.new_project(make_id("project"), export.project.name,
                                        export.project.description, now)
    workspace = Workspace([], now)
    new_ids: dict[str, TaskItem] = {}
    next_position: dict[str | None, int] = {}
    logs, commits = [], []
    for index, spec in enumerate(export.tasks):
        where = ["body", "tasks", index]
        if spec.id in new_ids:
            raise validation_error(where + ["id"], "task ids must be unique")
        if export.format_version == 1 and "blocked_by" in spec.model_fields_set:
            raise validation_error(where + ["blocked_by"],
                                   "format_version 1 has no blocked_by (use version 2)")
        parent = None
        if spec.parent_task_id is not None:
            parent = new_ids.get(spec.parent_task_id)
            if parent is None:
                raise validation_error(where + ["parent_task_id"],
                                       "a parent must come before its children")
            if parent.depth + 1 > MAX_DEPTH:
                raise DepthLimitExceeded(details={"task_index": index, "max_depth": MAX_DEPTH})
            if spec.status in OPEN and parent.status in ("done", "wont_do"):
                raise validation_error(where + ["status"],
                                       f"an open task cannot be under a {parent.status} task")
        key = parent.id if parent is not None else None
        position = next_position.get(key, 0)
        next_position[key] = position + 1
        task = build_task(project.id, parent, spec, now, position, make_id(f"task:{index}"))
        task.status = spec.status
        task.points_breakdown = (dumps(spec.points_breakdown.model_dump(mode="json"))
                                 if spec.points_breakdown else None)
        task.sizing_confidence = spec.sizing_confidence
        task.needs_refinement = spec.needs_refinement
        task.refinement_notes = spec.refinement_notes
        task.context_captured_at = _iso(spec.context_captured_at)
        task.content_changed_at = _iso(spec.content_changed_at) or now
        task.created_at = _iso(spec.created_at) or now
        task.updated_at = _iso(spec.updated_at) or task.created_at
        new_ids[spec.id] = task
        hashes = set()
        for number, entry in enumerate(spec.work_log_entries):
            logs.append(new_log_entry(task, entry.author, entry.operation, entry.content,
                                      normalize_iso(entry.created_at),
                                      make_id(f"log:{index}:{number}")))
        for number, commit in enumerate(spec.commits):
            commit_hash = commit.commit_hash.lower()
            if commit_hash in hashes:
                raise validation_error(where + ["commits", number, "commit_hash"],
                                       "a commit hash appears twice on one task")
            hashes.add(commit_hash)
            commits.append(new_commit(
                task, make_id(f"commit:{index}:{number}"), commit_hash, commit.author,
                commit.message, normalize_iso(commit.committed_at), f"{now}#{number:06d}"))
    _plan_edges(export, new_ids, now, actor)
    workspace.add_tree(list(new_ids.values()))
    for field, value in workspace.finish().items():
        setattr(project, field, int(getattr(project, field)) + value)
    project.top_level_count = next_position.get(None, 0)
    return Plan(project, workspace.written(), logs, commits)


class _EdgeIndex:
    """The edges planned so far, by waiting task's path: the cycle rule's reads, in memory."""

    def __init__(self, paths_by_id: dict[str, str]):
        self.paths_by_id = paths_by_id
        self.paths: list[str] = []
        self.edges: dict[str, list[str]] = {}

    def subtree(self, path: str) -> list[list[str]]:
        low, high = bisect_left(self.paths, path), bisect_right(self.paths, path + "/\uffff")
        return [self.edges[p] for p in self.paths[low:high]]

    def of(self, task_ids: list[str]) -> list[list[str]]:
        paths = (self.paths_by_id[i] for i in task_ids)
        return [self.edges[p] for p in paths if p in self.edges]

    def add(self, waiter_path: str, blocker_path: str) -> None:
        if waiter_path not in self.edges:
            insort(self.paths, waiter_path)
            self.edges[waiter_path] = []
        self.edges[waiter_path].append(blocker_path)


def _plan_edges(export: ProjectExport, new_ids: dict[str, TaskItem], now: str,
                actor: str) -> None:
    """`blocked_by` as edges (SPEC §7, §12): same export, limits, no cycle; then every
    task's waiting counters."""
    index = _EdgeIndex({task.id: task.path for task in new_ids.values()})
    for number, spec in enumerate(export.tasks):
        names = spec.blocked_by or []
        where = ["body", "tasks", number, "blocked_by"]
        if len(set(names)) != len(names):
            raise validation_error(where, "a blocker is named twice")
        unknown = [name for name in names if name not in new_ids]
        if unknown:
            raise validation_error(where, f"no task with id {unknown[0]!r} in this export")
        waiter = new_ids[spec.id]
        edges = []
        for name in names:
            blocker = new_ids[name]
            details = {"task_id": spec.id, "blocker_id": name}
            if len(edges) >= MAX_BLOCKERS or len(dependents(blocker)) >= MAX_DEPENDENTS:
                raise InvalidDependency("Too many dependencies on one task.",
                                        {"reason": "limit", **details})
            if would_cycle(waiter.path, blocker.path, index.subtree, index.of):
                raise InvalidDependency("These dependencies make a task wait for itself.",
                                        {"reason": "cycle", **details})
            index.add(waiter.path, blocker.path)
            edges.append(Edge(blocker.id, blocker.path, now, actor))
            set_dependents(blocker, dependents(blocker) + [waiter.id])
        set_blockers(waiter, edges)
    by_id = {task.id: task for task in new_ids.values()}
    for task in new_ids.values():  # parents first: the export's order
        task.open_blockers = sum(1 for e in blockers(task) if by_id[e.blocker_id].status in OPEN)
        parent = by_id.get(task.parent_task_id)
        task.waiting_ancestors = inherited_by_children(parent) if parent is not None else 0


def import_project(call: Call, body: ProjectExport | ImportUploadRef) -> Result:
    if not call.caller.is_admin:
        raise Forbidden("Only an admin token may import projects.")
    if isinstance(body, ImportUploadRef):
        return _start_import_job(call, body.upload_id)

    def attempt() -> Result:
        plan = _plan(body, now_iso(), request_actor(call.caller))
        result = Result(201, project_detail_view(plan.project, 0))
        transfer_store.write_new_project(plan.project, plan.items(),
                                         lambda tx: add_claim(call, tx, result,
                                                              plan.project.id))
        return result

    return write(call, attempt)


def _start_import_job(call: Call, upload_id: str) -> Result:
    """An upload imports once, as a job whose id follows from the upload: naming it again
    while the job runs finds that job; after it finished, 404."""
    job_id = str(uuid.uuid5(IMPORT_NAMESPACE, upload_id))

    def attempt() -> Result:
        job = job_store.get_job(job_id)
        if job is not None:
            if job.status == job_store.RUNNING:
                return jobs.accepted(job)
            raise NotFound("This upload was imported already.", {"upload_id": upload_id})
        if not objects.import_upload_exists(upload_id):
            raise NotFound("No upload with this id (or it expired).", {"upload_id": upload_id})
        job = jobs.new_job("import", call.caller.scope, None,
                           {"upload_id": upload_id, "now": now_iso(),
                            "actor": request_actor(call.caller)}, 0, job_id)
        result = jobs.accepted(job)
        tx = Transaction()
        job_store.add_job(tx, job)
        add_claim(call, tx, result, None)
        commit(tx)
        return result

    return write(call, attempt)


def run_import_step(lease: Lease) -> bool:
    """Parse and check the upload, write its items under a tombstone in checkpointed slices,
    then create the project and finish the job in one transaction."""
    params, cursor = lease.params, lease.cursor
    data = objects.read_import_upload(params["upload_id"])
    if data is None:
        raise NotFound("The upload is gone (it expired).", {"upload_id": params["upload_id"]})
    try:
        export = parse_body(data, ProjectExport, UPLOAD_LIMIT)
        plan = _plan(export, params["now"], params["actor"], seed=lease.job_id)
    except ChorusError:
        objects.delete_import_upload(params["upload_id"])
        raise
    items = plan.items()
    written = int(cursor.get("written", 0))
    if "written" not in cursor:
        transfer_store.tombstone_for(plan.project.id).save()
        tx = Transaction()
        lease.checkpoint(tx, now_iso(), cursor={"written": 0}, total=len(plan.tasks))
        commit(tx)
    while written < len(items):
        if written and lease.out_of_time():
            return False
        part = items[written:written + WRITE_SLICE]
        transfer_store.write_items(part)
        written += len(part)
        tx = Transaction()
        lease.checkpoint(tx, now_iso(), done=sum(1 for i in part if isinstance(i, TaskItem)),
                         cursor={"written": written})
        commit(tx)
    transfer_store.create_project(
        plan.project,
        lambda tx: lease.finish(tx, now_iso(), result={"project_id": plan.project.id}))
    objects.delete_import_upload(params["upload_id"])
    return True
