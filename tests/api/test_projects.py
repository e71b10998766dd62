"""Projects (SPEC §2, §3): create, list, detail and its counters, update, delete; /health."""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.api.helpers import (
    AGENT,
    MISSING_ID,
    OTHER,
    UUID_SHAPE,
    assert_error,
    breakdown,
    complete,
    detail,
    get,
    lock,
    ok,
    project,
    set_status,
    size,
    size_body,
    specs,
    subtask,
    task,
    validation_locs,
)

PROJECT_FIELDS = {"id", "name", "description", "created_at", "updated_at"}
DETAIL_FIELDS = PROJECT_FIELDS | {"task_count", "points_total", "points_completed",
                                  "status_counts", "readiness_counts", "active_locks"}
READINESS = {"needs_refinement", "blocked_by_children", "needs_sizing", "needs_breakdown",
             "blocked_by_dependencies", "ready"}


def utc(stamp: str) -> datetime:
    assert stamp.endswith("Z") or stamp.endswith("+00:00"), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_health_answers_status_version_and_datastore(api):
    body = ok(api.get("/health"))
    assert set(body) == {"status", "version", "datastore"}
    assert body["status"] == "ok"


# -- create -------------------------------------------------------------------------------
def test_create_project(api):
    response = api.post("/projects", {"name": "Chorus", "description": "Agents at work"})
    body = ok(response, 201)
    assert set(body) == PROJECT_FIELDS
    assert UUID_SHAPE.match(body["id"])
    assert body["name"] == "Chorus" and body["description"] == "Agents at work"
    assert utc(body["created_at"]) == utc(body["updated_at"])
    assert detail(api, body["id"])["name"] == "Chorus"


def test_create_project_without_description(api):
    assert project(api, "Bare")["description"] is None


def test_project_name_is_trimmed_and_stored_trimmed(api):
    created = project(api, "  Spaced out \t")
    assert created["name"] == "Spaced out"
    assert detail(api, created["id"])["name"] == "Spaced out"


def test_project_name_limits(api):
    assert project(api, "x" * 255)["name"] == "x" * 255
    assert project(api, " " + "x" * 255 + " ")["name"] == "x" * 255  # trimmed, then measured
    for name in ("", "   ", "\n\t", "x" * 256):
        response = api.post("/projects", {"name": name})
        assert validation_locs(response) == [["body", "name"]], name


def test_project_body_validation(api):
    cases = [
        ({}, ["body", "name"]),
        ({"name": None}, ["body", "name"]),
        ({"name": 12}, ["body", "name"]),
        ({"name": ["a"]}, ["body", "name"]),
        ({"name": "ok", "description": 5}, ["body", "description"]),
        ({"name": "ok", "colour": "red"}, ["body", "colour"]),
    ]
    for body, loc in cases:
        assert loc in validation_locs(api.post("/projects", body)), body
    assert ok(api.get("/projects")) == []


def test_description_limit_is_64_kib_of_utf8(api):
    assert project(api, "a", description="d" * 65536)["description"] == "d" * 65536
    assert project(api, "b", description="é" * 32768)["description"] == "é" * 32768
    for description in ("d" * 65537, "é" * 32769, "€" * 21846):
        response = api.post("/projects", {"name": "c", "description": description})
        assert validation_locs(response) == [["body", "description"]]
    assert len(ok(api.get("/projects"))) == 2


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"name"', b"null",
                                 b'{"name": NaN}', b'{"name": "a", "description": Infinity}',
                                 b'{"name": "a"'])
def test_a_body_that_is_not_a_json_object_is_malformed(api, raw):
    assert_error(api.post("/projects", raw=raw), 400, "MALFORMED_REQUEST")
    assert ok(api.get("/projects")) == []


def test_a_body_over_1_mib_is_too_large_but_a_long_field_is_a_validation_error(api):
    huge = '{"name": "a", "description": "' + "d" * (1024 * 1024) + '"}'
    assert_error(api.post("/projects", raw=huge.encode()), 413, "PAYLOAD_TOO_LARGE")
    assert validation_locs(api.post("/projects", {"name": "a", "description": "d" * 70000}))
    assert ok(api.get("/projects")) == []


# -- list ---------------------------------------------------------------------------------
def test_list_projects_oldest_first_with_paging(api):
    made = [project(api, f"P{i}")["id"] for i in range(5)]
    first = api.get("/projects?limit=2")
    assert [p["id"] for p in ok(first)] == made[:2]
    assert first.headers["X-Next-Offset"] == "2"
    middle = api.get("/projects?limit=2&offset=2")
    assert [p["id"] for p in ok(middle)] == made[2:4]
    assert middle.headers["X-Next-Offset"] == "4"
    last = api.get("/projects?limit=2&offset=4")
    assert [p["id"] for p in ok(last)] == made[4:]
    assert "X-Next-Offset" not in last.headers
    everything = api.get("/projects")
    assert [p["id"] for p in ok(everything)] == made
    assert "X-Next-Offset" not in everything.headers
    assert set(ok(everything)[0]) == PROJECT_FIELDS
    assert ok(api.get("/projects?offset=9")) == []


