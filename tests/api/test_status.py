"""PATCH /tasks/{id}/status and the parent/child rules (SPEC §1 Status): the transition
table, reopen upward, complete upward, cancel downward, nothing opens under a cancelled task,
and deleting runs complete upward."""
from __future__ import annotations

import time

import pytest

from tests.api.helpers import (
    AGENT,
    MISSING_ID,
    OTHER,
    assert_error,
    breakdown,
    complete,
    detail,
    get,
    lock,
    ok,
    project,
    set_status,
    specs,
    subtask,
    task,
)

ALLOWED = {
    "todo": {"doing", "wont_do"},
    "doing": {"done", "todo", "wont_do"},
    "done": {"todo", "wont_do"},
    "wont_do": {"todo"},
}
PATHS = {"todo": [], "doing": ["doing"], "done": ["doing", "done"], "wont_do": ["wont_do"]}


@pytest.fixture
def pid(api):
    return project(api)["id"]


def leaf_in(api, pid, status):
    t = task(api, pid, f"In {status}", points=2)
    for step in PATHS[status]:
        set_status(api, t["id"], step)
    return get(api, t["id"])


def statuses(api, *tasks):
    return [get(api, t["id"])["status"] for t in tasks]


# -- the table ----------------------------------------------------------------------------
@pytest.mark.parametrize("start", ["todo", "doing", "done", "wont_do"])
def test_every_transition_from(api, pid, start):
    for target in ("todo", "doing", "done", "wont_do"):
        t = leaf_in(api, pid, start)
        response = api.patch(f"/tasks/{t['id']}/status", {"status": target})
        if target == start:
            assert ok(response) == t, "the same status again is a no-op"
        elif target in ALLOWED[start]:
            body = ok(response)
            assert body["status"] == target
            assert body["updated_at"] > t["updated_at"]
        else:
            error = assert_error(response, 422, "INVALID_STATUS_TRANSITION")
            assert error["details"]["from"] == start and error["details"]["to"] == target
            assert get(api, t["id"]) == t


def test_status_body_validation(api, pid):
    t = task(api, pid)
    for body in ({}, {"status": "blocked"}, {"status": None}, {"status": 1},
                 {"status": "DONE"}, {"status": "done", "force": True}):
        assert_error(api.patch(f"/tasks/{t['id']}/status", body), 422, "VALIDATION_ERROR")
    assert_error(api.patch(f"/tasks/{MISSING_ID}/status", {"status": "doing"}), 404,
                 "NOT_FOUND")
    assert get(api, t["id"]) == t


def test_status_changes_move_the_project_counters(api, pid):
    t = task(api, pid, points=3)
    set_status(api, t["id"], "doing")
    body = detail(api, pid)
    assert body["status_counts"] == {"todo": 0, "doing": 1, "done": 0, "wont_do": 0}
    set_status(api, t["id"], "done")
    body = detail(api, pid)
    assert body["status_counts"]["done"] == 1
    assert body["readiness_counts"]["ready"] == 0  # closed tasks are not counted
    assert body["points_completed"] == 3


# -- done needs closed descendants ---------------------------------------------------------
def test_a_parent_with_open_descendants_cannot_be_done(api, pid):
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    subtask(api, mid["id"], "Open 1")
    subtask(api, mid["id"], "Open 2")
    set_status(api, root["id"], "doing")
    error = assert_error(api.patch(f"/tasks/{root['id']}/status", {"status": "done"}), 422,
                         "INVALID_STATUS_TRANSITION")
    assert error["details"] == {"from": "doing", "to": "done", "open_descendants": 3}
    assert get(api, root["id"])["status"] == "doing"


def test_a_parent_with_only_closed_descendants_may_be_done(api, pid):
    root = task(api, pid, "Root", points=2)
    a = subtask(api, root["id"], "A")
    b = subtask(api, root["id"], "B")
    set_status(api, a["id"], "wont_do")
    set_status(api, b["id"], "wont_do")   # no done child: complete upward leaves it
    set_status(api, root["id"], "doing")
    assert set_status(api, root["id"], "done")["status"] == "done"
    assert [get(api, x["id"])["status"] for x in (a, b)] == ["wont_do", "wont_do"]


