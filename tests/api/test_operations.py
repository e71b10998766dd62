"""The atomic operations, the work log and commits (SPEC §1, §4, §8, §9): size, breakdown,
refine, complete, flag-refinement, work-log and commits; the lock each needs, release_lock,
low-confidence flagging, commit deduplication and idempotency."""
from __future__ import annotations

import json
import time

import pytest

from tests.api.helpers import (
    AGENT,
    DIMENSIONS,
    MISSING_ID,
    OTHER,
    assert_error,
    breakdown,
    chain,
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
    work_log,
)

ACCEPTED = {"size": {"sizing", "refinement"}, "breakdown": {"breakdown"},
            "refine": {"refinement"}, "complete": {"implementation"}}
POINTS_FOR = {"sizing": None, "breakdown": 8, "refinement": None, "implementation": 3}


@pytest.fixture
def pid(api):
    return project(api)["id"]


def operation_body(operation, caller=AGENT, **extra):
    base = {"caller_label": caller, "work_log_content": f"{operation} done", **extra}
    if operation == "size":
        return {**size_body(caller=caller), **extra}
    if operation == "breakdown":
        return {"subtasks": specs(2), **base}
    return base


def commits_of(api, task_id):
    return ok(api.get(f"/tasks/{task_id}/commits?limit=200"))


# -- the lock each operation needs ---------------------------------------------------------
@pytest.mark.parametrize("operation", ["size", "breakdown", "refine", "complete"])
def test_an_operation_without_a_live_lock_is_lock_required(api, pid, operation):
    t = task(api, pid, points=POINTS_FOR[next(iter(ACCEPTED[operation]))])
    response = api.post(f"/tasks/{t['id']}/{operation}", operation_body(operation))
    assert_error(response, 409, "LOCK_REQUIRED")
    assert get(api, t["id"]) == t
    assert work_log(api, t["id"]) == []


@pytest.mark.parametrize("operation", ["size", "breakdown", "refine", "complete"])
def test_an_operation_under_someone_elses_lock_is_a_conflict(api, pid, operation):
    purpose = next(iter(ACCEPTED[operation]))
    t = task(api, pid, points=POINTS_FOR[purpose])
    held = lock(api, t["id"], purpose, OTHER)
    error = assert_error(api.post(f"/tasks/{t['id']}/{operation}", operation_body(operation)),
                         409, "LOCK_CONFLICT")
    assert error["details"] == {"caller_label": OTHER, "lock_purpose": purpose,
                                "expires_at": held["expires_at"]}
    assert work_log(api, t["id"]) == []


@pytest.mark.parametrize("operation,purpose", [
    (op, purpose) for op in ("size", "breakdown", "refine", "complete")
    for purpose in ("sizing", "breakdown", "refinement", "implementation")
    if purpose not in ACCEPTED[op]])
def test_an_operation_under_the_callers_lock_for_another_purpose_is_a_conflict(
        api, pid, operation, purpose):
    t = task(api, pid, points=POINTS_FOR[purpose])
    lock(api, t["id"], purpose)
    before = get(api, t["id"])
    assert_error(api.post(f"/tasks/{t['id']}/{operation}", operation_body(operation)), 409,
                 "LOCK_CONFLICT")
    assert get(api, t["id"]) == before
    assert work_log(api, t["id"]) == []


@pytest.mark.parametrize("operation", ["size", "breakdown", "refine", "complete"])
def test_an_operation_under_an_expired_lock_is_lock_required(api, pid, clock, operation):
    purpose = next(iter(ACCEPTED[operation]))
    t = task(api, pid, points=POINTS_FOR[purpose])
    lock(api, t["id"], purpose)
    clock.advance(3600)
    assert_error(api.post(f"/tasks/{t['id']}/{operation}", operation_body(operation)), 409,
                 "LOCK_REQUIRED")


@pytest.mark.parametrize("operation", ["size", "breakdown", "refine", "complete"])
def test_release_lock_releases_in_the_same_write(api, pid, operation):
    purpose = next(iter(ACCEPTED[operation]))
    t = task(api, pid, points=POINTS_FOR[purpose])
    lock(api, t["id"], purpose)
    body = ok(api.post(f"/tasks/{t['id']}/{operation}",
                       operation_body(operation, release_lock=True)))
    assert body["is_locked"] is False and body["lock"] is None
    assert get(api, t["id"])["lock"] is None
    assert detail(api, pid)["active_locks"] == 0


@pytest.mark.parametrize("operation", ["size", "breakdown", "refine", "complete"])
def test_without_release_lock_the_lock_stays(api, pid, operation):
    purpose = next(iter(ACCEPTED[operation]))
    t = task(api, pid, points=POINTS_FOR[purpose])
    held = lock(api, t["id"], purpose)
    body = ok(api.post(f"/tasks/{t['id']}/{operation}", operation_body(operation)))
    assert body["lock"] == held
    assert get(api, t["id"])["lock"] == held


