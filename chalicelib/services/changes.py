"""The write path every task write goes through: one Change per attempt of one request.

A Change holds a Workspace (the tasks the write touches, their cascades and events), the
transaction that will carry it, and what the write reaches across dependency edges. In
order, a write: loads the tasks it needs and makes its changes in the workspace; calls
`settle()`, which loads the other side of the edges those changes reach and applies their
effects (and, where a task's own waiting flips, recomputes its subtree, or leaves that to a
`propagate` job when the subtree is large); then `commit()`, which stages tasks, project
counters, events, history and actor counters (and the idempotency record) into one
transaction. A conflict raises Retry and the request runs again from the top.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from chalicelib.clock import now_iso
from chalicelib.domain.tree import Workspace
from chalicelib.services.common import Call, Result, add_claim
from chalicelib.store import tasks as task_store
from chalicelib.store.db import Retry, Transaction

# a waiting flip whose subtrees hold at most this many tasks is written in the same
# transaction; a larger one goes to a `propagate` job (run before the request answers when
# it reaches at most JOB_THRESHOLD tasks, in the background otherwise)
PROPAGATE_IN_WRITE = 30


class Change:
    def __init__(self, project_id: str, actor: str, tasks: Iterable[Any] = (),
                 subject: str | None = None, now: str | None = None,
                 workspace: Workspace | None = None,
                 propagate_in_write: int = PROPAGATE_IN_WRITE):
        self.project_id = project_id
        self.propagate_in_write = propagate_in_write
        self.actor = actor
        self.workspace = workspace or Workspace(tasks, now or now_iso(), subject)
        self.tx = Transaction()
        self.conditions: dict[str, Any] = {}
        self.lock_only: set[str] = set()  # tasks whose write is their lock record alone
        self.project_actions: list = []
        self.project_condition = None
        self.deferred: list[Any] = []  # roots whose subtrees a propagate job recomputes
        self.staged: task_store.Staged | None = None
        self.job_ids: list[str] = []

    @property
    def now(self) -> str:
        return self.workspace.now

    # -- dependency effects -------------------------------------------------------------
    def settle(self) -> None:
        """Apply the write's effects across dependency edges (SPEC §12)."""
        workspace = self.workspace
        missing = [i for i in workspace.edge_neighbours() if i not in workspace.tasks]
        if missing:
            found = task_store.get_tasks(missing)
            if len(found) != len(missing):
                raise Retry()  # an edge names a task deleted meanwhile: read again
            for task in found.values():
                workspace.include(task)
        self.propagate(workspace.settle_edges())

    def propagate(self, roots: list[Any]) -> None:
        """Recompute the inherited waiting below tasks whose own waiting flipped."""
        roots = _outermost(roots)
        below = sum(int(root.descendants or 0) for root in roots)
        if below > self.propagate_in_write:
            self.deferred += [root for root in roots if int(root.descendants or 0) > 0]
            return
        for root in roots:
            if int(root.descendants or 0) > 0:
                self.load_subtree(root)
            self.workspace.refresh_waiting(root)

    def load_subtree(self, root: Any) -> None:
        """Every task below `root` into the workspace (one range read); the root's count
        proves the read complete (index reads may lag writes)."""
        below = task_store.get_descendants(root)
        if len(below) != int(root.descendants or 0):
            raise Retry()
        for task in below:
            self.workspace.include(task)

    # -- commit -------------------------------------------------------------------------
    def commit(self, call: Call | None = None,
               respond: Callable[[], Result] | None = None) -> Result | None:
        """Stage everything, build the response from the staged state (derived fields are
        refreshed by staging), record it for the Idempotency-Key, and commit."""
        from chalicelib.services import jobs

        self.staged = task_store.stage(
            self.workspace, self.project_id, self.tx, self.actor, self.project_actions,
            self.project_condition, self.conditions, frozenset(self.lock_only))
        started = []
        if self.deferred:
            started.append(jobs.add_propagate_job(self.tx, self.project_id, self.deferred,
                                                  call.caller.scope if call else "system"))
        result = respond() if respond is not None else None
        if call is not None and result is not None:
            add_claim(call, self.tx, result, self.project_id)
        task_store.commit(self.tx)
        task_store.committed(self.workspace, self.staged)
        for job in started:
            jobs.after_start(job)
        self.job_ids = [job.id for job in started]
        return result


def _outermost(roots: list[Any]) -> list[Any]:
    """Drop roots inside another root's subtree (its recomputation covers them)."""
    paths = sorted({root.path: root for root in roots}.items())
    kept: list[tuple[str, Any]] = []
    for path, root in paths:
        if kept and (path + "/").startswith(kept[-1][0] + "/"):
            continue
        kept.append((path, root))
    return [root for _, root in kept]
