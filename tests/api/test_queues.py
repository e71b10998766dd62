"""Queues (SPEC §3): backlog, in-progress, needs-refinement and /tasks/available, with locked,
expired-lock, stalled and wont_do tasks; sort orders, filters and paging."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from tests.api.helpers import (
    AGENT,
    MISSING_ID,
    OTHER,
    assert_error,
    big_children,
    complete,
    get,
    ids,
    lock,
    ok,
    project,
    set_status,
    subtask,
    task,
    validation_locs,
)

QUEUES = ("backlog", "in-progress", "needs-refinement")
OPERATIONS = ("sizing", "breakdown", "implementation", "refinement")


def default_order(tasks):
    return sorted(tasks, key=lambda t: (-t["priority"], t["effective_points"] is None,
                                        t["effective_points"] or 0, t["created_at"], t["id"]))


def flag(api, task_id):
    ok(api.post(f"/tasks/{task_id}/flag-refinement", {"refinement_notes": "unclear"}))


@pytest.fixture
def world(api, clock):
    """One project with a task in every situation the queues distinguish, and another project."""
    pid = project(api, "A")["id"]
    t = SimpleNamespace(pid=pid)
    t.ready_hi = task(api, pid, "ready hi", points=2, priority=5)
    t.ready_lo = task(api, pid, "ready lo", points=5)
    t.ready_locked = task(api, pid, "ready, refinement lock", points=3)
    lock(api, t.ready_locked["id"], "refinement", OTHER)
    t.doing_locked = task(api, pid, "doing, locked", points=1)
    lock(api, t.doing_locked["id"], "implementation")
    t.stalled = task(api, pid, "doing, stalled", points=4, task_type="bug")
    set_status(api, t.stalled["id"], "doing")
    t.unsized = task(api, pid, "unsized", priority=2)
    t.unsized_expired = task(api, pid, "unsized, lock expired", task_type="bug")
    lock(api, t.unsized_expired["id"], "sizing", OTHER)
    t.unsized_locked = task(api, pid, "unsized, locked")
    lock(api, t.unsized_locked["id"], "refinement", OTHER)
    t.unsized_doing = task(api, pid, "unsized, doing")
    set_status(api, t.unsized_doing["id"], "doing")
    t.big = task(api, pid, "big", points=8)
    t.big_doing = task(api, pid, "big, doing", points=9, priority=-3)
    set_status(api, t.big_doing["id"], "doing")
    t.flagged = task(api, pid, "flagged", points=2)
    flag(api, t.flagged["id"])
    t.flagged_doing = task(api, pid, "flagged, doing")
    set_status(api, t.flagged_doing["id"], "doing")
    flag(api, t.flagged_doing["id"])
    t.flagged_done = task(api, pid, "flagged, done", points=1)
    flag(api, t.flagged_done["id"])
    set_status(api, t.flagged_done["id"], "doing")
    set_status(api, t.flagged_done["id"], "done")
    t.cancelled = task(api, pid, "cancelled", points=2)
    set_status(api, t.cancelled["id"], "wont_do")
    t.done = task(api, pid, "done", points=1)
    complete(api, t.done["id"], caller=OTHER)
    t.parent = task(api, pid, "parent", points=9)
    t.child = subtask(api, t.parent["id"], "child", points=1, priority=5)
    t.elsewhere = task(api, project(api, "B")["id"], "elsewhere", points=1)
    t.elsewhere_unsized = task(api, t.elsewhere["project_id"], "elsewhere unsized")
    clock.advance(901)  # the sizing lock expires; the others have time left
    return t


def listed(api, path):
    return ids(ok(api.get(path)))


def expected(api, world, *names):
    return ids(default_order([get(api, getattr(world, name)["id"]) for name in names]))


def test_backlog_is_todo_and_ready_locked_ones_included(api, world):
    body = ok(api.get(f"/projects/{world.pid}/backlog"))
    assert ids(body) == expected(api, world, "ready_hi", "ready_lo", "ready_locked", "child")
    locked = next(t for t in body if t["id"] == world.ready_locked["id"])
    assert locked["is_locked"] is True and locked["lock"]["caller_label"] == OTHER
    assert all(t["status"] == "todo" and t["readiness"] == "ready" for t in body)


def test_in_progress_is_every_doing_task_with_its_live_lock_or_null(api, world):
    body = ok(api.get(f"/projects/{world.pid}/in-progress"))
    assert ids(body) == expected(api, world, "doing_locked", "stalled", "unsized_doing",
                                 "big_doing", "flagged_doing")
    locks = {t["id"]: t["lock"] for t in body}
    assert locks[world.doing_locked["id"]]["caller_label"] == AGENT
    assert locks[world.stalled["id"]] is None


def test_needs_refinement_is_open_flagged_tasks(api, world):
    assert listed(api, f"/projects/{world.pid}/needs-refinement") == expected(
        api, world, "flagged", "flagged_doing")


@pytest.mark.parametrize("operation,names", [
    ("sizing", ["unsized", "unsized_expired"]),
    ("breakdown", ["big", "big_doing"]),
    ("implementation", ["ready_hi", "ready_lo", "stalled", "child"]),
    ("refinement", ["flagged", "flagged_doing"]),
])
def test_available_lists_unlocked_tasks_ready_for_the_operation(api, world, operation, names):
    body = ok(api.get(f"/tasks/available?operation={operation}&project_id={world.pid}"))
    assert ids(body) == expected(api, world, *names)
    assert all(t["is_locked"] is False and t["lock"] is None for t in body)
    across = listed(api, f"/tasks/available?operation={operation}")
    extra = {"sizing": ["elsewhere_unsized"], "implementation": ["elsewhere"]}.get(operation, [])
    assert across == expected(api, world, *names, *extra)


def test_a_released_lock_puts_the_task_back_and_taking_one_removes_it(api, world):
    path = f"/tasks/available?operation=implementation&project_id={world.pid}"
    lock(api, world.ready_hi["id"], "implementation", OTHER)
    assert world.ready_hi["id"] not in listed(api, path)
    ok(api.delete(f"/tasks/{world.ready_hi['id']}/lock?caller_label={OTHER}"), 204)
    assert world.ready_hi["id"] in listed(api, path)  # doing and unlocked: stalled


def test_filters_of_available(api, world):
    base = f"/tasks/available?project_id={world.pid}&operation="
    assert listed(api, base + "implementation&task_type=bug") == [world.stalled["id"]]
    assert listed(api, base + "sizing&task_type=bug") == [world.unsized_expired["id"]]
    assert listed(api, base + "implementation&min_points=2&max_points=4") == expected(
        api, world, "ready_hi", "stalled")
    assert listed(api, base + "implementation&min_points=5") == [world.ready_lo["id"]]
    assert listed(api, base + "implementation&max_points=1") == [world.child["id"]]
    assert listed(api, base + "breakdown&min_points=9&max_points=9") == [world.big_doing["id"]]
    # a task without effective points is left out when either bound is given
    assert listed(api, base + "sizing&min_points=0") == []
    assert listed(api, base + "refinement&max_points=10") == [world.flagged["id"]]
    error = assert_error(api.get(base + "implementation&min_points=5&max_points=4"), 422,
                         "VALIDATION_ERROR")
    assert error["details"]["errors"]
    for query in ("min_points=-1", "max_points=x", "task_type=story", "min_points=1.5"):
        assert_error(api.get(base + "implementation&" + query), 422, "VALIDATION_ERROR")


def test_available_needs_a_known_operation_and_project(api):
    for query in ("", "?operation=", "?operation=coding", "?operation=Sizing"):
        locs = validation_locs(api.get(f"/tasks/available{query}"))
        assert ["query", "operation"] in locs, query
    assert_error(api.get(f"/tasks/available?operation=sizing&project_id={MISSING_ID}"), 404,
                 "NOT_FOUND")
    assert_error(api.get("/tasks/available?operation=sizing&project_id=nope"), 404,
                 "NOT_FOUND")


def test_queue_endpoints_of_an_unknown_project_are_404(api):
    for queue in QUEUES:
        assert_error(api.get(f"/projects/{MISSING_ID}/{queue}"), 404, "NOT_FOUND")


# -- sorting and paging -------------------------------------------------------------------
@pytest.fixture
def sortable(api):
    pid = project(api)["id"]
    made = []
    for name, priority, points in (("a", 0, 3), ("b", 5, 3), ("c", 0, 1), ("d", 0, None),
                                   ("e", -2, 6), ("f", 0, 3), ("g", 5, None)):
        made.append(task(api, pid, name, priority=priority, points=points))
        time.sleep(0.002)
    ok(api.put(f"/tasks/{made[0]['id']}", {"description": "touched last"}))
    for t in made:
        set_status(api, t["id"], "doing")  # all in in-progress, whatever their points
    return pid, [get(api, t["id"]) for t in made]


def spec_order(tasks, sort):
    def default(t):
        return (-t["priority"], t["effective_points"] is None, t["effective_points"] or 0,
                t["created_at"], t["id"])

    def points(t, descending):
        p = t["effective_points"]
        return (p is None, 0 if p is None else (-p if descending else p))

    keys = {
        "-priority": default,
        "priority": lambda t: (t["priority"], default(t)),
        "points": lambda t: (points(t, False), default(t)),
        "-points": lambda t: (points(t, True), default(t)),
        "created_at": lambda t: (t["created_at"], default(t)),
        "updated_at": lambda t: (t["updated_at"], default(t)),
    }
    if sort in ("-created_at", "-updated_at"):
        field = sort[1:]
        # descending on the field, ties in the default order
        stable = sorted(tasks, key=default)
        return [t["id"] for t in sorted(stable, key=lambda t: t[field], reverse=True)]
    return [t["id"] for t in sorted(tasks, key=keys[sort])]


@pytest.mark.parametrize("sort", ["-priority", "priority", "points", "-points", "created_at",
                                  "-created_at", "updated_at", "-updated_at"])
def test_every_sort_order(api, sortable, sort):
    pid, tasks = sortable
    got = listed(api, f"/projects/{pid}/in-progress?sort={sort}")
    assert got == spec_order(tasks, sort)
    if sort == "-priority":
        assert got == listed(api, f"/projects/{pid}/in-progress")
        names = {t["id"]: t["name"] for t in tasks}
        assert [names[i] for i in got] == ["b", "g", "c", "a", "f", "d", "e"]
    if sort == "points":
        names = {t["id"]: t["name"] for t in tasks}
        assert [names[i] for i in got][-2:] == ["g", "d"]  # unsized last, then by priority
    if sort == "-points":
        names = {t["id"]: t["name"] for t in tasks}
        assert [names[i] for i in got][-2:] == ["g", "d"]  # unsized last either way


def test_a_sort_with_paging(api, sortable):
    pid, tasks = sortable
    order = spec_order(tasks, "-points")
    first = api.get(f"/projects/{pid}/in-progress?sort=-points&limit=3")
    assert ids(ok(first)) == order[:3] and first.headers["X-Next-Offset"] == "3"
    second = api.get(f"/projects/{pid}/in-progress?sort=-points&limit=3&offset=3")
    assert ids(ok(second)) == order[3:6] and second.headers["X-Next-Offset"] == "6"
    last = api.get(f"/projects/{pid}/in-progress?sort=-points&limit=3&offset=6")
    assert ids(ok(last)) == order[6:] and "X-Next-Offset" not in last.headers


def test_an_unknown_sort_is_422(api, sortable):
    pid, _ = sortable
    for path in [f"/projects/{pid}/{queue}" for queue in QUEUES] + [
            "/tasks/available?operation=implementation&x=1"]:
        join = "&" if "?" in path else "?"
        for sort in ("name", "+priority", "priority,points", "PRIORITY"):
            locs = validation_locs(api.get(f"{path}{join}sort={sort}"))
            assert ["query", "sort"] in locs, (path, sort)


def test_default_order_with_paging_on_every_queue(api):
    pid = project(api)["id"]
    ready = [task(api, pid, f"R{i}", points=i % 4, priority=i % 3) for i in range(7)]
    for t in ready[:5]:
        flag(api, t["id"])
    everything = [get(api, t["id"]) for t in ready]
    order_ready = ids(default_order([t for t in everything if not t["needs_refinement"]]))
    order_flagged = ids(default_order([t for t in everything if t["needs_refinement"]]))
    for path, order in ((f"/projects/{pid}/needs-refinement", order_flagged),
                        (f"/tasks/available?project_id={pid}&operation=refinement", order_flagged),
                        (f"/projects/{pid}/backlog", order_ready)):
        join = "&" if "?" in path else "?"
        pages, offset = [], 0
        while True:
            response = api.get(f"{path}{join}limit=2&offset={offset}")
            pages += ids(ok(response))
            if "X-Next-Offset" not in response.headers:
                break
            offset = int(response.headers["X-Next-Offset"])
            assert offset == len(pages)
        assert pages == order, path
    for query in ("limit=0", "limit=201", "offset=-1"):
        assert_error(api.get(f"/projects/{pid}/backlog?{query}"), 422, "VALIDATION_ERROR")
    assert ok(api.get(f"/projects/{pid}/backlog?limit=200&offset=50")) == []


def test_available_pages_past_locked_tasks(api):
    pid = project(api)["id"]
    made = [task(api, pid, f"T{i}", points=1) for i in range(6)]
    for t in made[:3]:
        lock(api, t["id"], "refinement")
    path = f"/tasks/available?project_id={pid}&operation=implementation"
    first = api.get(path + "&limit=2")
    assert ids(ok(first)) == ids(made[3:5]) and first.headers["X-Next-Offset"] == "2"
    rest = api.get(path + "&limit=2&offset=2")
    assert ids(ok(rest)) == ids(made[5:]) and "X-Next-Offset" not in rest.headers


def test_the_default_limit_is_50(api):
    pid = project(api)["id"]
    root = task(api, pid, "Root", points=9)
    lock(api, root["id"], "breakdown")
    ok(api.post(f"/tasks/{root['id']}/breakdown",
                {"caller_label": AGENT, "work_log_content": "many",
                 "subtasks": [{"name": f"T{i}", "task_type": "bug", "points": 1}
                              for i in range(50)]}))
    subtask(api, root["id"], "One more", points=1)
    first = api.get(f"/projects/{pid}/backlog")
    assert len(ok(first)) == 50 and first.headers["X-Next-Offset"] == "50"
    rest = api.get(f"/projects/{pid}/backlog?offset=50")
    assert len(ok(rest)) == 1 and "X-Next-Offset" not in rest.headers


def test_a_page_ends_early_rather_than_pass_6_mb(api):
    pid = project(api)["id"]
    root = task(api, pid, "Root", points=9)
    lock(api, root["id"], "breakdown")
    big_children(api, root["id"], points=1)
    seen, offset = [], 0
    while True:
        response = api.get(f"/projects/{pid}/backlog?limit=200&offset={offset}")
        page = ok(response)
        assert len(response.body) <= 6_000_000
        seen += ids(page)
        if "X-Next-Offset" not in response.headers:
            break
        offset = int(response.headers["X-Next-Offset"])
        assert offset == len(seen) and page
    assert len(seen) == len(set(seen)) == 49
    assert offset > 0  # it took more than one page
