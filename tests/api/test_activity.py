"""SPEC §14 Activity and history: every write records its events in its own transaction;
the feed, its filters and paging; the daily burn-up series; the agents view."""
import pytest

from tests.api.helpers import (
    AGENT,
    MISSING_ID,
    OTHER,
    assert_error,
    breakdown,
    complete,
    detail,
    lock,
    ok,
    project,
    release,
    set_status,
    size,
    size_body,
    specs,
    subtask,
    task,
)

EVENT_FIELDS = {"id", "project_id", "task_id", "task_name", "kind", "actor", "at", "summary",
                "details"}


@pytest.fixture
def pid(api):
    return project(api)["id"]


def feed(api, pid, query=""):
    events = ok(api.get(f"/projects/{pid}/activity?limit=200{query}"))
    for event in events:
        assert set(event) == EVENT_FIELDS and event["project_id"] == pid
    return events


def kinds(events):
    return [(e["kind"], e["task_name"]) for e in events]


def latest(api, pid, count=1):
    return feed(api, pid)[:count]


# -- what each write records ----------------------------------------------------------------
def test_creating_records_task_created_with_the_parent(api, pid):
    parent = task(api, pid, "Parent")
    child = subtask(api, parent["id"], "Child")
    events = feed(api, pid)
    assert kinds(events) == [("task_created", "Child"), ("task_created", "Parent")]
    assert events[0]["details"] == {"parent_task_id": parent["id"]}
    assert events[1]["details"] == {"parent_task_id": None}
    assert events[0]["actor"] == "anonymous" and events[0]["task_id"] == child["id"]
    assert events[0]["at"] == child["created_at"]


def test_an_update_records_the_fields_whose_value_changed(api, pid):
    t = task(api, pid, "T", priority=1)
    ok(api.put(f"/tasks/{t['id']}", {"priority": 1, "name": "Renamed", "description": "d"}))
    event = latest(api, pid)[0]
    assert (event["kind"], event["task_name"]) == ("task_updated", "Renamed")
    assert sorted(event["details"]["fields"]) == ["description", "name"]
    before = len(feed(api, pid))
    ok(api.put(f"/tasks/{t['id']}", {"priority": 1, "name": "Renamed"}))  # identical
    assert len(feed(api, pid)) == before


def test_a_reorder_records_the_moved_task_only(api, pid):
    a, b, c = (task(api, pid, name) for name in "ABC")
    before = len(feed(api, pid))
    ok(api.patch(f"/tasks/{c['id']}/reorder", {"position": 0}))
    events = feed(api, pid)
    assert len(events) == before + 1
    assert (events[0]["kind"], events[0]["task_id"], events[0]["details"]) == (
        "task_updated", c["id"], {"fields": ["position"]})
    ok(api.patch(f"/tasks/{c['id']}/reorder", {"position": 0}))  # where it is already
    assert len(feed(api, pid)) == before + 1


def test_an_implementation_lock_records_the_lock_and_the_move_to_doing(api, pid):
    t = task(api, pid, "T", points=2)
    lock(api, t["id"], "implementation")
    status, acquired = latest(api, pid, 2)
    assert (acquired["kind"], acquired["details"], acquired["actor"]) == (
        "lock_acquired", {"lock_purpose": "implementation"}, AGENT)
    assert (status["kind"], status["details"]) == (
        "status_changed", {"from": "todo", "to": "doing", "cause": "request"})
    before = len(feed(api, pid))
    lock(api, t["id"], "implementation", status=200)  # the holder's re-acquire
    ok(api.patch(f"/tasks/{t['id']}/lock/heartbeat?caller_label={AGENT}"))
    assert len(feed(api, pid)) == before


