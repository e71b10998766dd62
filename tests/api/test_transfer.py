"""Export and import (SPEC §7): a lossless round trip, the invariants an import enforces with
nothing left behind, uploads and downloads for large projects, and the markdown checklist."""
from __future__ import annotations

import copy
import json

import pytest
import requests

from tests.api.helpers import (
    run_jobs,
    big_children,
    MISSING_ID,
    assert_error,
    breakdown,
    complete,
    detail,
    lock,
    ok,
    project,
    set_status,
    size,
    subtask,
    task,
    validation_locs,
)

EXPORT_FIELDS = {"format_version", "exported_at", "project", "tasks"}


def export(api, project_id):
    response = api.get(f"/projects/{project_id}/export")
    body = ok(response)
    assert set(body) == EXPORT_FIELDS, set(body)
    return body


def normalized(document):
    """The export without what an import may change: ids, exported_at and the project's
    created_at/updated_at."""
    doc = copy.deepcopy(document)
    doc.pop("exported_at")
    for field in ("id", "created_at", "updated_at"):
        doc["project"].pop(field)
    index = {t["id"]: i for i, t in enumerate(doc["tasks"])}
    for t in doc["tasks"]:
        t["id"] = index[t["id"]]
        t["parent_task_id"] = index.get(t["parent_task_id"])
        for entry in t["work_log_entries"]:
            entry.pop("id")
        for commit in t["commits"]:
            commit.pop("id")
    return doc


def import_(api, document, status=201):
    return ok(api.post("/projects/import", document), status)


@pytest.fixture
def rich(api, clock):
    """A depth-5 project with sized tasks, flags, logs, commits and every status."""
    pid = project(api, "Rich", description="everything at once")["id"]
    line = [task(api, pid, "Level 0", description="top", context="ctx 0", priority=3)]
    for level in range(1, 6):
        line.append(subtask(api, line[-1]["id"], f"Level {level}", task_type="tech_debt",
                            context=f"ctx {level}" if level % 2 else None))
    deepest = line[-1]
    size(api, deepest["id"], points=4, confidence=2, risk_factors=["r1", "r2"],
         breakdown_suggestions="maybe split", scored_by="estimator")
    ok(api.post(f"/tasks/{deepest['id']}/work-log",
                {"operation": "note", "content": "a note", "author": "human"}), 201)
    ok(api.post(f"/tasks/{deepest['id']}/commits",
                {"commit_hash": "ABCDEF1", "message": "first", "author": "dev",
                 "committed_at": "2025-02-01T10:00:00Z"}), 201)
    done = subtask(api, line[3]["id"], "Finished", task_type="bug", points=2)
    complete(api, done["id"], commits=[{"commit_hash": "1234567", "message": "fix"},
                                       {"commit_hash": "89abcde"}], release_lock=True)
    cancelled = subtask(api, line[3]["id"], "Dropped", points=1)
    set_status(api, cancelled["id"], "wont_do")
    flagged = subtask(api, line[1]["id"], "Vague", points=3, priority=-4)
    ok(api.post(f"/tasks/{flagged['id']}/flag-refinement", {"refinement_notes": "what?"}))
    ok(api.patch(f"/tasks/{flagged['id']}/reorder", {"position": 0}))
    doing = task(api, pid, "Second root", points=5)
    lock(api, doing["id"], "implementation")         # locks are not exported
    big = task(api, pid, "Big", points=9)
    breakdown(api, big["id"], [{"name": "Part A", "task_type": "feature", "points": 1},
                               {"name": "Part B", "task_type": "bug"}],
              parent_description_update="split in two", release_lock=True)
    clock.advance(1)
    return pid


