"""Reads for dependencies: the edges of a subtree (for the cycle rule) and a subtree page by
page in path order (for `propagate` jobs)."""
from __future__ import annotations

import json
from typing import Iterable

from chalicelib.store.db import connection
from chalicelib.store.tables import TaskItem
from chalicelib.store.tasks import remember_read


def _blocker_paths(raw: str | None) -> list[str]:
    return [entry[1] for entry in json.loads(raw)] if raw else []


def subtree_edges(project_id: str, path: str) -> list[list[str]]:
    """Blocker paths of every edge whose waiting task is `path` or below it: one range read
    of the sparse edges index (it holds edges, not tasks)."""
    connection()
    condition = TaskItem.dep_path.between(path, path + "/\uffff")
    return [_blocker_paths(item.blocker_edges)
            for item in TaskItem.with_blockers.query(project_id, range_key_condition=condition)]


def task_edges(task_ids: Iterable[str]) -> list[list[str]]:
    """Blocker paths of the edges of these tasks (their ancestors, in the cycle rule): a
    strongly consistent read, so an edge added a moment ago on an ancestor is seen."""
    keys = list(dict.fromkeys(task_ids))
    if not keys:
        return []
    connection()
    return [_blocker_paths(item.blocker_edges)
            for item in TaskItem.batch_get(keys, consistent_read=True,
                                           attributes_to_get=["id", "blocker_edges"])]


def subtree_page(project_id: str, root_path: str, after: str | None,
                 size: int) -> list[TaskItem]:
    """Up to `size` tasks below `root_path` in path order (parents before children), after
    the path `after`."""
    connection()
    low = (after + "!") if after else root_path + "/"
    condition = TaskItem.path.between(low, root_path + "/\uffff")
    return [remember_read(item) for item in TaskItem.by_path.query(
        project_id, range_key_condition=condition, limit=size, page_size=size)]
