"""Locks (SPEC §1 Locks, §3): acquire with preconditions, heartbeat, release (forced ones log a
note), the lock list, fencing tokens, TTLs and expiry (an expired lock is no lock at once)."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from tests.api.helpers import (
    AGENT,
    LOCK_FIELDS,
    MISSING_ID,
    OTHER,
    assert_error,
    detail,
    get,
    lock,
    ok,
    project,
    set_status,
    size_body,
    subtask,
    task,
    validation_locs,
    work_log,
)

DEFAULT_TTL = {"sizing": 900, "breakdown": 1800, "refinement": 1800, "implementation": 3600}


def utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.fixture
def pid(api):
    return project(api)["id"]


def ready_for(api, pid, purpose):
    """A todo task whose readiness the purpose's precondition accepts."""
    points = {"sizing": None, "breakdown": 8, "refinement": None, "implementation": 3}[purpose]
    return task(api, pid, f"For {purpose}", points=points)


# -- acquire ------------------------------------------------------------------------------
@pytest.mark.parametrize("purpose", ["sizing", "breakdown", "refinement", "implementation"])
def test_acquire_each_purpose(api, pid, purpose):
    t = ready_for(api, pid, purpose)
    body = lock(api, t["id"], purpose)
    assert set(body) == LOCK_FIELDS
    assert (body["task_id"], body["caller_label"], body["lock_purpose"]) == (
        t["id"], AGENT, purpose)
    assert body["fencing_token"] == 1
    assert body["ttl_seconds"] == DEFAULT_TTL[purpose]
    assert body["acquired_at"] == body["last_heartbeat_at"]
    expires = utc(body["expires_at"]) - utc(body["acquired_at"])
    assert abs(expires - timedelta(seconds=DEFAULT_TTL[purpose])) < timedelta(milliseconds=2)
    now = get(api, t["id"])
    assert now["is_locked"] is True and now["lock"] == body
    assert now["status"] == ("doing" if purpose == "implementation" else "todo")


def test_an_implementation_lock_moves_todo_to_doing_in_the_same_write(api, pid):
    t = ready_for(api, pid, "implementation")
    lock(api, t["id"], "implementation")
    now = get(api, t["id"])
    assert now["status"] == "doing" and now["updated_at"] > t["updated_at"]
    assert detail(api, pid)["status_counts"] == {"todo": 0, "doing": 1, "done": 0, "wont_do": 0}
    assert [x["id"] for x in ok(api.get(f"/projects/{pid}/in-progress"))] == [t["id"]]


def test_an_implementation_lock_on_a_doing_task_keeps_it_doing(api, pid):
    t = ready_for(api, pid, "implementation")
    set_status(api, t["id"], "doing")
    before = get(api, t["id"])
    lock(api, t["id"], "implementation")
    after = get(api, t["id"])
    assert after["status"] == "doing" and after["updated_at"] == before["updated_at"]


@pytest.mark.parametrize("purpose,points,status,readiness", [
    ("sizing", 3, "todo", "ready"),
    ("sizing", None, "doing", "needs_sizing"),
    ("sizing", 8, "todo", "needs_breakdown"),
    ("breakdown", 3, "todo", "ready"),
    ("breakdown", None, "todo", "needs_sizing"),
    ("breakdown", 8, "done", "needs_breakdown"),
    ("implementation", None, "todo", "needs_sizing"),
    ("implementation", 8, "doing", "needs_breakdown"),
    ("implementation", 3, "done", "ready"),
    ("implementation", 3, "wont_do", "ready"),
])
def test_a_failed_precondition_is_invalid_readiness_state(api, pid, purpose, points, status,
                                                          readiness):
    t = task(api, pid, points=points)
    for step in {"todo": [], "doing": ["doing"], "done": ["doing", "done"],
                 "wont_do": ["wont_do"]}[status]:
        set_status(api, t["id"], step)
    before = get(api, t["id"])
    response = api.post(f"/tasks/{t['id']}/lock", {"caller_label": AGENT, "lock_purpose": purpose})
    error = assert_error(response, 422, "INVALID_READINESS_STATE")
    assert error["details"]["readiness"] == readiness
    assert error["details"]["status"] == status
    assert get(api, t["id"]) == before


