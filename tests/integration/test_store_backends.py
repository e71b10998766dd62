"""moto and DynamoDB Local agree: the store's locks, transactions, queues and rollups, run on
both (single-threaded; moto is not safe under concurrent requests). Where they disagree,
DynamoDB Local is right and the moto case is marked."""
from __future__ import annotations

import uuid

import pytest

from tests.integration.helpers import consistency_problems, scores_for, sizing_body


# -- small API helpers ------------------------------------------------------------------------
def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.data)
    return response.data


def new_project(api, name="Store tests"):
    return _ok(api.post("/projects", {"name": name}), 201)


def new_task(api, project_id, name, parent=None, **fields):
    path = f"/tasks/{parent}/subtasks" if parent else f"/projects/{project_id}/tasks"
    return _ok(api.post(path, {"name": name, "task_type": "feature", **fields}), 201)


def lock(api, task_id, caller, purpose, status=201):
    return _ok(api.post(f"/tasks/{task_id}/lock",
                        {"caller_label": caller, "lock_purpose": purpose}), status)


def size(api, task_id, caller, total, confidence=4):
    lock(api, task_id, caller, "sizing")
    return _ok(api.post(f"/tasks/{task_id}/size",
                        sizing_body(caller, scores_for(total), confidence, release_lock=True)))


def implement(api, task_id, caller, commits=()):
    lock(api, task_id, caller, "implementation")
    return _ok(api.post(f"/tasks/{task_id}/complete", {
        "caller_label": caller, "work_log_content": "done", "release_lock": True,
        "commits": [{"commit_hash": h, "message": f"commit {h}"} for h in commits]}))


def assert_consistent(api, project_id):
    problems = consistency_problems(lambda path: _ok(api.get(path)), project_id)
    assert problems == []


# -- locks ------------------------------------------------------------------------------------
def write_lock(item, caller, purpose, ttl, at_ms, readiness=None, statuses=None):
    """The lock write the lock service makes: one conditional update of the task item."""
    from chalicelib.store import locks as lock_store
    from chalicelib.store.db import Transaction
    from chalicelib.store.tasks import update_actions

    condition = lock_store.acquire_condition(item, at_ms, readiness, statuses)
    lock_store.grant(item, caller, purpose, ttl, at_ms)
    tx = Transaction()
    tx.update(item, update_actions(item), f"task:{item.id}", condition=condition)
    tx.commit()


def test_lock_acquire_is_one_conditional_write(api, backend):
    from chalicelib.clock import now_ms
    from chalicelib.domain.locks import PRECONDITIONS
    from chalicelib.store import locks as lock_store
    from chalicelib.store.db import Cancelled
    from chalicelib.store.tasks import get_task

    project = new_project(api)
    task = new_task(api, project["id"], "Lockable")
    readiness, statuses = PRECONDITIONS["sizing"]
    first, stale = get_task(task["id"]), get_task(task["id"])
    write_lock(first, "agent-a", "sizing", 60, now_ms(), readiness, statuses)

    with pytest.raises(Cancelled) as raised:  # a second writer that read before the first
        write_lock(stale, "agent-b", "sizing", 60, now_ms(), readiness, statuses)
    failure = raised.value.failed(f"task:{task['id']}")
    assert failure is not None and failure.code == "ConditionalCheckFailed"
    seen = lock_store.failed_task_item(raised.value, task["id"])  # ALL_OLD on failure
    assert seen is not None and seen.lock_caller == "agent-a"
    stored = get_task(task["id"])
    assert (stored.lock_caller, int(stored.fencing_token)) == ("agent-a", 1)

    conflict = api.post(f"/tasks/{task['id']}/lock",
                        {"caller_label": "agent-b", "lock_purpose": "sizing"})
    assert conflict.status_code == 409
    assert conflict.data["error"]["code"] == "LOCK_CONFLICT"
    assert set(conflict.data["error"]["details"]) == {"caller_label", "lock_purpose",
                                                       "expires_at"}
    assert conflict.data["error"]["details"]["caller_label"] == "agent-a"


