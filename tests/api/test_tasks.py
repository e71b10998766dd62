"""Tasks (SPEC §1-§3): create, read, update, delete, reorder, tree and ancestry, and the rules
for updated_at, content_changed_at and context_captured_at."""
from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.api.helpers import (
    big_children,
    MISSING_ID,
    TASK_FIELDS,
    UUID_SHAPE,
    assert_error,
    breakdown,
    chain,
    complete,
    detail,
    get,
    ids,
    lock,
    ok,
    project,
    set_status,
    size,
    specs,
    subtask,
    task,
    validation_locs,
)


def utc(stamp: str) -> datetime:
    assert stamp.endswith("Z"), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def later(stamp: str, than: str) -> bool:
    return utc(stamp) > utc(than)


def pause():
    """Let the clock move on, so that a new timestamp differs from the last one."""
    time.sleep(0.002)


@pytest.fixture
def pid(api):
    return project(api)["id"]


def children(api, parent_id):
    return ok(api.get(f"/tasks/{parent_id}/tree?depth=1"))["children"]


def top_level(api, project_id):
    return ok(api.get(f"/projects/{project_id}/tasks"))


# -- create -------------------------------------------------------------------------------
def test_create_a_top_level_task(api, pid):
    body = ok(api.post(f"/projects/{pid}/tasks",
                       {"name": "Login form", "task_type": "feature",
                        "description": "A form", "priority": 5, "points": 3}), 201)
    assert set(body) == TASK_FIELDS
    assert UUID_SHAPE.match(body["id"])
    assert body["project_id"] == pid and body["parent_task_id"] is None
    assert (body["name"], body["task_type"], body["description"]) == (
        "Login form", "feature", "A form")
    assert (body["status"], body["priority"], body["points"], body["depth"]) == (
        "todo", 5, 3, 0)
    assert body["position"] == 0
    assert body["context"] is None and body["context_captured_at"] is None
    assert body["content_changed_at"] == body["created_at"] == body["updated_at"]
    assert body["points_breakdown"] is None and body["sizing_confidence"] is None
    assert body["needs_refinement"] is False and body["refinement_notes"] is None
    assert (body["effective_points"], body["rolled_up_points"]) == (3, None)
    assert (body["unsized_children"], body["children_count"]) == (0, 0)
    assert (body["readiness"], body["is_locked"], body["lock"]) == ("ready", False, None)
    assert get(api, body["id"]) == body


def test_defaults_of_a_new_task(api, pid):
    body = task(api, pid, "Bare", "bug")
    assert (body["priority"], body["points"], body["readiness"]) == (0, None, "needs_sizing")
    assert body["effective_points"] is None


def test_a_task_created_with_context_has_it_captured_at_creation(api, pid):
    body = task(api, pid, context="Use the v2 API")
    assert body["context"] == "Use the v2 API"
    assert body["context_captured_at"] == body["created_at"]


def test_task_name_is_trimmed_and_limited_to_500_characters(api, pid):
    assert task(api, pid, "  padded  ")["name"] == "padded"
    assert task(api, pid, "é" * 500)["name"] == "é" * 500
    for name in ("", "  ", "x" * 501):
        locs = validation_locs(api.post(f"/projects/{pid}/tasks",
                                        {"name": name, "task_type": "bug"}))
        assert locs == [["body", "name"]], name


@pytest.mark.parametrize("field,value", [
    ("task_type", "epic"), ("task_type", None), ("task_type", 1),
    ("priority", 1001), ("priority", -1001), ("priority", "3"), ("priority", 3.0),
    ("priority", True), ("priority", None),
    ("points", 11), ("points", -1), ("points", "3"), ("points", 3.0), ("points", False),
    ("position", -1), ("position", "0"), ("position", 0.0),
    ("description", 7), ("context", ["x"]), ("description", "d" * 65537),
    ("context", "€" * 21846),
    ("status", "done"), ("id", MISSING_ID), ("parent_task_id", MISSING_ID),
    ("effective_points", 3), ("readiness", "ready"),
])
def test_create_task_rejects_bad_fields(api, pid, field, value):
    body = {"name": "T", "task_type": "feature", field: value}
    locs = validation_locs(api.post(f"/projects/{pid}/tasks", body))
    assert any(loc[:2] == ["body", field] for loc in locs), locs
    assert top_level(api, pid) == []