def test_readiness_of_a_parent_or_a_flagged_task_blocks_work_locks(api, pid):
    parent = task(api, pid, "Parent", points=3)
    subtask(api, parent["id"], "Child")
    error = assert_error(api.post(f"/tasks/{parent['id']}/lock",
                                  {"caller_label": AGENT, "lock_purpose": "implementation"}),
                         422, "INVALID_READINESS_STATE")
    assert error["details"]["readiness"] == "blocked_by_children"
    flagged = task(api, pid, "Flagged", points=2)
    ok(api.post(f"/tasks/{flagged['id']}/flag-refinement", {"refinement_notes": "why?"}))
    error = assert_error(api.post(f"/tasks/{flagged['id']}/lock",
                                  {"caller_label": AGENT, "lock_purpose": "implementation"}),
                         422, "INVALID_READINESS_STATE")
    assert error["details"]["readiness"] == "needs_refinement"


def test_a_refinement_lock_has_no_precondition(api, pid):
    """Every state some other purpose refuses: a parent, a done, a cancelled, a doing task."""
    parent = task(api, pid, "Parent", points=2)
    subtask(api, parent["id"], "Child")
    done = task(api, pid, "Done", points=1)
    set_status(api, done["id"], "doing")
    set_status(api, done["id"], "done")
    cancelled = task(api, pid, "Cancelled", points=8)
    set_status(api, cancelled["id"], "wont_do")
    doing = task(api, pid, "Doing")
    set_status(api, doing["id"], "doing")
    for t in (parent, done, cancelled, doing):
        assert lock(api, t["id"], "refinement")["lock_purpose"] == "refinement"


def test_reacquiring_the_held_lock_is_a_heartbeat(api, pid, clock):
    t = ready_for(api, pid, "sizing")
    first = lock(api, t["id"], "sizing")
    clock.advance(60)
    again = lock(api, t["id"], "sizing", status=200)
    assert again["fencing_token"] == first["fencing_token"]
    assert again["acquired_at"] == first["acquired_at"]
    assert utc(again["last_heartbeat_at"]) - utc(first["last_heartbeat_at"]) >= timedelta(
        seconds=60)
    assert utc(again["expires_at"]) - utc(again["last_heartbeat_at"]) == timedelta(seconds=900)


def test_a_heartbeat_by_reacquire_skips_the_precondition(api, pid):
    t = ready_for(api, pid, "sizing")
    lock(api, t["id"], "sizing")
    ok(api.post(f"/tasks/{t['id']}/size", size_body()))  # now ready, lock still held
    assert get(api, t["id"])["readiness"] == "ready"
    assert lock(api, t["id"], "sizing", status=200)["fencing_token"] == 1


def test_someone_elses_live_lock_is_a_conflict_naming_it(api, pid):
    t = ready_for(api, pid, "sizing")
    held = lock(api, t["id"], "sizing", OTHER)
    error = assert_error(api.post(f"/tasks/{t['id']}/lock",
                                  {"caller_label": AGENT, "lock_purpose": "sizing"}),
                         409, "LOCK_CONFLICT")
    assert error["details"] == {"caller_label": OTHER, "lock_purpose": "sizing",
                                "expires_at": held["expires_at"]}
    assert get(api, t["id"])["lock"] == held


def test_the_same_holder_asking_for_another_purpose_is_a_conflict(api, pid):
    t = ready_for(api, pid, "sizing")
    held = lock(api, t["id"], "sizing")
    error = assert_error(api.post(f"/tasks/{t['id']}/lock",
                                  {"caller_label": AGENT, "lock_purpose": "refinement"}),
                         409, "LOCK_CONFLICT")
    assert error["details"]["lock_purpose"] == "sizing"
    assert get(api, t["id"])["lock"] == held


