"""Reading a whole project (export) and writing a new one all-or-nothing (import)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Callable, Sequence

from chalicelib.clock import now_iso
from chalicelib.store.db import Transaction, connection
from chalicelib.store.projects import PURGE, PURGE_PREFIX, purge_project
from chalicelib.store.tables import CommitItem, ProjectItem, TaskItem, WorkLogItem
from chalicelib.store.tasks import PROJECT_TAG, commit, iter_project_tasks

PURGE_AFTER_FAILED_IMPORT_SECONDS = 20.0
WRITERS = 4  # concurrent BatchWriteItem streams
CHUNK = 500  # items per writer task


def read_project(project_id: str) -> tuple[list[TaskItem], dict, dict]:
    """Every task, log entry and commit of a project: three index reads, paged."""
    connection()
    tasks = list(iter_project_tasks(project_id))
    logs: dict[str, list] = {}
    for entry in WorkLogItem.by_path.query(project_id):
        logs.setdefault(entry.task_id, []).append(entry)
    for entries in logs.values():
        entries.sort(key=lambda entry: entry.sort_key)
    commits: dict[str, list] = {}
    for item in CommitItem.by_path.query(project_id):
        commits.setdefault(item.task_id, []).append(item)
    return tasks, logs, commits


def tombstone_for(project_id: str) -> ProjectItem:
    """A new project's items are written under a purge tombstone: if the import fails, the
    scheduled purge removes whatever was written."""
    return ProjectItem(PURGE_PREFIX + project_id, list_key=PURGE,
                       list_sort=f"{now_iso()}#{project_id}", created_at=now_iso())


def _write_chunk(items: Sequence) -> None:
    by_model: dict[type, list] = {}
    for item in items:
        by_model.setdefault(type(item), []).append(item)
    for model, group in by_model.items():
        with model.batch_write() as batch:
            for item in group:
                batch.save(item)


def write_items(items: Sequence, stop: Callable[[], bool] | None = None) -> int:
    """BatchWriteItem in a few concurrent streams; returns how many were written (all of
    them, unless `stop` asked to pause: then a prefix)."""
    connection()
    chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
    written = 0
    with ThreadPoolExecutor(WRITERS) as pool:
        for start in range(0, len(chunks), WRITERS):
            group = chunks[start:start + WRITERS]
            # each stream runs in a copy of the caller's context, so its calls are counted in
            # the request's metrics
            runs = [pool.submit(copy_context().run, _write_chunk, chunk) for chunk in group]
            for run in runs:
                run.result()
            written += sum(len(chunk) for chunk in group)
            if stop is not None and stop():
                break
    return written


def create_project(project: ProjectItem, finish: Callable[[Transaction], None]) -> None:
    """The last write of an import: the project appears with its counters, the tombstone
    goes, and whatever `finish` adds (the idempotency record, the job's end)."""
    tx = Transaction()
    tx.put(project, PROJECT_TAG, condition=ProjectItem.id.does_not_exist())
    tx.delete(ProjectItem(PURGE_PREFIX + project.id), "tombstone")
    finish(tx)
    commit(tx)


def write_new_project(project: ProjectItem, items: Sequence,
                      finish: Callable[[Transaction], None]) -> None:
    """Inline import: every item under a tombstone, then the project in one transaction."""
    connection()
    tombstone = tombstone_for(project.id)
    tombstone.save()
    try:
        write_items(items)
        create_project(project, finish)
    except Exception:
        discard_new_project(project.id)
        raise


def discard_new_project(project_id: str) -> None:
    if purge_project(project_id, time.monotonic() + PURGE_AFTER_FAILED_IMPORT_SECONDS):
        ProjectItem(PURGE_PREFIX + project_id).delete()
