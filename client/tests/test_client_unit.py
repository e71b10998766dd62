"""The API client against a scripted fake: retries, idempotency keys, typed errors, settings."""

from __future__ import annotations

import httpx
import pytest

from chorus_client.bodies import CompleteRequest, RefinementFlag, SizeRequest, TaskUpdate
from chorus_client.errors import (
    ConfigurationError,
    InvalidRequestError,
    InvalidStateError,
    LockConflictError,
    LockLostError,
    NotFoundError,
    UnavailableError,
)

from fakes import FakeApi, body_of, error, lock_json, task_json

COMPLETE = CompleteRequest.parse({"work_log_content": "built it"})


def test_a_retry_after_a_timeout_reuses_the_idempotency_key() -> None:
    fake = FakeApi().on(
        "POST", "/tasks/t1/complete", httpx.ReadTimeout("slow"), httpx.Response(200, json=task_json(status="done"))
    )
    with fake.client() as client:
        task = client.complete("t1", COMPLETE)
    attempts = fake.sent("POST", "/tasks/t1/complete")
    assert task.status == "done"
    assert len(attempts) == 2
    assert attempts[0].headers["Idempotency-Key"] == attempts[1].headers["Idempotency-Key"]
    assert body_of(attempts[0]) == body_of(attempts[1]) == {"caller_label": "agent-a", "work_log_content": "built it"}


def test_a_retry_after_a_5xx_reuses_the_key_and_two_calls_get_two_keys() -> None:
    fake = FakeApi().on(
        "POST",
        "/tasks/t1/complete",
        error(503, "UNAVAILABLE"),
        httpx.Response(200, json=task_json()),
        httpx.Response(200, json=task_json()),
    )
    with fake.client() as client:
        client.complete("t1", COMPLETE)
        client.complete("t1", COMPLETE)
    keys = [request.headers["Idempotency-Key"] for request in fake.sent("POST", "/tasks/t1/complete")]
    assert len(keys) == 3
    assert keys[0] == keys[1] != keys[2]


def test_an_explicit_idempotency_key_is_sent_as_given() -> None:
    fake = FakeApi().on("POST", "/tasks/t1/complete", httpx.Response(200, json=task_json()))
    with fake.client() as client:
        client.complete("t1", COMPLETE, idempotency_key="my-key-1")
    assert fake.sent("POST", "/tasks/t1/complete")[0].headers["Idempotency-Key"] == "my-key-1"


def test_retries_stop_after_the_last_attempt_with_the_typed_error() -> None:
    fake = FakeApi().on("POST", "/tasks/t1/complete", httpx.ReadTimeout("slow"))
    with fake.client() as client, pytest.raises(UnavailableError) as raised:
        client.complete("t1", COMPLETE)
    assert raised.value.code == "UNREACHABLE"
    assert len(fake.sent("POST", "/tasks/t1/complete")) == 3


def test_a_write_without_a_key_is_not_repeated_after_a_timeout() -> None:
    fake = FakeApi().on("POST", "/tasks/t1/flag-refinement", httpx.ReadTimeout("slow"))
    with fake.client() as client, pytest.raises(UnavailableError):
        client.flag_for_refinement("t1", RefinementFlag.parse({"refinement_notes": "unclear"}))
    assert len(fake.sent("POST", "/tasks/t1/flag-refinement")) == 1


def test_a_refused_connection_is_retried_even_for_a_write_without_a_key() -> None:
    fake = FakeApi().on("DELETE", "/tasks/t1/lock", httpx.ConnectError("refused"), httpx.Response(204))
    with fake.client() as client:
        client.release_lock("t1")
    requests = fake.sent("DELETE", "/tasks/t1/lock")
    assert len(requests) == 2
    assert requests[0].url.params["caller_label"] == "agent-a"


