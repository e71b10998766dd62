"""SPEC §1 Parent/child rules, worked out in memory by the Workspace: reopen upward, complete
upward, cancel downward (with hold_complete_upward), deleting, rollups and project counters.

Trees are TaskItem objects built in memory (no I/O); their stored aggregates are computed
here from the SPEC's definitions, independently of chalicelib.domain.rollup.
"""
from __future__ import annotations

import pytest

from chalicelib.domain.tree import Workspace, refresh_derived
from chalicelib.store.tables import TaskItem

BEFORE = "2025-01-01T00:00:00.000000Z"
NOW = "2025-06-01T12:00:00.000000Z"
PROJECT = "p"


def node(name, status="todo", points=None, children=(), **fields):
    return {"name": name, "status": status, "points": points, "children": list(children),
            "fields": fields}


def build(*roots) -> dict[str, TaskItem]:
    """TaskItems keyed by name, with consistent stored aggregates."""
    tasks: dict[str, TaskItem] = {}

    def make(spec, parent, position):
        ancestors = (list(parent.ancestor_ids) + [parent.id]) if parent else []
        item = TaskItem(
            spec["name"], project_id=PROJECT, parent_task_id=parent.id if parent else None,
            ancestor_ids=ancestors, parent_key=parent.id if parent else PROJECT,
            path="/".join(ancestors + [spec["name"]]), depth=len(ancestors),
            position=position, name=spec["name"], task_type="feature", status=spec["status"],
            points=spec["points"], content_changed_at=BEFORE, created_at=BEFORE,
            updated_at=BEFORE, readiness="needs_sizing", **spec["fields"])
        tasks[item.id] = item
        kids = [make(child, item, i) for i, child in enumerate(spec["children"])]
        counted = [k for k in kids if k.status != "wont_do"]
        item.children_count = len(kids)
        item.counted_children = len(counted)
        effective = [effective_points(k) for k in counted]
        item.sized_children = sum(1 for e in effective if e is not None)
        item.rolled_sum = sum(e for e in effective if e is not None)
        item.open_children = sum(1 for k in kids if k.status in ("todo", "doing"))
        item.done_children = sum(1 for k in kids if k.status == "done")
        item.open_descendants = sum(
            int(k.status in ("todo", "doing")) + k.open_descendants for k in kids)
        item.completed_sum = sum(done_leaf_points(k) for k in counted)
        refresh_derived(item)
        return item

    for position, root in enumerate(roots):
        make(root, None, position)
    return tasks


def effective_points(item):
    return item.rolled_sum if item.sized_children else item.points


def done_leaf_points(item):
    if item.counted_children:
        return item.completed_sum
    return (item.points or 0) if item.status == "done" else 0


def workspace(tasks, *names):
    return Workspace([tasks[n] for n in names] if names else tasks.values(), NOW)


def statuses(tasks):
    return {name: item.status for name, item in tasks.items()}


# -- reopen upward ----------------------------------------------------------------------
def test_reopening_a_done_leaf_reopens_every_done_ancestor():
    tasks = build(node("root", "done", children=[
        node("mid", "done", children=[node("leaf", "done", 2)]), node("other", "done", 1)]))
    ws = workspace(tasks)
    ws.set_status(tasks["leaf"], "todo")
    assert statuses(tasks) == {"root": "todo", "mid": "todo", "leaf": "todo", "other": "done"}
    assert tasks["root"].updated_at == tasks["mid"].updated_at == NOW
    assert tasks["other"].updated_at == BEFORE
    assert {"root", "mid", "leaf"} <= ws.touched


def test_moving_a_done_task_to_doing_reopens_its_done_ancestors():
    tasks = build(node("root", "done", children=[node("leaf", "done", 2)]))
    workspace(tasks).set_status(tasks["leaf"], "doing")
    assert statuses(tasks) == {"root": "todo", "leaf": "doing"}


def test_reopen_upward_leaves_open_ancestors_as_they_are():
    tasks = build(node("root", "doing", children=[
        node("mid", "done", children=[node("leaf", "done", 2)]), node("open", "todo")]))
    workspace(tasks).set_status(tasks["leaf"], "todo")
    assert statuses(tasks)["root"] == "doing"
    assert statuses(tasks)["mid"] == "todo"