def test_export_lists_every_stored_field_parents_first(api, rich):
    doc = export(api, rich)
    assert doc["format_version"] == 2
    assert doc["project"]["name"] == "Rich"
    assert doc["project"]["description"] == "everything at once"
    seen = set()
    for t in doc["tasks"]:
        assert t["parent_task_id"] is None or t["parent_task_id"] in seen
        seen.add(t["id"])
        for field in ("name", "description", "context", "task_type", "status", "priority",
                      "points", "points_breakdown", "sizing_confidence", "needs_refinement",
                      "refinement_notes", "context_captured_at", "content_changed_at",
                      "position", "created_at", "updated_at", "work_log_entries", "commits"):
            assert field in t, field
        for computed in ("effective_points", "rolled_up_points", "readiness", "lock",
                         "is_locked", "fencing_token", "children_count"):
            assert computed not in t, computed
    by_name = {t["name"]: t for t in doc["tasks"]}
    assert len(doc["tasks"]) == 13
    deepest = by_name["Level 5"]
    assert deepest["points_breakdown"]["total"] == 4
    assert deepest["points_breakdown"]["risk_factors"] == ["r1", "r2"]
    assert deepest["needs_refinement"] is True
    assert deepest["refinement_notes"] == "low sizing confidence: 2"
    assert [c["commit_hash"] for c in deepest["commits"]] == ["abcdef1"]
    assert [e["operation"] for e in deepest["work_log_entries"]] == ["sizing", "note"]
    assert [c["commit_hash"] for c in by_name["Finished"]["commits"]] == ["1234567", "89abcde"]
    assert by_name["Second root"]["status"] == "doing"


def test_export_import_export_is_lossless(api, rich):
    first = export(api, rich)
    imported = import_(api, first)
    assert imported["id"] != rich
    assert imported["name"] == "Rich"
    original = detail(api, rich)
    for field in ("task_count", "points_total", "points_completed", "status_counts",
                  "readiness_counts"):
        assert imported[field] == original[field], field
    assert imported["active_locks"] == 0
    assert detail(api, imported["id"]) == imported
    second = export(api, imported["id"])
    assert normalized(second) == normalized(first)
    new_ids = {t["id"] for t in second["tasks"]}
    assert not new_ids & {t["id"] for t in first["tasks"]}


def test_imported_tasks_behave_like_the_originals(api, rich):
    new = import_(api, export(api, rich))["id"]
    top = ok(api.get(f"/projects/{new}/tasks"))
    assert [t["name"] for t in top] == ["Level 0", "Second root", "Big"]
    assert [t["position"] for t in top] == [0, 1, 2]
    tree = ok(api.get(f"/tasks/{top[0]['id']}/tree"))
    assert [c["name"] for c in tree["children"][0]["children"]] == ["Vague", "Level 2"]
    assert top[1]["status"] == "doing" and top[1]["lock"] is None
    assert top[2]["effective_points"] == 1 and top[2]["unsized_children"] == 1
    flagged = ok(api.get(f"/projects/{new}/needs-refinement"))
    assert sorted(t["name"] for t in flagged) == ["Level 5", "Vague"]
    available = ok(api.get(f"/tasks/available?project_id={new}&operation=implementation"))
    assert "Second root" in [t["name"] for t in available]  # doing without a lock: stalled


def test_import_takes_any_unique_ids_and_renumbers_positions(api):
    doc = {"format_version": 1, "project": {"name": "Hand made"}, "tasks": [
        {"id": "root", "name": "Root", "task_type": "feature", "status": "todo",
         "position": 7},
        {"id": "x", "parent_task_id": "root", "name": "X", "task_type": "bug",
         "status": "done", "points": 2, "position": 5},
        {"id": "y", "parent_task_id": "root", "name": "Y", "task_type": "bug",
         "status": "todo", "position": 1},
        {"id": "other root", "name": "Other", "task_type": "tech_debt", "status": "wont_do"},
    ]}
    new = import_(api, doc)
    assert new["task_count"] == 4
    assert new["status_counts"] == {"todo": 2, "doing": 0, "done": 1, "wont_do": 1}
    top = ok(api.get(f"/projects/{new['id']}/tasks"))
    assert [(t["name"], t["position"]) for t in top] == [("Root", 0), ("Other", 1)]
    children = ok(api.get(f"/tasks/{top[0]['id']}/tree"))["children"]
    assert [(c["name"], c["position"]) for c in children] == [("X", 0), ("Y", 1)]
    assert top[0]["effective_points"] == 2