@pytest.mark.parametrize("operation", ["size", "breakdown", "refine", "complete"])
def test_operation_body_validation(api, pid, operation):
    purpose = next(iter(ACCEPTED[operation]))
    t = task(api, pid, points=POINTS_FOR[purpose])
    lock(api, t["id"], purpose)
    good = operation_body(operation)
    for change, field in (({"caller_label": None}, "caller_label"),
                          ({"work_log_content": None}, "work_log_content"),
                          ({"work_log_content": "  \n"}, "work_log_content"),
                          ({"work_log_content": "w" * 65537}, "work_log_content"),
                          ({"author": ""}, "author"), ({"author": "tab\t"}, "author"),
                          ({"release_lock": "true"}, "release_lock"),
                          ({"release_lock": 1}, "release_lock"),
                          ({"surprise": 1}, "surprise")):
        body = {k: v for k, v in {**good, **change}.items() if v is not None}
        locs = validation_locs(api.post(f"/tasks/{t['id']}/{operation}", body))
        assert ["body", field] in locs, (change, locs)
    assert work_log(api, t["id"]) == []


@pytest.mark.parametrize("operation", ["size", "breakdown", "refine", "complete"])
def test_an_operation_on_a_missing_task_is_404(api, operation):
    assert_error(api.post(f"/tasks/{MISSING_ID}/{operation}", operation_body(operation)), 404,
                 "NOT_FOUND")


# -- size ---------------------------------------------------------------------------------
def test_size_records_the_rubric_and_the_server_computes_the_total(api, pid):
    t = task(api, pid)
    lock(api, t["id"], "sizing")
    body = size_body((2, 1, 0, 2, 1), confidence=4, risk_factors=["flaky API"],
                     breakdown_suggestions="split the UI", scored_by="estimator")
    sized = ok(api.post(f"/tasks/{t['id']}/size", body))
    assert (sized["points"], sized["sizing_confidence"], sized["effective_points"]) == (6, 4, 6)
    breakdown_ = sized["points_breakdown"]
    assert set(breakdown_) == set(DIMENSIONS) | {
        "total", "confidence", "risk_factors", "breakdown_suggestions", "scored_by", "scored_at"}
    assert breakdown_["scope_clarity"] == {"score": 2, "reasoning": "scope_clarity reasoning"}
    assert breakdown_["context_window_demand"]["score"] == 0
    assert (breakdown_["total"], breakdown_["confidence"]) == (6, 4)
    assert breakdown_["risk_factors"] == ["flaky API"]
    assert breakdown_["breakdown_suggestions"] == "split the UI"
    assert breakdown_["scored_by"] == "estimator"
    assert sized["readiness"] == "ready" and sized["needs_refinement"] is False
    assert sized["updated_at"] > t["updated_at"]
    assert sized["content_changed_at"] == t["content_changed_at"]
    (entry,) = work_log(api, t["id"])
    assert (entry["operation"], entry["author"], entry["content"]) == (
        "sizing", AGENT, "sized it")
    assert breakdown_["scored_at"] == entry["created_at"]


def test_size_defaults_scored_by_to_the_author(api, pid):
    t = task(api, pid)
    lock(api, t["id"], "sizing")
    sized = ok(api.post(f"/tasks/{t['id']}/size", size_body(author="lead")))
    assert sized["points_breakdown"]["scored_by"] == "lead"
    assert sized["points_breakdown"]["risk_factors"] == []
    assert sized["points_breakdown"]["breakdown_suggestions"] is None
    assert work_log(api, t["id"])[0]["author"] == "lead"


def test_size_over_6_needs_breakdown(api, pid):
    assert size(api, task(api, pid)["id"], points=7)["readiness"] == "needs_breakdown"


def test_size_under_a_refinement_lock_and_on_a_doing_task(api, pid):
    t = task(api, pid, points=2)
    set_status(api, t["id"], "doing")
    lock(api, t["id"], "refinement")
    sized = ok(api.post(f"/tasks/{t['id']}/size", size_body((0, 0, 1, 0, 0))))
    assert sized["points"] == 1 and sized["status"] == "doing"


def test_size_validation(api, pid):
    t = task(api, pid)
    lock(api, t["id"], "sizing")
    good = size_body()
    dimension = {"score": 1, "reasoning": "r"}
    cases = [
        ({"total": 5}, ["body", "total"]),
        ({"scope_clarity": {"score": 3, "reasoning": "r"}}, ["body", "scope_clarity", "score"]),
        ({"scope_clarity": {"score": -1, "reasoning": "r"}}, ["body", "scope_clarity", "score"]),
        ({"scope_clarity": {"score": "1", "reasoning": "r"}}, ["body", "scope_clarity", "score"]),
        ({"scope_clarity": {"score": 1.0, "reasoning": "r"}}, ["body", "scope_clarity", "score"]),
        ({"scope_clarity": {"score": True, "reasoning": "r"}}, ["body", "scope_clarity", "score"]),
        ({"scope_clarity": {"score": 1}}, ["body", "scope_clarity", "reasoning"]),
        ({"scope_clarity": {**dimension, "weight": 2}}, ["body", "scope_clarity", "weight"]),
        ({"scope_clarity": {"score": 1, "reasoning": "r" * 4097}},
         ["body", "scope_clarity", "reasoning"]),
        ({"scope_clarity": {"score": 1, "reasoning": "é" * 2049}},
         ["body", "scope_clarity", "reasoning"]),
        ({"domain_specificity": None}, ["body", "domain_specificity"]),
        ({"confidence": 6}, ["body", "confidence"]),
        ({"confidence": "5"}, ["body", "confidence"]),
        ({"risk_factors": ["r"] * 21}, ["body", "risk_factors"]),
        ({"risk_factors": ["r" * 4097]}, ["body", "risk_factors", 0]),
        ({"risk_factors": "one"}, ["body", "risk_factors"]),
        ({"breakdown_suggestions": "s" * 65537}, ["body", "breakdown_suggestions"]),
        ({"scored_by": ""}, ["body", "scored_by"]),
    ]
    for change, loc in cases:
        body = {k: v for k, v in {**good, **change}.items() if v is not None}
        locs = validation_locs(api.post(f"/tasks/{t['id']}/size", body))
        assert any(l[:len(loc)] == loc for l in locs), (change, locs)
    edge = {**good, "scope_clarity": {"score": 2, "reasoning": "r" * 4096},
            "risk_factors": ["r" * 4096] * 20, "breakdown_suggestions": "s" * 65536}
    assert ok(api.post(f"/tasks/{t['id']}/size", edge))["points"] == 6
    assert len(work_log(api, t["id"])) == 1