def test_complete_records_completed_its_commits_and_the_cascade(api, pid):
    parent = task(api, pid, "Parent", points=9)
    breakdown(api, parent["id"], specs(1, "Leaf", points=2), release_lock=True)
    leaf = ok(api.get(f"/tasks/{parent['id']}/tree"))["children"][0]
    lock(api, leaf["id"], "implementation")
    ok(api.post(f"/tasks/{leaf['id']}/commits", {"commit_hash": "abcdef1"}), 201)
    ok(api.post(f"/tasks/{leaf['id']}/complete", {
        "caller_label": AGENT, "work_log_content": "done", "release_lock": True,
        "author": "writer", "commits": [{"commit_hash": "ABCDEF1"},
                                        {"commit_hash": "1234567"}]}))
    events = feed(api, pid)
    by_kind = {e["kind"]: e for e in reversed(events)}  # the newest of each kind
    assert by_kind["completed"]["details"] == {"commits": 1}  # one was known
    assert by_kind["completed"]["actor"] == "writer"
    recorded = [e for e in events if e["kind"] == "commit_recorded"]
    assert [e["details"]["commit_hash"] for e in recorded] == ["1234567", "abcdef1"]
    moves = {e["task_id"]: e["details"] for e in reversed(events[:8])
             if e["kind"] == "status_changed"}  # the newest move of each task
    assert moves[leaf["id"]] == {"from": "doing", "to": "done", "cause": "request"}
    assert moves[parent["id"]] == {"from": "todo", "to": "done", "cause": "complete_upward"}
    assert by_kind["lock_released"]["details"] == {"lock_purpose": "implementation"}


def test_reopen_upward_and_a_cancel_downward_record_their_causes(api, pid):
    parent = task(api, pid, "Parent", points=9)
    breakdown(api, parent["id"], specs(2, "Leaf", points=2), release_lock=True)
    first, second = ok(api.get(f"/tasks/{parent['id']}/tree"))["children"]
    complete(api, first["id"])
    set_status(api, second["id"], "wont_do")
    set_status(api, second["id"], "todo")  # parent was done: reopened upward
    reopened = [e for e in latest(api, pid, 3) if e["task_id"] == parent["id"]]
    assert reopened[0]["details"] == {"from": "done", "to": "todo", "cause": "reopen_upward"}
    lock(api, second["id"], "implementation")
    set_status(api, parent["id"], "wont_do")
    events = latest(api, pid, 3)  # the cancel: two moves and a released lock
    details = {(e["kind"], e["task_id"]): e["details"] for e in events}
    assert details[("status_changed", parent["id"])]["cause"] == "request"
    assert details[("status_changed", second["id"])] == {
        "from": "doing", "to": "wont_do", "cause": "cancel_downward"}
    assert details[("lock_released", second["id"])] == {"lock_purpose": "implementation"}
    assert ("status_changed", first["id"]) not in details  # done stays done


def test_operations_record_their_events(api, pid):
    t = task(api, pid, "T")
    size(api, t["id"], points=3, confidence=1)
    assert kinds(latest(api, pid, 4)) == [("lock_released", "T"), ("flagged", "T"),
                                          ("sized", "T"), ("lock_acquired", "T")]
    lock(api, t["id"], "refinement")
    ok(api.post(f"/tasks/{t['id']}/refine", {"caller_label": AGENT, "work_log_content": "x",
                                             "name": "Clear"}))
    assert kinds(latest(api, pid)) == [("refined", "Clear")]
    ok(api.post(f"/tasks/{t['id']}/flag-refinement", {"refinement_notes": "again",
                                                      "author": "human"}))
    flagged = latest(api, pid)[0]
    assert (flagged["kind"], flagged["actor"]) == ("flagged", "human")  # its note: no event
    ok(api.post(f"/tasks/{t['id']}/work-log", {"operation": "implementation",
                                               "content": "progress"}), 201)
    note = latest(api, pid)[0]
    assert (note["kind"], note["details"]) == ("note", {"operation": "implementation"})


def test_a_forced_release_and_an_expired_lock(api, pid, clock):
    t = task(api, pid, "T", points=2)
    lock(api, t["id"], "refinement", OTHER)
    assert api.delete(f"/tasks/{t['id']}/lock?force=true").status_code == 204
    forced = latest(api, pid)[0]
    assert (forced["kind"], forced["actor"], forced["details"]) == (
        "lock_forced", "system", {"lock_purpose": "refinement", "previous_holder": OTHER})
    held = lock(api, t["id"], "refinement", OTHER)
    clock.advance_past(held["expires_at"])
    lock(api, t["id"], "refinement", AGENT)  # replaces the expired lock
    acquired, expired = latest(api, pid, 2)
    assert (expired["kind"], expired["actor"], expired["details"]) == (
        "lock_expired", "system", {"lock_purpose": "refinement"})
    assert (acquired["kind"], acquired["actor"]) == ("lock_acquired", AGENT)
    again = lock(api, task(api, pid, "U", points=1)["id"], "refinement", OTHER)
    clock.advance_past(again["expires_at"])
    from chalicelib.services.maintenance import run_maintenance

    assert run_maintenance()["locks_removed"] == 2
    swept = [e for e in latest(api, pid, 2) if e["kind"] == "lock_expired"]
    assert {e["task_name"] for e in swept} == {"T", "U"}