def test_create_task_limits_accepted_at_the_edges(api, pid):
    edge = task(api, pid, priority=-1000, points=0, description="d" * 65536,
                context="é" * 32768)
    assert (edge["priority"], edge["points"]) == (-1000, 0)
    assert task(api, pid, priority=1000, points=10)["readiness"] == "needs_breakdown"


def test_create_body_is_checked_before_the_project(api):
    assert_error(api.post(f"/projects/{MISSING_ID}/tasks", {"name": ""}), 422,
                 "VALIDATION_ERROR")
    assert_error(api.post(f"/projects/{MISSING_ID}/tasks", raw=b""), 400, "MALFORMED_REQUEST")


def test_new_tasks_are_appended_or_inserted_at_position(api, pid):
    a, b = task(api, pid, "A"), task(api, pid, "B")
    first = task(api, pid, "First", position=0)
    middle = task(api, pid, "Middle", position=2)
    last = task(api, pid, "Last", position=99)
    listed = top_level(api, pid)
    assert ids(listed) == [first["id"], a["id"], middle["id"], b["id"], last["id"]]
    assert [t["position"] for t in listed] == [0, 1, 2, 3, 4]
    assert last["position"] == 4
    # shifted siblings: position is not a change of the task
    assert get(api, a["id"])["updated_at"] == a["updated_at"]
    assert get(api, b["id"])["updated_at"] == b["updated_at"]


def test_create_a_subtask(api, pid):
    parent = task(api, pid, "Parent", points=8)
    child = subtask(api, parent["id"], "Child", "bug", points=2, context="ctx")
    assert (child["parent_task_id"], child["depth"], child["position"]) == (parent["id"], 1, 0)
    assert child["project_id"] == pid
    assert child["context_captured_at"] == child["created_at"]
    second = subtask(api, parent["id"], "Second")
    assert second["position"] == 1
    now = get(api, parent["id"])
    assert (now["children_count"], now["unsized_children"]) == (2, 1)
    assert (now["rolled_up_points"], now["effective_points"]) == (2, 2)
    assert now["readiness"] == "blocked_by_children"
    # aggregates are computed fields: the parent's updated_at stays
    assert now["updated_at"] == parent["updated_at"]
    assert detail(api, pid)["task_count"] == 3


def test_subtask_positions_insert_and_append(api, pid):
    parent = task(api, pid, "Parent")
    made = [subtask(api, parent["id"], f"C{i}") for i in range(3)]
    inserted = subtask(api, parent["id"], "Inserted", position=1)
    assert ids(children(api, parent["id"])) == [made[0]["id"], inserted["id"], made[1]["id"],
                                                made[2]["id"]]
    assert [c["position"] for c in children(api, parent["id"])] == [0, 1, 2, 3]


def test_depth_is_at_most_15(api, pid):
    line = chain(api, pid, 15)
    assert line[-1]["depth"] == 15
    response = api.post(f"/tasks/{line[-1]['id']}/subtasks", {"name": "Too deep",
                                                              "task_type": "bug"})
    assert_error(response, 422, "DEPTH_LIMIT_EXCEEDED")
    assert get(api, line[-1]["id"])["children_count"] == 0
    assert detail(api, pid)["task_count"] == 16


def test_a_subtask_under_done_ancestors_reopens_them(api, pid):
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    leaf = subtask(api, mid["id"], "Leaf", points=1)
    complete(api, leaf["id"])
    assert get(api, root["id"])["status"] == "done"
    pause()
    new = subtask(api, mid["id"], "New")
    assert new["status"] == "todo"
    for ancestor in (root, mid):
        now = get(api, ancestor["id"])
        assert now["status"] == "todo"
        assert later(now["updated_at"], ancestor["updated_at"])
    assert get(api, leaf["id"])["status"] == "done"


def test_nothing_opens_under_a_cancelled_task(api, pid):
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    low = subtask(api, mid["id"], "Low")
    set_status(api, mid["id"], "wont_do")
    for parent in (mid, low):
        response = api.post(f"/tasks/{parent['id']}/subtasks", {"name": "x", "task_type": "bug"})
        error = assert_error(response, 422, "INVALID_STATUS_TRANSITION")
        assert error["details"]["cancelled_ancestor"] == mid["id"]
    set_status(api, root["id"], "wont_do")
    response = api.post(f"/tasks/{low['id']}/subtasks", {"name": "x", "task_type": "bug"})
    error = assert_error(response, 422, "INVALID_STATUS_TRANSITION")
    assert error["details"]["cancelled_ancestor"] == root["id"]  # the highest one
    assert detail(api, pid)["task_count"] == 3