def test_adding_an_open_task_under_done_ancestors_reopens_them():
    tasks = build(node("root", "done", children=[node("mid", "done", children=[
        node("leaf", "done", 1)])]))
    ws = workspace(tasks)
    new = TaskItem("new", project_id=PROJECT, parent_task_id="mid",
                   ancestor_ids=["root", "mid"], parent_key="mid", path="root/mid/new",
                   depth=2, position=1, name="new", task_type="bug", status="todo",
                   content_changed_at=NOW, created_at=NOW, updated_at=NOW,
                   readiness="needs_sizing")
    ws.add(new)
    assert (tasks["root"].status, tasks["mid"].status) == ("todo", "todo")
    assert tasks["mid"].children_count == 2
    assert tasks["mid"].open_children == 1
    assert tasks["root"].open_descendants == 2
    assert "new" in ws.created


def test_reopened_ancestors_count_as_open_in_their_parents_aggregates():
    tasks = build(node("root", "done", children=[node("mid", "done", children=[
        node("leaf", "done", 1)])]))
    workspace(tasks).set_status(tasks["leaf"], "todo")
    assert tasks["mid"].open_children == 1
    assert tasks["root"].open_children == 1
    assert tasks["root"].open_descendants == 2
    assert tasks["root"].done_children == 0


# -- complete upward --------------------------------------------------------------------
def test_the_last_open_child_done_completes_the_parent():
    tasks = build(node("root", "todo", children=[node("a", "done", 1), node("b", "doing", 2)]))
    workspace(tasks).set_status(tasks["b"], "done")
    assert statuses(tasks) == {"root": "done", "a": "done", "b": "done"}
    assert tasks["root"].updated_at == NOW


def test_complete_upward_repeats_over_several_levels():
    tasks = build(node("root", "todo", children=[
        node("done-sibling", "done", 1),
        node("mid", "doing", children=[
            node("low", "todo", children=[node("x", "done", 1), node("y", "doing", 1)]),
            node("z", "wont_do", 3)])]))
    workspace(tasks).set_status(tasks["y"], "done")
    assert statuses(tasks) == {"root": "done", "done-sibling": "done", "mid": "done",
                               "low": "done", "x": "done", "y": "done", "z": "wont_do"}


def test_complete_upward_stops_at_a_parent_with_another_open_child():
    tasks = build(node("root", "todo", children=[
        node("mid", "todo", children=[node("y", "doing", 1)]), node("open", "todo", 1)]))
    workspace(tasks).set_status(tasks["y"], "done")
    assert statuses(tasks) == {"root": "todo", "mid": "done", "y": "done", "open": "todo"}


def test_a_parent_with_another_open_child_stays():
    tasks = build(node("root", "todo", children=[node("a", "todo", 1), node("b", "doing", 2)]))
    workspace(tasks).set_status(tasks["b"], "done")
    assert tasks["root"].status == "todo"


def test_a_child_cancelled_beside_done_siblings_completes_the_parent():
    tasks = build(node("root", "doing", children=[node("a", "done", 1), node("b", "todo", 2)]))
    workspace(tasks).set_status(tasks["b"], "wont_do")
    assert tasks["root"].status == "done"


def test_a_parent_whose_children_are_all_wont_do_stays_as_it_is():
    tasks = build(node("root", "todo", 5, children=[
        node("a", "wont_do", 1), node("b", "todo", 2)]))
    ws = workspace(tasks)
    ws.set_status(tasks["b"], "wont_do")
    ws.finish()
    assert tasks["root"].status == "todo"
    # a leaf again: its own points are its size, and it is ready for work
    assert tasks["root"].counted_children == 0
    assert tasks["root"].readiness == "ready"


def test_a_parent_left_with_only_wont_do_children_becomes_a_leaf_again():
    tasks = build(node("root", "doing", 5, children=[node("b", "todo", 2)]))
    ws = workspace(tasks)
    ws.set_status(tasks["b"], "wont_do")
    ws.finish()
    assert tasks["root"].status == "doing"
    assert tasks["root"].readiness == "ready"
    assert effective_points(tasks["root"]) == 5


