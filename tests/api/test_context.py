"""GET /tasks/{id}/context (SPEC §1 Context freshness, §6): the document, freshness and
its reasons, commits on request, and fitting the body into max_bytes."""
from __future__ import annotations

import time

import pytest

from tests.api.helpers import (
    AGENT,
    MISSING_ID,
    TASK_FIELDS,
    assert_error,
    breakdown,
    lock,
    ok,
    project,
    set_status,
    size,
    subtask,
    task,
)

DOCUMENT_FIELDS = {"task", "project", "ancestors", "work_log", "commits",
                   "context_captured_at", "context_freshness", "stale_reasons", "truncated",
                   "truncation"}


def pause():
    time.sleep(0.002)


def context(api, task_id, query=""):
    return ok(api.get(f"/tasks/{task_id}/context{query}"))


@pytest.fixture
def pid(api):
    return project(api, "Project", description="what we build")["id"]


def test_the_context_document(api, pid):
    root = task(api, pid, "Root", description="root d", context="root c")
    mid = subtask(api, root["id"], "Mid", description="mid d")
    leaf = subtask(api, mid["id"], "Leaf", context="leaf c")
    for i in range(3):
        ok(api.post(f"/tasks/{leaf['id']}/work-log", {"operation": "note", "content": f"n{i}"}),
           201)
    ok(api.post(f"/tasks/{leaf['id']}/commits", {"commit_hash": "abcdef1"}), 201)
    body = context(api, leaf["id"])
    assert set(body) == DOCUMENT_FIELDS
    assert set(body["task"]) == TASK_FIELDS and body["task"]["id"] == leaf["id"]
    assert body["project"] == {"id": pid, "name": "Project", "description": "what we build"}
    assert [a["id"] for a in body["ancestors"]] == [root["id"], mid["id"]]
    assert body["ancestors"][0] == {"id": root["id"], "name": "Root", "description": "root d",
                                    "context": "root c", "updated_at": root["updated_at"]}
    assert [e["content"] for e in body["work_log"]] == ["n0", "n1", "n2"]
    assert body["commits"] is None
    assert body["context_captured_at"] == leaf["context_captured_at"]
    assert (body["context_freshness"], body["stale_reasons"]) == ("fresh", [])
    assert (body["truncated"], body["truncation"]) == (False, None)


def test_commits_only_on_request(api, pid):
    t = task(api, pid, context="c")
    for commit_hash, at in (("bbbbbbb", "2025-01-02T00:00:00Z"),
                            ("aaaaaaa", "2025-01-01T00:00:00Z")):
        ok(api.post(f"/tasks/{t['id']}/commits", {"commit_hash": commit_hash,
                                                  "committed_at": at}), 201)
    with_commits = context(api, t["id"], "?include_commits=true")
    assert [c["commit_hash"] for c in with_commits["commits"]] == ["aaaaaaa", "bbbbbbb"]
    assert context(api, t["id"], "?include_commits=false")["commits"] is None
    for value in ("yes", "1", "True", ""):
        assert_error(api.get(f"/tasks/{t['id']}/context?include_commits={value}"), 422,
                     "VALIDATION_ERROR")


def test_a_top_level_task_has_no_ancestors_the_project_is_not_one(api, pid):
    t = task(api, pid, context="c")
    ok(api.put(f"/projects/{pid}", {"description": "changed later"}))
    body = context(api, t["id"])
    assert body["ancestors"] == []
    assert body["context_freshness"] == "fresh"


def test_context_of_a_missing_task_is_404(api):
    assert_error(api.get(f"/tasks/{MISSING_ID}/context"), 404, "NOT_FOUND")


# -- freshness ----------------------------------------------------------------------------
def test_never_captured_context_is_stale(api, pid):
    t = task(api, pid)
    body = context(api, t["id"])
    assert body["context_captured_at"] is None
    assert body["context_freshness"] == "stale"
    assert body["stale_reasons"] == ["never captured"]
    ok(api.put(f"/tasks/{t['id']}", {"context": "c"}))
    assert context(api, t["id"])["context_freshness"] == "fresh"
    ok(api.put(f"/tasks/{t['id']}", {"context": None}))
    assert context(api, t["id"])["stale_reasons"] == ["never captured"]


@pytest.mark.parametrize("field", ["name", "description", "context"])
def test_an_ancestor_content_change_after_capture_makes_it_stale(api, pid, field):
    root = task(api, pid, "Root", description="d", context="c")
    mid = subtask(api, root["id"], "Mid", description="d", context="c")
    leaf = subtask(api, mid["id"], "Leaf", context="leaf")
    pause()
    ok(api.put(f"/tasks/{root['id']}", {field: "new value"}))
    body = context(api, leaf["id"])
    assert body["context_freshness"] == "stale"
    assert len(body["stale_reasons"]) == 1 and root["id"] in body["stale_reasons"][0]
    ok(api.put(f"/tasks/{mid['id']}", {field: "new value"}))
    body = context(api, leaf["id"])
    assert len(body["stale_reasons"]) == 2
    assert root["id"] in body["stale_reasons"][0] and mid["id"] in body["stale_reasons"][1]
    if field != "context":  # rewriting mid's context captured it anew
        assert context(api, mid["id"])["context_freshness"] == "stale"