def test_an_expired_lock_is_no_lock_and_is_replaced_in_one_write(api, backend):
    from chalicelib.clock import now_ms
    from chalicelib.store.tasks import get_task

    project = new_project(api)
    task = new_task(api, project["id"], "Expired", points=2)
    past = now_ms() - 10_000
    # written as if acquired 10 s ago with a 1 s TTL: expired for 9 s
    write_lock(get_task(task["id"]), "ghost", "implementation", 1, past)
    view = _ok(api.get(f"/tasks/{task['id']}"))
    assert view["is_locked"] is False and view["lock"] is None
    assert _ok(api.get(f"/locks?project_id={project['id']}")) == []
    assert _ok(api.get(f"/projects/{project['id']}"))["active_locks"] == 0
    available = _ok(api.get(f"/tasks/available?operation=implementation"
                            f"&project_id={project['id']}"))
    assert [t["id"] for t in available] == [task["id"]]
    heartbeat = api.patch(f"/tasks/{task['id']}/lock/heartbeat?caller_label=ghost")
    assert heartbeat.status_code == 409 and heartbeat.data["error"]["code"] == "LOCK_EXPIRED"
    assert api.delete(f"/tasks/{task['id']}/lock?caller_label=ghost").status_code == 404

    granted = lock(api, task["id"], "agent-b", "implementation")
    assert granted["fencing_token"] == 2 and granted["caller_label"] == "agent-b"
    assert _ok(api.get(f"/tasks/{task['id']}"))["status"] == "doing"
    assert _ok(api.get(f"/projects/{project['id']}"))["active_locks"] == 1


def test_sweep_removes_only_expired_locks_and_never_a_renewed_one(api, backend, monkeypatch):
    from chalicelib.clock import now_ms
    from chalicelib.services.locks import sweep_expired_locks
    from chalicelib.store.tables import TaskItem
    from chalicelib.store.tasks import get_task

    project = new_project(api)
    expired, renewed, live = (new_task(api, project["id"], name, points=1)
                              for name in ("expired", "renewed", "live"))
    past = now_ms() - 10_000
    for task in (expired, renewed):
        write_lock(get_task(task["id"]), "ghost", "refinement", 1, past)
    lock(api, live["id"], "holder", "refinement")

    index = TaskItem.locks_by_expiry
    original_query = index.query

    def query_then_renew(*args, **kwargs):
        # the sweep looks first; then, before it writes, another agent takes over `renewed`
        seen = list(original_query(*args, **kwargs))
        lock(api, renewed["id"], "agent-new", "refinement")
        return iter(seen)

    monkeypatch.setattr(index, "query", query_then_renew)
    removed = sweep_expired_locks(now_ms())
    monkeypatch.setattr(index, "query", original_query)

    assert removed == 1
    assert get_task(expired["id"]).lock_caller is None  # the record is gone
    kept = _ok(api.get(f"/tasks/{renewed['id']}"))["lock"]
    assert kept["caller_label"] == "agent-new" and kept["fencing_token"] == 2
    assert _ok(api.get(f"/tasks/{live['id']}"))["lock"]["caller_label"] == "holder"
    # after the sweep the expired record is gone: heartbeat is 404, no longer 409
    gone = api.patch(f"/tasks/{expired['id']}/lock/heartbeat?caller_label=ghost")
    assert gone.status_code == 404


# -- transactions -----------------------------------------------------------------------------
def _log_item(task_id, project_id, text):
    from chalicelib.clock import now_iso
    from chalicelib.store.tables import WorkLogItem

    entry_id = str(uuid.uuid4())
    now = now_iso()
    return WorkLogItem(task_id, f"{now}#{entry_id}", id=entry_id, project_id=project_id,
                       author="t", operation="note", content=text, created_at=now,
                       path_key=f"{task_id}#{now}#{entry_id}")