def test_list_paging_parameters_are_validated(api):
    for query in ("limit=0", "limit=201", "limit=-1", "limit=abc", "offset=-1", "offset=x",
                  "limit=1.5"):
        locs = validation_locs(api.get(f"/projects?{query}"))
        assert locs[0][0] == "query", query
    assert ok(api.get("/projects?limit=200")) == []
    assert ok(api.get("/projects?limit=1")) == []


# -- detail -------------------------------------------------------------------------------
def test_detail_of_an_empty_project(api):
    created = project(api)
    body = detail(api, created["id"])
    assert set(body) == DETAIL_FIELDS
    assert body["task_count"] == 0
    assert body["points_total"] == 0 and body["points_completed"] == 0
    assert body["status_counts"] == {"todo": 0, "doing": 0, "done": 0, "wont_do": 0}
    assert body["readiness_counts"] == dict.fromkeys(READINESS, 0)
    assert body["active_locks"] == 0


@pytest.mark.parametrize("project_id", [MISSING_ID, "not-a-uuid", "1234", MISSING_ID[:-1]])
def test_unknown_or_malformed_project_is_404(api, project_id):
    for method, path in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/tasks"),
                         ("GET", "/export"), ("GET", "/backlog"), ("GET", "/in-progress"),
                         ("GET", "/needs-refinement")):
        body = {"name": "x"} if method == "PUT" else None
        response = api.request(method, f"/projects/{project_id}{path}", body)
        assert_error(response, 404, "NOT_FOUND")
    assert_error(api.post(f"/projects/{project_id}/tasks", {"name": "t", "task_type": "bug"}),
                 404, "NOT_FOUND")


def test_detail_counters_follow_every_change(api):
    pid = project(api)["id"]
    big = task(api, pid, "Big", points=9)          # 9 points: needs breakdown
    ready = task(api, pid, "Ready", points=3)
    unsized = task(api, pid, "Unsized")
    flagged = task(api, pid, "Flagged", points=2)
    ok(api.post(f"/tasks/{flagged['id']}/flag-refinement", {"refinement_notes": "unclear"}))
    body = detail(api, pid)
    assert body["task_count"] == 4
    assert body["status_counts"] == {"todo": 4, "doing": 0, "done": 0, "wont_do": 0}
    assert body["readiness_counts"] == {"needs_refinement": 1, "blocked_by_children": 0,
                                        "needs_sizing": 1, "needs_breakdown": 1,
                                        "blocked_by_dependencies": 0, "ready": 1}
    assert body["points_total"] == 9 + 3 + 2

    parts = breakdown(api, big["id"], specs(2, points=2) + specs(1, "Open"))["subtasks"]
    complete(api, parts[0]["id"])
    set_status(api, unsized["id"], "wont_do")
    lock(api, ready["id"], "implementation")
    body = detail(api, pid)
    assert body["task_count"] == 7
    assert body["status_counts"] == {"todo": 4, "doing": 1, "done": 1, "wont_do": 1}
    # open tasks only: Big (blocked), Ready (doing, ready), Flagged, Open (unsized), Sub 1
    assert body["readiness_counts"] == {"needs_refinement": 1, "blocked_by_children": 1,
                                        "needs_sizing": 1, "needs_breakdown": 0,
                                        "blocked_by_dependencies": 0, "ready": 2}
    # top level, not wont_do: Big rolls up 2 + 2 (Open is unsized), Ready 3, Flagged 2
    assert body["points_total"] == 4 + 3 + 2
    assert body["points_completed"] == 2
    # Big's breakdown lock, Sub 0's implementation lock (complete kept it) and Ready's
    assert body["active_locks"] == 3


def test_points_completed_counts_done_leaves_without_a_wont_do_ancestor(api):
    pid = project(api)["id"]
    root = task(api, pid, "Root")
    kept = subtask(api, root["id"], "Kept", points=3)
    cancelled = subtask(api, root["id"], "Cancelled")
    inner = subtask(api, cancelled["id"], "Inner", points=4)
    complete(api, kept["id"])
    complete(api, inner["id"])
    assert detail(api, pid)["points_completed"] == 3 + 4
    set_status(api, cancelled["id"], "wont_do")
    body = detail(api, pid)
    assert body["points_completed"] == 3
    assert body["points_total"] == 3
    assert body["points_completed"] <= body["points_total"]
    assert get(api, inner["id"])["status"] == "done"