def test_changes_that_are_not_content_never_make_context_stale(api, pid):
    root = task(api, pid, "Root", description="d", context="c")
    leaf = subtask(api, root["id"], "Leaf", context="leaf", points=2)
    sibling = subtask(api, root["id"], "Sibling")
    pause()
    ok(api.put(f"/tasks/{root['id']}", {"name": "Root", "description": "d", "priority": 9,
                                        "task_type": "bug", "points": 4}))
    size(api, sibling["id"], points=3)                 # a rollup change of root
    set_status(api, root["id"], "doing")               # a status change of root
    ok(api.put(f"/projects/{pid}", {"name": "Renamed", "description": "new"}))
    lock(api, root["id"], "refinement")
    ok(api.post(f"/tasks/{root['id']}/refine", {"caller_label": AGENT, "work_log_content": "x",
                                                "confirm_context": True}))
    body = context(api, leaf["id"])
    assert (body["context_freshness"], body["stale_reasons"]) == ("fresh", [])


def test_confirming_or_rewriting_the_context_makes_it_fresh_again(api, pid):
    root = task(api, pid, "Root", description="d")
    leaf = subtask(api, root["id"], "Leaf", context="leaf")
    pause()
    ok(api.put(f"/tasks/{root['id']}", {"description": "changed"}))
    assert context(api, leaf["id"])["context_freshness"] == "stale"
    pause()
    lock(api, leaf["id"], "refinement")
    ok(api.post(f"/tasks/{leaf['id']}/refine", {"caller_label": AGENT,
                                                "work_log_content": "checked",
                                                "confirm_context": True}))
    assert context(api, leaf["id"])["context_freshness"] == "fresh"
    pause()
    ok(api.put(f"/tasks/{root['id']}", {"name": "Root 2"}))
    assert context(api, leaf["id"])["context_freshness"] == "stale"
    pause()
    ok(api.put(f"/tasks/{leaf['id']}", {"context": "leaf"}))  # written again, same text
    assert context(api, leaf["id"])["context_freshness"] == "fresh"


def test_subtasks_of_a_breakdown_are_fresh_even_with_a_parent_description_update(api, pid):
    parent = task(api, pid, "Parent", points=9, description="old")
    body = breakdown(api, parent["id"], [{"name": "Part", "task_type": "feature"}],
                     parent_description_update="new plan")
    part = body["subtasks"][0]
    assert part["context"] is None and part["context_captured_at"] is not None
    doc = context(api, part["id"])
    assert (doc["context_freshness"], doc["stale_reasons"]) == ("fresh", [])
    assert doc["ancestors"][0]["description"] == "new plan"


# -- max_bytes ----------------------------------------------------------------------------
def test_max_bytes_bounds(api, pid):
    t = task(api, pid, context="c")
    for value in ("1023", "6000001", "0", "-5", "big", "1024.5"):
        assert_error(api.get(f"/tasks/{t['id']}/context?max_bytes={value}"), 422,
                     "VALIDATION_ERROR")
    smallest = api.get(f"/tasks/{t['id']}/context?max_bytes=1024")
    if smallest.status_code == 422:  # 1 KiB may not hold even the task (SPEC §6)
        assert assert_error(smallest, 422, "RESPONSE_TOO_LARGE")["details"]["min_bytes"] > 1024
    else:
        assert ok(smallest)["task"]["id"] == t["id"]
    assert context(api, t["id"], "?max_bytes=6000000")["truncated"] is False


def test_the_default_limit_is_65536_bytes_oldest_work_log_first(api, pid):
    t = task(api, pid, context="c")
    for i in range(4):
        ok(api.post(f"/tasks/{t['id']}/work-log",
                    {"operation": "note", "content": f"{i} " + "w" * 30000}), 201)
    response = api.get(f"/tasks/{t['id']}/context")
    body = ok(response)
    assert len(response.body) <= 65536
    assert body["truncated"] is True
    truncation = body["truncation"]
    assert truncation["work_log_entries_total"] == 4
    assert truncation["work_log_entries_dropped"] == 2
    assert [e["content"][0] for e in body["work_log"]] == ["2", "3"]
    assert (truncation["commits_dropped"], truncation["commits_total"]) == (0, 0)
    assert (truncation["ancestors_shortened"], truncation["shortened"]) == (0, [])
    full = context(api, t["id"], "?max_bytes=200000")
    assert full["truncated"] is False and len(full["work_log"]) == 4