@pytest.mark.parametrize("confidence", [0, 1, 2])
def test_a_low_confidence_sizing_flags_the_task_for_refinement(api, pid, confidence):
    t = task(api, pid)
    sized = size(api, t["id"], points=3, confidence=confidence)
    assert sized["needs_refinement"] is True
    assert sized["refinement_notes"] == f"low sizing confidence: {confidence}"
    assert sized["readiness"] == "needs_refinement"
    listed = ok(api.get(f"/projects/{pid}/needs-refinement"))
    assert [x["id"] for x in listed] == [t["id"]]
    available = ok(api.get(f"/tasks/available?operation=refinement&project_id={pid}"))
    assert [x["id"] for x in available] == [t["id"]]


def test_a_confident_sizing_does_not_flag(api, pid):
    sized = size(api, task(api, pid)["id"], confidence=3)
    assert sized["needs_refinement"] is False and sized["refinement_notes"] is None


def test_low_confidence_on_a_flagged_task_adds_a_line_and_only_refine_clears(api, pid):
    t = task(api, pid)
    ok(api.post(f"/tasks/{t['id']}/flag-refinement", {"refinement_notes": "what is X?"}))
    lock(api, t["id"], "refinement")
    first = ok(api.post(f"/tasks/{t['id']}/size", size_body(confidence=1)))
    assert first["refinement_notes"] == "what is X?\nlow sizing confidence: 1"
    second = ok(api.post(f"/tasks/{t['id']}/size", size_body(confidence=5)))
    assert second["needs_refinement"] is True
    assert second["refinement_notes"] == "what is X?\nlow sizing confidence: 1"
    refined = ok(api.post(f"/tasks/{t['id']}/refine",
                          {"caller_label": AGENT, "work_log_content": "answered"}))
    assert refined["needs_refinement"] is False and refined["refinement_notes"] is None


def test_sizing_a_child_rolls_up_to_its_ancestors(api, pid):
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    leaf = subtask(api, mid["id"], "Leaf")
    subtask(api, mid["id"], "Unsized")
    size(api, leaf["id"], points=4)
    for t in (root, mid):
        assert get(api, t["id"])["effective_points"] == 4
    assert get(api, mid["id"])["unsized_children"] == 1
    assert detail(api, pid)["points_total"] == 4


# -- breakdown ----------------------------------------------------------------------------
def test_breakdown_creates_subtasks_and_logs_on_the_parent(api, pid):
    parent = task(api, pid, "Parent", points=9, description="old")
    lock(api, parent["id"], "breakdown")
    time.sleep(0.002)
    body = ok(api.post(f"/tasks/{parent['id']}/breakdown", {
        "caller_label": AGENT, "work_log_content": "three parts",
        "parent_description_update": "now coordinated",
        "subtasks": [{"name": " A ", "task_type": "feature", "points": 2, "priority": 3},
                     {"name": "B", "task_type": "bug", "context": "ctx", "description": "d"},
                     {"name": "C", "task_type": "tech_debt"}]}))
    subtasks = body.pop("subtasks")
    assert body["id"] == parent["id"]
    assert body["description"] == "now coordinated"
    assert body["content_changed_at"] > parent["content_changed_at"]
    assert (body["children_count"], body["unsized_children"]) == (3, 2)
    assert (body["rolled_up_points"], body["effective_points"]) == (2, 2)
    assert body["readiness"] == "blocked_by_children"
    assert [s["name"] for s in subtasks] == ["A", "B", "C"]
    assert [s["position"] for s in subtasks] == [0, 1, 2]
    assert {s["parent_task_id"] for s in subtasks} == {parent["id"]}
    assert {s["depth"] for s in subtasks} == {1}
    assert subtasks[0]["priority"] == 3 and subtasks[1]["context"] == "ctx"
    (entry,) = work_log(api, parent["id"])
    assert (entry["operation"], entry["content"]) == ("breakdown", "three parts")
    for s in subtasks:
        assert s["context_captured_at"] == entry["created_at"]
        assert get(api, s["id"]) == s
        assert work_log(api, s["id"]) == []
    assert detail(api, pid)["task_count"] == 4