def test_the_fencing_token_grows_by_one_on_every_acquisition(api, pid):
    t = ready_for(api, pid, "refinement")
    tokens = []
    for caller in (AGENT, OTHER, AGENT):
        tokens.append(lock(api, t["id"], "refinement", caller)["fencing_token"])
        ok(api.delete(f"/tasks/{t['id']}/lock?caller_label={caller}"), 204)
    assert tokens == [1, 2, 3]
    other = ready_for(api, pid, "refinement")
    assert lock(api, other["id"], "refinement")["fencing_token"] == 1


def test_acquire_validation(api, pid):
    t = ready_for(api, pid, "sizing")
    cases = [({"lock_purpose": "sizing"}, "caller_label"),
             ({"caller_label": AGENT}, "lock_purpose"),
             ({"caller_label": AGENT, "lock_purpose": "fun"}, "lock_purpose"),
             ({"caller_label": "", "lock_purpose": "sizing"}, "caller_label"),
             ({"caller_label": "   ", "lock_purpose": "sizing"}, "caller_label"),
             ({"caller_label": "x" * 256, "lock_purpose": "sizing"}, "caller_label"),
             ({"caller_label": "bell\x07", "lock_purpose": "sizing"}, "caller_label"),
             ({"caller_label": "new\nline", "lock_purpose": "sizing"}, "caller_label"),
             ({"caller_label": 7, "lock_purpose": "sizing"}, "caller_label"),
             ({"caller_label": AGENT, "lock_purpose": "sizing", "ttl": 5}, "ttl")]
    for body, field in cases:
        locs = validation_locs(api.post(f"/tasks/{t['id']}/lock", body))
        assert ["body", field] in locs, (body, locs)
    assert get(api, t["id"])["is_locked"] is False


def test_caller_label_is_not_trimmed(api, pid):
    t = ready_for(api, pid, "refinement")
    held = lock(api, t["id"], "refinement", " agent ")
    assert held["caller_label"] == " agent "
    assert_error(api.post(f"/tasks/{t['id']}/lock",
                          {"caller_label": "agent", "lock_purpose": "refinement"}),
                 409, "LOCK_CONFLICT")
    assert lock(api, ready_for(api, pid, "sizing")["id"], "sizing", "x" * 255)[
        "caller_label"] == "x" * 255


def test_lock_of_a_missing_task_is_404(api):
    assert_error(api.post(f"/tasks/{MISSING_ID}/lock",
                          {"caller_label": AGENT, "lock_purpose": "refinement"}),
                 404, "NOT_FOUND")


# -- TTLs and expiry ----------------------------------------------------------------------
@pytest.mark.parametrize("purpose", ["sizing", "breakdown", "refinement", "implementation"])
def test_ttls_are_configurable_per_purpose(api, pid, monkeypatch, purpose):
    monkeypatch.setenv(f"CHORUS_LOCK_TTL_{purpose.upper()}", "120")
    body = lock(api, ready_for(api, pid, purpose)["id"], purpose)
    assert body["ttl_seconds"] == 120
    assert utc(body["expires_at"]) - utc(body["acquired_at"]) == timedelta(seconds=120)


def test_an_expired_lock_is_no_lock_the_instant_it_expires(api, pid, clock):
    t = ready_for(api, pid, "sizing")
    start = clock.freeze()
    held = lock(api, t["id"], "sizing", OTHER)
    expires_ms = start + 900_000
    clock.freeze(expires_ms - 1)
    assert get(api, t["id"])["is_locked"] is True
    assert_error(api.post(f"/tasks/{t['id']}/lock",
                          {"caller_label": AGENT, "lock_purpose": "sizing"}),
                 409, "LOCK_CONFLICT")
    clock.freeze(expires_ms)
    now = get(api, t["id"])
    assert now["is_locked"] is False and now["lock"] is None
    assert ok(api.get("/locks")) == []
    assert detail(api, pid)["active_locks"] == 0
    taken = lock(api, t["id"], "sizing", AGENT)
    assert taken["fencing_token"] == held["fencing_token"] + 1
    assert taken["caller_label"] == AGENT


def test_the_former_holder_reacquiring_after_expiry_gets_a_new_lock(api, pid, clock):
    t = ready_for(api, pid, "sizing")
    first = lock(api, t["id"], "sizing")
    clock.advance(901)
    again = lock(api, t["id"], "sizing")  # 201: a new acquisition, not a heartbeat
    assert again["fencing_token"] == first["fencing_token"] + 1


