"""Dependencies between tasks (SPEC §12): edges, limits, waiting, and the cycle rule.

An edge "W waits for B" is stored on the waiting task W (`blocker_edges`, oldest first, with
the blocker's path so the cycle check never reads task items) and mirrored on the blocker B
(`dependent_ids`), so each side finds the other with one read. Two counters make waiting a
property of one item: `open_blockers` (W's own blockers that are open) and
`waiting_ancestors` (how many of W's ancestors have open blockers).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from chalicelib.domain.status import OPEN

MAX_BLOCKERS = 50
MAX_DEPENDENTS = 50


@dataclass(frozen=True)
class Edge:
    blocker_id: str
    blocker_path: str
    created_at: str
    author: str


def blockers(task: Any) -> list[Edge]:
    raw = getattr(task, "blocker_edges", None)
    return [Edge(*entry) for entry in json.loads(raw)] if raw else []


def set_blockers(task: Any, edges: list[Edge]) -> None:
    task.blocker_edges = json.dumps(
        [[e.blocker_id, e.blocker_path, e.created_at, e.author] for e in edges],
        separators=(",", ":")) if edges else None


def blocker_ids(task: Any) -> list[str]:
    return [edge.blocker_id for edge in blockers(task)]


def dependents(task: Any) -> list[str]:
    return list(getattr(task, "dependent_ids", None) or [])


def set_dependents(task: Any, ids: list[str]) -> None:
    task.dependent_ids = list(ids) or None


def is_open(task: Any) -> bool:
    return task.status in OPEN


def waits_itself(task: Any) -> bool:
    """Has an open blocker of its own (its subtree inherits that)."""
    return int(task.open_blockers or 0) > 0


def inherited_by_children(task: Any) -> int:
    """The `waiting_ancestors` a child of `task` has."""
    return int(task.waiting_ancestors or 0) + (1 if waits_itself(task) else 0)


def refresh_waiting(root: Any, below: Iterable[Any]) -> list[Any]:
    """Recompute `waiting_ancestors` of every task below `root` from the root down (absolute
    values, so running it twice, or after another propagation, is harmless). Returns the
    tasks whose value changed."""
    inherited: dict[str, int] = {root.id: inherited_by_children(root)}
    changed = []
    for task in sorted(below, key=lambda t: (int(t.depth), t.path)):
        value = inherited.get(task.parent_task_id)
        if value is None:  # not below root
            continue
        if int(task.waiting_ancestors or 0) != value:
            task.waiting_ancestors = value
            changed.append(task)
        inherited[task.id] = inherited_by_children(task)
    return changed


# -- the cycle rule ---------------------------------------------------------------------
def _related(path: str, other: str) -> bool:
    """Same task, or one is an ancestor of the other."""
    return path == other or path.startswith(other + "/") or other.startswith(path + "/")


def _inside(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


SubtreeEdges = Callable[[str], Iterable[list[str]]]
AncestorEdges = Callable[[list[str]], Iterable[list[str]]]


def would_cycle(waiter_path: str, blocker_path: str, subtree_edges: SubtreeEdges,
                ancestor_edges: AncestorEdges) -> bool:
    """Whether "waiter waits for blocker" makes some task wait for itself (SPEC §12).

    Waiting for a task means waiting for its whole subtree, and a task waits for whatever its
    ancestors wait for. So, starting from the blocker, every reached subtree R is waited for;
    the tasks in R wait for the blockers of R's tasks and of R's ancestors, which are reached
    in turn. The edge closes a cycle exactly when a reached subtree is the waiter's own, an
    ancestor's or a descendant's. `subtree_edges(path)` gives the blocker paths of every edge
    whose waiting task lies in that subtree (one range read); `ancestor_edges(ids)` those of
    the given tasks. Reads only what is reachable from the blocker."""
    frontier, expanded = [blocker_path], []
    seen_ancestors: set[str] = set()
    while frontier:
        path = frontier.pop()
        if _related(path, waiter_path):
            return True
        if _inside(path, expanded):
            continue
        expanded.append(path)
        reached = list(subtree_edges(path))
        above = [i for i in path.split("/")[:-1] if i not in seen_ancestors]
        seen_ancestors.update(above)
        if above:
            reached += list(ancestor_edges(above))
        for blocker_paths in reached:
            frontier.extend(blocker_paths)
    return False
