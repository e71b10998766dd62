"""Queue reads from the sparse indexes (see chalicelib.domain.queues for the keys)."""
from __future__ import annotations

from typing import Iterator

from chalicelib.store.db import connection
from chalicelib.store.tables import TaskItem
from chalicelib.store.tasks import remember_read


def board(project_id: str, name: str, page_size: int | None = None) -> Iterator[TaskItem]:
    connection()
    for item in TaskItem.by_board.query(f"{project_id}#{name}", page_size=page_size):
        yield remember_read(item)


def operation_queue(operation: str, project_id: str | None, unlocked_at_ms: int | None = None,
                    task_type: str | None = None,
                    page_size: int | None = None) -> Iterator[TaskItem]:
    """In default order. With `unlocked_at_ms`, the index skips tasks locked at that time
    (they are still read: the cost grows with live locks in the queue, not the project)."""
    connection()
    condition = None
    if unlocked_at_ms is not None:
        condition = (TaskItem.lock_expires_ms.does_not_exist()
                     | (TaskItem.lock_expires_ms <= unlocked_at_ms))
    if task_type is not None:
        type_condition = TaskItem.task_type == task_type
        condition = type_condition if condition is None else condition & type_condition
    if project_id is None:
        items = TaskItem.by_queue_op.query(operation, filter_condition=condition,
                                           page_size=page_size)
    else:
        items = TaskItem.by_queue_scope.query(f"{project_id}#{operation}",
                                              filter_condition=condition, page_size=page_size)
    for item in items:
        yield remember_read(item)
