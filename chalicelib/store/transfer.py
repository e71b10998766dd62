"""Reading a whole project (export) and writing a new one all-or-nothing (import)."""
from __future__ import annotations

from typing import Callable

from chalicelib.clock import now_iso
from chalicelib.store.db import Transaction, connection
from chalicelib.store.projects import PURGE, PURGE_PREFIX, purge_project
from chalicelib.store.tables import CommitItem, ProjectItem, TaskItem, WorkLogItem
from chalicelib.store.tasks import PROJECT_TAG, commit, iter_project_tasks

PURGE_AFTER_FAILED_IMPORT_SECONDS = 20.0


def read_project(project_id: str) -> tuple[list[TaskItem], dict, dict]:
    """Every task, log entry and commit of a project: three index reads, paged."""
    connection()
    tasks = list(iter_project_tasks(project_id))
    logs: dict[str, list] = {}
    for entry in WorkLogItem.by_project.query(project_id):
        logs.setdefault(entry.task_id, []).append(entry)
    for entries in logs.values():
        entries.sort(key=lambda entry: entry.sort_key)
    commits: dict[str, list] = {}
    for item in CommitItem.by_project.query(project_id):
        commits.setdefault(item.task_id, []).append(item)
    return tasks, logs, commits


def write_new_project(project: ProjectItem, tasks: list[TaskItem], logs: list,
                      commits: list, finish: Callable[[Transaction], None]) -> None:
    """Items first, under a purge tombstone, while the project does not exist (so none of
    them is visible); then one transaction creates the project and drops the tombstone.
    A failure part-way leaves only the tombstone's purge to do."""
    import time

    connection()
    tombstone = ProjectItem(PURGE_PREFIX + project.id, list_key=PURGE,
                            list_sort=f"{now_iso()}#{project.id}", created_at=now_iso())
    tombstone.save()
    try:
        for model, items in ((TaskItem, tasks), (WorkLogItem, logs), (CommitItem, commits)):
            with model.batch_write() as batch:
                for item in items:
                    batch.save(item)
        tx = Transaction()
        tx.put(project, PROJECT_TAG, condition=ProjectItem.id.does_not_exist())
        tx.delete(tombstone, "tombstone")
        finish(tx)
        commit(tx)
    except Exception:
        if purge_project(project.id, time.monotonic() + PURGE_AFTER_FAILED_IMPORT_SECONDS):
            tombstone.delete()
        raise
