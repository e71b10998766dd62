"""Reading tasks and writing a Workspace's changes in one transaction."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from chalicelib.domain.tree import Workspace
from chalicelib.errors import ChorusError, NotFound
from chalicelib.store import journal
from chalicelib.store.db import Cancelled, LeaseLost, Retry, Transaction, connection
from chalicelib.store.tables import ProjectItem, TaskItem

PROJECT_TAG = "project"


def remember_read(item):
    """Remember how an item looked when read, so that a write sends only what changed."""
    item._snapshot = item.serialize(null_check=False)
    return item


def get_project(project_id: str) -> ProjectItem | None:
    connection()
    try:
        return remember_read(ProjectItem.get(project_id, consistent_read=True))
    except ProjectItem.DoesNotExist:
        return None


def get_task(task_id: str) -> TaskItem | None:
    connection()
    try:
        return remember_read(TaskItem.get(task_id, consistent_read=True))
    except TaskItem.DoesNotExist:
        return None


def get_live_task(task_id: str) -> tuple[TaskItem, ProjectItem]:
    """The task and its project; 404 when either is gone (a deleted project hides its tasks)."""
    task = get_task(task_id)
    project = get_project(task.project_id) if task is not None else None
    if task is None or project is None:
        raise NotFound("Task not found.", {"task_id": task_id})
    return task, project


def live_project_ids(project_ids: Iterable[str]) -> set[str]:
    """Which of these projects still exist (one BatchGetItem): cross-project lists hide the
    tasks of deleted projects that the purge has not reached yet."""
    keys = list(dict.fromkeys(project_ids))
    if not keys:
        return set()
    connection()
    return {p.id for p in ProjectItem.batch_get(keys, consistent_read=True,
                                                 attributes_to_get=["id"])}


def get_task_for_write(task_id: str) -> TaskItem:
    """The task, for a write whose transaction checks that its project still exists (so a
    deleted project's task still answers 404, without a second read)."""
    task = get_task(task_id)
    if task is None:
        raise NotFound("Task not found.", {"task_id": task_id})
    return task


def require_visible(task: TaskItem) -> None:
    """For answers given without a transaction (errors, no-ops): 404 once the project is gone."""
    if get_project(task.project_id) is None:
        raise NotFound("Task not found.", {"task_id": task.id})


@contextmanager
def refusals_visible(task: TaskItem) -> Iterator[None]:
    """A refusal raised before the transaction is only given while the project exists."""
    try:
        yield
    except ChorusError as error:
        if not isinstance(error, NotFound):
            require_visible(task)
        raise


def get_tasks(task_ids: Iterable[str]) -> dict[str, TaskItem]:
    """Many tasks in one BatchGetItem per 100 keys (consistent reads)."""
    keys = list(dict.fromkeys(task_ids))
    if not keys:
        return {}
    connection()
    return {item.id: remember_read(item) for item in TaskItem.batch_get(keys, consistent_read=True)}


def get_ancestors(task: TaskItem) -> list[TaskItem]:
    """Root first, one round trip: every task keeps its ancestors' ids."""
    found = get_tasks(task.ancestor_ids)
    missing = [i for i in task.ancestor_ids if i not in found]
    if missing:
        raise Retry()
    return [found[i] for i in task.ancestor_ids]


def parent_key(project_id: str, parent_task_id: str | None) -> str:
    return parent_task_id or project_id


def iter_children(key: str, from_position: int = 0) -> Iterator[TaskItem]:
    """Children in position order (an index read: eventually consistent on AWS)."""
    connection()
    condition = TaskItem.position >= from_position if from_position else None
    for item in TaskItem.by_parent.query(key, range_key_condition=condition):
        yield remember_read(item)


def list_children(key: str, offset: int, limit: int) -> tuple[list[TaskItem], bool]:
    """One page of children by position; positions are dense, so the page starts at `offset`."""
    connection()
    page = [
        remember_read(item)
        for item in TaskItem.by_parent.query(key, range_key_condition=TaskItem.position >= offset,
                                             limit=limit + 1)
    ]
    return page[:limit], len(page) > limit


def get_descendants(task: TaskItem) -> list[TaskItem]:
    """The whole subtree below `task` in one index range read."""
    connection()
    return [
        remember_read(item)
        for item in TaskItem.by_path.query(
            task.project_id, range_key_condition=TaskItem.path.startswith(task.path + "/"))
    ]


def iter_project_tasks(project_id: str) -> Iterator[TaskItem]:
    connection()
    for item in TaskItem.by_path.query(project_id):
        yield remember_read(item)


def update_actions(item) -> list:
    before = item._snapshot
    after = item.serialize(null_check=False)
    actions = []
    for name, attribute in type(item).get_attributes().items():
        if name == "version":
            continue
        stored = attribute.attr_name
        if stored in after:
            if before.get(stored) != after[stored]:
                actions.append(attribute.set(getattr(item, name)))
        elif stored in before:
            actions.append(attribute.remove())
    return actions


def add_task_writes(tx: Transaction, workspace: Workspace,
                    conditions: dict[str, Any] | None = None,
                    lock_only: frozenset[str] = frozenset()) -> set[str]:
    """Every task the workspace touched: created, deleted, or updated under a version check
    (and any extra condition, such as "the caller still holds the lock"). A `lock_only`
    write changes only a task's lock record: its own condition guards it and the version
    stays, so a lock write never conflicts with a rollup. Returns the ids whose stored
    version moves."""
    conditions = conditions or {}
    bumped = set()
    for task_id, condition in conditions.items():
        if task_id not in workspace.touched:
            tx.check(TaskItem, task_id, condition, f"task:{task_id}")
    for task_id in workspace.touched:
        task = workspace.tasks[task_id]
        tag = f"task:{task_id}"
        if task_id in workspace.deleted:
            if task_id not in workspace.created:
                tx.delete(task, tag, condition=TaskItem.version == task.version)
        elif task_id in workspace.created:
            tx.put(task, tag, condition=TaskItem.id.does_not_exist())
        elif task_id in lock_only:
            tx.update(task, update_actions(task), tag, condition=conditions[task_id])
        else:
            condition = TaskItem.version == task.version
            if task_id in conditions:
                condition &= conditions[task_id]
            actions = update_actions(task)
            if actions:
                actions.append(TaskItem.version.set(task.version + 1))
                tx.update(task, actions, tag, condition=condition)
                bumped.add(task_id)
            elif task_id in conditions:
                tx.check(TaskItem, task_id, condition, tag)
    return bumped


def add_project_counters(tx: Transaction, project_id: str, deltas: dict[str, int],
                         extra_actions: list | None = None, condition=None) -> None:
    """ADD the counters' deltas; the project must still exist (a deleted one hides its tasks)."""
    actions = [getattr(ProjectItem, field).add(change) for field, change in deltas.items()]
    actions += extra_actions or []
    exists = ProjectItem.id.exists()
    condition = exists if condition is None else exists & condition
    if actions:
        tx.update(ProjectItem(project_id), actions, PROJECT_TAG, condition=condition)
    else:
        tx.check(ProjectItem, project_id, condition, PROJECT_TAG)


def commit(tx: Transaction) -> None:
    """Commit. A failed condition means the data moved under us: redo the whole read-modify-
    write (which re-checks locks, idempotency and versions), except a vanished project: 404."""
    try:
        tx.commit()
    except Cancelled as cancelled:
        project = cancelled.failed(PROJECT_TAG)
        if project is not None and project.code == "ConditionalCheckFailed" and not project.item:
            raise NotFound("Project not found.") from cancelled
        if any(f.tag.startswith("job:") and f.code == "ConditionalCheckFailed"
               for f in cancelled.failures):
            raise LeaseLost() from cancelled
        codes = {f.code for f in cancelled.failures}
        if codes <= {"ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"}:
            raise Retry(throttled="ThrottlingError" in codes) from cancelled
        raise


@dataclass
class Staged:
    """What `stage` put into a transaction, for bookkeeping once it commits."""
    bumped: set[str]
    events: int


def stage(workspace: Workspace, project_id: str, tx: Transaction, actor: str,
          project_actions: list | None = None, project_condition=None,
          conditions: dict[str, Any] | None = None,
          lock_only: frozenset[str] = frozenset()) -> Staged:
    """Put a workspace's task writes, the project's counter deltas, its events and the
    history and actor counters into `tx`: everything one write changes, all or nothing."""
    deltas = workspace.finish()
    events = workspace.events()
    items, created_seq, _ = journal.plan_events(
        events, workspace.created, actor, workspace.now, journal.write_tag())
    for task_id, seq in created_seq.items():
        workspace.tasks[task_id].created_seq = seq
    bumped = add_task_writes(tx, workspace, conditions, lock_only)
    add_project_counters(tx, project_id, deltas, project_actions, project_condition)
    journal.add_events(
        tx, project_id, items,
        {item.task_id: workspace.tasks[item.task_id].created_seq
         for item in items if item.task_id is not None},
        workspace.now_ms // 1000)
    journal.add_counters(tx, project_id, workspace.now, actor, deltas, events)
    return Staged(bumped, len(events))


def committed(workspace: Workspace, staged: Staged) -> None:
    """The transaction went through: the items in memory are now what is stored, and the
    workspace starts from them (a cascade's next round)."""
    for task_id in workspace.touched - workspace.deleted:
        task = workspace.tasks[task_id]
        if task_id in staged.bumped:
            task.version = int(task.version) + 1
        remember_read(task)
    workspace.rebase()