def test_breakdown_appends_after_existing_children(api, pid):
    parent = task(api, pid, "Parent", points=9)
    lock(api, parent["id"], "breakdown")
    first = breakdown(api, parent["id"], specs(2, "First"), take_lock=False)["subtasks"]
    manual = subtask(api, parent["id"], "Manual")
    second = breakdown(api, parent["id"], specs(2, "Second"), take_lock=False)["subtasks"]
    assert [s["position"] for s in second] == [3, 4]
    tree = ok(api.get(f"/tasks/{parent['id']}/tree"))
    assert [c["id"] for c in tree["children"]] == [first[0]["id"], first[1]["id"],
                                                   manual["id"], second[0]["id"],
                                                   second[1]["id"]]


def test_breakdown_moves_a_doing_parent_back_to_todo(api, pid):
    parent = task(api, pid, "Parent", points=9)
    set_status(api, parent["id"], "doing")
    body = breakdown(api, parent["id"], specs(1))
    assert body["status"] == "todo"
    assert detail(api, pid)["status_counts"]["doing"] == 0


def test_breakdown_of_a_done_task_reopens_it_and_its_done_ancestors(api, pid):
    root = task(api, pid, "Root")
    big = subtask(api, root["id"], "Big", points=9)
    lock(api, big["id"], "breakdown")
    set_status(api, big["id"], "doing")
    set_status(api, big["id"], "done")
    assert get(api, root["id"])["status"] == "done"
    body = breakdown(api, big["id"], specs(1), take_lock=False)
    assert body["status"] == "todo"
    assert get(api, root["id"])["status"] == "todo"


def test_breakdown_subtask_count_is_1_to_50(api, pid):
    parent = task(api, pid, "Parent", points=9)
    lock(api, parent["id"], "breakdown")
    for subtasks in ([], specs(51), None):
        body = {"caller_label": AGENT, "work_log_content": "x"}
        if subtasks is not None:
            body["subtasks"] = subtasks
        assert ["body", "subtasks"] in validation_locs(
            api.post(f"/tasks/{parent['id']}/breakdown", body))
    bad = [{"name": "x", "task_type": "feature", "position": 0}]
    assert validation_locs(api.post(f"/tasks/{parent['id']}/breakdown",
                                    {"caller_label": AGENT, "work_log_content": "x",
                                     "subtasks": bad}))[0][:3] == ["body", "subtasks", 0]
    assert len(breakdown(api, parent["id"], specs(50), take_lock=False)["subtasks"]) == 50
    assert get(api, parent["id"])["children_count"] == 50


def test_breakdown_at_depth_15_exceeds_the_depth_limit(api, pid):
    line = chain(api, pid, 15)
    deepest = line[-1]
    ok(api.put(f"/tasks/{deepest['id']}", {"points": 9}))
    lock(api, deepest["id"], "breakdown")
    response = api.post(f"/tasks/{deepest['id']}/breakdown", operation_body("breakdown"))
    assert_error(response, 422, "DEPTH_LIMIT_EXCEEDED")
    assert get(api, deepest["id"])["children_count"] == 0
    assert work_log(api, deepest["id"]) == []


def test_breakdown_under_a_cancelled_ancestor_is_refused(api, pid):
    root = task(api, pid, "Root")
    big = subtask(api, root["id"], "Big", points=9)
    subtask(api, root["id"], "Open")
    lock(api, big["id"], "breakdown")
    set_status(api, big["id"], "doing")
    set_status(api, big["id"], "done")   # done keeps its lock through the cancel
    set_status(api, root["id"], "wont_do")
    assert get(api, big["id"])["is_locked"] is True
    response = api.post(f"/tasks/{big['id']}/breakdown", operation_body("breakdown"))
    error = assert_error(response, 422, "INVALID_STATUS_TRANSITION")
    assert error["details"]["cancelled_ancestor"] == root["id"]
    assert get(api, big["id"])["children_count"] == 0


# -- refine -------------------------------------------------------------------------------
def test_refine_clears_the_flag_and_logs(api, pid):
    t = task(api, pid, "Vague", description="d", context="c")
    ok(api.post(f"/tasks/{t['id']}/flag-refinement", {"refinement_notes": "what?"}))
    lock(api, t["id"], "refinement")
    time.sleep(0.002)
    refined = ok(api.post(f"/tasks/{t['id']}/refine", {
        "caller_label": AGENT, "work_log_content": "clarified", "name": " Clear ",
        "description": "better", "task_type": "bug"}))
    assert (refined["name"], refined["description"], refined["task_type"]) == (
        "Clear", "better", "bug")
    assert refined["context"] == "c" and refined["context_captured_at"] == t["context_captured_at"]
    assert refined["needs_refinement"] is False and refined["refinement_notes"] is None
    assert refined["content_changed_at"] > t["content_changed_at"]
    assert [e["operation"] for e in work_log(api, t["id"])] == ["note", "refinement"]
    assert ok(api.get(f"/projects/{pid}/needs-refinement")) == []


