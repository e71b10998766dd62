"""SPEC §12 Dependencies: "B must be finished before A is implemented"."""
import pytest

from tests.api.helpers import (
    AGENT,
    MISSING_ID,
    assert_error,
    breakdown,
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
    work_log,
)


@pytest.fixture
def pid(api):
    return project(api)["id"]


def depend(api, waiter_id, blocker_id, status=201, **extra):
    return ok(api.post(f"/tasks/{waiter_id}/dependencies", {"blocker_id": blocker_id, **extra}),
              status)


def undepend(api, waiter_id, blocker_id):
    response = api.delete(f"/tasks/{waiter_id}/dependencies/{blocker_id}")
    assert response.status_code == 204, response.data


def refused(api, waiter_id, blocker_id, reason):
    error = assert_error(api.post(f"/tasks/{waiter_id}/dependencies",
                                  {"blocker_id": blocker_id}), 422, "INVALID_DEPENDENCY")
    assert error["details"] == {"reason": reason, "task_id": waiter_id, "blocker_id": blocker_id}


def implementation_queue(api, pid):
    return ids(ok(api.get(f"/tasks/available?operation=implementation&project_id={pid}")))


# -- adding -----------------------------------------------------------------------------
def test_a_waiting_task_is_held_back_from_implementation_only(api, pid):
    cutover = task(api, pid, "Cut-over", points=3)
    backfill = task(api, pid, "Backfill", points=2)
    edge = depend(api, cutover["id"], backfill["id"], author="planner")
    assert set(edge) == {"task_id", "blocker_id", "created_at", "author"}
    assert (edge["task_id"], edge["blocker_id"], edge["author"]) == (
        cutover["id"], backfill["id"], "planner")
    waiting = get(api, cutover["id"])
    assert (waiting["blocked_by"], waiting["open_blockers"], waiting["waiting"]) == (
        [backfill["id"]], 1, True)
    assert waiting["readiness"] == "blocked_by_dependencies"
    assert waiting["updated_at"] == edge["created_at"]  # blocked_by is a stored field
    assert implementation_queue(api, pid) == [backfill["id"]]
    assert ids(ok(api.get(f"/projects/{pid}/backlog"))) == [backfill["id"]]
    error = assert_error(api.post(f"/tasks/{cutover['id']}/lock",
                                  {"caller_label": AGENT, "lock_purpose": "implementation"}),
                         422, "INVALID_READINESS_STATE")
    assert error["details"]["readiness"] == "blocked_by_dependencies"
    assert detail(api, pid)["readiness_counts"]["blocked_by_dependencies"] == 1
    note = work_log(api, cutover["id"])[-1]
    assert note["operation"] == "note" and backfill["id"] in note["content"]
    assert "Backfill" in note["content"] and note["author"] == "planner"
    # planning goes on: a waiting task can be refined and re-sized
    lock(api, cutover["id"], "refinement")
    assert ok(api.post(f"/tasks/{cutover['id']}/refine", {
        "caller_label": AGENT, "work_log_content": "clearer", "release_lock": True}))


def test_an_unsized_waiting_task_can_be_sized(api, pid):
    waiter, blocker = task(api, pid, "W"), task(api, pid, "B", points=1)
    depend(api, waiter["id"], blocker["id"])
    assert get(api, waiter["id"])["readiness"] == "needs_sizing"
    sized = size(api, waiter["id"], points=3)
    assert sized["readiness"] == "blocked_by_dependencies"


def test_an_existing_edge_answers_200_unchanged_and_logs_nothing(api, pid):
    waiter, blocker = task(api, pid, "W", points=1), task(api, pid, "B", points=1)
    first = depend(api, waiter["id"], blocker["id"])
    logged = len(work_log(api, waiter["id"]))
    assert depend(api, waiter["id"], blocker["id"], 200, author="someone else") == first
    assert len(work_log(api, waiter["id"])) == logged


def test_a_finished_blocker_satisfies_the_edge_at_once(api, pid):
    waiter = task(api, pid, "W", points=1)
    done, cancelled = task(api, pid, "Done", points=1), task(api, pid, "Gone", points=1)
    complete(api, done["id"])
    set_status(api, cancelled["id"], "wont_do")
    depend(api, waiter["id"], done["id"])
    depend(api, waiter["id"], cancelled["id"])
    now = get(api, waiter["id"])
    assert (now["open_blockers"], now["waiting"], now["readiness"]) == (0, False, "ready")
    assert now["blocked_by"] == [done["id"], cancelled["id"]]