def test_complete_upward_only_moves_open_parents():
    # a wont_do parent is never made done by its children (it has none open anyway)
    tasks = build(node("root", "wont_do", children=[node("a", "done", 1)]))
    ws = workspace(tasks)
    ws.set_status(tasks["a"], "wont_do")
    assert tasks["root"].status == "wont_do"


def test_a_done_child_of_a_done_parent_changes_nothing_above():
    tasks = build(node("root", "todo", children=[node("a", "done", 1), node("b", "todo", 1)]))
    ws = workspace(tasks)
    ws.set_status(tasks["a"], "done")  # already done: a no-op
    assert tasks["root"].status == "todo"
    assert not ws.touched


# -- cancel downward (the cancel's workspace holds the subtree) ----------------------------
def cancel(tasks, name):
    """What the cancel service does: hold the subtree, cancel open tasks deepest first."""
    target = tasks[name]
    subtree = [t for t in tasks.values() if t.path.startswith(target.path + "/")]
    ws = workspace(tasks)
    ws.hold_complete_upward = {target.id} | {t.id for t in subtree}
    for item in sorted([t for t in subtree if t.status in ("todo", "doing")],
                       key=lambda t: -t.depth) + [target]:
        ws.set_status(item, "wont_do")
    return ws


def test_cancel_keeps_done_descendants_and_does_not_complete_the_cancelled_task():
    tasks = build(node("root", "todo", children=[
        node("A", "todo", children=[node("a1", "done", 1), node("a2", "todo", 2)]),
        node("B", "todo", 1)]))
    cancel(tasks, "A")
    assert statuses(tasks) == {"root": "todo", "A": "wont_do", "a1": "done",
                               "a2": "wont_do", "B": "todo"}


def test_hold_complete_upward_keeps_the_held_parent_open_while_its_children_close():
    tasks = build(node("A", "doing", children=[node("a1", "done", 1), node("a2", "todo", 2)]))
    ws = workspace(tasks)
    ws.hold_complete_upward = {"A"}
    ws.set_status(tasks["a2"], "wont_do")
    assert tasks["A"].status == "doing"


def test_cancelling_the_last_open_child_of_an_unheld_parent_completes_it():
    tasks = build(node("root", "todo", children=[
        node("A", "todo", children=[node("a1", "todo", 2)]), node("B", "done", 1)]))
    cancel(tasks, "A")
    assert statuses(tasks) == {"root": "done", "A": "wont_do", "a1": "wont_do", "B": "done"}


def test_every_task_that_becomes_wont_do_loses_its_lock():
    lock = dict(lock_caller="agent", lock_purpose="implementation",
                lock_acquired_at=BEFORE, lock_heartbeat_at=BEFORE,
                lock_expires_ms=9_999_999_999_999, lock_ttl=3600, lock_scope=PROJECT,
                lock_all="lock")
    tasks = build(node("A", "doing", children=[
        node("a1", "doing", 2, **lock), node("a2", "done", 1, **lock)], **lock))
    ws = cancel(tasks, "A")
    assert ws.cancelled == {"A", "a1"}
    for name in ("A", "a1"):
        assert tasks[name].lock_caller is None and tasks[name].lock_expires_ms is None
        assert tasks[name].lock_scope is None and tasks[name].lock_all is None
    # the done descendant keeps its status and its lock
    assert tasks["a2"].status == "done" and tasks["a2"].lock_caller == "agent"
    assert tasks["A"].fencing_token == 0  # the counter is not reset


def test_cancel_updates_rollups_wont_do_children_stop_counting():
    tasks = build(node("root", "todo", children=[
        node("A", "todo", 4), node("B", "todo", 3)]))
    assert effective_points(tasks["root"]) == 7
    cancel(tasks, "A")
    assert effective_points(tasks["root"]) == 3
    assert tasks["root"].counted_children == 1
    assert tasks["root"].children_count == 2