def test_a_delete_records_task_deleted_per_task_and_dependency_removed_outside(api, pid):
    epic = task(api, pid, "Epic", points=9)
    breakdown(api, epic["id"], specs(2, "Part", points=1), release_lock=True)
    part = ok(api.get(f"/tasks/{epic['id']}/tree"))["children"][0]
    outside = task(api, pid, "Outside", points=1)
    ok(api.post(f"/tasks/{outside['id']}/dependencies", {"blocker_id": part["id"]}), 201)
    lock(api, part["id"], "implementation")
    before = len(feed(api, pid))
    assert api.delete(f"/tasks/{epic['id']}").status_code == 204
    new = feed(api, pid)[:len(feed(api, pid)) - before]
    assert sorted(k for k, _ in kinds(new)) == ["dependency_removed"] + ["task_deleted"] * 3
    removed = next(e for e in new if e["kind"] == "dependency_removed")
    assert (removed["task_id"], removed["details"]) == (outside["id"],
                                                        {"blocker_id": part["id"]})
    # a deleted task's feed is still there
    own = feed(api, pid, f"&task_id={part['id']}")
    assert [e["kind"] for e in own] == ["task_deleted", "status_changed", "lock_acquired",
                                        "task_created"]


def test_nothing_is_recorded_for_refusals_replays_and_no_ops(api, pid):
    t = task(api, pid, "T", points=2)
    headers = {"Idempotency-Key": "k1"}
    ok(api.post(f"/tasks/{t['id']}/work-log", {"operation": "note", "content": "x"},
                headers=headers), 201)
    before = len(feed(api, pid))
    ok(api.post(f"/tasks/{t['id']}/work-log", {"operation": "note", "content": "x"},
                headers=headers), 201)                                 # replay
    set_status(api, t["id"], "todo")                                   # the current status
    assert_error(api.post(f"/tasks/{t['id']}/size", size_body()), 409, "LOCK_REQUIRED")
    ok(api.post(f"/tasks/{t['id']}/commits", {"commit_hash": "abcdef1"}), 201)
    ok(api.post(f"/tasks/{t['id']}/commits", {"commit_hash": "abcdef1"}), 200)  # known
    assert len(feed(api, pid)) == before + 1  # just the new commit
    ok(api.put(f"/projects/{pid}", {"name": "Renamed project"}))   # projects record nothing
    assert len(feed(api, pid)) == before + 1


# -- the feed -----------------------------------------------------------------------------
def test_the_feed_pages_newest_first(api, pid):
    for i in range(7):
        task(api, pid, f"T{i}")
    first = api.get(f"/projects/{pid}/activity?limit=3")
    assert [e["task_name"] for e in ok(first)] == ["T6", "T5", "T4"]
    assert first.headers["X-Next-Offset"] == "3"
    rest = api.get(f"/projects/{pid}/activity?limit=10&offset=3")
    assert [e["task_name"] for e in ok(rest)] == ["T3", "T2", "T1", "T0"]
    assert "X-Next-Offset" not in rest.headers


def test_the_feed_filters_combine(api, pid, clock):
    a = task(api, pid, "A")
    lock(api, a["id"], "refinement", OTHER)
    release(api, a["id"], OTHER)
    clock.advance(5)
    middle = clock.iso()
    b = task(api, pid, "B")
    lock(api, b["id"], "refinement", OTHER)
    assert kinds(feed(api, pid, f"&task_id={a['id']}")) == [
        ("lock_released", "A"), ("lock_acquired", "A"), ("task_created", "A")]
    assert kinds(feed(api, pid, f"&actor={OTHER}")) == [
        ("lock_acquired", "B"), ("lock_released", "A"), ("lock_acquired", "A")]
    assert kinds(feed(api, pid, "&kind=task_created&kind=lock_released")) == [
        ("task_created", "B"), ("lock_released", "A"), ("task_created", "A")]
    assert kinds(feed(api, pid, f"&since={middle}")) == [
        ("lock_acquired", "B"), ("task_created", "B")]
    assert kinds(feed(api, pid, f"&since={middle}&actor={OTHER}&kind=lock_acquired")) == [
        ("lock_acquired", "B")]
    assert feed(api, pid, f"&task_id={MISSING_ID}") == []
    elsewhere = task(api, project(api, "Other")["id"], "X")
    assert feed(api, pid, f"&task_id={elsewhere['id']}") == []