def test_subtask_of_a_missing_parent_is_404(api):
    assert_error(api.post(f"/tasks/{MISSING_ID}/subtasks", {"name": "x", "task_type": "bug"}),
                 404, "NOT_FOUND")


# -- update -------------------------------------------------------------------------------
def test_update_is_partial(api, pid):
    original = task(api, pid, "Name", description="desc", context="ctx", priority=2, points=3)
    pause()
    updated = ok(api.put(f"/tasks/{original['id']}", {"priority": -7, "task_type": "bug"}))
    assert (updated["priority"], updated["task_type"]) == (-7, "bug")
    for field in ("name", "description", "context", "points", "context_captured_at",
                  "content_changed_at", "created_at"):
        assert updated[field] == original[field], field
    assert later(updated["updated_at"], original["updated_at"])
    assert get(api, original["id"]) == updated


def test_update_trims_the_name_and_null_clears_optional_fields(api, pid):
    original = task(api, pid, "Name", description="desc", context="ctx", points=3)
    updated = ok(api.put(f"/tasks/{original['id']}",
                         {"name": "  New name ", "description": None, "context": None,
                          "points": None}))
    assert updated["name"] == "New name"
    assert (updated["description"], updated["context"], updated["points"]) == (None, None, None)
    assert updated["context_captured_at"] is None
    assert updated["readiness"] == "needs_sizing"


def test_update_validation(api, pid):
    original = task(api, pid, "Name")
    for body in ({"name": None}, {"task_type": None}, {"priority": None}, {"name": " "},
                 {"points": 11}, {"priority": "1"}, {"status": "done"}, {"position": 1},
                 {"project_id": pid}, {"context": 1}, {"description": "x" * 65537}):
        assert_error(api.put(f"/tasks/{original['id']}", body), 422, "VALIDATION_ERROR")
    assert get(api, original["id"]) == original
    assert_error(api.put(f"/tasks/{MISSING_ID}", {"name": "x"}), 404, "NOT_FOUND")
    assert_error(api.put(f"/tasks/{MISSING_ID}", {"name": ""}), 422, "VALIDATION_ERROR")


def test_an_update_that_changes_nothing_leaves_updated_at(api, pid):
    original = task(api, pid, "Name", description="desc", priority=1, points=2)
    pause()
    same = ok(api.put(f"/tasks/{original['id']}",
                      {"name": "Name", "description": "desc", "priority": 1, "task_type": "feature"}))
    assert same["updated_at"] == original["updated_at"]
    assert same["content_changed_at"] == original["content_changed_at"]
    assert ok(api.put(f"/tasks/{original['id']}", {}))["updated_at"] == original["updated_at"]


@pytest.mark.parametrize("field", ["name", "description", "context"])
def test_content_changed_at_moves_with_a_new_name_description_or_context(api, pid, field):
    original = task(api, pid, "Name", description="desc", context="ctx")
    pause()
    updated = ok(api.put(f"/tasks/{original['id']}", {field: "something new"}))
    assert later(updated["content_changed_at"], original["content_changed_at"])
    assert updated["content_changed_at"] == updated["updated_at"]


def test_content_changed_at_stays_for_other_fields_and_identical_values(api, pid):
    original = task(api, pid, "Name", description="desc", context="ctx")
    pause()
    for body in ({"priority": 9}, {"points": 4}, {"task_type": "tech_debt"},
                 {"name": "Name", "description": "desc"}):
        updated = ok(api.put(f"/tasks/{original['id']}", body))
        assert updated["content_changed_at"] == original["content_changed_at"], body


def test_context_captured_at_follows_every_write_of_context(api, pid):
    original = task(api, pid, "Name")
    assert original["context_captured_at"] is None
    pause()
    set_once = ok(api.put(f"/tasks/{original['id']}", {"context": "v1"}))
    assert set_once["context_captured_at"] == set_once["updated_at"]
    assert later(set_once["context_captured_at"], original["created_at"])
    pause()
    other = ok(api.put(f"/tasks/{original['id']}", {"description": "d"}))
    assert other["context_captured_at"] == set_once["context_captured_at"]
    pause()
    rewritten = ok(api.put(f"/tasks/{original['id']}", {"context": "v1"}))
    assert later(rewritten["context_captured_at"], set_once["context_captured_at"])
    assert rewritten["content_changed_at"] == other["content_changed_at"]  # identical value
    cleared = ok(api.put(f"/tasks/{original['id']}", {"context": None}))
    assert cleared["context_captured_at"] is None