# -- delete -----------------------------------------------------------------------------
def test_deleting_the_last_open_child_completes_the_parent():
    tasks = build(node("root", "doing", children=[node("a", "done", 1), node("b", "todo", 2)]))
    ws = workspace(tasks)
    ws.delete(tasks["b"])
    assert tasks["root"].status == "done"
    assert tasks["root"].children_count == 1
    assert ws.deleted == {"b"}


def test_delete_completes_upward_over_several_levels():
    tasks = build(node("root", "todo", children=[
        node("mid", "todo", children=[node("x", "done", 1), node("y", "todo", 1)]),
        node("z", "done", 1)]))
    workspace(tasks).delete(tasks["y"])
    assert (tasks["root"].status, tasks["mid"].status) == ("done", "done")


def test_deleting_beside_only_wont_do_siblings_leaves_the_parent_as_it_is():
    tasks = build(node("root", "todo", 2, children=[
        node("a", "wont_do", 1), node("b", "todo", 2)]))
    workspace(tasks).delete(tasks["b"])
    assert tasks["root"].status == "todo"


def test_deleting_the_only_child_makes_the_parent_a_leaf_again_status_unchanged():
    tasks = build(node("root", "doing", 4, children=[node("b", "todo", 2)]))
    ws = workspace(tasks)
    ws.delete(tasks["b"])
    ws.finish()
    assert tasks["root"].status == "doing"
    assert tasks["root"].children_count == 0
    assert tasks["root"].readiness == "ready"
    assert effective_points(tasks["root"]) == 4


def test_deleted_tasks_are_not_written():
    tasks = build(node("root", "todo", children=[node("a", "todo", 1), node("b", "todo", 2)]))
    ws = workspace(tasks)
    ws.delete(tasks["b"])
    ws.finish()
    assert [t.id for t in ws.written()] == ["root"]


# -- rollups ----------------------------------------------------------------------------
def test_a_points_change_rolls_up_through_every_ancestor():
    tasks = build(node("root", "todo", children=[node("mid", "todo", children=[
        node("leaf", "todo", 2), node("other", "todo", 3)])]))
    ws = workspace(tasks)
    tasks["leaf"].points = 6
    ws.changed(tasks["leaf"])
    assert effective_points(tasks["mid"]) == 9
    assert effective_points(tasks["root"]) == 9


def test_the_first_sized_child_replaces_the_parents_own_points():
    tasks = build(node("root", "todo", 8, children=[node("a", "todo"), node("b", "todo")]))
    assert effective_points(tasks["root"]) == 8
    ws = workspace(tasks)
    tasks["a"].points = 2
    ws.changed(tasks["a"])
    assert effective_points(tasks["root"]) == 2
    assert tasks["root"].counted_children - tasks["root"].sized_children == 1


def test_completed_points_roll_up_from_done_leaves():
    tasks = build(node("root", "todo", children=[node("mid", "todo", children=[
        node("x", "todo", 2), node("y", "done", 3)])]))
    assert tasks["root"].completed_sum == 3
    workspace(tasks).set_status(tasks["x"], "done")
    assert tasks["mid"].completed_sum == 5
    assert tasks["root"].completed_sum == 5


# -- finish: derived attributes and project counters -------------------------------------
def test_finish_returns_the_project_counter_deltas():
    tasks = build(node("root", "todo", children=[node("a", "done", 1), node("b", "doing", 2)]))
    ws = workspace(tasks)
    ws.set_status(tasks["b"], "done")
    deltas = ws.finish()
    assert deltas == {"status_doing": -1, "status_done": 2, "status_todo": -1,
                      "readiness_ready": -1, "readiness_blocked_by_children": -1,
                      "points_completed": 2}


def test_finish_of_a_new_top_level_task():
    ws = Workspace([], NOW)
    new = TaskItem("t", project_id=PROJECT, parent_key=PROJECT, path="t", depth=0,
                   name="t", task_type="feature", status="todo", points=3,
                   content_changed_at=NOW, created_at=NOW, updated_at=NOW,
                   readiness="needs_sizing")
    ws.add(new)
    assert ws.finish() == {"task_count": 1, "status_todo": 1, "readiness_ready": 1,
                           "points_total": 3}
    assert new.readiness == "ready"
    assert new.queue_op == "implementation"
    assert new.queue_part == f"{PROJECT}#todo#ready"


