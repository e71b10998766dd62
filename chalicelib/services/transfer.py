"""Export and import of whole projects (SPEC §7), and the markdown checklist."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.api.http import dumps, parse_body
from chalicelib.api.models import ImportUploadRef, ProjectExport
from chalicelib.clock import normalize_iso, now_iso
from chalicelib.domain.readiness import effective_points
from chalicelib.domain.status import OPEN
from chalicelib.domain.tree import Workspace
from chalicelib.errors import DepthLimitExceeded, Forbidden, NotFound, validation_error
from chalicelib.services.common import (
    RESPONSE_LIMIT,
    Call,
    Result,
    add_claim,
    new_id,
    require_uuid,
    write,
)
from chalicelib.services.tasks import MAX_DEPTH, build_task
from chalicelib.store import objects, projects as project_store, transfer as transfer_store
from chalicelib.store.records import new_log_entry
from chalicelib.store.tables import CommitItem, ProjectItem, TaskItem
from chalicelib.store.tasks import get_project
from chalicelib.views import project_detail_view

FORMAT_VERSION = 1
UPLOAD_LIMIT = 100_000_000
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
def create_upload(call: Call) -> Result:
    if not call.caller.is_admin:
        raise Forbidden("Only an admin token may import projects.")
    upload_id, url, expires_at = objects.create_import_upload()
    return Result(201, {"upload_id": upload_id, "upload_url": url, "expires_at": expires_at})


def read_upload(upload_id: str) -> bytes:
    data = objects.read_import_upload(upload_id)
    if data is None:
        raise NotFound("No upload with this id (or it expired).", {"upload_id": upload_id})
    return data


def _iso(value) -> str | None:
    return normalize_iso(value) if value is not None else None


def _plan(export: ProjectExport, now: str) -> tuple[ProjectItem, Workspace, list, list]:
    """Check the SPEC's invariants and build every item of the new project in memory."""
    project = project_store.new_project(new_id(), export.project.name,
                                        export.project.description, now)
    workspace = Workspace([], now)
    new_ids: dict[str, TaskItem] = {}
    next_position: dict[str | None, int] = {}
    logs, commits = [], []
    for index, spec in enumerate(export.tasks):
        where = ["body", "tasks", index]
        if spec.id in new_ids:
            raise validation_error(where + ["id"], "task ids must be unique")
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
        task = build_task(project.id, parent, spec, now, position)
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
        workspace.add(task)
        new_ids[spec.id] = task
        hashes = set()
        for entry in spec.work_log_entries:
            logs.append(new_log_entry(task, entry.author, entry.operation, entry.content,
                                      normalize_iso(entry.created_at)))
        for number, commit in enumerate(spec.commits):
            commit_hash = commit.commit_hash.lower()
            if commit_hash in hashes:
                raise validation_error(where + ["commits", number, "commit_hash"],
                                       "a commit hash appears twice on one task")
            hashes.add(commit_hash)
            commits.append(CommitItem(
                task.id, commit_hash, id=new_id(), project_id=project.id, author=commit.author,
                message=commit.message, committed_at=normalize_iso(commit.committed_at),
                recorded_at=f"{now}#{number:06d}"))
    for field, value in workspace.finish().items():
        setattr(project, field, int(getattr(project, field)) + value)
    project.top_level_count = next_position.get(None, 0)
    return project, workspace, logs, commits


def import_project(call: Call, body: ProjectExport | ImportUploadRef) -> Result:
    if not call.caller.is_admin:
        raise Forbidden("Only an admin token may import projects.")
    export = body if isinstance(body, ProjectExport) else parse_body(
        read_upload(body.upload_id), ProjectExport, UPLOAD_LIMIT)

    def attempt() -> Result:
        project, workspace, logs, commits = _plan(export, now_iso())
        result = Result(201, project_detail_view(project, 0))
        transfer_store.write_new_project(project, workspace.written(), logs, commits,
                                         lambda tx: add_claim(call, tx, result, project.id))
        return result

    return write(call, attempt)