def test_truncation_order_log_then_commits_then_farthest_ancestors(api, pid):
    root = task(api, pid, "Root", description="R" * 3000, context="C" * 3000)
    mid = subtask(api, root["id"], "Mid", description="M" * 3000, context="N" * 3000)
    leaf = subtask(api, mid["id"], "Leaf", description="keep me whole " * 50, context="leaf")
    for i in range(3):
        ok(api.post(f"/tasks/{leaf['id']}/work-log",
                    {"operation": "note", "content": "l" * 2000}), 201)
        ok(api.post(f"/tasks/{leaf['id']}/commits",
                    {"commit_hash": f"{i:07x}", "message": "m" * 2000,
                     "committed_at": f"2025-01-0{i + 1}T00:00:00Z"}), 201)
    full = context(api, leaf["id"], "?include_commits=true&max_bytes=100000")
    assert full["truncated"] is False
    response = api.get(f"/tasks/{leaf['id']}/context?include_commits=true&max_bytes=9000")
    body = ok(response)
    assert len(response.body) <= 9000
    truncation = body["truncation"]
    assert truncation["work_log_entries_dropped"] == 3 and body["work_log"] == []
    assert truncation["commits_dropped"] == 3 and body["commits"] == []
    shortened = truncation["shortened"]
    order = [(root["id"], "description"), (root["id"], "context"), (mid["id"], "description")]
    assert [(s["ancestor_id"], s["field"]) for s in shortened] == order[:len(shortened)]
    assert len(shortened) >= 2
    assert shortened[0] == {"ancestor_id": root["id"], "field": "description",
                            "original_chars": 3000, "kept_chars": 0}
    assert all(s["kept_chars"] == 0 for s in shortened[:-1])
    assert 0 < shortened[-1]["kept_chars"] < shortened[-1]["original_chars"]
    assert body["ancestors"][0]["description"] == ""
    for record in shortened:
        ancestor = next(a for a in body["ancestors"] if a["id"] == record["ancestor_id"])
        original = full["ancestors"][[a["id"] for a in full["ancestors"]].index(
            record["ancestor_id"])][record["field"]]
        assert ancestor[record["field"]] == original[:record["kept_chars"]]
    assert body["ancestors"][1]["context"] == "N" * 3000  # only as far as needed
    assert body["task"] == full["task"] and body["project"] == full["project"]
    assert truncation["ancestors_shortened"] == len({s["ancestor_id"] for s in shortened})


def test_commits_are_dropped_oldest_first_after_the_whole_log(api, pid):
    t = task(api, pid, context="c")
    ok(api.post(f"/tasks/{t['id']}/work-log", {"operation": "note", "content": "x" * 3000}),
       201)
    for i in range(4):
        ok(api.post(f"/tasks/{t['id']}/commits",
                    {"commit_hash": f"{i + 10:07x}", "message": "m" * 3000,
                     "committed_at": f"2025-01-0{i + 1}T00:00:00Z"}), 201)
    response = api.get(f"/tasks/{t['id']}/context?include_commits=true&max_bytes=9000")
    body = ok(response)
    assert len(response.body) <= 9000
    assert body["work_log"] == []
    dropped = body["truncation"]["commits_dropped"]
    assert 1 <= dropped < 4
    assert [c["commit_hash"] for c in body["commits"]] == [
        f"{i + 10:07x}" for i in range(dropped, 4)]


def test_a_task_too_big_for_max_bytes_is_response_too_large_with_min_bytes(api, pid):
    t = task(api, pid, "Huge", description="d" * 20000, context="c" * 20000)
    ok(api.post(f"/tasks/{t['id']}/work-log", {"operation": "note", "content": "w"}), 201)
    error = assert_error(api.get(f"/tasks/{t['id']}/context?max_bytes=30000"), 422,
                         "RESPONSE_TOO_LARGE")
    min_bytes = error["details"]["min_bytes"]
    assert 40000 < min_bytes <= 45000
    response = api.get(f"/tasks/{t['id']}/context?max_bytes={min_bytes}")
    body = ok(response)
    assert len(response.body) <= min_bytes
    assert body["task"]["description"] == "d" * 20000 and body["task"]["context"] == "c" * 20000


def test_the_body_never_exceeds_max_bytes_even_just_over_the_untruncated_size(api, pid):
    t = task(api, pid, context="c" * 2000)
    ok(api.post(f"/tasks/{t['id']}/work-log", {"operation": "note", "content": "w" * 500}), 201)
    size_untruncated = len(api.get(f"/tasks/{t['id']}/context").body)
    limit = size_untruncated - 10
    response = api.get(f"/tasks/{t['id']}/context?max_bytes={limit}")
    assert response.status_code == 200
    assert len(response.body) <= limit
