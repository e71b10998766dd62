"""SPEC §5 Errors and §9 order of checks: the envelope everywhere, request ids, routing
errors, and which check answers first."""
from __future__ import annotations

import pytest

from tests.api.helpers import (
    AGENT,
    MISSING_ID,
    OTHER,
    assert_error,
    lock,
    project,
    set_status,
    size_body,
    task,
)


def test_every_2xx_response_has_a_request_id(api):
    for response in (api.get("/health"), api.post("/projects", {"name": "p"}),
                     api.get("/projects")):
        assert 200 <= response.status_code < 300
        assert response.headers.get("X-Request-ID")


def test_each_request_gets_its_own_request_id(api):
    first, second = api.get("/health"), api.get("/health")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize("given", ["abc", "A.b_c-9", "x" * 128])
def test_a_valid_client_request_id_is_used(api, given):
    response = api.get("/health", headers={"X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given
    error = api.get(f"/projects/{MISSING_ID}", headers={"X-Request-ID": given})
    assert assert_error(error, 404, "NOT_FOUND")["request_id"] == given


@pytest.mark.parametrize("given", ["", "x" * 129, "has space", "semi;colon", "ümlaut", "a/b"])
def test_an_invalid_client_request_id_is_replaced_never_an_error(api, given):
    response = api.get("/health", headers={"X-Request-ID": given})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] and response.headers["X-Request-ID"] != given
    error = api.get(f"/projects/{MISSING_ID}", headers={"X-Request-ID": given})
    assert_error(error, 404, "NOT_FOUND")


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/health"), ("POST", "/tasks/available"), ("PUT", "/projects"),
    ("PATCH", f"/projects/{MISSING_ID}"), ("GET", f"/tasks/{MISSING_ID}/lock"),
    ("POST", "/openapi.json"), ("GET", f"/tasks/{MISSING_ID}/size")])
def test_a_known_route_with_another_method_is_405(api, method, path):
    assert_error(api.request(method, path), 405, "METHOD_NOT_ALLOWED")


def test_head_is_405_like_any_unlisted_method(api):
    assert_error(api.request("HEAD", "/health"), 405, "METHOD_NOT_ALLOWED")