def test_a_client_error_is_not_retried_and_carries_the_envelope() -> None:
    details = {"caller_label": "agent-b", "lock_purpose": "sizing", "expires_at": "2030-01-01T00:15:00Z"}
    fake = FakeApi().on("POST", "/tasks/t1/lock", error(409, "LOCK_CONFLICT", details))
    with fake.client() as client, pytest.raises(LockConflictError) as raised:
        client.acquire_lock("t1", "sizing")
    assert (raised.value.code, raised.value.details, raised.value.request_id, raised.value.status) == (
        "LOCK_CONFLICT",
        details,
        "req-1",
        409,
    )
    assert "another task" in raised.value.next_step
    assert len(fake.sent("POST", "/tasks/t1/lock")) == 1


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [
        (404, "NOT_FOUND", NotFoundError),
        (422, "INVALID_READINESS_STATE", InvalidStateError),
        (422, "VALIDATION_ERROR", InvalidRequestError),
        (403, "NOT_LOCK_HOLDER", LockConflictError),
        (409, "LOCK_EXPIRED", LockLostError),
    ],
)
def test_each_error_code_raises_its_type(status: int, code: str, error_type: type[Exception]) -> None:
    fake = FakeApi().on("GET", "/tasks/t1", error(status, code))
    with fake.client() as client, pytest.raises(error_type):
        client.get_task("t1")


def test_an_answer_without_the_envelope_still_raises_a_typed_error() -> None:
    fake = FakeApi().on("GET", "/tasks/t1", httpx.Response(502, text="<html>bad gateway</html>"))
    with fake.client() as client, pytest.raises(UnavailableError) as raised:
        client.get_task("t1")
    assert raised.value.status == 502
    assert len(fake.sent("GET", "/tasks/t1")) == 3


def test_a_heartbeat_without_a_lock_record_means_the_lock_is_lost() -> None:
    fake = FakeApi().on("PATCH", "/tasks/t1/lock/heartbeat", error(404, "NOT_FOUND"))
    with fake.client() as client, pytest.raises(LockLostError) as raised:
        client.heartbeat("t1")
    assert raised.value.code == "NOT_FOUND"


def test_locking_needs_a_caller_label_and_sends_nothing_without_one() -> None:
    fake = FakeApi().on("POST", "/tasks/t1/lock", httpx.Response(201, json=lock_json()))
    with fake.client(agent=None) as client, pytest.raises(ConfigurationError):
        client.acquire_lock("t1", "sizing")
    assert fake.requests == []


def test_the_token_is_sent_as_a_bearer_header() -> None:
    fake = FakeApi().on("GET", "/tasks/t1", httpx.Response(200, json=task_json()))
    with fake.client(token="secret-token") as client:
        client.get_task("t1")
    assert fake.requests[0].headers["Authorization"] == "Bearer secret-token"


def test_size_sends_the_rubric_and_never_a_total() -> None:
    fake = FakeApi().on("POST", "/tasks/t1/size", httpx.Response(200, json=task_json(points=5)))
    rubric = {"score": 1, "reasoning": "some"}
    body = SizeRequest.parse(
        {
            "scope_clarity": rubric,
            "decision_points": rubric,
            "context_window_demand": rubric,
            "verification_complexity": rubric,
            "domain_specificity": rubric,
            "confidence": 4,
            "work_log_content": "sized",
        }
    )
    with fake.client() as client:
        assert client.size("t1", body).points == 5
    sent = body_of(fake.sent("POST", "/tasks/t1/size")[0])
    assert sent["caller_label"] == "agent-a"
    assert "total" not in sent and sent["scope_clarity"] == rubric


def test_an_update_sends_only_the_fields_given_and_an_explicit_null() -> None:
    fake = FakeApi().on("PUT", "/tasks/t1", httpx.Response(200, json=task_json()))
    with fake.client() as client:
        client.update_task("t1", TaskUpdate.parse({"context": None, "priority": 3}))
    assert body_of(fake.requests[0]) == {"context": None, "priority": 3}


def test_bad_input_is_refused_before_sending_like_the_server_would() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        CompleteRequest.parse({"work_log_content": "done", "commits": [{"commit_hash": "not-hex"}]})
    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.details["errors"][0]["loc"] == ["commits", 0, "commit_hash"]


def test_list_pages_report_the_next_offset_and_booleans_go_as_true() -> None:
    fake = (
        FakeApi()
        .on("GET", "/tasks/available", httpx.Response(200, json=[task_json()], headers={"X-Next-Offset": "1"}))
        .on("GET", "/tasks/t1/context", httpx.Response(404, json={}))
    )
    with fake.client() as client:
        page = client.available("sizing", limit=1)
        with pytest.raises(NotFoundError):
            client.get_context("t1", include_commits=True)
    assert page.next_offset == 1 and [task.id for task in page.items] == ["t1"]
    assert fake.sent("GET", "/tasks/t1/context")[0].url.params["include_commits"] == "true"