@pytest.mark.parametrize("query", ["kind=exploded", "since=2026-12-05", "since=yesterday",
                                   "limit=0", "limit=201", "offset=-1"])
def test_bad_feed_queries_are_422(api, pid, query):
    assert_error(api.get(f"/projects/{pid}/activity?{query}"), 422, "VALIDATION_ERROR")


def test_since_without_an_offset_is_utc_and_inclusive(api, pid):
    t = task(api, pid, "T")
    at = t["created_at"]
    naive = at[:-1]  # no offset: UTC
    assert kinds(feed(api, pid, f"&since={naive}")) == [("task_created", "T")]
    assert kinds(feed(api, pid, f"&since={at.replace('Z', '%2B00:00')}")) == [
        ("task_created", "T")]


def test_the_feed_of_an_unknown_project_is_404(api):
    assert_error(api.get(f"/projects/{MISSING_ID}/activity"), 404, "NOT_FOUND")


# -- history ------------------------------------------------------------------------------
def test_todays_point_equals_the_project_detail(api, pid):
    parent = task(api, pid, "Parent", points=9)
    breakdown(api, parent["id"], specs(2, "Leaf", points=3), release_lock=True)
    leaf = ok(api.get(f"/tasks/{parent['id']}/tree"))["children"][0]
    complete(api, leaf["id"])
    points = ok(api.get(f"/projects/{pid}/history"))
    assert len(points) == 1  # the project is a day old at most
    today, shown = points[-1], detail(api, pid)
    assert set(today) == {"date", "points_total", "points_completed", "tasks_total",
                          "tasks_done", "events"}
    assert (today["points_total"], today["points_completed"], today["tasks_total"],
            today["tasks_done"]) == (shown["points_total"], shown["points_completed"],
                                     shown["task_count"], shown["status_counts"]["done"])
    assert today["events"] == len(feed(api, pid))


def test_history_repeats_quiet_days_and_starts_with_the_project(api, pid, clock):
    t = task(api, pid, "T", points=2)
    clock.advance(24 * 3600)
    complete(api, t["id"])
    clock.advance(2 * 24 * 3600)
    points = ok(api.get(f"/projects/{pid}/history?days=30"))
    assert [p["date"] for p in points] == sorted(p["date"] for p in points)
    assert len(points) in (4, 5)  # the project's first day (and the UTC day it spans) on
    first, done_day, quiet, today = points[0], points[-3], points[-2], points[-1]
    assert (first["tasks_total"], first["points_completed"], first["events"]) == (1, 0, 1)
    assert (done_day["tasks_done"], done_day["points_completed"]) == (1, 2)
    assert done_day["events"] == 4  # lock acquired, status, completed, released
    assert {k: v for k, v in quiet.items() if k not in ("date", "events")} == \
        {k: v for k, v in today.items() if k not in ("date", "events")}
    assert (quiet["events"], today["events"]) == (0, 0)
    assert len(ok(api.get(f"/projects/{pid}/history?days=2"))) == 2


@pytest.mark.parametrize("days", ["0", "366", "x"])
def test_history_days_are_1_to_365(api, pid, days):
    assert_error(api.get(f"/projects/{pid}/history?days={days}"), 422, "VALIDATION_ERROR")


# -- agents -------------------------------------------------------------------------------
def test_the_agents_view_lists_who_worked_and_what_they_hold(api, pid, clock):
    t, u = task(api, pid, "T"), task(api, pid, "U", points=2)
    size(api, t["id"], points=2, caller=AGENT)
    held = lock(api, u["id"], "implementation", OTHER)
    rows = {row["actor"]: row for row in ok(api.get(f"/projects/{pid}/agents"))}
    assert rows[AGENT]["operations"] == 1 and rows[AGENT]["live_locks"] == []
    assert [lk["task_id"] for lk in rows[OTHER]["live_locks"]] == [u["id"]]
    assert rows[OTHER]["locks_expired"] == 0
    clock.advance_past(held["expires_at"])
    from chalicelib.services.maintenance import run_maintenance

    run_maintenance()
    rows = {row["actor"]: row for row in ok(api.get(f"/projects/{pid}/agents"))}
    assert rows[OTHER]["locks_expired"] == 1 and rows[OTHER]["live_locks"] == []
    assert "system" not in rows
