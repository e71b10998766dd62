"""SPEC §3 Queues: which queue each status x readiness is in, and the stored sort keys: for
every `sort`, ordering tasks by their key gives the SPEC's order (ties in default order)."""
import itertools
import random
from types import SimpleNamespace

import pytest

from chalicelib.domain.queues import (
    OPERATIONS,
    QUEUE_PARTITIONS,
    SORT_ATTRIBUTES,
    SORTS,
    in_queue,
    operation_queue,
    sort_keys,
    task_partition,
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


def spec_lists(status, readiness):
    """Every queue of SPEC §3 a task with this status and readiness belongs to."""
    found = set()
    if status == "todo" and readiness == "ready":
        found.add("backlog")
    if status == "doing":
        found.add("in_progress")
    if status in ("todo", "doing") and readiness == "needs_refinement":
        found.add("needs_refinement")
    operation = spec_operation_queue(status, readiness)
    if operation:
        found.add(operation)
    return found


@pytest.mark.parametrize("status,readiness", list(itertools.product(STATUSES, READINESS_STATES)))
def test_operation_queue_membership(status, readiness):
    assert operation_queue(status, readiness) == spec_operation_queue(status, readiness)


@pytest.mark.parametrize("status,readiness", list(itertools.product(STATUSES, READINESS_STATES)))
def test_every_queue_is_the_union_of_its_partitions(status, readiness):
    task = SimpleNamespace(status=status, readiness=readiness, project_id="p")
    member_of = {queue for queue in QUEUE_PARTITIONS if in_queue(task, queue)}
    assert member_of == spec_lists(status, readiness)
    partition = task_partition(task)
    assert (partition is None) == (status not in ("todo", "doing"))


def test_a_waiting_ready_task_is_in_no_implementation_queue():
    task = SimpleNamespace(status="todo", readiness="blocked_by_dependencies", project_id="p")
    assert not in_queue(task, "implementation") and not in_queue(task, "backlog")


def test_the_operations_and_sorts():
    assert set(OPERATIONS) == {"sizing", "breakdown", "implementation", "refinement"}
    assert set(SORTS) == set(SORT_ATTRIBUTES)


# -- the stored keys against the SPEC's orders --------------------------------------------
def stored(priority, points, created_at, updated_at, task_id, rolled=None):
    return SimpleNamespace(priority=priority, points=points, created_at=created_at,
                           updated_at=updated_at, id=task_id, needs_refinement=False,
                           counted_children=0 if rolled is None else 2,
                           sized_children=0 if rolled is None else 2, rolled_sum=rolled or 0)


def effective(task):
    return task.rolled_sum if task.sized_children else task.points


def spec_default(task):
    points = effective(task)
    return (-task.priority, points is None, points or 0, task.created_at, task.id)


class Desc:
    def __init__(self, value):
        self.value = value

    def __lt__(self, other):
        return self.value > other.value

    def __eq__(self, other):
        return self.value == other.value


def spec_order(sort):
    """SPEC §3: the sort, then the default order on ties (unsized last either way)."""
    if sort == "-priority":
        return spec_default
    if sort == "priority":
        return lambda t: (t.priority, spec_default(t))
    if sort in ("points", "-points"):
        def points_key(t):
            points = effective(t)
            if points is None:
                return (1, 0, spec_default(t))
            return (0, -points if sort == "-points" else points, spec_default(t))
        return points_key
    field = sort.lstrip("-")
    if sort.startswith("-"):
        return lambda t: (Desc(getattr(t, field)), spec_default(t))
    return lambda t: (getattr(t, field), spec_default(t))


def population(seed, size=250):
    rng = random.Random(seed)
    stamps = [f"2025-0{m}-1{d}T0{h}:00:00.{us:06d}Z" for m, d, h, us in
              itertools.product((1, 2), (0, 5), (1, 9), (0, 999_999))]
    return [stored(rng.choice([-1000, -999, -10, -1, 0, 0, 1, 9, 10, 999, 1000]),
                   rng.choice([None, 0, 1, 3, 6, 7, 10]), rng.choice(stamps),
                   rng.choice(stamps), f"{rng.randrange(16 ** 8):08x}-{i}",
                   rng.choice([None, None, 0, 4, 12, 40, 500]))
            for i in range(size)]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("seed", range(4))
def test_each_stored_key_sorts_in_the_spec_order(sort, seed):
    tasks = population(seed)
    attribute = SORT_ATTRIBUTES[sort]
    by_key = sorted(tasks, key=lambda t: sort_keys(t)[attribute])
    assert [t.id for t in by_key] == [t.id for t in sorted(tasks, key=spec_order(sort))]


@pytest.mark.parametrize("sort", SORTS)
def test_ties_fall_back_to_the_default_order(sort):
    same = dict(priority=3, points=4, created_at="2025-01-01T00:00:00.000000Z",
                updated_at="2025-01-01T00:00:00.000000Z")
    tasks = [stored(task_id=i, **same) for i in ("b", "c", "a")]
    attribute = SORT_ATTRIBUTES[sort]
    assert [t.id for t in sorted(tasks, key=lambda t: sort_keys(t)[attribute])] == \
        ["a", "b", "c"]


def test_unsized_tasks_come_after_the_largest_sized_ones_in_the_default_order():
    big = stored(0, None, "2025-01-01", "2025-01-01", "a", rolled=150)
    unsized = stored(0, None, "2025-01-01", "2025-01-01", "b")
    assert sort_keys(big)["qs_default"] < sort_keys(unsized)["qs_default"]