# -- reopen upward ------------------------------------------------------------------------
def test_reopening_a_done_task_reopens_every_done_ancestor(api, pid):
    reopen_to = "todo"  # done -> doing is not in the table
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    leaf = subtask(api, mid["id"], "Leaf", points=1)
    sibling = subtask(api, root["id"], "Sibling", points=1)
    complete(api, leaf["id"])
    complete(api, sibling["id"])
    assert statuses(api, root, mid) == ["done", "done"]
    before = get(api, root["id"])
    time.sleep(0.002)
    set_status(api, leaf["id"], reopen_to)
    assert statuses(api, root, mid, leaf, sibling) == ["todo", "todo", reopen_to, "done"]
    assert get(api, root["id"])["updated_at"] > before["updated_at"]
    counts = detail(api, pid)["status_counts"]
    assert counts == {"todo": 2 + (reopen_to == "todo"), "doing": int(reopen_to == "doing"),
                      "done": 1, "wont_do": 0}


# -- complete upward ----------------------------------------------------------------------
def test_complete_upward_over_several_levels(api, pid):
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    x = subtask(api, mid["id"], "X", points=1)
    y = subtask(api, mid["id"], "Y", points=2)
    z = subtask(api, root["id"], "Z", points=1)
    complete(api, x["id"])
    complete(api, z["id"])
    assert statuses(api, root, mid) == ["todo", "todo"]
    set_status(api, y["id"], "doing")
    set_status(api, y["id"], "done")
    assert statuses(api, root, mid, y) == ["done", "done", "done"]
    body = detail(api, pid)
    assert body["status_counts"]["done"] == 5
    assert body["points_completed"] == body["points_total"] == 4


def test_a_cancelled_last_child_beside_a_done_one_completes_the_parent(api, pid):
    root = task(api, pid, "Root")
    done = subtask(api, root["id"], "Done", points=1)
    open_ = subtask(api, root["id"], "Open")
    complete(api, done["id"])
    set_status(api, open_["id"], "wont_do")
    assert get(api, root["id"])["status"] == "done"


def test_a_parent_whose_children_are_all_wont_do_stays_and_is_a_leaf_again(api, pid):
    root = task(api, pid, "Root", points=4)
    a = subtask(api, root["id"], "A")
    b = subtask(api, root["id"], "B")
    set_status(api, a["id"], "wont_do")
    set_status(api, b["id"], "wont_do")
    now = get(api, root["id"])
    assert now["status"] == "todo"
    assert (now["readiness"], now["effective_points"], now["unsized_children"]) == (
        "ready", 4, 0)
    assert now["children_count"] == 2
    assert root["id"] in [t["id"] for t in ok(api.get(f"/projects/{pid}/backlog"))]


# -- cancel downward ----------------------------------------------------------------------
def test_cancel_downward_keeps_done_descendants_and_removes_locks(api, pid):
    root = task(api, pid, "Root", points=8)
    parts = breakdown(api, root["id"], specs(3, points=2))["subtasks"]
    done, doing, todo = parts
    inner = subtask(api, todo["id"], "Inner", points=1)
    complete(api, done["id"])                   # done, and it keeps its lock
    lock(api, doing["id"], "implementation", OTHER)
    lock(api, inner["id"], "implementation", AGENT)
    cancelled = set_status(api, root["id"], "wont_do")
    assert cancelled["status"] == "wont_do" and cancelled["lock"] is None
    assert statuses(api, done, doing, todo, inner) == ["done", "wont_do", "wont_do", "wont_do"]
    for t in (root, doing, todo, inner):
        now = get(api, t["id"])
        assert now["is_locked"] is False and now["lock"] is None
    assert get(api, done["id"])["is_locked"] is True
    locks = ok(api.get(f"/locks?project_id={pid}"))
    assert [entry["task_id"] for entry in locks] == [done["id"]]
    body = detail(api, pid)
    assert body["status_counts"] == {"todo": 0, "doing": 0, "done": 1, "wont_do": 4}
    assert body["readiness_counts"] == dict.fromkeys(body["readiness_counts"], 0)
    assert body["active_locks"] == 1
    assert body["points_total"] == 0 and body["points_completed"] == 0