def leaves_nothing(api, before_projects):
    from chalicelib.store.tables import CommitItem, ProjectItem, TaskItem, WorkLogItem

    assert ok(api.get("/projects")) == before_projects
    known = {p["id"] for p in before_projects}
    assert {t.project_id for t in TaskItem.scan()} <= known
    assert {e.project_id for e in WorkLogItem.scan()} <= known
    assert {c.project_id for c in CommitItem.scan()} <= known
    assert {p.id for p in ProjectItem.scan()} <= known


def test_an_import_counts_its_writes_in_its_server_timing(api):
    """The concurrent BatchWriteItem streams are the request's own DynamoDB calls."""
    doc = {"format_version": 1, "project": {"name": "Counted"}, "tasks": [
        {"id": str(i), "name": f"T{i}", "task_type": "bug", "status": "todo"}
        for i in range(200)]}
    response = api.post("/projects/import", doc)
    assert response.status_code == 201
    requests_made = int(response.headers["Server-Timing"].split('desc="')[1].split()[0])
    assert requests_made >= 200 // 25 + 2  # 8 batches, the tombstone, the project


def valid_document():
    return {"format_version": 1, "project": {"name": "P"}, "tasks": [
        {"id": "a", "name": "A", "task_type": "feature", "status": "todo",
         "work_log_entries": [{"author": "me", "operation": "note", "content": "hi",
                               "created_at": "2025-01-01T00:00:00Z"}],
         "commits": [{"author": "me", "commit_hash": "abcdef1",
                      "committed_at": "2025-01-01T00:00:00Z"}]},
        {"id": "b", "parent_task_id": "a", "name": "B", "task_type": "bug", "status": "todo"},
    ]}


@pytest.mark.parametrize("change,field", [
    (lambda d: d["tasks"][0].update(effective_points=3), "effective_points"),
    (lambda d: d["tasks"][0].update(readiness="ready"), "readiness"),
    (lambda d: d["tasks"][0].update(children_count=1), "children_count"),
    (lambda d: d["tasks"][0].update(rolled_up_points=1), "rolled_up_points"),
    (lambda d: d["tasks"][0].update(unsized_children=0), "unsized_children"),
    (lambda d: d["tasks"][0].update(is_locked=False), "is_locked"),
    (lambda d: d["tasks"][0].update(lock=None), "lock"),
    (lambda d: d["tasks"][0].update(fencing_token=3), "fencing_token"),
    (lambda d: d["tasks"][1].update(colour="red"), "colour"),
    (lambda d: d.update(extra=True), "extra"),
    (lambda d: d["project"].update(task_count=2), "task_count"),
    (lambda d: d["tasks"][0]["commits"][0].update(sha="x"), "sha"),
])
def test_import_rejects_computed_and_unknown_fields(api, change, field):
    before = ok(api.get("/projects"))
    doc = valid_document()
    change(doc)
    locs = validation_locs(api.post("/projects/import", doc))
    assert any(loc[-1] == field for loc in locs), locs
    leaves_nothing(api, before)


@pytest.mark.parametrize("change,code", [
    (lambda d: d["tasks"][0]["commits"].append(
        {"author": "me", "commit_hash": "ABCDEF1", "committed_at": "2025-01-02T00:00:00Z"}),
     "VALIDATION_ERROR"),
    (lambda d: d["tasks"][0].update(status="done"), "VALIDATION_ERROR"),
    (lambda d: d["tasks"][0].update(status="wont_do"), "VALIDATION_ERROR"),
    (lambda d: d["tasks"].reverse(), "VALIDATION_ERROR"),
    (lambda d: d["tasks"][1].update(id="a"), "VALIDATION_ERROR"),
    (lambda d: d["tasks"][1].update(parent_task_id="nobody"), "VALIDATION_ERROR"),
    (lambda d: d.update(format_version=3), "VALIDATION_ERROR"),
    (lambda d: d["tasks"][0].update(points=11), "VALIDATION_ERROR"),
    (lambda d: d["tasks"][0].update(name=" "), "VALIDATION_ERROR"),
])
def test_import_enforces_the_invariants_and_leaves_nothing(api, change, code):
    before = ok(api.get("/projects"))
    doc = valid_document()
    change(doc)
    assert_error(api.post("/projects/import", doc), 422, code)
    leaves_nothing(api, before)