def test_setting_points_directly_clears_the_sizing_and_rolls_up(api, pid):
    parent = task(api, pid, "Parent")
    child = subtask(api, parent["id"], "Child")
    sized = size(api, child["id"], points=4, confidence=5)
    assert sized["points_breakdown"]["total"] == 4 and sized["sizing_confidence"] == 5
    assert get(api, parent["id"])["effective_points"] == 4
    gut = ok(api.put(f"/tasks/{child['id']}", {"points": 2}))
    assert (gut["points"], gut["points_breakdown"], gut["sizing_confidence"]) == (2, None, None)
    assert get(api, parent["id"])["effective_points"] == 2
    assert detail(api, pid)["points_total"] == 2


def test_updating_a_task_of_a_deleted_project_is_404(api, pid):
    t = task(api, pid)
    api.delete(f"/projects/{pid}")
    assert_error(api.put(f"/tasks/{t['id']}", {"name": "x"}), 404, "NOT_FOUND")


# -- delete -------------------------------------------------------------------------------
def test_delete_removes_the_subtree_its_logs_commits_and_locks(api, pid):
    from chalicelib.store.tables import CommitItem, WorkLogItem

    root = task(api, pid, "Root")
    keep = subtask(api, root["id"], "Keep", points=1)
    gone = subtask(api, root["id"], "Gone")
    below = subtask(api, gone["id"], "Below", points=2)
    ok(api.post(f"/tasks/{below['id']}/work-log", {"operation": "note", "content": "hi"}), 201)
    ok(api.post(f"/tasks/{below['id']}/commits", {"commit_hash": "abcdef1"}), 201)
    lock(api, below["id"], "implementation")
    response = api.delete(f"/tasks/{gone['id']}")
    assert response.status_code == 204 and not response.body
    for task_id in (gone["id"], below["id"]):
        assert_error(api.get(f"/tasks/{task_id}"), 404, "NOT_FOUND")
        assert list(WorkLogItem.query(task_id)) == []
        assert list(CommitItem.query(task_id)) == []
    assert ok(api.get("/locks")) == []
    parent = get(api, root["id"])
    assert parent["children_count"] == 1
    assert parent["effective_points"] == 1
    assert ids(children(api, root["id"])) == [keep["id"]]
    body = detail(api, pid)
    assert body["task_count"] == 2 and body["status_counts"]["doing"] == 0
    assert body["active_locks"] == 0
    assert_error(api.delete(f"/tasks/{gone['id']}"), 404, "NOT_FOUND")


def test_delete_closes_the_gap_in_positions(api, pid):
    made = [task(api, pid, f"T{i}") for i in range(4)]
    api.delete(f"/tasks/{made[1]['id']}")
    listed = top_level(api, pid)
    assert ids(listed) == [made[0]["id"], made[2]["id"], made[3]["id"]]
    assert [t["position"] for t in listed] == [0, 1, 2]
    assert listed[1]["updated_at"] == made[2]["updated_at"]  # a sibling left: no change
    assert task(api, pid, "New")["position"] == 3


def test_deleting_beside_only_wont_do_siblings_leaves_the_parent_open(api, pid):
    parent = task(api, pid, "Parent", points=3)
    cancelled = subtask(api, parent["id"], "Cancelled")
    open_ = subtask(api, parent["id"], "Open")
    set_status(api, cancelled["id"], "wont_do")
    api.delete(f"/tasks/{open_['id']}")
    now = get(api, parent["id"])
    assert now["status"] == "todo"
    assert now["readiness"] == "ready"  # a leaf again: its wont_do child does not count


def test_deleting_the_only_child_makes_the_parent_a_leaf_with_its_status(api, pid):
    parent = task(api, pid, "Parent", points=5)
    lock(api, parent["id"], "refinement")
    set_status(api, parent["id"], "doing")
    child = subtask(api, parent["id"], "Child")
    api.delete(f"/tasks/{child['id']}")
    now = get(api, parent["id"])
    assert (now["status"], now["children_count"], now["readiness"]) == ("doing", 0, "ready")
    assert now["effective_points"] == 5