def test_points_total_ignores_wont_do_top_level_tasks_and_is_zero_when_unsized(api):
    pid = project(api)["id"]
    task(api, pid, "Unsized")
    assert detail(api, pid)["points_total"] == 0
    cancelled = task(api, pid, "Cancelled", points=5)
    assert detail(api, pid)["points_total"] == 5
    set_status(api, cancelled["id"], "wont_do")
    assert detail(api, pid)["points_total"] == 0


def test_active_locks_counts_live_locks_only(api, clock):
    pid = project(api)["id"]
    first, second = task(api, pid, "A", points=2), task(api, pid, "B")
    lock(api, first["id"], "implementation")
    lock(api, second["id"], "sizing", OTHER)
    assert detail(api, pid)["active_locks"] == 2
    clock.advance(900)  # the sizing lock's TTL; the implementation lock has 2700 s left
    assert detail(api, pid)["active_locks"] == 1


# -- update -------------------------------------------------------------------------------
def test_update_project_is_partial(api):
    created = project(api, "Old", description="keep me")
    renamed = ok(api.put(f"/projects/{created['id']}", {"name": "  New  "}))
    assert set(renamed) == PROJECT_FIELDS
    assert renamed["name"] == "New" and renamed["description"] == "keep me"
    assert utc(renamed["updated_at"]) > utc(created["updated_at"])
    assert renamed["created_at"] == created["created_at"]
    described = ok(api.put(f"/projects/{created['id']}", {"description": None}))
    assert described["name"] == "New" and described["description"] is None
    assert detail(api, created["id"])["description"] is None


def test_update_project_validation(api):
    created = project(api, "Name")
    for body, loc in (({"name": None}, ["body"]), ({"name": ""}, ["body", "name"]),
                      ({"name": "x" * 256}, ["body", "name"]), ({"id": MISSING_ID}, ["body", "id"]),
                      ({"description": 1}, ["body", "description"])):
        locs = validation_locs(api.put(f"/projects/{created['id']}", body))
        assert any(l[:len(loc)] == loc for l in locs), (body, locs)
    assert_error(api.put(f"/projects/{created['id']}", raw=b""), 400, "MALFORMED_REQUEST")
    assert detail(api, created["id"])["name"] == "Name"


def test_update_body_is_checked_before_the_project_exists(api):
    # SPEC §9: body (400/422) before the resource (404)
    assert_error(api.put(f"/projects/{MISSING_ID}", {"name": ""}), 422, "VALIDATION_ERROR")
    assert_error(api.put(f"/projects/{MISSING_ID}", raw=b"[]"), 400, "MALFORMED_REQUEST")


# -- delete -------------------------------------------------------------------------------
def test_delete_project_makes_it_and_all_its_tasks_404_at_once(api):
    pid = project(api)["id"]
    keep = project(api, "Other")["id"]
    root = task(api, pid, "Root", points=2)
    child = subtask(api, root["id"], "Child", points=1)
    other_task = task(api, keep, "Elsewhere")
    lock(api, child["id"], "implementation")
    response = api.delete(f"/projects/{pid}")
    assert response.status_code == 204
    assert_error(api.get(f"/projects/{pid}"), 404, "NOT_FOUND")
    for task_id in (root["id"], child["id"]):
        for path in ("", "/tree", "/ancestry", "/context", "/work-log", "/commits"):
            assert_error(api.get(f"/tasks/{task_id}{path}"), 404, "NOT_FOUND")
    assert_error(api.post(f"/tasks/{root['id']}/subtasks", {"name": "x", "task_type": "bug"}),
                 404, "NOT_FOUND")
    assert [p["id"] for p in ok(api.get("/projects"))] == [keep]
    assert ok(api.get("/locks")) == []
    available = ok(api.get("/tasks/available?operation=sizing"))
    assert [t["id"] for t in available] == [other_task["id"]]
    assert_error(api.delete(f"/projects/{pid}"), 404, "NOT_FOUND")
    assert get(api, other_task["id"])["name"] == "Elsewhere"