def test_a_blockers_status_changes_move_its_dependents(api, pid):
    waiter, blocker = task(api, pid, "W", points=1), task(api, pid, "B", points=1)
    depend(api, waiter["id"], blocker["id"])
    complete(api, blocker["id"])
    assert get(api, waiter["id"])["readiness"] == "ready"
    set_status(api, blocker["id"], "todo")  # reopened: it holds the waiter back again
    assert get(api, waiter["id"])["readiness"] == "blocked_by_dependencies"
    set_status(api, blocker["id"], "wont_do")
    assert get(api, waiter["id"])["waiting"] is False


def test_complete_upward_and_reopen_upward_of_a_blocker_reach_its_dependents(api, pid):
    epic = task(api, pid, "Epic", points=9)
    breakdown(api, epic["id"], specs(1, "Only", points=2), release_lock=True)
    leaf = ok(api.get(f"/tasks/{epic['id']}/tree"))["children"][0]
    waiter = task(api, pid, "Waiter", points=1)
    depend(api, waiter["id"], epic["id"])
    complete(api, leaf["id"])  # the epic completes upward
    assert get(api, epic["id"])["status"] == "done"
    assert get(api, waiter["id"])["readiness"] == "ready"
    subtask(api, epic["id"], "Late")  # the epic reopens upward
    assert get(api, epic["id"])["status"] == "todo"
    assert get(api, waiter["id"])["readiness"] == "blocked_by_dependencies"


def test_an_epic_that_waits_holds_back_its_whole_subtree_even_later_tasks(api, pid):
    epic = task(api, pid, "Epic", points=9)
    blocker = task(api, pid, "Blocker", points=1)
    breakdown(api, epic["id"], specs(2, "Part", points=2), release_lock=True)
    depend(api, epic["id"], blocker["id"])
    parts = ok(api.get(f"/tasks/{epic['id']}/tree"))["children"]
    assert [p["readiness"] for p in parts] == ["blocked_by_dependencies"] * 2
    assert all(p["waiting"] and p["open_blockers"] == 0 for p in parts)
    later = subtask(api, epic["id"], "Later", points=1)
    assert later["readiness"] == "blocked_by_dependencies"
    assert implementation_queue(api, pid) == [blocker["id"]]
    complete(api, blocker["id"])
    assert sorted(implementation_queue(api, pid)) == sorted(
        [p["id"] for p in parts] + [later["id"]])


def test_a_large_subtree_is_propagated_before_the_request_answers(api, pid):
    epic = task(api, pid, "Epic", points=9)
    breakdown(api, epic["id"], specs(45, "Part", points=1), release_lock=True)
    blocker = task(api, pid, "Blocker", points=1)
    depend(api, epic["id"], blocker["id"])  # 45 tasks below: past one transaction's share
    assert detail(api, pid)["readiness_counts"]["blocked_by_dependencies"] == 45
    assert implementation_queue(api, pid) == [blocker["id"]]
    complete(api, blocker["id"])
    assert detail(api, pid)["readiness_counts"]["ready"] == 45


# -- refusals -----------------------------------------------------------------------------
def test_cycles_are_refused(api, pid):
    epic = task(api, pid, "Epic", points=9)
    breakdown(api, epic["id"], specs(2, "Child", points=9), release_lock=True)
    first, second = ok(api.get(f"/tasks/{epic['id']}/tree"))["children"]
    breakdown(api, first["id"], specs(1, "Grandchild", points=1), release_lock=True)
    grandchild = ok(api.get(f"/tasks/{first['id']}/tree"))["children"][0]
    other = task(api, pid, "Other", points=1)
    refused(api, other["id"], other["id"], "cycle")                 # itself
    refused(api, grandchild["id"], epic["id"], "cycle")             # an ancestor
    refused(api, epic["id"], grandchild["id"], "cycle")             # a descendant
    depend(api, second["id"], first["id"])                          # siblings: one way
    refused(api, first["id"], second["id"], "cycle")                # ... not back
    refused(api, grandchild["id"], second["id"], "cycle")           # nor from below it
    depend(api, other["id"], epic["id"])
    refused(api, epic["id"], other["id"], "cycle")                  # through a subtree
    third = task(api, pid, "Third", points=1)
    depend(api, third["id"], other["id"])
    refused(api, grandchild["id"], third["id"], "cycle")            # a longer ring