def test_delete_a_wide_subtree(api, pid):
    root = task(api, pid, "Root", points=9)
    parts = breakdown(api, root["id"], specs(50, points=1))["subtasks"]
    for part in parts[:3]:
        subtask(api, part["id"], "Grandchild")
    other = task(api, pid, "Other")
    assert api.delete(f"/tasks/{root['id']}").status_code == 204
    assert ids(top_level(api, pid)) == [other["id"]]
    assert top_level(api, pid)[0]["position"] == 0
    body = detail(api, pid)
    assert body["task_count"] == 1 and body["points_total"] == 0
    assert body["readiness_counts"]["ready"] == 0 and body["active_locks"] == 0


# -- reorder ------------------------------------------------------------------------------
def test_reorder_moves_a_task_among_its_siblings(api, pid):
    a, b, c, d = (task(api, pid, name) for name in "ABCD")
    moved = ok(api.patch(f"/tasks/{d['id']}/reorder", {"position": 1}))
    assert moved["position"] == 1
    assert ids(top_level(api, pid)) == [a["id"], d["id"], b["id"], c["id"]]
    ok(api.patch(f"/tasks/{a['id']}/reorder", {"position": 2}))
    listed = top_level(api, pid)
    assert ids(listed) == [d["id"], b["id"], a["id"], c["id"]]
    assert [t["position"] for t in listed] == [0, 1, 2, 3]
    # siblings that only shifted keep their updated_at
    assert get(api, b["id"])["updated_at"] == b["updated_at"]
    assert get(api, c["id"])["updated_at"] == c["updated_at"]


def test_reorder_past_the_end_means_last(api, pid):
    parent = task(api, pid, "Parent")
    kids = [subtask(api, parent["id"], f"C{i}") for i in range(3)]
    moved = ok(api.patch(f"/tasks/{kids[0]['id']}/reorder", {"position": 50}))
    assert moved["position"] == 2
    assert ids(children(api, parent["id"])) == [kids[1]["id"], kids[2]["id"], kids[0]["id"]]
    same = ok(api.patch(f"/tasks/{kids[0]['id']}/reorder", {"position": 2}))
    assert same["position"] == 2


def test_reorder_validation(api, pid):
    t = task(api, pid)
    for body in ({}, {"position": -1}, {"position": "1"}, {"position": 1.0},
                 {"position": None}, {"position": 0, "extra": 1}):
        assert_error(api.patch(f"/tasks/{t['id']}/reorder", body), 422, "VALIDATION_ERROR")
    assert_error(api.patch(f"/tasks/{MISSING_ID}/reorder", {"position": 0}), 404, "NOT_FOUND")


# -- tree ---------------------------------------------------------------------------------
def test_tree_returns_the_whole_subtree_ordered_by_position(api, pid):
    root = task(api, pid, "Root")
    b = subtask(api, root["id"], "B")
    a = subtask(api, root["id"], "A", position=0)
    a1 = subtask(api, a["id"], "A1")
    a0 = subtask(api, a["id"], "A0", position=0)
    deep = subtask(api, a0["id"], "Deep")
    tree = ok(api.get(f"/tasks/{root['id']}/tree"))
    assert set(tree) == TASK_FIELDS | {"children"}
    assert tree["id"] == root["id"]
    assert ids(tree["children"]) == [a["id"], b["id"]]
    assert ids(tree["children"][0]["children"]) == [a0["id"], a1["id"]]
    assert ids(tree["children"][0]["children"][0]["children"]) == [deep["id"]]
    assert tree["children"][1]["children"] == []
    assert tree["children"][0]["children"][0]["children"][0]["children"] == []


def test_tree_depth_keeps_that_many_levels(api, pid):
    line = chain(api, pid, 4)
    zero = ok(api.get(f"/tasks/{line[0]['id']}/tree?depth=0"))
    assert zero["children"] == [] and zero["children_count"] == 1
    two = ok(api.get(f"/tasks/{line[0]['id']}/tree?depth=2"))
    assert ids(two["children"]) == [line[1]["id"]]
    assert ids(two["children"][0]["children"]) == [line[2]["id"]]
    assert two["children"][0]["children"][0]["children"] == []
    mid = ok(api.get(f"/tasks/{line[2]['id']}/tree"))
    assert ids(mid["children"]) == [line[3]["id"]]
    for query in ("depth=-1", "depth=x", "depth=1.5"):
        assert_error(api.get(f"/tasks/{line[0]['id']}/tree?{query}"), 422, "VALIDATION_ERROR")