def test_delete_project_reclaims_its_storage(api):
    from chalicelib.services.maintenance import run_maintenance
    from chalicelib.store.tables import CommitItem, ProjectItem, TaskItem, WorkLogItem

    pid = project(api)["id"]
    keep = project(api, "Keep")["id"]
    root = task(api, pid, "Root", points=9)
    breakdown(api, root["id"], specs(30, points=1))
    ok(api.post(f"/tasks/{root['id']}/commits", {"commit_hash": "abcdef1"}), 201)
    task(api, keep, "Stays")
    assert api.delete(f"/projects/{pid}").status_code == 204
    run_maintenance()  # whatever the request left for the scheduled function
    assert {t.project_id for t in TaskItem.scan()} == {keep}
    assert [e for e in WorkLogItem.scan() if e.project_id == pid] == []
    assert [c for c in CommitItem.scan() if c.project_id == pid] == []
    assert {p.id for p in ProjectItem.scan()} == {keep}


# -- top-level tasks ----------------------------------------------------------------------
def test_top_level_tasks_by_position_with_paging(api):
    pid = project(api)["id"]
    made = [task(api, pid, f"T{i}")["id"] for i in range(3)]
    first = task(api, pid, "First", position=0)["id"]
    subtask(api, made[0], "Not top level")
    order = [first] + made
    assert [t["id"] for t in ok(api.get(f"/projects/{pid}/tasks"))] == order
    page = api.get(f"/projects/{pid}/tasks?limit=3")
    assert [t["id"] for t in ok(page)] == order[:3]
    assert page.headers["X-Next-Offset"] == "3"
    rest = api.get(f"/projects/{pid}/tasks?offset=3&limit=3")
    assert [t["id"] for t in ok(rest)] == order[3:]
    assert "X-Next-Offset" not in rest.headers
    assert [t["position"] for t in ok(api.get(f"/projects/{pid}/tasks"))] == [0, 1, 2, 3]
    validation_locs(api.get(f"/projects/{pid}/tasks?limit=0"))


def test_the_same_caller_labels_in_two_projects_do_not_mix(api):
    first, second = project(api, "A")["id"], project(api, "B")["id"]
    a = task(api, first, "A task", points=2)
    task(api, second, "B task", points=2)
    lock(api, a["id"], "implementation", AGENT)
    assert detail(api, first)["active_locks"] == 1
    assert detail(api, second)["active_locks"] == 0
    assert detail(api, second)["task_count"] == 1


def test_size_counts_in_readiness_counters(api):
    pid = project(api)["id"]
    t = task(api, pid)
    size(api, t["id"], points=8)
    assert detail(api, pid)["readiness_counts"]["needs_breakdown"] == 1
    assert detail(api, pid)["readiness_counts"]["needs_sizing"] == 0
    assert detail(api, pid)["points_total"] == 8


def test_a_deleted_project_is_invisible_before_its_storage_is_reclaimed(api, monkeypatch):
    from chalicelib.store import projects as project_store

    # a project too big to purge inside the request: its items are still stored
    monkeypatch.setattr(project_store, "purge_projects", lambda seconds: 0)
    pid = project(api)["id"]
    t = task(api, pid, "Ready", points=3)
    held = task(api, pid, "Held")
    lock(api, held["id"], "sizing")
    assert api.delete(f"/projects/{pid}").status_code == 204
    from chalicelib.store.tables import TaskItem

    assert TaskItem.get(t["id"]).name == "Ready"   # not yet reclaimed
    body = {"caller_label": AGENT, "work_log_content": "x"}
    for method, suffix, payload in (
            ("GET", "", None), ("GET", "/tree", None), ("GET", "/ancestry", None),
            ("GET", "/context", None), ("GET", "/work-log", None), ("GET", "/commits", None),
            ("PUT", "", {"name": "x"}), ("PATCH", "/status", {"status": "doing"}),
            ("PATCH", "/reorder", {"position": 0}), ("DELETE", "", None),
            ("POST", "/subtasks", {"name": "x", "task_type": "bug"}),
            ("POST", "/work-log", {"operation": "note", "content": "x"}),
            ("POST", "/commits", {"commit_hash": "abcdef1"}),
            ("POST", "/flag-refinement", {"refinement_notes": "x"}),
            ("POST", "/lock", {"caller_label": AGENT, "lock_purpose": "implementation"}),
            ("POST", "/complete", body), ("POST", "/refine", body)):
        assert_error(api.request(method, f"/tasks/{t['id']}{suffix}", payload), 404,
                     "NOT_FOUND")
    assert_error(api.post(f"/tasks/{held['id']}/size", size_body()), 404, "NOT_FOUND")
    assert_error(api.patch(f"/tasks/{held['id']}/lock/heartbeat?caller_label={AGENT}"), 404,
                 "NOT_FOUND")
    assert_error(api.delete(f"/tasks/{held['id']}/lock?force=true"), 404, "NOT_FOUND")
    for operation in ("sizing", "implementation"):
        assert ok(api.get(f"/tasks/available?operation={operation}")) == []
    assert ok(api.get("/locks")) == []
    assert ok(api.get("/projects")) == []