def test_refine_context_and_confirm_context(api, pid):
    t = task(api, pid, "T", context="old")
    lock(api, t["id"], "refinement")
    time.sleep(0.002)
    confirmed = ok(api.post(f"/tasks/{t['id']}/refine", {
        "caller_label": AGENT, "work_log_content": "still right", "confirm_context": True}))
    assert confirmed["context"] == "old"
    assert confirmed["context_captured_at"] > t["context_captured_at"]
    assert confirmed["content_changed_at"] == t["content_changed_at"]
    time.sleep(0.002)
    rewritten = ok(api.post(f"/tasks/{t['id']}/refine", {
        "caller_label": AGENT, "work_log_content": "new", "context": "new"}))
    assert rewritten["context_captured_at"] > confirmed["context_captured_at"]
    assert rewritten["content_changed_at"] > t["content_changed_at"]
    cleared = ok(api.post(f"/tasks/{t['id']}/refine", {
        "caller_label": AGENT, "work_log_content": "none", "context": None}))
    assert cleared["context"] is None and cleared["context_captured_at"] is None
    plain = ok(api.post(f"/tasks/{t['id']}/refine",
                        {"caller_label": AGENT, "work_log_content": "nothing"}))
    assert plain["context_captured_at"] is None


def test_refine_validation(api, pid):
    t = task(api, pid)
    lock(api, t["id"], "refinement")
    base = {"caller_label": AGENT, "work_log_content": "x"}
    for change, field in (({"name": None}, "name"), ({"name": " "}, "name"),
                          ({"task_type": None}, "task_type"), ({"task_type": "story"}, "task_type"),
                          ({"confirm_context": "yes"}, "confirm_context"),
                          ({"points": 3}, "points"), ({"context": "c" * 65537}, "context")):
        locs = validation_locs(api.post(f"/tasks/{t['id']}/refine", {**base, **change}))
        assert any(l[:2] == ["body", field] or l == ["body"] for l in locs), (change, locs)
    assert work_log(api, t["id"]) == []


# -- complete -----------------------------------------------------------------------------
def test_complete_finishes_the_task_logs_and_records_commits(api, pid):
    t = task(api, pid, "Work", points=3)
    lock(api, t["id"], "implementation")
    done = ok(api.post(f"/tasks/{t['id']}/complete", {
        "caller_label": AGENT, "work_log_content": "shipped",
        "commits": [{"commit_hash": "ABCDEF1234", "message": "feat: it",
                     "committed_at": "2025-03-01T10:00:00+02:00"},
                    {"commit_hash": "1234567", "author": "pair"}]}))
    assert done["status"] == "done" and done["readiness"] == "ready"
    (entry,) = work_log(api, t["id"])
    assert (entry["operation"], entry["author"], entry["content"]) == (
        "implementation", AGENT, "shipped")
    recorded = commits_of(api, t["id"])
    assert [c["commit_hash"] for c in recorded] == ["abcdef1234", "1234567"]
    assert recorded[0]["committed_at"].startswith("2025-03-01T08:00:00")
    assert recorded[0]["author"] == AGENT and recorded[1]["author"] == "pair"
    assert recorded[0]["message"] == "feat: it" and recorded[1]["message"] is None
    body = detail(api, pid)
    assert body["status_counts"]["done"] == 1 and body["points_completed"] == 3


def test_complete_moves_a_todo_task_through_doing(api, pid):
    t = task(api, pid, points=2)
    lock(api, t["id"], "implementation")
    set_status(api, t["id"], "todo")      # the lock stays
    done = complete(api, t["id"], take_lock=False)
    assert done["status"] == "done"


def test_complete_on_a_done_task_records_log_and_commits(api, pid):
    t = task(api, pid, points=2)
    complete(api, t["id"], commits=[{"commit_hash": "aaaaaaa"}])
    again = ok(api.post(f"/tasks/{t['id']}/complete", {
        "caller_label": AGENT, "work_log_content": "follow-up",
        "commits": [{"commit_hash": "AAAAAAA", "message": "ignored"},
                    {"commit_hash": "bbbbbbb"}]}))
    assert again["status"] == "done"
    assert [e["content"] for e in work_log(api, t["id"])] == ["did it", "follow-up"]
    recorded = commits_of(api, t["id"])
    assert [c["commit_hash"] for c in recorded] == ["aaaaaaa", "bbbbbbb"]
    assert recorded[0]["message"] is None   # the stored record is unchanged


def test_complete_with_the_same_hash_twice_in_one_body(api, pid):
    t = task(api, pid, points=2)
    complete(api, t["id"], commits=[{"commit_hash": "abcdef0"}, {"commit_hash": "ABCDEF0"}])
    assert [c["commit_hash"] for c in commits_of(api, t["id"])] == ["abcdef0"]


def test_complete_of_a_task_with_open_descendants_is_refused(api, pid):
    t = task(api, pid, points=2)
    lock(api, t["id"], "implementation")
    subtask(api, t["id"], "Late discovery")
    response = api.post(f"/tasks/{t['id']}/complete",
                        {"caller_label": AGENT, "work_log_content": "done?",
                         "commits": [{"commit_hash": "abcdef1"}]})
    error = assert_error(response, 422, "INVALID_STATUS_TRANSITION")
    assert error["details"]["open_descendants"] == 1
    assert get(api, t["id"])["status"] == "doing"
    assert work_log(api, t["id"]) == [] and commits_of(api, t["id"]) == []