def test_a_ring_of_satisfied_edges_is_still_a_cycle(api, pid):
    a, b = task(api, pid, "A", points=1), task(api, pid, "B", points=1)
    complete(api, b["id"])
    depend(api, a["id"], b["id"])
    complete(api, a["id"])
    refused(api, b["id"], a["id"], "cycle")


def test_other_refusals_in_order(api, pid):
    waiter = task(api, pid, "W", points=1)
    elsewhere = task(api, project(api, "Other")["id"], "X", points=1)
    refused(api, waiter["id"], elsewhere["id"], "cross_project")
    for blocker_id in (MISSING_ID, "not-a-uuid"):
        error = assert_error(api.post(f"/tasks/{waiter['id']}/dependencies",
                                      {"blocker_id": blocker_id}), 404, "NOT_FOUND")
        assert error["details"]["blocker_id"] == blocker_id
    assert_error(api.post(f"/tasks/{MISSING_ID}/dependencies", {"blocker_id": waiter["id"]}),
                 404, "NOT_FOUND")
    assert_error(api.post(f"/tasks/{waiter['id']}/dependencies", {"blocker": "x"}), 422,
                 "VALIDATION_ERROR")
    assert get(api, waiter["id"])["blocked_by"] == []


def test_at_most_50_blockers_and_50_dependents(api, pid):
    hub = task(api, pid, "Hub", points=1)
    blockers = [task(api, pid, f"B{i}", points=1) for i in range(51)]
    for blocker in blockers[:50]:
        depend(api, hub["id"], blocker["id"])
    refused(api, hub["id"], blockers[50]["id"], "limit")
    waiters = [task(api, pid, f"W{i}", points=1) for i in range(50)]
    for waiter in waiters:
        depend(api, waiter["id"], blockers[50]["id"])
    refused(api, hub["id"], blockers[50]["id"], "limit")  # both limits at once
    extra = task(api, pid, "Extra", points=1)
    refused(api, extra["id"], blockers[50]["id"], "limit")


# -- removing and reading -----------------------------------------------------------------
def test_removing_an_edge(api, pid):
    waiter, blocker = task(api, pid, "W", points=1), task(api, pid, "B", points=1)
    depend(api, waiter["id"], blocker["id"])
    response = api.delete(f"/tasks/{waiter['id']}/dependencies/{blocker['id']}?author=lead")
    assert response.status_code == 204
    now = get(api, waiter["id"])
    assert (now["blocked_by"], now["readiness"]) == ([], "ready")
    note = work_log(api, waiter["id"])[-1]
    assert note["author"] == "lead" and blocker["id"] in note["content"]
    assert_error(api.delete(f"/tasks/{waiter['id']}/dependencies/{blocker['id']}"), 404,
                 "NOT_FOUND")
    assert_error(api.delete(f"/tasks/{waiter['id']}/dependencies/nonsense"), 404, "NOT_FOUND")


def test_reading_both_directions_oldest_edge_first(api, pid):
    middle = task(api, pid, "Middle", points=1)
    before = [task(api, pid, f"Before {i}", points=1) for i in range(3)]
    after = [task(api, pid, f"After {i}", points=1) for i in range(2)]
    for blocker in reversed(before):
        depend(api, middle["id"], blocker["id"])
    for waiter in after:
        depend(api, waiter["id"], middle["id"])
    listed = ok(api.get(f"/tasks/{middle['id']}/dependencies"))
    assert ids(listed["blocked_by"]) == [b["id"] for b in reversed(before)]
    assert ids(listed["blocking"]) == ids(after)
    assert all(t["readiness"] for t in listed["blocked_by"] + listed["blocking"])
    assert_error(api.get(f"/tasks/{MISSING_ID}/dependencies"), 404, "NOT_FOUND")


def test_deleting_a_task_removes_every_edge_to_and_from_it(api, pid):
    blocker = task(api, pid, "Blocker", points=1)
    middle = task(api, pid, "Middle", points=1)
    waiter = task(api, pid, "Waiter", points=1)
    depend(api, middle["id"], blocker["id"])
    depend(api, waiter["id"], middle["id"])
    before = get(api, waiter["id"])
    assert api.delete(f"/tasks/{middle['id']}").status_code == 204
    after = get(api, waiter["id"])
    assert (after["blocked_by"], after["readiness"]) == ([], "ready")
    assert after["updated_at"] > before["updated_at"]
    assert ok(api.get(f"/tasks/{blocker['id']}/dependencies"))["blocking"] == []