def test_expiry_never_changes_status_a_doing_task_is_stalled(api, pid, clock):
    t = ready_for(api, pid, "implementation")
    lock(api, t["id"], "implementation", OTHER)
    clock.advance(3601)
    now = get(api, t["id"])
    assert now["status"] == "doing" and now["lock"] is None
    listed = ok(api.get(f"/projects/{pid}/in-progress"))
    assert [(x["id"], x["lock"]) for x in listed] == [(t["id"], None)]
    available = ok(api.get(f"/tasks/available?operation=implementation&project_id={pid}"))
    assert [x["id"] for x in available] == [t["id"]]


def test_the_sweep_removes_expired_locks_only(api, pid, clock):
    from chalicelib.services.maintenance import run_maintenance
    from chalicelib.store.tables import TaskItem

    old, fresh = ready_for(api, pid, "sizing"), ready_for(api, pid, "refinement")
    lock(api, old["id"], "sizing")
    clock.advance(600)
    lock(api, fresh["id"], "refinement")
    clock.advance(301)  # the sizing lock expired; the refinement one has 1499 s left
    assert run_maintenance()["locks_removed"] == 1
    assert TaskItem.get(old["id"]).lock_caller is None
    assert TaskItem.get(fresh["id"]).lock_caller == AGENT
    assert [x["task_id"] for x in ok(api.get("/locks"))] == [fresh["id"]]


# -- heartbeat ----------------------------------------------------------------------------
def test_heartbeat_extends_the_holders_lock(api, pid, clock):
    t = ready_for(api, pid, "breakdown")
    first = lock(api, t["id"], "breakdown")
    clock.advance(100)
    beat = ok(api.patch(f"/tasks/{t['id']}/lock/heartbeat?caller_label={AGENT}"))
    assert set(beat) == LOCK_FIELDS
    assert beat["fencing_token"] == first["fencing_token"]
    assert beat["acquired_at"] == first["acquired_at"]
    assert utc(beat["last_heartbeat_at"]) - utc(first["last_heartbeat_at"]) >= timedelta(
        seconds=100)
    assert utc(beat["expires_at"]) - utc(beat["last_heartbeat_at"]) == timedelta(seconds=1800)
    assert get(api, t["id"])["lock"] == beat


def test_heartbeat_checks_no_lock_then_expired_then_holder(api, pid, clock):
    t = ready_for(api, pid, "sizing")
    url = f"/tasks/{t['id']}/lock/heartbeat?caller_label="
    assert_error(api.patch(url + AGENT), 404, "NOT_FOUND")
    lock(api, t["id"], "sizing", OTHER)
    assert_error(api.patch(url + AGENT), 403, "NOT_LOCK_HOLDER")
    clock.advance(900)
    assert_error(api.patch(url + AGENT), 409, "LOCK_EXPIRED")   # whoever asks
    assert_error(api.patch(url + OTHER), 409, "LOCK_EXPIRED")
    assert_error(api.patch(f"/tasks/{MISSING_ID}/lock/heartbeat?caller_label={AGENT}"), 404,
                 "NOT_FOUND")


def test_heartbeat_after_release_is_404(api, pid):
    t = ready_for(api, pid, "sizing")
    lock(api, t["id"], "sizing")
    ok(api.delete(f"/tasks/{t['id']}/lock?caller_label={AGENT}"), 204)
    assert_error(api.patch(f"/tasks/{t['id']}/lock/heartbeat?caller_label={AGENT}"), 404,
                 "NOT_FOUND")


def test_heartbeat_needs_a_caller_label(api, pid):
    t = ready_for(api, pid, "sizing")
    lock(api, t["id"], "sizing")
    for query in ("", "?caller_label=", "?caller_label=%20%20"):
        assert_error(api.patch(f"/tasks/{t['id']}/lock/heartbeat{query}"), 422,
                     "VALIDATION_ERROR")


