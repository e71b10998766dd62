"""SPEC §3 Queues: which queue each status x readiness is in, and the queue orders."""
import itertools
import random
from types import SimpleNamespace

import pytest

from chalicelib.domain.queues import (
    OPERATIONS,
    SORTS,
    board_list,
    operation_queue,
    ordering,
    sort_key,
)
from chalicelib.domain.readiness import READINESS_STATES
from chalicelib.domain.status import STATUSES


def spec_operation_queue(status, readiness):
    """SPEC §3 /tasks/available, written out again."""
    if readiness == "needs_sizing" and status == "todo":
        return "sizing"
    if readiness == "needs_breakdown" and status in ("todo", "doing"):
        return "breakdown"
    if readiness == "ready" and status in ("todo", "doing"):
        return "implementation"
    if readiness == "needs_refinement" and status in ("todo", "doing"):
        return "refinement"
    return None


def spec_board(status, readiness):
    if status == "todo" and readiness == "ready":
        return "backlog"
    if status == "doing":
        return "in_progress"
    return None


@pytest.mark.parametrize("status,readiness", list(itertools.product(STATUSES, READINESS_STATES)))
def test_operation_queue_membership(status, readiness):
    assert operation_queue(status, readiness) == spec_operation_queue(status, readiness)


@pytest.mark.parametrize("status,readiness", list(itertools.product(STATUSES, READINESS_STATES)))
def test_board_membership(status, readiness):
    assert board_list(status, readiness) == spec_board(status, readiness)


def test_the_operations_and_sorts():
    assert set(OPERATIONS) == {"sizing", "breakdown", "implementation", "refinement"}
    assert set(SORTS) == {"-priority", "priority", "points", "-points", "created_at",
                          "-created_at", "updated_at", "-updated_at"}


# -- the stored sort key -----------------------------------------------------------------
def stored(priority, points, created_at, task_id, sized_children=0, rolled_sum=0):
    return SimpleNamespace(priority=priority, points=points, created_at=created_at,
                           id=task_id, needs_refinement=False, counted_children=0,
                           sized_children=sized_children, rolled_sum=rolled_sum)


def spec_default_key(task):
    points = task.rolled_sum if task.sized_children else task.points
    return (-task.priority, points is None, points if points is not None else 0,
            task.created_at, task.id)


def make_population(seed, size=200):
    rng = random.Random(seed)
    stamps = [f"2025-0{m}-1{d}T0{h}:00:00.{us:06d}Z" for m, d, h, us in
              itertools.product((1, 2), (0, 5), (1, 9), (0, 999_999))]
    population = []
    for i in range(size):
        rolled = rng.choice([None, None, 0, 4, 12, 40])
        population.append(stored(
            priority=rng.choice([-1000, -999, -10, -1, 0, 0, 1, 9, 10, 999, 1000]),
            points=rng.choice([None, 0, 1, 3, 6, 7, 10]),
            created_at=rng.choice(stamps),
            task_id=f"{rng.randrange(16 ** 8):08x}-{i}",
            sized_children=0 if rolled is None else 2,
            rolled_sum=rolled or 0))
    return population


@pytest.mark.parametrize("seed", range(5))
def test_sort_key_order_is_the_default_queue_order(seed):
    population = make_population(seed)
    assert sorted(population, key=sort_key) == sorted(population, key=spec_default_key)


def test_sort_key_puts_unsized_tasks_after_the_largest_sized_ones():
    big = stored(0, None, "2025-01-01", "a", sized_children=1, rolled_sum=150)
    unsized = stored(0, None, "2025-01-01", "b")
    assert sort_key(big) < sort_key(unsized)


def test_sort_key_orders_extreme_priorities():
    keys = [sort_key(stored(p, 1, "2025", "x")) for p in (1000, 1, 0, -1, -1000)]
    assert keys == sorted(keys)


# -- ordering() over API task dicts ------------------------------------------------------
def api_task(task_id, priority=0, points=None, created_at="2025-01-01T00:00:00.000000Z",
             updated_at="2025-01-01T00:00:00.000000Z"):
    return {"id": task_id, "priority": priority, "effective_points": points,
            "created_at": created_at, "updated_at": updated_at}


def order(tasks, sort):
    return [t["id"] for t in sorted(tasks, key=ordering(sort))]


def test_default_order():
    tasks = [api_task("e", 0, None), api_task("d", 0, 5), api_task("c", 0, 2, "2025-02"),
             api_task("b", 0, 2, "2025-01"), api_task("a2", 5, 9), api_task("a1", 5, 9)]
    assert order(tasks, "-priority") == ["a1", "a2", "b", "c", "d", "e"]


def test_priority_ascending_with_ties_in_default_order():
    tasks = [api_task("hi", 5, 1), api_task("lo-big", -1, 8), api_task("lo-small", -1, 2),
             api_task("lo-unsized", -1, None)]
    assert order(tasks, "priority") == ["lo-small", "lo-big", "lo-unsized", "hi"]


def test_points_ascending_unsized_last_ties_in_default_order():
    tasks = [api_task("none-hi", 9, None), api_task("none-lo", 0, None),
             api_task("three-lo", 0, 3), api_task("three-hi", 9, 3), api_task("zero", 0, 0)]
    assert order(tasks, "points") == ["zero", "three-hi", "three-lo", "none-hi", "none-lo"]


def test_points_descending_unsized_still_last():
    tasks = [api_task("none", 9, None), api_task("one", 0, 1), api_task("ten-lo", 0, 10),
             api_task("ten-hi", 3, 10)]
    assert order(tasks, "-points") == ["ten-hi", "ten-lo", "one", "none"]


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_time_ascending_and_descending_with_ties_in_default_order(field):
    early, late = "2025-01-01T00:00:00.000000Z", "2025-03-01T00:00:00.000000Z"
    tasks = [api_task("late-lo", 0, 1, **{field: late}), api_task("late-hi", 7, 1, **{field: late}),
             api_task("early", 0, 1, **{field: early})]
    assert order(tasks, field) == ["early", "late-hi", "late-lo"]
    assert order(tasks, "-" + field) == ["late-hi", "late-lo", "early"]


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_falls_back_to_the_default_order_on_ties(sort):
    same = dict(priority=3, points=4, created_at="2025-01-01T00:00:00.000000Z",
                updated_at="2025-01-01T00:00:00.000000Z")
    tasks = [api_task("b", **same), api_task("c", **same), api_task("a", **same)]
    assert order(tasks, sort) == ["a", "b", "c"]


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_is_a_total_order_on_a_mixed_population(sort):
    rng = random.Random(sort)
    tasks = [api_task(f"t{i:03d}", rng.choice([-5, 0, 5]), rng.choice([None, 1, 8]),
                      rng.choice(["2025-01", "2025-02"]), rng.choice(["2025-03", "2025-04"]))
             for i in range(60)]
    once = order(tasks, sort)
    rng.shuffle(tasks)
    assert order(tasks, sort) == once