@pytest.mark.parametrize("deleted", ["hub", "its epic"])
def test_deleting_a_task_with_50_blockers_and_50_dependents(api, deleted):
    """More edges than one transaction holds: they go in rounds before the task does."""
    def spec(key, **fields):
        return {"id": key, "name": key, "task_type": "bug", "status": "todo", "points": 1,
                **fields}

    blocker_keys, waiter_keys = [f"B{i}" for i in range(50)], [f"W{i}" for i in range(50)]
    document = {"format_version": 2, "project": {"name": "Hub"}, "tasks": [
        {"id": "epic", "name": "Epic", "task_type": "feature", "status": "todo"},
        spec("hub", parent_task_id="epic", blocked_by=blocker_keys),
        *(spec(key) for key in blocker_keys),
        *(spec(key, blocked_by=["hub"]) for key in waiter_keys)]}
    pid = ok(api.post("/projects/import", document), 201)["id"]
    by_name = {top["name"]: top for top in ok(api.get(f"/projects/{pid}/tasks?limit=200"))}
    epic = by_name["Epic"]
    hub = ok(api.get(f"/tasks/{epic['id']}/tree"))["children"][0]
    blockers, waiters = [by_name[k] for k in blocker_keys], [by_name[k] for k in waiter_keys]
    assert get(api, waiters[0]["id"])["readiness"] == "blocked_by_dependencies"
    target = hub if deleted == "hub" else epic
    assert api.delete(f"/tasks/{target['id']}").status_code == 204
    for waiter in waiters:
        now = get(api, waiter["id"])
        assert (now["blocked_by"], now["open_blockers"], now["readiness"]) == ([], 0, "ready")
    for blocker in blockers:
        assert ok(api.get(f"/tasks/{blocker['id']}/dependencies"))["blocking"] == []
    if deleted == "hub":
        assert get(api, epic["id"])["children_count"] == 0
    else:
        assert_error(api.get(f"/tasks/{epic['id']}"), 404, "NOT_FOUND")
    feed = ok(api.get(f"/projects/{pid}/activity?kind=dependency_removed&limit=100"))
    assert sorted(e["task_id"] for e in feed) == sorted(ids(waiters))
    from scripts.check_integrity import check

    assert check([pid]) == {pid: []}  # counters, rollups and index keys recomputed agree


# -- breakdown `after` --------------------------------------------------------------------
def test_breakdown_after_orders_the_steps_in_one_call(api, pid):
    epic = task(api, pid, "Epic", points=9)
    steps = [{"name": "Schema", "task_type": "tech_debt", "points": 2},
             {"name": "Backfill", "task_type": "feature", "points": 3, "after": [0]},
             {"name": "Cut-over", "task_type": "feature", "points": 1, "after": [1, 0]}]
    made = breakdown(api, epic["id"], steps, release_lock=True)["subtasks"]
    schema, backfill, cutover = made
    assert cutover["blocked_by"] == [backfill["id"], schema["id"]]  # the order given
    assert [t["readiness"] for t in made] == ["ready", "blocked_by_dependencies",
                                              "blocked_by_dependencies"]
    assert ids(ok(api.get(f"/tasks/{schema['id']}/dependencies"))["blocking"]) == [
        backfill["id"], cutover["id"]]
    assert all(e["operation"] != "note" for e in work_log(api, cutover["id"]))
    complete(api, schema["id"])
    assert implementation_queue(api, pid) == [backfill["id"]]


@pytest.mark.parametrize("after", [[1], [0, 0], [-1], [2]])
def test_breakdown_after_may_name_only_earlier_subtasks_once(api, pid, after):
    epic = task(api, pid, "Epic", points=9)
    lock(api, epic["id"], "breakdown")
    body = {"caller_label": AGENT, "work_log_content": "x",
            "subtasks": [{"name": "A", "task_type": "bug"},
                         {"name": "B", "task_type": "bug", "after": after}]}
    assert_error(api.post(f"/tasks/{epic['id']}/breakdown", body), 422, "VALIDATION_ERROR")
    assert get(api, epic["id"])["children_count"] == 0


def test_an_idempotency_key_replays_an_added_edge(api, pid):
    waiter, blocker = task(api, pid, "W", points=1), task(api, pid, "B", points=1)
    headers = {"Idempotency-Key": "edge-1"}
    first = api.post(f"/tasks/{waiter['id']}/dependencies", {"blocker_id": blocker["id"]},
                     headers=headers)
    again = api.post(f"/tasks/{waiter['id']}/dependencies", {"blocker_id": blocker["id"]},
                     headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.data == first.data