def test_tree_of_a_leaf(api, pid):
    leaf = task(api, pid, "Leaf")
    assert ok(api.get(f"/tasks/{leaf['id']}/tree"))["children"] == []
    assert_error(api.get(f"/tasks/{MISSING_ID}/tree"), 404, "NOT_FOUND")


def test_tree_past_6_mb_is_response_too_large(api, pid):
    root = task(api, pid, "Root", points=9)
    lock(api, root["id"], "breakdown")
    big_children(api, root["id"])
    assert_error(api.get(f"/tasks/{root['id']}/tree"), 422, "RESPONSE_TOO_LARGE")
    assert ok(api.get(f"/tasks/{root['id']}/tree?depth=0"))["children_count"] == 49


# -- ancestry -----------------------------------------------------------------------------
def test_ancestry_is_root_first_and_ends_with_the_task(api, pid):
    line = chain(api, pid, 3)
    listed = ok(api.get(f"/tasks/{line[-1]['id']}/ancestry"))
    assert ids(listed) == ids(line)
    assert all(set(t) == TASK_FIELDS for t in listed)
    assert ids(ok(api.get(f"/tasks/{line[0]['id']}/ancestry"))) == [line[0]["id"]]
    assert_error(api.get(f"/tasks/{MISSING_ID}/ancestry"), 404, "NOT_FOUND")


def test_ancestry_of_the_deepest_task_has_16_items(api, pid):
    line = chain(api, pid, 15)
    listed = ok(api.get(f"/tasks/{line[-1]['id']}/ancestry"))
    assert ids(listed) == ids(line)
    assert [t["depth"] for t in listed] == list(range(16))


# -- wide sibling lists (more siblings than one transaction can move) ---------------------------
def wide_project(api, top_level: int, children: int = 0) -> tuple[str, str | None]:
    """A project made in one import: `top_level` tasks, the first with `children` children."""
    tasks = [{"id": f"t{i}", "name": f"T{i}", "task_type": "feature", "status": "todo"}
             for i in range(top_level)]
    tasks += [{"id": f"c{i}", "parent_task_id": "t0", "name": f"C{i}", "task_type": "bug",
               "status": "todo"} for i in range(children)]
    new = ok(api.post("/projects/import", {"format_version": 1, "project": {"name": "Wide"},
                                           "tasks": tasks}), 201)
    first = ok(api.get(f"/projects/{new['id']}/tasks?limit=1"))[0]
    return new["id"], first["id"]


def positions_are_dense(listing):
    return [t["position"] for t in listing] == list(range(len(listing)))




def test_a_subtask_inserted_first_among_120_siblings(api):
    pid, parent = wide_project(api, 1, children=120)
    created = ok(api.post(f"/tasks/{parent}/subtasks",
                          {"name": "First", "task_type": "bug", "position": 0}), 201)
    assert created["position"] == 0
    listing = ok(api.get(f"/tasks/{parent}/tree?depth=1"))["children"]
    assert len(listing) == 121 and listing[0]["id"] == created["id"]
    assert positions_are_dense(listing)


def test_a_top_level_task_inserted_first_among_110(api):
    pid, _ = wide_project(api, 110)
    created = ok(api.post(f"/projects/{pid}/tasks",
                          {"name": "First", "task_type": "bug", "position": 0}), 201)
    listing = ok(api.get(f"/projects/{pid}/tasks?limit=200"))
    assert listing[0]["id"] == created["id"] and len(listing) == 111
    assert positions_are_dense(listing)


def test_wide_reorders_and_deletes_keep_positions_dense(api):
    pid, parent = wide_project(api, 1, children=120)
    listing = ok(api.get(f"/tasks/{parent}/tree?depth=1"))["children"]
    moved = ok(api.patch(f"/tasks/{listing[-1]['id']}/reorder", {"position": 0}))
    assert moved["position"] == 0
    after = ok(api.get(f"/tasks/{parent}/tree?depth=1"))["children"]
    assert after[0]["id"] == listing[-1]["id"] and positions_are_dense(after)
    assert after[1]["updated_at"] == listing[0]["updated_at"]
    assert api.delete(f"/tasks/{after[0]['id']}").status_code == 204
    final = ok(api.get(f"/tasks/{parent}/tree?depth=1"))["children"]
    assert [t["id"] for t in final] == [t["id"] for t in listing[:-1]]
    assert positions_are_dense(final)