def test_a_failed_condition_cancels_the_whole_transaction(api, backend):
    from chalicelib.store.db import Cancelled, Transaction
    from chalicelib.store.records import add_work_log, list_work_log
    from chalicelib.store.tables import ProjectItem, TaskItem
    from chalicelib.store.tasks import add_project_counters, get_project, get_task

    project = new_project(api)
    task = new_task(api, project["id"], "Atomic")
    witness = new_task(api, project["id"], "Witness")
    before_project = get_project(project["id"]).serialize()
    before_task = get_task(task["id"]).serialize()

    tx = Transaction()
    add_work_log(tx, _log_item(task["id"], project["id"], "never written"))
    item = get_task(task["id"])
    tx.update(item, [TaskItem.name.set("renamed")], f"task:{task['id']}",
              condition=TaskItem.version == item.version)
    tx.check(TaskItem, witness["id"], TaskItem.version == 999, "the-failing-check")
    add_project_counters(tx, project["id"], {"task_count": 5})
    with pytest.raises(Cancelled) as raised:
        tx.commit()
    # reasons are matched to items in request order: only the check failed
    assert [(f.tag, f.code) for f in raised.value.failures] == [
        ("the-failing-check", "ConditionalCheckFailed")]
    assert list_work_log(task["id"]) == []
    assert get_task(task["id"]).serialize() == before_task
    assert get_project(project["id"]).serialize() == before_project
    assert ProjectItem.get(project["id"], consistent_read=True).task_count == 2


def test_a_stale_version_makes_the_write_retry(api, backend):
    from chalicelib.domain.tree import Workspace
    from chalicelib.store.db import Retry, Transaction
    from chalicelib.store.tasks import commit, get_task, stage

    project = new_project(api)
    task = new_task(api, project["id"], "Versioned")
    stale = get_task(task["id"])
    _ok(api.put(f"/tasks/{task['id']}", {"priority": 5}))  # someone else writes first
    stale.priority = 7
    workspace = Workspace([stale], "2030-01-01T00:00:00.000000Z")
    workspace.changed(stale)
    tx = Transaction()
    stage(workspace, project["id"], tx, "tester")
    with pytest.raises(Retry):
        commit(tx)
    assert _ok(api.get(f"/tasks/{task['id']}"))["priority"] == 5


def test_one_transaction_may_not_touch_an_item_twice(api, backend):
    """DynamoDB refuses two operations on one item in a transaction; the store never does
    that, and both backends must refuse it (else moto would hide such a bug)."""
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.store.db import Transaction
    from chalicelib.store.tables import TaskItem
    from chalicelib.store.tasks import get_task

    project = new_project(api)
    task = new_task(api, project["id"], "Twice")
    item = get_task(task["id"])
    tx = Transaction()
    tx.update(item, [TaskItem.priority.set(1)], "one")
    tx.check(TaskItem, task["id"], TaskItem.id.exists(), "two")
    with pytest.raises(TransactWriteError) as raised:
        tx.commit()
    assert raised.value.cause_response_code == "ValidationException"
    assert _ok(api.get(f"/tasks/{task['id']}"))["priority"] == 0


