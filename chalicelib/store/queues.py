"""Queue reads (see chalicelib.domain.queues for the partitions and keys): index range
reads of the queue partitions in the wanted order, merged lazily, filtered in the index."""
from __future__ import annotations

import heapq
from typing import Iterator

from chalicelib.store.db import connection
from chalicelib.store.tables import QUEUE_INDEXES, TaskItem

MAX_PAGE = 1000


def _filter(unlocked_at_ms: int | None, task_type: str | None):
    condition = None
    if unlocked_at_ms is not None:
        condition = (TaskItem.lock_expires_ms.does_not_exist()
                     | (TaskItem.lock_expires_ms <= unlocked_at_ms))
    if task_type is not None:
        type_condition = TaskItem.task_type == task_type
        condition = type_condition if condition is None else condition & type_condition
    return condition


def merged(partitions: list[str], sort_attribute: str, wanted: int,
           unlocked_at_ms: int | None = None,
           task_type: str | None = None) -> Iterator[TaskItem]:
    """Index entries (projected: enough to filter and page) of these partitions, in the
    order of `sort_attribute`. Each partition is read in pages sized so that together they
    cover `wanted` entries; a partition that runs dry early costs one short read."""
    if not partitions:
        return iter(())
    connection()
    index = QUEUE_INDEXES[sort_attribute]
    condition = _filter(unlocked_at_ms, task_type)
    share = wanted if len(partitions) == 1 else max(5, -(-wanted // len(partitions)) + 1)
    page = min(MAX_PAGE, share)
    streams = [index.query(part, filter_condition=condition, page_size=page)
               for part in partitions]
    if len(streams) == 1:
        return iter(streams[0])
    return heapq.merge(*streams, key=lambda item: getattr(item, sort_attribute))


def across_projects(operation: str, wanted: int, unlocked_at_ms: int | None,
                    task_type: str | None) -> Iterator[TaskItem]:
    """An operation's queue over every project, in the default order (one index)."""
    connection()
    return iter(TaskItem.by_queue_op.query(operation,
                                           filter_condition=_filter(unlocked_at_ms, task_type),
                                           page_size=min(MAX_PAGE, wanted)))