# -- release ------------------------------------------------------------------------------
def test_the_holder_releases_and_status_stays(api, pid):
    t = ready_for(api, pid, "implementation")
    lock(api, t["id"], "implementation")
    response = api.delete(f"/tasks/{t['id']}/lock?caller_label={AGENT}")
    assert response.status_code == 204 and not response.body
    now = get(api, t["id"])
    assert (now["status"], now["is_locked"], now["lock"]) == ("doing", False, None)
    assert [entry["operation"] for entry in work_log(api, t["id"])] == []
    assert detail(api, pid)["active_locks"] == 0


def test_release_needs_the_holder_or_force(api, pid):
    t = ready_for(api, pid, "sizing")
    lock(api, t["id"], "sizing")
    assert_error(api.delete(f"/tasks/{t['id']}/lock"), 422, "VALIDATION_ERROR")
    assert_error(api.delete(f"/tasks/{t['id']}/lock?force=false"), 422, "VALIDATION_ERROR")
    error = assert_error(api.delete(f"/tasks/{t['id']}/lock?caller_label={OTHER}"), 403,
                         "NOT_LOCK_HOLDER")
    assert get(api, t["id"])["is_locked"] is True
    for query in ("force=yes", "force=True", "force=1", "force="):
        assert_error(api.delete(f"/tasks/{t['id']}/lock?{query}"), 422, "VALIDATION_ERROR")
    assert get(api, t["id"])["is_locked"] is True
    assert error["details"] is not None


def test_a_forced_release_logs_a_note_naming_the_previous_holder(api, pid):
    t = ready_for(api, pid, "implementation")
    lock(api, t["id"], "implementation", OTHER)
    assert api.delete(f"/tasks/{t['id']}/lock?force=true&caller_label=supervisor"
                      ).status_code == 204
    assert get(api, t["id"])["is_locked"] is False
    (note,) = work_log(api, t["id"])
    assert note["operation"] == "note" and note["author"] == "supervisor"
    assert OTHER in note["content"] and "implementation" in note["content"]


def test_a_forced_release_without_caller_label_is_logged_by_system(api, pid):
    t = ready_for(api, pid, "sizing")
    lock(api, t["id"], "sizing", OTHER)
    assert api.delete(f"/tasks/{t['id']}/lock?force=true").status_code == 204
    (note,) = work_log(api, t["id"])
    assert note["author"] == "system" and OTHER in note["content"] and "sizing" in note["content"]


def test_the_holder_forcing_its_own_release_logs_nothing(api, pid):
    t = ready_for(api, pid, "sizing")
    lock(api, t["id"], "sizing")
    assert api.delete(f"/tasks/{t['id']}/lock?force=true&caller_label={AGENT}"
                      ).status_code == 204
    assert work_log(api, t["id"]) == []


def test_releasing_no_lock_or_an_expired_one_is_404(api, pid, clock):
    t = ready_for(api, pid, "sizing")
    assert_error(api.delete(f"/tasks/{t['id']}/lock?force=true"), 404, "NOT_FOUND")
    lock(api, t["id"], "sizing")
    clock.advance(900)
    assert_error(api.delete(f"/tasks/{t['id']}/lock?caller_label={AGENT}"), 404, "NOT_FOUND")
    assert_error(api.delete(f"/tasks/{t['id']}/lock?force=true"), 404, "NOT_FOUND")
    assert work_log(api, t["id"]) == []
    assert_error(api.delete(f"/tasks/{MISSING_ID}/lock?force=true"), 404, "NOT_FOUND")