def test_import_allows_depth_15_but_not_16(api):
    def line(levels):
        tasks = [{"id": "0", "name": "L0", "task_type": "feature", "status": "todo"}]
        for level in range(1, levels):
            tasks.append({"id": str(level), "parent_task_id": str(level - 1),
                          "name": f"L{level}", "task_type": "feature", "status": "todo"})
        return {"format_version": 1, "project": {"name": "Deep"}, "tasks": tasks}

    assert import_(api, line(16))["task_count"] == 16
    before = ok(api.get("/projects"))
    assert_error(api.post("/projects/import", line(17)), 422, "DEPTH_LIMIT_EXCEEDED")
    leaves_nothing(api, before)


def test_a_failure_while_writing_leaves_no_partial_project(api, monkeypatch):
    from chalicelib.store import transfer as transfer_store

    before = ok(api.get("/projects"))

    def fail(tx):
        raise RuntimeError("the datastore went away mid-import")

    monkeypatch.setattr(transfer_store, "commit", fail)
    assert_error(api.post("/projects/import", valid_document()), 500, "INTERNAL_ERROR")
    leaves_nothing(api, before)


def test_import_validation_of_the_envelope(api):
    assert_error(api.post("/projects/import", raw=b""), 400, "MALFORMED_REQUEST")
    assert_error(api.post("/projects/import", raw=b"[]"), 400, "MALFORMED_REQUEST")
    assert_error(api.post("/projects/import", {"tasks": []}), 422, "VALIDATION_ERROR")
    assert_error(api.post("/projects/import", {"upload_id": MISSING_ID}), 404, "NOT_FOUND")
    assert_error(api.post("/projects/import", {"upload_id": ""}), 422, "VALIDATION_ERROR")


def test_import_replays_with_an_idempotency_key(api):
    headers = {"Idempotency-Key": "import-1"}
    first = api.post("/projects/import", valid_document(), headers=headers)
    second = api.post("/projects/import", valid_document(), headers=headers)
    assert ok(first, 201) == ok(second, 201)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert len(ok(api.get("/projects"))) == 1


def test_import_through_an_upload(api):
    upload = ok(api.post("/projects/import-uploads"), 201)
    assert set(upload) == {"upload_id", "upload_url", "expires_at"}
    sent = requests.put(upload["upload_url"], data=json.dumps(valid_document()).encode(),
                        headers={"Content-Type": "application/json"})
    assert sent.status_code == 200
    started = api.post("/projects/import", {"upload_id": upload["upload_id"]})
    job = ok(started, 202)
    assert started.headers["Location"] == f"/jobs/{job['id']}"
    assert (job["kind"], job["status"], job["result"]) == ("import", "running", None)
    assert ok(api.post("/projects/import", {"upload_id": upload["upload_id"]}), 202) == job
    run_jobs()
    finished = ok(api.get(f"/jobs/{job['id']}"))
    assert finished["status"] == "succeeded" and finished["error"] is None
    assert finished["progress"] == {"done": 2, "total": 2}
    imported = ok(api.get(f"/projects/{finished['result']['project_id']}"))
    assert imported["task_count"] == 2
    assert [t["name"] for t in ok(api.get(f"/projects/{imported['id']}/tasks"))] == ["A"]
    again = api.post("/projects/import", {"upload_id": upload["upload_id"]})
    assert_error(again, 404, "NOT_FOUND")  # an upload imports once