# -- queues (sparse indexes) ------------------------------------------------------------------
def test_queues_follow_readiness_status_and_live_locks(api, backend):
    project = new_project(api)
    pid = project["id"]
    low = new_task(api, pid, "low", priority=-5)
    high = new_task(api, pid, "high", priority=5)
    ready_big = new_task(api, pid, "ready 5", points=5)
    ready_small = new_task(api, pid, "ready 1", points=1)
    huge = new_task(api, pid, "huge", points=9)

    def ids(operation):
        return [t["id"] for t in _ok(api.get(
            f"/tasks/available?operation={operation}&project_id={pid}"))]

    assert ids("sizing") == [high["id"], low["id"]]
    assert ids("implementation") == [ready_small["id"], ready_big["id"]]
    assert ids("breakdown") == [huge["id"]]
    assert ids("refinement") == []

    lock(api, high["id"], "sizer", "sizing")
    assert ids("sizing") == [low["id"]]  # locked: not offered
    lock(api, ready_big["id"], "coder", "implementation")  # todo -> doing
    assert ids("implementation") == [ready_small["id"]]
    backlog = _ok(api.get(f"/projects/{pid}/backlog"))
    assert [t["id"] for t in backlog] == [ready_small["id"]]
    in_progress = _ok(api.get(f"/projects/{pid}/in-progress"))
    assert [(t["id"], t["lock"]["caller_label"]) for t in in_progress] == [
        (ready_big["id"], "coder")]

    # releasing never changes status: the doing task is stalled and offered again
    assert api.delete(f"/tasks/{ready_big['id']}/lock?caller_label=coder").status_code == 204
    assert ids("implementation") == [ready_small["id"], ready_big["id"]]
    stalled = _ok(api.get(f"/projects/{pid}/in-progress"))
    assert [(t["id"], t["lock"]) for t in stalled] == [(ready_big["id"], None)]

    # a low-confidence sizing flags refinement in the same write
    _ok(api.post(f"/tasks/{high['id']}/size",
                 sizing_body("sizer", scores_for(3), confidence=1, release_lock=True)))
    assert ids("refinement") == [high["id"]]
    assert [t["id"] for t in _ok(api.get(f"/projects/{pid}/needs-refinement"))] == [high["id"]]
    assert high["id"] not in ids("implementation")
    assert_consistent(api, pid)


# -- rollups ----------------------------------------------------------------------------------
def test_rollups_and_counters_agree_with_a_recomputation_at_every_step(api, backend):
    project = new_project(api, "Rollups")
    pid = project["id"]
    epic = new_task(api, pid, "epic")
    other = new_task(api, pid, "other", points=3)
    big = new_task(api, pid, "big", points=9)
    assert_consistent(api, pid)

    size(api, epic["id"], "sizer", 8)
    lock(api, epic["id"], "planner", "breakdown")
    parts = _ok(api.post(f"/tasks/{epic['id']}/breakdown", {
        "caller_label": "planner", "work_log_content": "split", "release_lock": True,
        "subtasks": [{"name": "a", "task_type": "feature"},
                     {"name": "b", "task_type": "bug"},
                     {"name": "c", "task_type": "tech_debt", "points": 2}]}))["subtasks"]
    a, b, c = (part["id"] for part in parts)
    assert_consistent(api, pid)

    size(api, a, "sizer", 3)
    size(api, b, "sizer", 4, confidence=1)  # flagged for refinement
    assert_consistent(api, pid)
    a1 = new_task(api, pid, "a1", parent=a, points=4)["id"]
    assert_consistent(api, pid)
    _ok(api.patch(f"/tasks/{b}/status", {"status": "wont_do"}))
    assert_consistent(api, pid)

    implement(api, a1, "coder", ["abc1234"])  # a1 done -> a done (complete upward)
    assert _ok(api.get(f"/tasks/{a}"))["status"] == "done"
    assert_consistent(api, pid)
    implement(api, c, "coder", ["def5678"])  # c done -> epic done (b is wont_do)
    assert _ok(api.get(f"/tasks/{epic['id']}"))["status"] == "done"
    assert_consistent(api, pid)

    _ok(api.patch(f"/tasks/{a1}/status", {"status": "todo"}))  # reopen upward
    assert [_ok(api.get(f"/tasks/{t}"))["status"] for t in (a, epic["id"])] == ["todo", "todo"]
    assert_consistent(api, pid)

    assert api.delete(f"/tasks/{other['id']}").status_code == 204
    assert_consistent(api, pid)
    _ok(api.put(f"/tasks/{big['id']}", {"points": 2}))
    _ok(api.patch(f"/tasks/{epic['id']}/reorder", {"position": 5}))
    assert [t["name"] for t in _ok(api.get(f"/projects/{pid}/tasks"))] == ["big", "epic"]
    assert_consistent(api, pid)
    assert api.delete(f"/tasks/{a}").status_code == 204  # c done, b wont_do: epic done again
    assert _ok(api.get(f"/tasks/{epic['id']}"))["status"] == "done"
    assert_consistent(api, pid)