def test_completing_the_last_child_completes_the_parents(api, pid):
    root = task(api, pid, "Root")
    mid = subtask(api, root["id"], "Mid")
    leaf = subtask(api, mid["id"], "Leaf", points=1)
    complete(api, leaf["id"])
    assert [get(api, x["id"])["status"] for x in (root, mid)] == ["done", "done"]


def test_complete_commit_validation(api, pid):
    t = task(api, pid, points=2)
    lock(api, t["id"], "implementation")
    base = {"caller_label": AGENT, "work_log_content": "x"}
    for commits in ([{"commit_hash": "abc"}], [{"commit_hash": "g" * 7}],
                    [{"commit_hash": "a" * 65}], [{"message": "no hash"}],
                    [{"commit_hash": "abcdef1", "sha": "x"}], "abcdef1",
                    [{"commit_hash": "abcdef1", "committed_at": "yesterday"}]):
        locs = validation_locs(api.post(f"/tasks/{t['id']}/complete",
                                        {**base, "commits": commits}))
        assert locs[0][:2] == ["body", "commits"], (commits, locs)
    assert get(api, t["id"])["status"] == "doing"


# -- flag-refinement ----------------------------------------------------------------------
def test_flag_refinement_needs_no_lock_and_logs_a_note(api, pid):
    t = task(api, pid, points=2)
    lock(api, t["id"], "implementation", OTHER)   # someone else's lock does not matter
    flagged = ok(api.post(f"/tasks/{t['id']}/flag-refinement",
                          {"refinement_notes": "which API?"}))
    assert flagged["needs_refinement"] is True and flagged["refinement_notes"] == "which API?"
    assert flagged["readiness"] == "needs_refinement"
    (entry,) = work_log(api, t["id"])
    assert (entry["operation"], entry["author"], entry["content"]) == (
        "note", "anonymous", "which API?")
    again = ok(api.post(f"/tasks/{t['id']}/flag-refinement",
                        {"refinement_notes": "and which version?", "author": "reviewer"}))
    assert again["refinement_notes"] == "which API?\nand which version?"
    assert work_log(api, t["id"])[-1]["author"] == "reviewer"


def test_flag_refinement_validation(api, pid):
    t = task(api, pid)
    for body in ({}, {"refinement_notes": ""}, {"refinement_notes": "  "},
                 {"refinement_notes": "n" * 65537}, {"refinement_notes": 5},
                 {"refinement_notes": "n", "author": " "}, {"refinement_notes": "n", "x": 1}):
        assert_error(api.post(f"/tasks/{t['id']}/flag-refinement", body), 422,
                     "VALIDATION_ERROR")
    assert get(api, t["id"]) == t and work_log(api, t["id"]) == []
    assert_error(api.post(f"/tasks/{MISSING_ID}/flag-refinement", {"refinement_notes": "n"}),
                 404, "NOT_FOUND")


# -- work log -----------------------------------------------------------------------------
def test_work_log_is_append_only_oldest_first(api, pid):
    t = task(api, pid)
    made = []
    for i, operation in enumerate(("note", "sizing", "breakdown", "refinement",
                                   "implementation")):
        entry = ok(api.post(f"/tasks/{t['id']}/work-log",
                            {"operation": operation, "content": f"entry {i}",
                             **({"author": "me"} if i else {})}), 201)
        assert set(entry) == {"id", "task_id", "author", "operation", "content", "created_at"}
        made.append(entry)
    assert made[0]["author"] == "anonymous" and made[1]["author"] == "me"
    assert work_log(api, t["id"]) == made
    page = api.get(f"/tasks/{t['id']}/work-log?limit=2&offset=1")
    assert ok(page) == made[1:3] and page.headers["X-Next-Offset"] == "3"
    assert "X-Next-Offset" not in api.get(f"/tasks/{t['id']}/work-log?offset=3").headers
    assert get(api, t["id"])["updated_at"] == t["updated_at"]
    # immutable: no route changes or removes an entry
    assert_error(api.put(f"/tasks/{t['id']}/work-log", {"content": "x"}), 405,
                 "METHOD_NOT_ALLOWED")
    assert_error(api.delete(f"/tasks/{t['id']}/work-log"), 405, "METHOD_NOT_ALLOWED")


def test_work_log_validation(api, pid):
    t = task(api, pid)
    for body in ({"operation": "chat", "content": "x"}, {"operation": "note"},
                 {"operation": "note", "content": " \t"}, {"operation": "note", "content": 1},
                 {"operation": "note", "content": "c" * 65537},
                 {"operation": "note", "content": "x", "author": ""},
                 {"operation": "note", "content": "x", "created_at": "2020-01-01T00:00:00Z"}):
        assert_error(api.post(f"/tasks/{t['id']}/work-log", body), 422, "VALIDATION_ERROR")
    assert ok(api.post(f"/tasks/{t['id']}/work-log",
                       {"operation": "note", "content": "é" * 32768}), 201)
    assert len(work_log(api, t["id"])) == 1
    assert_error(api.post(f"/tasks/{MISSING_ID}/work-log", {"operation": "note", "content": "x"}),
                 404, "NOT_FOUND")
    assert_error(api.get(f"/tasks/{MISSING_ID}/work-log"), 404, "NOT_FOUND")
    assert_error(api.get(f"/tasks/{t['id']}/work-log?limit=201"), 422, "VALIDATION_ERROR")


