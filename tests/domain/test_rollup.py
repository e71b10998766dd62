"""SPEC §1 Point rollup and §2 ProjectDetail: what one task contributes to its parent's
aggregates and to its project's counters. Cancelled (wont_do) tasks count nowhere."""
from types import SimpleNamespace

import pytest

from chalicelib.domain.rollup import (
    completed_points,
    contribution_to_parent,
    contribution_to_project,
    difference,
)


def task(status="todo", points=None, depth=1, needs_refinement=False, counted=0, sized=0,
         rolled=0, open_descendants=0, completed_sum=0):
    return SimpleNamespace(status=status, points=points, depth=depth,
                           needs_refinement=needs_refinement, counted_children=counted,
                           sized_children=sized, rolled_sum=rolled,
                           open_descendants=open_descendants, completed_sum=completed_sum,
                           descendants=0, open_blockers=0, waiting_ancestors=0)


def vector(children_count=1, counted=0, sized=0, rolled=0, open_=0, done=0, open_desc=0,
           completed=0, descendants=1):
    """`descendants`: the subtree size the child adds (itself and its descendants, any
    status)."""
    return {"children_count": children_count, "counted_children": counted,
            "sized_children": sized, "rolled_sum": rolled, "open_children": open_,
            "done_children": done, "open_descendants": open_desc, "completed_sum": completed,
            "descendants": descendants}


# -- to the parent ----------------------------------------------------------------------
@pytest.mark.parametrize("status,expected", [
    ("todo", vector(counted=1, sized=1, rolled=3, open_=1, open_desc=1)),
    ("doing", vector(counted=1, sized=1, rolled=3, open_=1, open_desc=1)),
    ("done", vector(counted=1, sized=1, rolled=3, done=1, completed=3)),
    ("wont_do", vector()),
])
def test_a_sized_leaf_in_each_status(status, expected):
    assert contribution_to_parent(task(status, points=3)) == expected


@pytest.mark.parametrize("status", ["todo", "doing", "done"])
def test_an_unsized_leaf_counts_but_is_not_sized(status):
    contribution = contribution_to_parent(task(status))
    assert contribution["counted_children"] == 1
    assert contribution["sized_children"] == 0
    assert contribution["rolled_sum"] == 0
    assert contribution["completed_sum"] == 0


def test_a_zero_point_leaf_is_sized():
    contribution = contribution_to_parent(task(points=0))
    assert contribution["sized_children"] == 1
    assert contribution["rolled_sum"] == 0


def test_a_wont_do_child_with_points_and_done_leaves_below_counts_for_nothing():
    cancelled = task("wont_do", points=8, counted=2, sized=2, rolled=5, completed_sum=5)
    assert contribution_to_parent(cancelled) == vector()


def test_a_parent_contributes_its_rolled_up_points_not_its_own():
    parent = task("todo", points=8, counted=2, sized=2, rolled=5, open_descendants=2)
    assert contribution_to_parent(parent) == vector(counted=1, sized=1, rolled=5, open_=1,
                                                    open_desc=3)


def test_a_parent_with_unsized_children_only_contributes_its_own_points():
    parent = task("todo", points=8, counted=2, sized=0, rolled=0, open_descendants=2)
    assert contribution_to_parent(parent)["rolled_sum"] == 8


def test_a_parent_whose_children_are_all_wont_do_is_a_leaf_again():
    parent = task("done", points=4, counted=0, sized=0, rolled=0, completed_sum=0)
    assert contribution_to_parent(parent) == vector(counted=1, sized=1, rolled=4, done=1,
                                                    completed=4)


def test_completed_points_of_a_done_parent_are_its_done_leaves_not_its_own_points():
    parent = task("done", points=9, counted=2, sized=2, rolled=5, completed_sum=5)
    assert completed_points(parent) == 5
    assert contribution_to_parent(parent)["completed_sum"] == 5


def test_completed_points_of_an_open_leaf_are_zero():
    assert completed_points(task("doing", points=3)) == 0


def test_open_descendants_add_up_through_the_levels():
    assert contribution_to_parent(task("todo", open_descendants=7))["open_descendants"] == 8
    assert contribution_to_parent(task("done", open_descendants=0))["open_descendants"] == 0


# -- to the project ---------------------------------------------------------------------
@pytest.mark.parametrize("status", ["todo", "doing"])
def test_an_open_task_counts_its_status_and_readiness(status):
    assert contribution_to_project(task(status, points=3)) == {
        "task_count": 1, f"status_{status}": 1, "readiness_ready": 1}


@pytest.mark.parametrize("status", ["done", "wont_do"])
def test_a_closed_task_counts_its_status_but_no_readiness(status):
    assert contribution_to_project(task(status, points=3)) == {
        "task_count": 1, f"status_{status}": 1}


@pytest.mark.parametrize("fields,readiness", [
    (dict(needs_refinement=True, points=3), "needs_refinement"),
    (dict(counted=1), "blocked_by_children"),
    (dict(), "needs_sizing"),
    (dict(points=7), "needs_breakdown"),
    (dict(points=6), "ready"),
])
def test_readiness_counter_of_an_open_task(fields, readiness):
    assert contribution_to_project(task("todo", **fields))[f"readiness_{readiness}"] == 1


def test_a_top_level_task_counts_its_effective_points_into_points_total():
    top = task("todo", points=9, depth=0, counted=2, sized=2, rolled=5, completed_sum=2)
    counters = contribution_to_project(top)
    assert counters["points_total"] == 5
    assert counters["points_completed"] == 2


def test_a_top_level_done_leaf_counts_as_completed():
    counters = contribution_to_project(task("done", points=3, depth=0))
    assert (counters["points_total"], counters["points_completed"]) == (3, 3)


def test_an_unsized_top_level_task_adds_zero_points():
    counters = contribution_to_project(task("todo", depth=0))
    assert counters["points_total"] == 0


def test_a_cancelled_top_level_task_adds_no_points():
    counters = contribution_to_project(task("wont_do", points=3, depth=0))
    assert "points_total" not in counters and "points_completed" not in counters


def test_a_nested_task_adds_no_project_points_itself():
    counters = contribution_to_project(task("done", points=3, depth=2))
    assert "points_total" not in counters and "points_completed" not in counters


# -- deltas -----------------------------------------------------------------------------
def test_difference_keeps_only_what_changed():
    assert difference({"a": 2, "b": 1, "c": 0}, {"a": 1, "b": 1, "d": 4}) == {"a": 1, "d": -4}


def test_difference_of_equal_vectors_is_empty():
    assert difference(vector(counted=1), vector(counted=1)) == {}


def test_moving_a_sized_todo_child_to_wont_do():
    before = contribution_to_parent(task("todo", points=3))
    after = contribution_to_parent(task("wont_do", points=3))
    assert difference(after, before) == {
        "counted_children": -1, "sized_children": -1, "rolled_sum": -3, "open_children": -1,
        "open_descendants": -1}
