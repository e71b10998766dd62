"""Cancel downward and delete, in time linear in the subtree (SPEC §1, §11, §13).

The subtree is read once (one `by-path` range read) into a Workspace that lives across
transactions. Rounds of up to ~90 items go deepest level first, so an interrupted cascade
leaves a valid tree: intermediate rounds run no cascade inside the subtree, the last one
(the task itself) runs complete upward for its parent. A round that conflicts re-reads only
the tasks it touched; a task found with children we do not know (created meanwhile) has its
subtree read again, so they are reached too. The same engine runs synchronously (up to
JOB_THRESHOLD tasks) and as the steps of a `cancel` or `delete` job.
"""
from __future__ import annotations

from typing import Any

from chalicelib.clock import now_iso
from chalicelib.domain import dependencies as deps
from chalicelib.domain.status import OPEN
from chalicelib.domain.tree import Workspace
from chalicelib.errors import ConcurrentModification, NotFound
from chalicelib.services import positions
from chalicelib.services.changes import Change
from chalicelib.services.jobs import Lease
from chalicelib.store import records as record_store
from chalicelib.store import tasks as task_store
from chalicelib.store.db import MAX_TRANSACTION_ITEMS, Retry, Transaction, retrying
from chalicelib.store.tables import ProjectItem

# items of a round besides its tasks: project, day, actor, a lock holder's counter, job,
# propagate job, idempotency record, log entry, and some slack
ROUND_ITEMS = MAX_TRANSACTION_ITEMS - 10
READ_ATTEMPTS = 8