# -- commits ------------------------------------------------------------------------------
def test_record_a_commit(api, pid):
    t = task(api, pid)
    commit = ok(api.post(f"/tasks/{t['id']}/commits",
                         {"commit_hash": "ABCDEF1", "message": "fix", "author": "dev",
                          "committed_at": "2025-01-02T03:04:05"}), 201)
    assert set(commit) == {"id", "task_id", "author", "commit_hash", "message", "committed_at"}
    assert (commit["commit_hash"], commit["author"], commit["message"]) == (
        "abcdef1", "dev", "fix")
    assert commit["committed_at"].startswith("2025-01-02T03:04:05")  # no offset: UTC
    assert commit["committed_at"].endswith("Z")
    assert commits_of(api, t["id"]) == [commit]
    plain = ok(api.post(f"/tasks/{t['id']}/commits", {"commit_hash": "b" * 64}), 201)
    assert plain["author"] == "anonymous" and plain["committed_at"] and plain["message"] is None


def test_recording_a_known_hash_returns_the_stored_record_unchanged(api, pid):
    t = task(api, pid)
    first = ok(api.post(f"/tasks/{t['id']}/commits",
                        {"commit_hash": "abcdef12", "message": "first"}), 201)
    again = api.post(f"/tasks/{t['id']}/commits",
                     {"commit_hash": "ABCDEF12", "message": "second", "author": "other"})
    assert ok(again, 200) == first
    assert commits_of(api, t["id"]) == [first]
    other = task(api, pid, "Other")
    assert ok(api.post(f"/tasks/{other['id']}/commits", {"commit_hash": "abcdef12"}), 201)


def test_commits_are_listed_oldest_committed_at_first_ties_in_recording_order(api, pid):
    t = task(api, pid)
    for commit_hash, at in (("ccccccc", "2025-01-03T00:00:00Z"),
                            ("aaaaaaa", "2025-01-01T00:00:00Z"),
                            ("bbbbbb2", "2025-01-02T00:00:00Z"),
                            ("bbbbbb1", "2025-01-02T00:00:00Z"),
                            ("ddddddd", "2025-01-02T01:00:00+01:00")):
        ok(api.post(f"/tasks/{t['id']}/commits", {"commit_hash": commit_hash,
                                                  "committed_at": at}), 201)
    assert [c["commit_hash"] for c in commits_of(api, t["id"])] == [
        "aaaaaaa", "bbbbbb2", "bbbbbb1", "ddddddd", "ccccccc"]
    page = api.get(f"/tasks/{t['id']}/commits?limit=2")
    assert len(ok(page)) == 2 and page.headers["X-Next-Offset"] == "2"


def test_commit_validation(api, pid):
    t = task(api, pid)
    for body in ({}, {"commit_hash": "abcdef"}, {"commit_hash": "a" * 65},
                 {"commit_hash": "xyz1234"}, {"commit_hash": 1234567},
                 {"commit_hash": "abcdef1", "message": "m" * 65537},
                 {"commit_hash": "abcdef1", "committed_at": "soon"},
                 {"commit_hash": "abcdef1", "branch": "main"}):
        assert_error(api.post(f"/tasks/{t['id']}/commits", body), 422, "VALIDATION_ERROR")
    assert commits_of(api, t["id"]) == []
    assert_error(api.post(f"/tasks/{MISSING_ID}/commits", {"commit_hash": "abcdef1"}), 404,
                 "NOT_FOUND")


# -- idempotency (SPEC §8) ------------------------------------------------------------------
def replay_pair(api, path, body, key="key-1"):
    headers = {"Idempotency-Key": key}
    first = api.post(path, body, headers=headers)
    second = api.post(path, body, headers=headers)
    assert first.status_code in (200, 201), first.data
    assert "Idempotent-Replayed" not in first.headers
    assert second.status_code == first.status_code
    assert second.data == first.data
    assert second.headers.get("Idempotent-Replayed") == "true"
    return first.data


def test_create_endpoints_replay(api, pid):
    before = len(ok(api.get("/projects")))
    replay_pair(api, "/projects", {"name": "Once"})
    assert len(ok(api.get("/projects"))) == before + 1
    top = replay_pair(api, f"/projects/{pid}/tasks", {"name": "Top", "task_type": "bug"})
    child = replay_pair(api, f"/tasks/{top['id']}/subtasks", {"name": "C", "task_type": "bug"})
    replay_pair(api, f"/tasks/{child['id']}/work-log", {"operation": "note", "content": "n"})
    replay_pair(api, f"/tasks/{child['id']}/commits", {"commit_hash": "abcdef1"})
    assert detail(api, pid)["task_count"] == 2
    assert len(work_log(api, child["id"])) == 1
    assert len(commits_of(api, child["id"])) == 1


@pytest.mark.parametrize("operation", ["size", "breakdown", "refine", "complete"])
def test_operations_replay_and_write_nothing_again(api, pid, operation):
    purpose = next(iter(ACCEPTED[operation]))
    t = task(api, pid, points=POINTS_FOR[purpose])
    lock(api, t["id"], purpose)
    body = operation_body(operation, release_lock=True,
                          **({"commits": [{"commit_hash": "abcdef1"}]}
                             if operation == "complete" else {}))
    first = replay_pair(api, f"/tasks/{t['id']}/{operation}", body)
    assert first["lock"] is None
    # the replay came although the lock is gone: nothing ran again
    assert len(work_log(api, t["id"])) == 1
    if operation == "breakdown":
        assert get(api, t["id"])["children_count"] == 2
        assert detail(api, pid)["task_count"] == 3