# -- idempotency ------------------------------------------------------------------------------
def test_idempotent_replays_and_key_reuse(api, backend):
    project = new_project(api)
    headers = {"Idempotency-Key": "create-once"}
    path = f"/projects/{project['id']}/tasks"
    first = api.post(path, {"name": "once", "task_type": "bug"}, headers=headers)
    again = api.post(path, {"task_type": "bug", "name": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.data == first.data
    reused = api.post(path, {"name": "other", "task_type": "bug"}, headers=headers)
    assert reused.status_code == 422
    assert reused.data["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [t["name"] for t in _ok(api.get(path))] == ["once"]
    assert _ok(api.get(f"/projects/{project['id']}"))["task_count"] == 1


# -- subtrees larger than one transaction -------------------------------------------------
def _strip_ids(export):
    """An export without what an import may change: ids, timestamps of the project."""
    position_of = {t["id"]: i for i, t in enumerate(export["tasks"])}
    tasks = []
    for task in export["tasks"]:
        task = dict(task)
        task["parent_task_id"] = position_of.get(task.pop("parent_task_id"))
        task.pop("id")
        task["work_log_entries"] = [{k: v for k, v in e.items() if k != "id"}
                                    for e in task["work_log_entries"]]
        task["commits"] = [{k: v for k, v in c.items() if k != "id"} for c in task["commits"]]
        tasks.append(task)
    project = {k: v for k, v in export["project"].items()
               if k not in ("id", "created_at", "updated_at")}
    return {"format_version": export["format_version"], "project": project, "tasks": tasks}


def test_a_subtree_too_big_for_one_transaction_cancels_imports_and_deletes(local_api):
    """DynamoDB Local only: it passes on moto too, but moto deep-copies every table on each
    TransactWriteItems, which makes this one test take 40+ s there."""
    api = local_api
    project = new_project(api, "Wide")
    pid = project["id"]
    root = new_task(api, pid, "root", points=9)
    lock(api, root["id"], "planner", "breakdown")
    wide = [{"name": f"child {i}", "task_type": "feature", "points": 9 if i == 0 else 1}
            for i in range(50)]
    children = _ok(api.post(f"/tasks/{root['id']}/breakdown", {
        "caller_label": "planner", "work_log_content": "wide", "release_lock": True,
        "subtasks": wide}))["subtasks"]
    lock(api, children[0]["id"], "planner", "breakdown")
    _ok(api.post(f"/tasks/{children[0]['id']}/breakdown", {
        "caller_label": "planner", "work_log_content": "wider", "release_lock": True,
        "subtasks": [{"name": f"grandchild {i}", "task_type": "bug", "points": 1}
                     for i in range(50)]}))
    lock(api, children[1]["id"], "coder", "implementation")
    assert _ok(api.get(f"/projects/{pid}"))["task_count"] == 101
    assert_consistent(api, pid)

    # export -> import -> export: the same data under new ids
    export = _ok(api.get(f"/projects/{pid}/export"))
    imported = _ok(api.post("/projects/import", export), 201)
    assert imported["task_count"] == 101 and imported["active_locks"] == 0
    again = _ok(api.get(f"/projects/{imported['id']}/export"))
    assert _strip_ids(again) == _strip_ids(export)
    assert_consistent(api, imported["id"])

    # 101 tasks: more than one transaction holds; cancelled deepest level first, in rounds
    cancelled = _ok(api.patch(f"/tasks/{root['id']}/status", {"status": "wont_do"}))
    assert cancelled["status"] == "wont_do"
    detail = _ok(api.get(f"/projects/{pid}"))
    assert detail["status_counts"] == {"todo": 0, "doing": 0, "done": 0, "wont_do": 101}
    assert detail["active_locks"] == 0  # every cancelled task lost its live lock
    assert_consistent(api, pid)

    assert api.delete(f"/tasks/{root['id']}").status_code == 204
    assert api.get(f"/tasks/{children[0]['id']}").status_code == 404
    detail = _ok(api.get(f"/projects/{pid}"))
    assert (detail["task_count"], detail["points_total"]) == (0, 0)
    assert _ok(api.get(f"/projects/{pid}/tasks")) == []
    assert _ok(api.get(f"/projects/{imported['id']}"))["task_count"] == 101  # untouched


# -- project deletion ---------------------------------------------------------------------
def _items_of(project_id):
    """Every stored item that belongs to a project (a test-only Scan of every table)."""
    from chalicelib.store.tables import (CommitItem, IdempotencyItem, ProjectItem, TaskItem,
                                         WorkLogItem)

    found = [("project", p.id) for p in ProjectItem.scan()
             if p.id in (project_id, f"purge#{project_id}")]
    for model in (TaskItem, WorkLogItem, CommitItem, IdempotencyItem):
        found += [(model.Meta.base_name, item.project_id) for item in model.scan()
                  if item.project_id == project_id]
    return found


def test_deleting_a_project_hides_it_at_once_and_purges_every_item(api, backend):
    from chalicelib.services.maintenance import run_maintenance

    keep = new_project(api, "Keep")
    keep_task = new_task(api, keep["id"], "kept", points=2)
    doomed = new_project(api, "Doomed")
    pid = doomed["id"]
    parent = new_task(api, pid, "parent")
    child = _ok(api.post(f"/tasks/{parent['id']}/subtasks",
                         {"name": "child", "task_type": "bug", "points": 1},
                         headers={"Idempotency-Key": "child-1"}), 201)
    implement(api, child["id"], "coder", ["0badc0ffee"])
    _ok(api.post(f"/tasks/{parent['id']}/work-log", {"operation": "note", "content": "hi"},
                 headers={"Idempotency-Key": "note-1"}), 201)
    other = new_task(api, pid, "locked", points=1)
    lock(api, other["id"], "holder", "implementation")
    assert _items_of(pid)

    assert api.delete(f"/projects/{pid}").status_code == 204
    for path in (f"/projects/{pid}", f"/tasks/{parent['id']}", f"/tasks/{child['id']}/tree",
                 f"/projects/{pid}/tasks", f"/tasks/{other['id']}/work-log"):
        assert api.get(path).status_code == 404, path
    assert [item["task_id"] for item in _ok(api.get("/locks"))] == []
    available = _ok(api.get("/tasks/available?operation=implementation"))
    assert [t["id"] for t in available] == [keep_task["id"]]
    assert [p["id"] for p in _ok(api.get("/projects"))] == [keep["id"]]

    run_maintenance()  # whatever the request did not finish
    assert _items_of(pid) == []
    assert _ok(api.get(f"/tasks/{keep_task['id']}"))["name"] == "kept"
    assert_consistent(api, keep["id"])


@pytest.mark.slow
def test_deleting_a_3000_task_project_is_404_at_once_and_the_purge_finishes_later(
        local_api, monkeypatch):
    from chalicelib.services import projects as project_service
    from chalicelib.services.maintenance import run_maintenance

    tasks = [{"id": f"t{i}", "parent_task_id": None if i < 30 else f"t{i % 30}",
              "name": f"task {i}", "task_type": "bug", "status": "todo",
              "work_log_entries": [{"author": "seed", "operation": "note", "content": "x",
                                    "created_at": "2026-01-01T00:00:00Z"}] if i % 10 == 0
              else [], "commits": []}
             for i in range(3000)]
    export = {"format_version": 1, "project": {"name": "big"}, "tasks": tasks}
    project = _ok(local_api.post("/projects/import", export), 201)
    pid = project["id"]
    assert project["task_count"] == 3000
    some_task = _ok(local_api.get(f"/projects/{pid}/tasks?limit=1"))[0]

    monkeypatch.setattr(project_service, "PURGE_SECONDS_IN_REQUEST", 0.01)
    assert local_api.delete(f"/projects/{pid}").status_code == 204
    assert local_api.get(f"/projects/{pid}").status_code == 404
    assert local_api.get(f"/tasks/{some_task['id']}").status_code == 404
    assert _items_of(pid), "the request was meant to leave the purge unfinished"

    run_maintenance()
    assert _items_of(pid) == []
