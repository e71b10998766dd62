"""Lock expiry with short TTLs on DynamoDB Local (SPEC §1 Locks): an expired lock is no lock
the instant it expires; heartbeat says LOCK_EXPIRED until the sweep removes the record (then
404); the sweep never removes a lock renewed after it looked.

These tests are about what expiry means, not about waiting for it: they move chalicelib's
clock (the `clock` fixture of tests/conftest.py) past an expiry instead of sleeping. Expiry
in real time is tested against the real server: tests/e2e/test_golden_path.py (the server's
own sweep) and the contract suite's lock tests (3 s TTLs)."""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.integration.helpers import scores_for, sizing_body

SHORT = {"SIZING": "1", "REFINEMENT": "2", "BREAKDOWN": "2", "IMPLEMENTATION": "1"}


@pytest.fixture
def api(local_api, monkeypatch):
    for purpose, seconds in SHORT.items():
        monkeypatch.setenv(f"CHORUS_LOCK_TTL_{purpose}", seconds)
    return local_api


@pytest.fixture
def wait_past(clock):
    """Move the clock 50 ms past a lock's expires_at (instead of sleeping until then)."""

    def wait_past(expires_at: str, slack: float = 0.05, limit: float = 10) -> None:
        delay = _ts(expires_at) - clock.ms() / 1000 + slack
        assert delay < limit, f"lock expires {delay:.1f}s from now"
        clock.advance_past(expires_at, slack_ms=round(slack * 1000))

    return wait_past


def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.data)
    return response.data


def _error(response, status, code):
    assert response.status_code == status, (response.status_code, response.data)
    assert response.data["error"]["code"] == code, response.data
    return response.data["error"]


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _project(api):
    return _ok(api.post("/projects", {"name": "Expiry"}), 201)["id"]


def _task(api, pid, name, **fields):
    return _ok(api.post(f"/projects/{pid}/tasks",
                        {"name": name, "task_type": "feature", **fields}), 201)


def _acquire(api, task_id, caller, purpose):
    return api.post(f"/tasks/{task_id}/lock", {"caller_label": caller, "lock_purpose": purpose})


def test_heartbeat_after_expiry_is_lock_expired_then_another_caller_acquires(
        api, monkeypatch, wait_past):
    pid = _project(api)
    task = _task(api, pid, "size me")
    tid = task["id"]
    first = _ok(_acquire(api, tid, "agent-a", "sizing"), 201)
    assert (first["fencing_token"], first["ttl_seconds"]) == (1, 1)
    assert _ts(first["expires_at"]) == pytest.approx(_ts(first["acquired_at"]) + 1, abs=0.002)

    renewed = _ok(api.patch(f"/tasks/{tid}/lock/heartbeat?caller_label=agent-a"))
    assert renewed["fencing_token"] == 1
    assert _ts(renewed["expires_at"]) == pytest.approx(
        max(_ts(renewed["acquired_at"]), _ts(renewed["last_heartbeat_at"])) + 1, abs=0.002)

    wait_past(renewed["expires_at"])
    view = _ok(api.get(f"/tasks/{tid}"))  # no lock the instant it expired, no sweep yet
    assert (view["is_locked"], view["lock"]) == (False, None)
    for caller in ("agent-a", "agent-b"):  # whoever asks
        _error(api.patch(f"/tasks/{tid}/lock/heartbeat?caller_label={caller}"), 409,
               "LOCK_EXPIRED")
    _error(api.post(f"/tasks/{tid}/size", sizing_body("agent-a", scores_for(3))), 409,
           "LOCK_REQUIRED")
    _error(api.delete(f"/tasks/{tid}/lock?caller_label=agent-a"), 404, "NOT_FOUND")

    monkeypatch.setenv("CHORUS_LOCK_TTL_SIZING", "60")  # read per call: B's lock is long
    second = _ok(_acquire(api, tid, "agent-b", "sizing"), 201)
    assert second["fencing_token"] == first["fencing_token"] + 1
    _error(api.patch(f"/tasks/{tid}/lock/heartbeat?caller_label=agent-a"), 403,
           "NOT_LOCK_HOLDER")
    _error(api.post(f"/tasks/{tid}/size", sizing_body("agent-a", scores_for(3))), 409,
           "LOCK_CONFLICT")
    conflict = _error(_acquire(api, tid, "agent-a", "sizing"), 409, "LOCK_CONFLICT")
    assert conflict["details"]["caller_label"] == "agent-b"
    sized = _ok(api.post(f"/tasks/{tid}/size",
                         sizing_body("agent-b", scores_for(3), release_lock=True)))
    assert (sized["points"], sized["lock"]) == (3, None)
    log = _ok(api.get(f"/tasks/{tid}/work-log"))
    assert [(e["operation"], e["author"]) for e in log] == [("sizing", "agent-b")]


def test_the_holder_reacquiring_is_a_heartbeat(api, clock):
    pid = _project(api)
    tid = _task(api, pid, "refine me")["id"]
    first = _ok(_acquire(api, tid, "agent-a", "refinement"), 201)
    clock.advance(0.3)
    again = _ok(_acquire(api, tid, "agent-a", "refinement"), 200)
    assert again["fencing_token"] == first["fencing_token"] == 1
    assert again["acquired_at"] == first["acquired_at"]
    assert _ts(again["expires_at"]) > _ts(first["expires_at"])
    _error(_acquire(api, tid, "agent-a", "sizing"), 409, "LOCK_CONFLICT")


