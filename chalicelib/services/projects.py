"""Projects: create, list, detail, update, delete (SPEC §2-§3)."""
from __future__ import annotations

from chalicelib.api.models import ProjectCreate, ProjectUpdate
from chalicelib.clock import now_iso, now_ms
from chalicelib.errors import Forbidden, NotFound
from chalicelib.services.common import (
    Call,
    Result,
    commit_with,
    list_result,
    new_id,
    require_uuid,
    write,
)
from chalicelib.store import projects as project_store
from chalicelib.store.db import Transaction, retrying
from chalicelib.store.locks import count_live_locks
from chalicelib.store.tables import ProjectItem
from chalicelib.store.tasks import get_project
from chalicelib.views import project_detail_view, project_view

PURGE_SECONDS_IN_REQUEST = 10.0


def _existing(project_id: str) -> ProjectItem:
    project = get_project(require_uuid(project_id, "Project"))
    if project is None:
        raise NotFound("Project not found.", {"project_id": project_id})
    return project


def create_project(call: Call, body: ProjectCreate) -> Result:
    def attempt() -> Result:
        project = project_store.new_project(new_id(), body.name, body.description, now_iso())
        tx = Transaction()
        project_store.add_project(tx, project)
        return commit_with(call, tx, Result(201, project_view(project)), project.id)

    return write(call, attempt)


def list_projects(offset: int, limit: int) -> Result:
    page, more = project_store.list_projects(offset, limit)
    return list_result([project_view(p) for p in page], offset, more)


def project_detail(project_id: str) -> Result:
    project = _existing(project_id)
    return Result(200, project_detail_view(project, count_live_locks(project.id, now_ms())))


def update_project(call: Call, project_id: str, body: ProjectUpdate) -> Result:
    sent = body.model_fields_set

    def attempt() -> Result:
        project = _existing(project_id)
        actions = []
        for field in ("name", "description"):
            if field in sent and getattr(body, field) != getattr(project, field):
                setattr(project, field, getattr(body, field))
                actions.append(getattr(ProjectItem, field).set(getattr(body, field)))
        if actions:
            project.updated_at = now_iso()
            actions.append(ProjectItem.updated_at.set(project.updated_at))
            project_store.update_project(project, actions)
        return Result(200, project_view(project))

    return retrying(attempt)


def delete_project(call: Call, project_id: str) -> Result:
    """Invisible at once; its items are purged now as far as time allows, else by the
    scheduled function."""
    if not call.caller.is_admin:
        raise Forbidden("Only an admin token may delete a project.")
    project = _existing(project_id)
    project_store.delete_project(project, now_iso())
    project_store.purge_projects(PURGE_SECONDS_IN_REQUEST)
    return Result(204, None)
