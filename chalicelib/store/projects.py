"""Projects: create, list, update, delete at once (a tombstone) and purge in the background."""
from __future__ import annotations

import time
from itertools import islice

from chalicelib.store.db import Transaction, connection
from chalicelib.store.tables import (
    CommitItem,
    EventItem,
    IdempotencyItem,
    ProjectItem,
    StatItem,
    TaskItem,
    WorkLogItem,
)
from chalicelib.store.tasks import PROJECT_TAG, remember_read, commit

LIVE = "projects"
PURGE = "purge"
PURGE_PREFIX = "purge#"
MAX_PAGE = 1000


def new_project(project_id: str, name: str, description: str | None, now: str) -> ProjectItem:
    return ProjectItem(
        project_id, name=name, description=description, created_at=now, updated_at=now,
        list_key=LIVE, list_sort=f"{now}#{project_id}",
    )


def add_project(tx: Transaction, project: ProjectItem) -> None:
    tx.put(project, PROJECT_TAG, condition=ProjectItem.id.does_not_exist())


def list_projects(offset: int, limit: int) -> tuple[list[ProjectItem], bool]:
    """Oldest first; reads offset + limit + 1 index entries."""
    connection()
    wanted = offset + limit + 1
    items = ProjectItem.by_list.query(LIVE, page_size=min(wanted, MAX_PAGE))
    page = [remember_read(p) for p in islice(items, wanted)][offset:]
    return page[:limit], len(page) > limit


def update_project(project: ProjectItem, actions: list) -> None:
    tx = Transaction()
    tx.update(project, actions, PROJECT_TAG, condition=ProjectItem.id.exists())
    commit(tx)


def delete_project(project: ProjectItem, now: str) -> None:
    """Gone at once for every reader (its tasks check it); the items go in purge_projects."""
    tx = Transaction()
    tx.delete(project, PROJECT_TAG, condition=ProjectItem.id.exists())
    tombstone = ProjectItem(PURGE_PREFIX + project.id, list_key=PURGE,
                            list_sort=f"{now}#{project.id}", created_at=now)
    tx.put(tombstone, "tombstone")
    commit(tx)


def _project_items(project_id: str):
    """Every item that belongs to a project, table by table (index or key range reads)."""
    yield WorkLogItem, WorkLogItem.by_path.query(project_id)
    yield CommitItem, CommitItem.by_path.query(project_id)
    yield IdempotencyItem, IdempotencyItem.by_project.query(project_id)
    yield EventItem, EventItem.query(project_id)
    yield StatItem, StatItem.query(project_id)
    yield TaskItem, TaskItem.by_path.query(project_id, attributes_to_get=["id"])


def purge_project(project_id: str, deadline: float) -> bool:
    """Delete every item of a deleted project; False when the deadline came first."""
    connection()
    for model, items in _project_items(project_id):
        with model.batch_write() as batch:
            for item in items:
                batch.delete(item)
                if time.monotonic() > deadline:
                    return False
    return True


def purge_projects(seconds: float) -> int:
    """Finish pending purges (oldest first) within `seconds`; returns how many finished."""
    connection()
    deadline = time.monotonic() + seconds
    finished = 0
    for tombstone in ProjectItem.by_list.query(PURGE):
        project_id = tombstone.id[len(PURGE_PREFIX):]
        if not purge_project(project_id, deadline):
            break
        tombstone.delete()
        finished += 1
    return finished