def test_an_expired_implementation_lock_leaves_a_stalled_task_offered_again(api, wait_past):
    pid = _project(api)
    tid = _task(api, pid, "build me", points=2)["id"]
    lock = _ok(_acquire(api, tid, "coder", "implementation"), 201)
    assert _ok(api.get(f"/tasks/{tid}"))["status"] == "doing"
    assert _ok(api.get(f"/projects/{pid}"))["active_locks"] == 1
    offered = f"/tasks/available?operation=implementation&project_id={pid}"
    assert _ok(api.get(offered)) == []

    wait_past(lock["expires_at"])
    assert [t["id"] for t in _ok(api.get(offered))] == [tid]
    stalled = _ok(api.get(f"/projects/{pid}/in-progress"))
    assert [(t["id"], t["status"], t["lock"]) for t in stalled] == [(tid, "doing", None)]
    assert _ok(api.get(f"/projects/{pid}"))["active_locks"] == 0
    assert _ok(api.get(f"/locks?project_id={pid}")) == []
    assert _ok(api.get("/locks")) == []
    assert _ok(api.get(f"/tasks/{tid}"))["status"] == "doing"  # expiry never moves status
    retaken = _ok(_acquire(api, tid, "coder-2", "implementation"), 201)
    assert retaken["fencing_token"] == 2


def test_the_sweep_removes_only_expired_locks_and_never_one_renewed_after_it_looked(
        api, monkeypatch, clock, wait_past):
    from chalicelib.clock import now_ms
    from chalicelib.services import maintenance
    from chalicelib.store.tables import TaskItem

    pid = _project(api)
    expired = _task(api, pid, "expired")["id"]
    retaken = _task(api, pid, "retaken")["id"]
    renewed = _task(api, pid, "renewed")["id"]
    live = _task(api, pid, "live", points=1)["id"]
    for tid in (expired, retaken):
        _ok(_acquire(api, tid, "ghost", "sizing"), 201)  # TTL 1 s
    monkeypatch.setenv("CHORUS_LOCK_TTL_REFINEMENT", "4")
    renewed_lock = _ok(_acquire(api, renewed, "holder", "refinement"), 201)
    monkeypatch.setenv("CHORUS_LOCK_TTL_IMPLEMENTATION", "600")
    _ok(_acquire(api, live, "worker", "implementation"), 201)
    clock.advance(1.1)  # the two sizing locks have expired; `renewed` has ~3 s left

    # The sweep's clock runs 5 s ahead of the API's (another machine), so it takes the
    # still-live `renewed` lock for expired too. Between its look and its writes, `retaken`
    # is acquired again and `renewed` is heartbeated: neither may be removed.
    skew_ms = 5000
    monkeypatch.setattr(maintenance, "now_ms", lambda: now_ms() + skew_ms)
    index = TaskItem.locks_by_expiry
    original_query = index.query
    looked = {}

    def look_then_race(*args, **kwargs):
        seen = list(original_query(*args, **kwargs))
        looked["ids"] = sorted(item.id for item in seen)
        monkeypatch.setenv("CHORUS_LOCK_TTL_SIZING", "3")
        _ok(_acquire(api, retaken, "agent-new", "sizing"), 201)
        _ok(api.patch(f"/tasks/{renewed}/lock/heartbeat?caller_label=holder"))
        return iter(seen)

    monkeypatch.setattr(index, "query", look_then_race)
    result = maintenance.run_maintenance()
    monkeypatch.setattr(index, "query", original_query)

    assert looked["ids"] == sorted([expired, retaken, renewed])
    assert result["locks_removed"] == 1
    _error(api.patch(f"/tasks/{expired}/lock/heartbeat?caller_label=ghost"), 404, "NOT_FOUND")
    taken = _ok(api.get(f"/tasks/{retaken}"))["lock"]
    assert (taken["caller_label"], taken["fencing_token"]) == ("agent-new", 2)
    kept = _ok(api.get(f"/tasks/{renewed}"))["lock"]
    assert kept["caller_label"] == "holder" and kept["fencing_token"] == 1
    assert _ts(kept["expires_at"]) > _ts(renewed_lock["expires_at"])
    assert _ok(api.get(f"/tasks/{live}"))["lock"]["caller_label"] == "worker"
    assert _ok(api.get(f"/projects/{pid}"))["active_locks"] == 3

    # a plain sweep later, on the API's clock: only what has really expired by then goes
    monkeypatch.setattr(maintenance, "now_ms", now_ms)
    wait_past(taken["expires_at"])
    wait_past(kept["expires_at"])
    assert maintenance.run_maintenance()["locks_removed"] == 2
    assert [lock["task_id"] for lock in _ok(api.get("/locks"))] == [live]
    for tid, caller in ((retaken, "agent-new"), (renewed, "holder")):
        _error(api.patch(f"/tasks/{tid}/lock/heartbeat?caller_label={caller}"), 404,
               "NOT_FOUND")
    assert maintenance.run_maintenance()["locks_removed"] == 0