def test_a_cancelled_task_is_in_no_queue(api, pid):
    t = task(api, pid, points=2)
    set_status(api, t["id"], "wont_do")
    for operation in ("sizing", "breakdown", "implementation", "refinement"):
        assert ok(api.get(f"/tasks/available?operation={operation}&project_id={pid}")) == []
    assert ok(api.get(f"/projects/{pid}/backlog")) == []


def test_cancel_of_a_subtree_too_big_for_one_transaction(api, pid):
    root = task(api, pid, "Root", points=9)
    lock(api, root["id"], "breakdown")
    for batch in range(3):
        ok(api.post(f"/tasks/{root['id']}/breakdown",
                    {"caller_label": AGENT, "work_log_content": "more",
                     "subtasks": specs(40, f"B{batch}", points=1)}))
    first = ok(api.get(f"/projects/{pid}/backlog?limit=1"))[0]
    subtask(api, first["id"], "Grandchild")
    set_status(api, root["id"], "wont_do")
    tree = ok(api.get(f"/tasks/{root['id']}/tree"))

    def flatten(node):
        return [node] + [n for child in node["children"] for n in flatten(child)]

    everything = flatten(tree)
    assert len(everything) == 122
    assert {t["status"] for t in everything} == {"wont_do"}
    body = detail(api, pid)
    assert body["status_counts"] == {"todo": 0, "doing": 0, "done": 0, "wont_do": 122}
    assert body["active_locks"] == 0
    # repeating the request is harmless
    assert set_status(api, root["id"], "wont_do")["status"] == "wont_do"


def test_reviving_a_cancelled_task_does_not_revive_its_descendants(api, pid):
    root = task(api, pid, "Root")
    child = subtask(api, root["id"], "Child", points=1)
    set_status(api, root["id"], "wont_do")
    revived = set_status(api, root["id"], "todo")
    assert revived["status"] == "todo"
    assert get(api, child["id"])["status"] == "wont_do"
    assert revived["readiness"] == "needs_sizing"  # its only child is wont_do: a leaf


# -- nothing opens under a cancelled task ----------------------------------------------------
@pytest.mark.parametrize("leaf_status", ["done", "wont_do"])
def test_a_task_under_a_cancelled_ancestor_cannot_reopen(api, pid, leaf_status):
    target = "todo"  # the only way back to open from done or wont_do
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    leaf = subtask(api, mid["id"], "Leaf", points=1)
    subtask(api, mid["id"], "Open sibling")
    if leaf_status == "done":
        complete(api, leaf["id"])
    set_status(api, root["id"], "wont_do")
    set_status(api, root["id"], "todo")
    set_status(api, mid["id"], "wont_do")
    # root is open again; mid is the highest cancelled task on leaf's path
    response = api.patch(f"/tasks/{leaf['id']}/status", {"status": target})
    error = assert_error(response, 422, "INVALID_STATUS_TRANSITION")
    assert error["details"]["cancelled_ancestor"] == mid["id"]
    set_status(api, root["id"], "wont_do")
    error = assert_error(api.patch(f"/tasks/{leaf['id']}/status", {"status": "todo"}), 422,
                         "INVALID_STATUS_TRANSITION")
    assert error["details"]["cancelled_ancestor"] == root["id"]
    assert get(api, leaf["id"])["status"] == leaf_status


def test_a_task_under_a_cancelled_ancestor_may_still_be_cancelled_or_done(api, pid):
    root = task(api, pid, "Root")
    done = subtask(api, root["id"], "Done", points=1)
    complete(api, done["id"])
    subtask(api, root["id"], "Open")
    set_status(api, root["id"], "wont_do")
    assert set_status(api, done["id"], "wont_do")["status"] == "wont_do"


# -- deleting runs complete upward -----------------------------------------------------------
def test_deleting_the_last_open_child_completes_the_ancestors(api, pid):
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    done = subtask(api, mid["id"], "Done", points=1)
    gone = subtask(api, mid["id"], "Gone")
    complete(api, done["id"])
    assert api.delete(f"/tasks/{gone['id']}").status_code == 204
    assert statuses(api, root, mid) == ["done", "done"]
    assert detail(api, pid)["status_counts"] == {"todo": 0, "doing": 0, "done": 3,
                                                 "wont_do": 0}