class Cascade:
    """One cancel or delete of the subtree under `task_id`."""

    def __init__(self, kind: str, task_id: str, actor: str, lease: Lease | None = None):
        self.kind = kind
        self.task_id = task_id
        self.actor = actor
        self.lease = lease
        self.workspace: Workspace | None = None
        self.project_id = ""
        self.pending: list[str] = []
        self.removed_root: Any = None  # a deleted root, for its records' purge
        self._gap: tuple[str, int] | None = None  # siblings left to renumber after a delete

    # -- reading ------------------------------------------------------------------------
    def load(self) -> bool:
        """Read the task, its ancestors and its subtree. False: nothing is left to do."""
        for _ in range(READ_ATTEMPTS):
            task = task_store.get_task(self.task_id)
            if task is None or task_store.get_project(task.project_id) is None:
                return False
            if self.kind == "cancel" and task.status == "wont_do":
                return False
            below = task_store.get_descendants(task) if int(task.descendants or 0) else []
            if len(below) != int(task.descendants or 0):
                continue  # the index lags the writes: read again
            chain = task_store.get_ancestors(task)
            self.project_id = task.project_id
            self.workspace = Workspace(chain + [task] + below, now_iso(), subject=task.id)
            self._hold()
            self._plan()
            return True
        raise Retry()

    def _hold(self) -> None:
        """No cascade inside the subtree until the task itself goes (SPEC §13)."""
        self.workspace.hold_complete_upward = set(self._below()) | {self.task_id}

    def _below(self) -> list[str]:
        return self.workspace.subtree_ids(self.task_id)

    def _plan(self) -> None:
        tasks = [self.workspace.tasks[i] for i in self._below()]
        if self.kind == "cancel":
            tasks = [t for t in tasks if t.status in OPEN]
        tasks.sort(key=lambda t: (-int(t.depth), t.path))
        self.pending = [t.id for t in tasks]

    def _recover(self) -> None:
        """A round failed: read again what it touched (and the subtrees of tasks that have
        children we did not know of), then plan the rest anew."""
        workspace = self.workspace
        ids = list(workspace.touched)
        workspace.discard()
        fresh = task_store.get_tasks(ids)
        for task_id in ids:
            if task_id in fresh:
                workspace.replace(fresh[task_id])
            else:
                workspace.forget(task_id)
        for task in fresh.values():
            inside = task.id == self.task_id or self.task_id in task.ancestor_ids
            if inside and int(task.children_count) != workspace.known_children(task.id):
                for item in task_store.get_descendants(task):
                    workspace.include(item)
        self._hold()
        self._plan()

    # -- rounds -------------------------------------------------------------------------
    def _cost(self, task: Any, round_ids: set[str]) -> int:
        cost = 2 + (1 if task.lock_caller else 0)  # item, events item, a lock holder's counter
        outside = [i for i in deps.dependents(task) if i not in round_ids]
        if self.kind == "delete":
            cost += 2 * len(outside) + len(deps.blocker_ids(task))
        else:
            cost += len(outside)
        return cost

    def _choose(self) -> list[Any]:
        chosen, items, used = [], set(), 0
        for task_id in self.pending:
            task = self.workspace.tasks[task_id]
            new = ({task.id} | set(task.ancestor_ids)) - items
            cost = len(new) + self._cost(task, items)
            if chosen and used + cost > ROUND_ITEMS:
                break
            chosen.append(task)
            items |= new
            used += cost
        return chosen

    def run(self) -> bool:
        """Rounds until done (True) or, for a job step, out of time (False)."""
        if not self.load():
            return self._nothing_left()
        conflicts = 0
        while True:  # every step makes progress: time is checked after a round
            try:
                if self._round():
                    return self._finished()
                conflicts = 0
                if self.lease is not None and self.lease.out_of_time():
                    return False
            except Retry:
                conflicts += 1
                if conflicts > READ_ATTEMPTS:
                    raise ConcurrentModification()
                self._recover()
                if self.workspace.tasks.get(self.task_id) is None or (
                        self.kind == "cancel"
                        and self.workspace.tasks[self.task_id].status == "wont_do"):
                    return self._nothing_left()

    def _round(self) -> bool:
        """One transaction; True when it was the last (the task itself)."""
        workspace = self.workspace
        workspace.advance(now_iso())
        change = Change(self.project_id, self.actor, workspace=workspace, propagate_in_write=0)
        heavy = self._too_many_edges()
        if heavy is not None:
            self._detach(change, heavy)
            if self.lease is not None:
                self.lease.checkpoint(change.tx, workspace.now)
            change.commit()
            return False
        chosen = self._choose()
        root = workspace.tasks[self.task_id]
        if chosen:
            for task in chosen:
                if self.kind == "cancel":
                    workspace.set_status(task, "wont_do", "cancel_downward")
                else:
                    workspace.delete(task)
            self._check_known_children(chosen)
            change.settle()
            if self.lease is not None:
                self.lease.checkpoint(change.tx, workspace.now, done=len(chosen))
            change.commit()
            done = {task.id for task in chosen}
            self.pending = [i for i in self.pending if i not in done]
            return False
        if self.kind == "cancel":
            self._check_known_children([root])
            workspace.hold_complete_upward = set(self._below())
            workspace.set_status(root, "wont_do")
            root.job_id = None
            change.settle()
            if self.lease is not None:
                self.lease.finish(change.tx, workspace.now, result={"task_id": root.id}, done=1)
        else:
            self._delete_root(change, root)
            if self.lease is not None:
                self.lease.checkpoint(change.tx, workspace.now, done=1,
                                      cursor={"phase": "records", "path": root.path,
                                              "project_id": self.project_id})
        change.commit()
        return True

    def _too_many_edges(self) -> Any | None:
        """The task that goes next, when its delete alone would not fit in a transaction
        (a task with up to 50 blockers and 50 dependents)."""
        if self.kind != "delete":
            return None
        task = self.workspace.tasks[self.pending[0] if self.pending else self.task_id]
        if len(task.ancestor_ids) + 1 + self._cost(task, set()) <= ROUND_ITEMS:
            return None
        return task

    def _detach(self, change: Change, task: Any) -> None:
        """A round that removes some of the task's edges (each waiter costs its item and
        an event, each blocker its item), so that its delete fits in the next one."""
        room = ROUND_ITEMS - len(task.ancestor_ids) - 2
        waiters = deps.dependents(task)[:room // 2]
        blockers = deps.blocker_ids(task)[:room - 2 * len(waiters)]
        missing = [i for i in waiters + blockers if i not in self.workspace.tasks]
        found = task_store.get_tasks(missing)
        if len(found) != len(missing):
            raise Retry()  # a neighbour was deleted meanwhile: read again
        for neighbour in found.values():
            self.workspace.include(neighbour)
        change.propagate(self.workspace.detach(task, waiters, blockers))

    def _check_known_children(self, tasks: list[Any]) -> None:
        """A cancelled (deleted) task must have no open (no) children left: if it has, they
        were created after we read the subtree."""
        for task in tasks:
            left = int(task.open_children) if self.kind == "cancel" else int(task.children_count)
            if left:
                raise Retry()

    def _delete_root(self, change: Change, root: Any) -> None:
        workspace = self.workspace
        self._check_known_children([root])
        project = task_store.get_project(self.project_id)
        if project is None:
            raise NotFound("Task not found.", {"task_id": root.id})
        parent = workspace.parent(root)
        key = task_store.parent_key(root.project_id, root.parent_task_id)
        total = int(parent.children_count) if parent is not None else int(project.top_level_count)
        siblings = positions.siblings_from(key, int(root.position) + 1, total)
        room = ROUND_ITEMS - len(root.ancestor_ids) - 1 - self._cost(root, set())
        positions.shift(workspace, siblings[:room], -1)
        if root.parent_task_id is None:
            change.project_actions = [ProjectItem.top_level_count.set(total - 1)]
            change.project_condition = ProjectItem.top_level_count == total
        workspace.hold_complete_upward = set(self._below())
        workspace.delete(root)
        change.settle()
        self.removed_root = root
        self._gap = (key, total - 1) if len(siblings) > room else None

    def _finished(self) -> bool:
        if self.kind == "delete":
            if self._gap is not None:
                key, total = self._gap
                retrying(lambda: positions.close_gap(key, total, self.removed_root))
            record_store.delete_subtree_records(self.project_id, self.removed_root.path)
            if self.lease is not None:
                self._finish_job()
        return True

    def _nothing_left(self) -> bool:
        """The task is gone (delete) or cancelled (cancel): a job still has its records
        phase (delete) and its last write to make."""
        if self.lease is not None:
            cursor = self.lease.cursor
            if cursor.get("phase") == "records":
                record_store.delete_subtree_records(cursor["project_id"], cursor["path"])
            self._finish_job()
        return True

    def _finish_job(self) -> None:
        tx = Transaction()
        self.lease.finish(tx, now_iso(), result={"task_id": self.task_id})
        task_store.commit(tx)


def run_cascade_step(lease: Lease) -> bool:
    """A `cancel` or `delete` job's step (see chalicelib.services.jobs)."""
    params = lease.params
    return Cascade(lease.job.kind, params["task_id"], params["actor"], lease).run()