def test_finish_of_a_delete_removes_the_task_from_every_counter():
    tasks = build(node("root", "todo", 3))
    ws = workspace(tasks)
    ws.delete(tasks["root"])
    assert ws.finish() == {"task_count": -1, "status_todo": -1, "readiness_ready": -1,
                           "points_total": -3}


def test_written_lists_touched_tasks_deepest_first():
    tasks = build(node("root", "done", children=[node("mid", "done", children=[
        node("leaf", "done", 1)])]))
    ws = workspace(tasks)
    ws.set_status(tasks["leaf"], "todo")
    ws.finish()
    assert [t.id for t in ws.written()] == ["leaf", "mid", "root"]


def test_a_cancelled_task_leaves_every_queue():
    tasks = build(node("t", "todo", 3))
    ws = workspace(tasks)
    ws.set_status(tasks["t"], "wont_do")
    ws.finish()
    assert tasks["t"].queue_op is None
    assert tasks["t"].queue_part is None
    assert tasks["t"].qs_default is None


@pytest.mark.parametrize("status", ["todo", "doing", "done", "wont_do"])
def test_setting_the_same_status_is_a_no_op(status):
    tasks = build(node("t", status, 3))
    ws = workspace(tasks)
    ws.set_status(tasks["t"], status)
    assert not ws.touched
    assert tasks["t"].updated_at == BEFORE


# -- edges of a deleted task ----------------------------------------------------------------
def connected_hub():
    """Hub waits for B1 (open) and B2 (done); W1 and W2 wait for Hub (W2 also for B1)."""
    from chalicelib.domain import dependencies as deps

    tasks = build(node("Hub"), node("B1"), node("B2", status="done"), node("W1"), node("W2"))
    deps.set_blockers(tasks["Hub"], [deps.Edge("B1", "B1", BEFORE, "a"),
                                     deps.Edge("B2", "B2", BEFORE, "a")])
    deps.set_dependents(tasks["B1"], ["Hub", "W2"])
    deps.set_dependents(tasks["B2"], ["Hub"])
    deps.set_dependents(tasks["Hub"], ["W1", "W2"])
    deps.set_blockers(tasks["W1"], [deps.Edge("Hub", "Hub", BEFORE, "a")])
    deps.set_blockers(tasks["W2"], [deps.Edge("B1", "B1", BEFORE, "a"),
                                    deps.Edge("Hub", "Hub", BEFORE, "a")])
    tasks["Hub"].open_blockers, tasks["W1"].open_blockers, tasks["W2"].open_blockers = 1, 1, 2
    return tasks


def edge_state(tasks):
    from chalicelib.domain import dependencies as deps

    return {name: (deps.blocker_ids(t), deps.dependents(t), int(t.open_blockers or 0))
            for name, t in tasks.items() if name != "Hub"}


def test_detaching_edges_in_rounds_then_deleting_equals_deleting_at_once():
    at_once = connected_hub()
    space = workspace(at_once)
    space.delete(at_once["Hub"])
    flipped_at_once = {t.id for t in space.settle_edges()}

    in_rounds = connected_hub()
    space = workspace(in_rounds)
    flipped = {t.id for t in space.detach(in_rounds["Hub"], ["W1"], ["B2"])}
    flipped |= {t.id for t in space.detach(in_rounds["Hub"], ["W2"], ["B1"])}
    assert (in_rounds["Hub"].open_blockers, flipped) == (0, {"W1", "Hub"})
    space.delete(in_rounds["Hub"])
    space.settle_edges()
    assert edge_state(in_rounds) == edge_state(at_once) == {
        "B1": ([], ["W2"], 0), "B2": ([], [], 0), "W1": ([], [], 0), "W2": (["B1"], [], 1)}
    assert flipped - {"Hub"} == flipped_at_once == {"W1"}
    removed = [(e.task_id, e.details) for e in space.journal if e.kind == "dependency_removed"]
    assert removed == [("W1", {"blocker_id": "Hub"}), ("W2", {"blocker_id": "Hub"})]