def test_options_answers_a_cors_preflight(api):
    response = api.request("OPTIONS", "/projects", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204


def test_cors_allows_only_the_configured_frontend_origin(api, monkeypatch):
    monkeypatch.setenv("CHORUS_CORS_ORIGINS", "https://app.example.com")
    allowed = api.request("OPTIONS", f"/tasks/{MISSING_ID}/lock", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    methods = set(allowed.headers["Access-Control-Allow-Methods"].split(","))
    assert {"POST", "DELETE"} <= methods
    assert "Idempotency-Key" in allowed.headers["Access-Control-Allow-Headers"]
    foreign = api.request("OPTIONS", "/projects", headers={
        "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    plain = api.get("/health", headers={"Origin": "https://app.example.com"})
    assert plain.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "X-Request-ID" in plain.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in api.get(
        "/health", headers={"Origin": "https://evil.example.com"}).headers


def test_malformed_json_everywhere_is_400(api):
    pid = project(api)["id"]
    t = task(api, pid)
    for path, method in ((f"/projects/{pid}/tasks", "POST"), (f"/tasks/{t['id']}", "PUT"),
                         (f"/tasks/{t['id']}/status", "PATCH"),
                         (f"/tasks/{t['id']}/lock", "POST"),
                         (f"/tasks/{t['id']}/size", "POST"),
                         (f"/tasks/{t['id']}/work-log", "POST")):
        for raw in (b"{", b"[]", b""):
            assert_error(api.request(method, path, raw=raw), 400, "MALFORMED_REQUEST")


def test_an_internal_error_is_500_in_the_envelope_without_internals(api, monkeypatch):
    from chalicelib.services import tasks as task_service

    def explode(task_id):
        raise RuntimeError("secret internals /work/main/chalicelib")

    monkeypatch.setattr(task_service, "get_task", explode)
    response = api.get(f"/tasks/{MISSING_ID}")
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret" not in str(response.body) and "Traceback" not in str(response.body)
    assert error["details"] == {}


def test_a_datastore_fault_is_503_unavailable(api, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from chalicelib.services import tasks as task_service

    def unreachable(task_id):
        raise EndpointConnectionError(endpoint_url="http://dynamodb.internal:8000")

    monkeypatch.setattr(task_service, "get_task", unreachable)
    response = api.get(f"/tasks/{MISSING_ID}")
    assert_error(response, 503, "UNAVAILABLE")
    assert "dynamodb.internal" not in str(response.body)


# -- order of checks: body -> query -> 404 -> lock -> state --------------------------------
def test_body_is_checked_before_the_task_exists(api):
    assert_error(api.patch(f"/tasks/{MISSING_ID}/status", {"status": "nope"}), 422,
                 "VALIDATION_ERROR")
    assert_error(api.patch(f"/tasks/{MISSING_ID}/status", raw=b"x"), 400, "MALFORMED_REQUEST")
    assert_error(api.post(f"/tasks/{MISSING_ID}/size", {"caller_label": AGENT}), 422,
                 "VALIDATION_ERROR")


def test_query_is_checked_before_the_task_exists(api):
    assert_error(api.get(f"/tasks/{MISSING_ID}/context?max_bytes=5"), 422, "VALIDATION_ERROR")
    assert_error(api.get(f"/tasks/{MISSING_ID}/tree?depth=-1"), 422, "VALIDATION_ERROR")
    assert_error(api.delete(f"/tasks/{MISSING_ID}/lock"), 422, "VALIDATION_ERROR")
    assert_error(api.get(f"/projects/{MISSING_ID}/backlog?sort=bogus"), 422,
                 "VALIDATION_ERROR")


def test_a_missing_task_is_404_before_any_lock_or_state_rule(api):
    assert_error(api.post(f"/tasks/{MISSING_ID}/size", size_body()), 404, "NOT_FOUND")
    assert_error(api.post(f"/tasks/{MISSING_ID}/lock",
                          {"caller_label": AGENT, "lock_purpose": "implementation"}),
                 404, "NOT_FOUND")
    assert_error(api.patch(f"/tasks/{MISSING_ID}/status", {"status": "done"}), 404,
                 "NOT_FOUND")


def test_the_lock_is_checked_before_state_rules(api):
    pid = project(api)["id"]
    t = task(api, pid, points=3)
    set_status(api, t["id"], "wont_do")
    # no lock on a cancelled task: 409 LOCK_REQUIRED, not a status rule
    response = api.post(f"/tasks/{t['id']}/complete",
                        {"caller_label": AGENT, "work_log_content": "done"})
    assert_error(response, 409, "LOCK_REQUIRED")


def test_a_live_lock_is_checked_before_the_acquire_precondition(api):
    pid = project(api)["id"]
    t = task(api, pid)
    lock(api, t["id"], "refinement", OTHER)
    response = api.post(f"/tasks/{t['id']}/lock",
                        {"caller_label": AGENT, "lock_purpose": "implementation"})
    assert_error(response, 409, "LOCK_CONFLICT")


@pytest.mark.parametrize("bad_id", ["x", "123", MISSING_ID.upper().replace("4000", "4000z"),
                                    "null", MISSING_ID + "0"])
def test_a_malformed_task_id_is_404(api, bad_id):
    for method, suffix, body in (
            ("GET", "", None), ("PUT", "", {"name": "n"}), ("DELETE", "", None),
            ("GET", "/tree", None), ("GET", "/ancestry", None), ("GET", "/context", None),
            ("PATCH", "/status", {"status": "doing"}), ("PATCH", "/reorder", {"position": 0}),
            ("POST", "/lock", {"caller_label": AGENT, "lock_purpose": "sizing"}),
            ("PATCH", f"/lock/heartbeat?caller_label={AGENT}", None),
            ("DELETE", "/lock?force=true", None),
            ("POST", "/subtasks", {"name": "n", "task_type": "bug"}),
            ("POST", "/work-log", {"operation": "note", "content": "c"}),
            ("GET", "/work-log", None), ("GET", "/commits", None),
            ("POST", "/commits", {"commit_hash": "abcdef1"}),
            ("POST", "/flag-refinement", {"refinement_notes": "n"})):
        response = api.request(method, f"/tasks/{bad_id}{suffix}", body)
        assert_error(response, 404, "NOT_FOUND")


# -- found by fuzzing /openapi.json (issue 20) -------------------------------------------------
@pytest.mark.parametrize("path", ["/projects", "/locks",
                                  "/tasks/available?operation=implementation"])
def test_an_offset_past_any_list_is_an_empty_page_not_a_500(api, path):
    joiner = "&" if "?" in path else "?"
    response = api.get(f"{path}{joiner}limit=120&offset=17762183393943859757056")
    assert response.status_code == 200 and response.data == []
    assert "X-Next-Offset" not in response.headers


def test_every_success_a_route_answers_is_in_the_openapi_document(api):
    operations = api.get("/openapi.json").data["paths"]
    assert {"200", "201"} <= set(operations["/tasks/{task_id}/commits"]["post"]["responses"])
    assert {"200", "201"} <= set(
        operations["/tasks/{task_id}/dependencies"]["post"]["responses"])
    for path, method in (("/tasks/{task_id}/status", "patch"), ("/tasks/{task_id}", "delete"),
                         ("/projects/import", "post")):
        assert "202" in operations[path][method]["responses"], (method, path)