def test_bodies_compare_as_json_values(api, pid):
    headers = {"Idempotency-Key": "same"}
    first = api.post(f"/projects/{pid}/tasks", raw=b'{"name": "A", "task_type": "bug"}',
                     headers=headers)
    second = api.post(f"/projects/{pid}/tasks",
                      raw=b'{ "task_type" : "bug",\n "name":"A" }', headers=headers)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.data == first.data
    assert detail(api, pid)["task_count"] == 1


def test_the_same_key_with_another_body_is_key_reused(api, pid):
    headers = {"Idempotency-Key": "k"}
    ok(api.post(f"/projects/{pid}/tasks", {"name": "A", "task_type": "bug"}, headers=headers),
       201)
    response = api.post(f"/projects/{pid}/tasks", {"name": "B", "task_type": "bug"},
                        headers=headers)
    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert [t["name"] for t in ok(api.get(f"/projects/{pid}/tasks"))] == ["A"]


def test_the_key_is_scoped_by_path(api, pid):
    headers = {"Idempotency-Key": "shared"}
    a, b = task(api, pid, "A"), task(api, pid, "B")
    for t in (a, b):
        response = api.post(f"/tasks/{t['id']}/work-log",
                            {"operation": "note", "content": "same"}, headers=headers)
        assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    other = project(api, "Other")["id"]
    response = api.post(f"/projects/{other}/tasks", {"name": "A", "task_type": "bug"},
                        headers=headers)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert len(work_log(api, a["id"])) == len(work_log(api, b["id"])) == 1


def test_a_failed_request_is_not_recorded_and_may_be_retried(api, pid):
    t = task(api, pid, points=3)
    headers = {"Idempotency-Key": "retry-me"}
    body = operation_body("complete")
    assert_error(api.post(f"/tasks/{t['id']}/complete", body, headers=headers), 409,
                 "LOCK_REQUIRED")
    lock(api, t["id"], "implementation")
    retried = api.post(f"/tasks/{t['id']}/complete", body, headers=headers)
    assert ok(retried)["status"] == "done"
    assert "Idempotent-Replayed" not in retried.headers


def test_a_malformed_idempotency_key_is_a_validation_error(api, pid):
    for key in ("k" * 256, "has space", "tab\tkey", "ümlaut"):
        response = api.post(f"/projects/{pid}/tasks", {"name": "A", "task_type": "bug"},
                            headers={"Idempotency-Key": key})
        assert_error(response, 422, "VALIDATION_ERROR")
    ok(api.post(f"/projects/{pid}/tasks", {"name": "A", "task_type": "bug"},
                headers={"Idempotency-Key": "~" * 255}), 201)
    assert detail(api, pid)["task_count"] == 1


def test_a_key_is_remembered_for_24_hours(api, pid, monkeypatch):
    import time as real_time
    from types import SimpleNamespace

    from chalicelib.services import common

    headers = {"Idempotency-Key": "daily"}
    body = {"name": "A", "task_type": "bug"}
    ok(api.post(f"/projects/{pid}/tasks", body, headers=headers), 201)
    later = SimpleNamespace(time=lambda: real_time.time() + 23 * 3600, sleep=real_time.sleep)
    monkeypatch.setattr(common, "time", later)
    within = api.post(f"/projects/{pid}/tasks", body, headers=headers)
    assert within.headers.get("Idempotent-Replayed") == "true"
    after = SimpleNamespace(time=lambda: real_time.time() + 24 * 3600 + 5,
                            sleep=real_time.sleep)
    monkeypatch.setattr(common, "time", after)
    fresh = api.post(f"/projects/{pid}/tasks", body, headers=headers)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert detail(api, pid)["task_count"] == 2


def test_without_a_key_every_request_runs(api, pid):
    for _ in range(2):
        ok(api.post(f"/projects/{pid}/tasks", {"name": "A", "task_type": "bug"}), 201)
    assert detail(api, pid)["task_count"] == 2


def test_a_replay_keeps_the_first_status_code(api, pid):
    t = task(api, pid)
    ok(api.post(f"/tasks/{t['id']}/commits", {"commit_hash": "abcdef1"}), 201)
    headers = {"Idempotency-Key": "known"}
    first = api.post(f"/tasks/{t['id']}/commits", {"commit_hash": "ABCDEF1"}, headers=headers)
    assert first.status_code == 200
    second = api.post(f"/tasks/{t['id']}/commits", {"commit_hash": "ABCDEF1"}, headers=headers)
    assert second.status_code == 200 and second.headers.get("Idempotent-Replayed") == "true"
    assert json.dumps(second.data, sort_keys=True) == json.dumps(first.data, sort_keys=True)
    reused = api.post(f"/tasks/{t['id']}/commits", {"commit_hash": "abcdef2"}, headers=headers)
    error = assert_error(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert error["details"] == {"first_status": 200}  # how the key's request was answered
    assert "a new request needs a new key" in error["message"]
