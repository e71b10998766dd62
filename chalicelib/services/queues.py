"""Queues (SPEC §3): what agents and humans see next. Every queue and every `sort` reads
index entries of its partitions in that order (offset + limit + 1 of them, plus locked tasks
skipped), then fetches just the page's tasks: O(offset + limit), whatever the project size."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from chalicelib.clock import now_ms
from chalicelib.domain.queues import DEFAULT_SORT, SORT_ATTRIBUTES, queue_partitions
from chalicelib.domain.readiness import effective_points
from chalicelib.errors import NotFound, validation_error
from chalicelib.services.common import Result, list_result, require_uuid
from chalicelib.store import projects as project_store
from chalicelib.store import queues as queue_store
from chalicelib.store import tasks as task_store
from chalicelib.store.tables import TaskItem
from chalicelib.views import task_view


def _project(project_id: str) -> str:
    project_id = require_uuid(project_id, "Project")
    if task_store.get_project(project_id) is None:
        raise NotFound("Project not found.", {"project_id": project_id})
    return project_id


def _page(entries: Iterator[TaskItem], offset: int, limit: int,
          wanted: Callable[[TaskItem], bool] = lambda entry: True,
          across_projects: bool = False) -> Result:
    found, more = [], False
    for entry in entries:
        if not wanted(entry):
            continue
        if len(found) == offset + limit:
            more = True
            break
        found.append(entry)
    page = found[offset:]
    if across_projects:
        live = task_store.live_project_ids(entry.project_id for entry in page)
        page = [entry for entry in page if entry.project_id in live]
    tasks = task_store.get_tasks(entry.id for entry in page)
    now = now_ms()
    return list_result([task_view(tasks[e.id], now) for e in page if e.id in tasks],
                       offset, more)


def _read(project_id: str, queue: str, offset: int, limit: int, sort: str,
          unlocked_at_ms: int | None = None,
          task_type: str | None = None) -> Iterator[TaskItem]:
    return queue_store.merged(queue_partitions(project_id, queue), SORT_ATTRIBUTES[sort],
                              offset + limit + 1, unlocked_at_ms, task_type)


def backlog(project_id: str, offset: int, limit: int, sort: str) -> Result:
    return _page(_read(_project(project_id), "backlog", offset, limit, sort), offset, limit)


def in_progress(project_id: str, offset: int, limit: int, sort: str) -> Result:
    return _page(_read(_project(project_id), "in_progress", offset, limit, sort), offset,
                 limit)


def needs_refinement(project_id: str, offset: int, limit: int, sort: str) -> Result:
    return _page(_read(_project(project_id), "refinement", offset, limit, sort), offset,
                 limit)


def _live_project_ids() -> Iterable[str]:
    offset = 0
    while True:
        page, more = project_store.list_projects(offset, 200)
        yield from (project.id for project in page)
        if not more:
            return
        offset += len(page)


def available(operation: str, project_id: str | None, task_type: str | None,
              min_points: int | None, max_points: int | None,
              offset: int, limit: int, sort: str) -> Result:
    if min_points is not None and max_points is not None and min_points > max_points:
        raise validation_error(["query", "min_points"], "min_points must not exceed max_points")
    scope = _project(project_id) if project_id is not None else None
    now = now_ms()

    def wanted(entry: TaskItem) -> bool:
        if min_points is None and max_points is None:
            return True
        points = effective_points(entry)
        return (points is not None and (min_points is None or points >= min_points)
                and (max_points is None or points <= max_points))

    if scope is not None:
        entries = _read(scope, operation, offset, limit, sort, now, task_type)
    elif sort == DEFAULT_SORT:
        entries = queue_store.across_projects(operation, offset + limit + 1, now, task_type)
    else:  # no index orders every project by this key: merge the projects' partitions
        partitions = [part for pid in _live_project_ids()
                      for part in queue_partitions(pid, operation)]
        entries = queue_store.merged(partitions, SORT_ATTRIBUTES[sort], offset + limit + 1,
                                     now, task_type)
    return _page(entries, offset, limit, wanted, across_projects=scope is None)
