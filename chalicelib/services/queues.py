"""Queues (SPEC §3): what agents and humans see next. Each reads a sparse index whose sort
key is the default order, so a page costs O(offset + limit + locked tasks skipped)."""
from __future__ import annotations

from typing import Iterator

from chalicelib.clock import now_ms
from chalicelib.domain.queues import DEFAULT_SORT, ordering
from chalicelib.domain.readiness import effective_points
from chalicelib.errors import NotFound, validation_error
from chalicelib.services.common import Result, list_result, require_uuid
from chalicelib.store import queues as queue_store
from chalicelib.store.tables import TaskItem
from chalicelib.store.tasks import get_project, live_project_ids
from chalicelib.views import task_view


def _project(project_id: str) -> str:
    project_id = require_uuid(project_id, "Project")
    if get_project(project_id) is None:
        raise NotFound("Project not found.", {"project_id": project_id})
    return project_id


def _page(items: Iterator[TaskItem], offset: int, limit: int, sort: str,
          across_projects: bool = False) -> Result:
    now = now_ms()
    if sort == DEFAULT_SORT:
        found, more = [], False
        for item in items:
            if len(found) == offset + limit:
                more = True
                break
            found.append(item)
    else:
        found = list(items)
        more = False
    if across_projects:
        live = live_project_ids(item.project_id for item in found)
        found = [item for item in found if item.project_id in live]
    views = [task_view(item, now) for item in found]
    if sort != DEFAULT_SORT:
        views.sort(key=ordering(sort))
        more = len(views) > offset + limit
        views = views[: offset + limit]
    return list_result(views[offset:], offset, more)


def _page_size(offset: int, limit: int, sort: str) -> int | None:
    """Read just past the page in the index's own order; other orders read the queue."""
    return min(offset + limit + 1, 1000) if sort == DEFAULT_SORT else None


def backlog(project_id: str, offset: int, limit: int, sort: str) -> Result:
    items = queue_store.board(_project(project_id), "backlog", _page_size(offset, limit, sort))
    return _page(items, offset, limit, sort)


def in_progress(project_id: str, offset: int, limit: int, sort: str) -> Result:
    items = queue_store.board(_project(project_id), "in_progress",
                              _page_size(offset, limit, sort))
    return _page(items, offset, limit, sort)


def needs_refinement(project_id: str, offset: int, limit: int, sort: str) -> Result:
    items = queue_store.operation_queue("refinement", _project(project_id),
                                        page_size=_page_size(offset, limit, sort))
    return _page(items, offset, limit, sort)


def available(operation: str, project_id: str | None, task_type: str | None,
              min_points: int | None, max_points: int | None,
              offset: int, limit: int, sort: str) -> Result:
    if min_points is not None and max_points is not None and min_points > max_points:
        raise validation_error(["query", "min_points"], "min_points must not exceed max_points")
    scope = _project(project_id) if project_id is not None else None
    now = now_ms()

    def wanted(task: TaskItem) -> bool:
        if min_points is None and max_points is None:
            return True
        points = effective_points(task)
        return (points is not None and (min_points is None or points >= min_points)
                and (max_points is None or points <= max_points))

    found = queue_store.operation_queue(operation, scope, now, task_type,
                                        _page_size(offset, limit, sort))
    items = (task for task in found if wanted(task))
    return _page(items, offset, limit, sort, across_projects=scope is None)