def test_an_inline_import_may_exceed_the_1_mib_body_limit_up_to_6_mb(api):
    doc = valid_document()
    doc["tasks"] += [{"id": f"t{i}", "name": f"T{i}", "task_type": "bug", "status": "todo",
                      "description": "d" * 65536} for i in range(30)]
    raw = json.dumps(doc).encode()
    assert 1024 * 1024 < len(raw) < 6_000_000
    assert ok(api.post("/projects/import", raw=raw), 201)["task_count"] == 32


def test_an_inline_import_over_6_mb_is_too_large(api):
    doc = valid_document()
    doc["tasks"][0]["description"] = "d" * 60000
    doc["tasks"] += [{"id": f"t{i}", "name": f"T{i}", "task_type": "bug", "status": "todo",
                      "description": "d" * 60000} for i in range(100)]
    raw = json.dumps(doc).encode()
    assert len(raw) > 6_000_000
    assert_error(api.post("/projects/import", raw=raw), 413, "PAYLOAD_TOO_LARGE")
    assert ok(api.get("/projects")) == []


def test_a_large_export_goes_to_object_storage(api):
    import boto3

    pid = project(api, "Large")["id"]
    root = task(api, pid, "Root", points=9)
    lock(api, root["id"], "breakdown")
    big_children(api, root["id"])
    response = api.get(f"/projects/{pid}/export")
    body = ok(response)
    assert set(body) == {"download_url", "expires_at", "size_bytes"}
    assert body["size_bytes"] > 6_000_000
    downloaded = requests.get(body["download_url"])
    assert downloaded.status_code == 200
    assert len(downloaded.content) == body["size_bytes"]
    document = json.loads(downloaded.content)
    assert document["format_version"] == 2 and len(document["tasks"]) == 50
    keys = boto3.client("s3", region_name="us-east-1").list_objects_v2(
        Bucket="chorus-test-exports")["Contents"]
    assert len(keys) == 1


def test_export_of_an_unknown_project_is_404(api):
    assert_error(api.get(f"/projects/{MISSING_ID}/export"), 404, "NOT_FOUND")
    assert_error(api.get(f"/projects/{MISSING_ID}/export?format=markdown"), 404, "NOT_FOUND")
    pid = project(api)["id"]
    assert_error(api.get(f"/projects/{pid}/export?format=xml"), 422, "VALIDATION_ERROR")


# -- markdown -----------------------------------------------------------------------------
def markdown_project(api):
    pid = project(api, "Website", description="The new site")["id"]
    login = task(api, pid, "Login form", points=3)
    schema = subtask(api, login["id"], "Schema", task_type="tech_debt", points=2)
    complete(api, schema["id"], release_lock=True)
    form = subtask(api, login["id"], "Form fields", points=1)
    api_task = task(api, pid, "API")
    set_status(api, api_task["id"], "doing")
    old = task(api, pid, "Old idea")
    set_status(api, old["id"], "wont_do")
    return pid, form


def markdown(api, pid):
    # not JSON: straight through Chalice's client (the fixture's helpers parse JSON)
    response = api.client.http.request("GET", f"/projects/{pid}/export?format=markdown")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    return response.body.decode("utf-8")


def test_markdown_checklist_in_tree_order(api):
    pid, _ = markdown_project(api)
    lines = markdown(api, pid).splitlines()
    assert lines[0] == "# Website"
    assert "The new site" in lines[1:3]
    items = [line for line in lines if line.lstrip().startswith("- [")]
    assert items[0] == "- [ ] Login form (feature, 3 pts)"
    assert items[1] == "  - [x] Schema (tech_debt, 2 pts)"
    assert items[2] == "  - [ ] Form fields (feature, 1 pts)"
    assert items[4] == "- [x] ~~Old idea~~ (feature, wont_do)"
    assert len(items) == 5


def test_markdown_line_of_a_doing_task_matches_the_spec_example(api):
    pid, _ = markdown_project(api)
    items = [line for line in markdown(api, pid).splitlines() if line.startswith("- [")]
    assert "- [ ] API (feature, doing)" in items