# -- the lock list -------------------------------------------------------------------------
def test_locks_lists_live_locks_with_a_project_filter_and_paging(api, pid, clock):
    other_project = project(api, "Other")["id"]
    mine = [ready_for(api, pid, "refinement") for _ in range(3)]
    theirs = ready_for(api, other_project, "refinement")
    expiring = ready_for(api, pid, "sizing")
    for t in mine + [theirs]:
        lock(api, t["id"], "refinement")
    lock(api, expiring["id"], "sizing")
    clock.advance(901)  # the sizing lock is gone; the refinement locks have 899 s left
    listed = ok(api.get("/locks"))
    assert all(set(entry) == LOCK_FIELDS for entry in listed)
    assert sorted(entry["task_id"] for entry in listed) == sorted(
        t["id"] for t in mine + [theirs])
    scoped = ok(api.get(f"/locks?project_id={pid}"))
    assert sorted(entry["task_id"] for entry in scoped) == sorted(t["id"] for t in mine)
    page = api.get(f"/locks?project_id={pid}&limit=2")
    assert len(ok(page)) == 2 and page.headers["X-Next-Offset"] == "2"
    rest = api.get(f"/locks?project_id={pid}&limit=2&offset=2")
    assert len(ok(rest)) == 1 and "X-Next-Offset" not in rest.headers
    assert {e["task_id"] for e in ok(page) + ok(rest)} == {t["id"] for t in mine}


def test_locks_with_an_unknown_project_is_404(api):
    assert_error(api.get(f"/locks?project_id={MISSING_ID}"), 404, "NOT_FOUND")
    assert_error(api.get("/locks?project_id=nope"), 404, "NOT_FOUND")
    assert_error(api.get("/locks?limit=0"), 422, "VALIDATION_ERROR")


# -- what the messages tell an agent (issue 22) -----------------------------------------------
def test_lock_required_says_where_the_task_stands(api, pid):
    t = task(api, pid, "T", points=2)
    lock(api, t["id"], "implementation")
    ok(api.post(f"/tasks/{t['id']}/complete", {"caller_label": AGENT, "work_log_content": "x",
                                               "release_lock": True}))
    error = assert_error(api.post(f"/tasks/{t['id']}/complete", {
        "caller_label": AGENT, "work_log_content": "again"}), 409, "LOCK_REQUIRED")
    assert error["details"] == {"accepted_purposes": ["implementation"], "status": "done",
                                "readiness": "ready"}
    assert "re-read the task" in error["message"]


def test_a_conflict_with_your_own_lock_says_to_release_it_first(api, pid):
    t = task(api, pid, "T", points=9)
    lock(api, t["id"], "refinement")
    error = assert_error(api.post(f"/tasks/{t['id']}/lock", {
        "caller_label": AGENT, "lock_purpose": "breakdown"}), 409, "LOCK_CONFLICT")
    assert error["message"].startswith(f"You ({AGENT}) hold this task's refinement lock")
    assert "release it first" in error["message"]
    assert f"DELETE /tasks/{t['id']}/lock?caller_label={quote(AGENT)})" in error["message"]
    other = assert_error(api.post(f"/tasks/{t['id']}/lock", {
        "caller_label": OTHER, "lock_purpose": "refinement"}), 409, "LOCK_CONFLICT")
    assert other["message"] == (f"The task is locked by {AGENT} for refinement; "
                                "take another task.")


@pytest.mark.parametrize("purpose,article", [("implementation", "An"), ("sizing", "A"),
                                             ("breakdown", "A")])
def test_readiness_refusals_read_as_english(api, pid, purpose, article):
    t = task(api, pid, "T")  # needs sizing
    if purpose == "sizing":
        t = task(api, pid, "Sized", points=2)
    error = assert_error(api.post(f"/tasks/{t['id']}/lock", {
        "caller_label": AGENT, "lock_purpose": purpose}), 422, "INVALID_READINESS_STATE")
    needed = {"implementation": "readiness ready and status doing or todo",
              "sizing": "readiness needs_sizing and status todo",
              "breakdown": "readiness needs_breakdown and status doing or todo"}[purpose]
    assert error["message"].startswith(f"{article} {purpose} lock needs {needed}; the task is")
    resize = "To re-size a sized task, take a refinement lock: size accepts it."
    assert (resize in error["message"]) == (purpose == "sizing")


def test_a_refused_release_names_force_as_the_exception(api, pid):
    t = task(api, pid, "T", points=2)
    lock(api, t["id"], "implementation")
    error = assert_error(api.delete(f"/tasks/{t['id']}/lock?caller_label={OTHER}"), 403,
                         "NOT_LOCK_HOLDER")
    assert error["message"] == ("Only the holder may release this lock (force=true releases "
                                "it anyway: only for a holder known to be gone, and it is "
                                "logged).")
