"""A DynamoDB failure on the transaction: the API answers 503 UNAVAILABLE in the SPEC §5
envelope and nothing at all was written (SPEC §1 Atomic operations, §5 "A 5xx never leaves a
partial write behind"). In-process over moto: these tests are single-threaded."""
from __future__ import annotations

import json
import os
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.integration.helpers import scores_for, sizing_body


def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.data)
    return response.data


# -- faults -----------------------------------------------------------------------------------
def _client_error(code: str, message: str, reasons: list | None = None) -> ClientError:
    response = {"Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400 if reasons else 500,
                                     "HTTPHeaders": {"x-amzn-requestid": "fault-injected"}}}
    if reasons is not None:
        response["CancellationReasons"] = reasons
    return ClientError(response, "TransactWriteItems")


def _raise_for(kind: str, params: dict):
    if kind == "internal-error":
        raise _client_error("InternalServerError", "Internal server error")
    if kind == "connection-lost":
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
    if kind == "throughput-exceeded":
        raise _client_error("ProvisionedThroughputExceededException", "Rate exceeded")
    if kind == "throttled-transaction":  # what DynamoDB answers a throttled transaction
        reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the limit"}]
        items = json.loads(params["body"])["TransactItems"]  # the serialized request
        reasons += [{"Code": "None"}] * (len(items) - 1)
        raise _client_error("TransactionCanceledException",
                            "Transaction cancelled [ThrottlingError]", reasons)
    raise AssertionError(kind)


@contextmanager
def failing_transactions(kind: str):
    """Every TransactWriteItems call fails before it is sent (botocore before-call hook)."""
    from chalicelib.store.db import connection
    from chalicelib.store.tables import ALL_MODELS

    connection()
    calls = []

    def hook(params, **_kwargs):  # params: botocore's request dict (url, headers, body)
        calls.append(params)
        _raise_for(kind, params)

    clients = {id(c): c for c in (m._get_connection().connection.client for m in ALL_MODELS)}
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb.TransactWriteItems", hook,
                                    unique_id="integration-fault")
    try:
        yield calls
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb.TransactWriteItems",
                                          unique_id="integration-fault")


# -- what "nothing was written" means: every item of every table ----------------------------
def raw_snapshot() -> dict:
    import boto3

    from chalicelib.store.tables import ALL_MODELS

    client = boto3.client("dynamodb", region_name="us-east-1")
    snapshot = {}
    for model in ALL_MODELS:
        items = []
        for page in client.get_paginator("scan").paginate(TableName=model.Meta.table_name):
            items += page["Items"]
        snapshot[model.Meta.base_name] = sorted(json.dumps(i, sort_keys=True) for i in items)
    return snapshot


def api_snapshot(api, project_id: str) -> dict:
    """The project as the API shows it: detail (counters), the export (every stored field,
    work-log entries and commits of every task), every task with its computed fields and
    lock, the live locks, the project list."""
    export = _ok(api.get(f"/projects/{project_id}/export"))
    export.pop("exported_at")
    return {
        "detail": _ok(api.get(f"/projects/{project_id}")),
        "export": export,
        "tasks": {t["id"]: _ok(api.get(f"/tasks/{t['id']}")) for t in export["tasks"]},
        "locks": _ok(api.get(f"/locks?project_id={project_id}")),
        "projects": _ok(api.get("/projects?limit=200")),
    }


# -- scenarios: (method, path, body, headers) of the request that must fail ------------------
def _project(api):
    return _ok(api.post("/projects", {"name": "Faults"}), 201)["id"]


def _task(api, pid, name, parent=None, **fields):
    path = f"/tasks/{parent}/subtasks" if parent else f"/projects/{pid}/tasks"
    return _ok(api.post(path, {"name": name, "task_type": "feature", **fields}), 201)["id"]


def _lock(api, task_id, caller, purpose):
    return _ok(api.post(f"/tasks/{task_id}/lock",
                        {"caller_label": caller, "lock_purpose": purpose}), 201)


def _complete(api, task_id, caller):
    _lock(api, task_id, caller, "implementation")
    _ok(api.post(f"/tasks/{task_id}/complete",
                 {"caller_label": caller, "work_log_content": "done", "release_lock": True}))


def scenario_size(api):
    pid = _project(api)
    parent = _task(api, pid, "parent")
    child = _task(api, pid, "child", parent=parent)
    _task(api, pid, "sibling", parent=parent, points=2)
    _lock(api, child, "sizer", "sizing")
    body = sizing_body("sizer", scores_for(5), confidence=1, release_lock=True)
    return pid, ("POST", f"/tasks/{child}/size", body, {"Idempotency-Key": "size-1"})


def scenario_breakdown(api):
    pid = _project(api)
    big = _task(api, pid, "big", points=9)
    _lock(api, big, "planner", "breakdown")
    body = {"caller_label": "planner", "work_log_content": "split", "release_lock": True,
            "parent_description_update": "now in parts",
            "subtasks": [{"name": f"part {i}", "task_type": "bug", "context": "c"}
                         for i in range(3)]}
    return pid, ("POST", f"/tasks/{big}/breakdown", body, {"Idempotency-Key": "split-1"})


def scenario_complete(api):
    pid = _project(api)
    parent = _task(api, pid, "parent")
    first = _task(api, pid, "first", parent=parent, points=1)
    last = _task(api, pid, "last", parent=parent, points=2)
    _complete(api, first, "coder")
    _lock(api, last, "coder", "implementation")  # todo -> doing
    body = {"caller_label": "coder", "work_log_content": "finished", "release_lock": True,
            "commits": [{"commit_hash": "deadbeef01", "message": "m1"},
                        {"commit_hash": "DEADBEEF02", "message": "m2"}]}
    # success would also complete `parent` upward, in the same transaction
    return pid, ("POST", f"/tasks/{last}/complete", body, {"Idempotency-Key": "done-1"})


def scenario_status_cancel(api):
    pid = _project(api)
    parent = _task(api, pid, "parent")
    kids = [_task(api, pid, f"kid {i}", parent=parent, points=1) for i in range(3)]
    _task(api, pid, "grandkid", parent=kids[0], points=1)
    _lock(api, kids[1], "coder", "implementation")  # cancelling drops this lock too
    return pid, ("PATCH", f"/tasks/{parent}/status", {"status": "wont_do"}, {})


def scenario_status_reopen(api):
    pid = _project(api)
    parent = _task(api, pid, "parent")
    kid = _task(api, pid, "kid", parent=parent, points=1)
    _complete(api, kid, "coder")  # parent done upward
    return pid, ("PATCH", f"/tasks/{kid}/status", {"status": "todo"}, {})


def scenario_create_top_level(api):
    pid = _project(api)
    for name in ("a", "b", "c"):
        _task(api, pid, name)
    body = {"name": "inserted first", "task_type": "bug", "position": 0}
    return pid, ("POST", f"/projects/{pid}/tasks", body, {"Idempotency-Key": "mk-1"})


def scenario_create_subtask(api):
    pid = _project(api)
    parent = _task(api, pid, "parent")
    kid = _task(api, pid, "kid", parent=parent, points=1)
    _complete(api, kid, "coder")  # parent done: a new subtask would reopen it
    body = {"name": "late", "task_type": "tech_debt", "points": 3, "position": 0}
    return pid, ("POST", f"/tasks/{parent}/subtasks", body, {"Idempotency-Key": "mk-2"})


def scenario_create_project(api):
    pid = _project(api)
    return pid, ("POST", "/projects", {"name": "never"}, {"Idempotency-Key": "mk-3"})


SCENARIOS = {
    "size": scenario_size,
    "breakdown": scenario_breakdown,
    "complete": scenario_complete,
    "status-cancel": scenario_status_cancel,
    "status-reopen": scenario_status_reopen,
    "create-task": scenario_create_top_level,
    "create-subtask": scenario_create_subtask,
    "create-project": scenario_create_project,
}
FAULTS = ("internal-error", "connection-lost", "throughput-exceeded", "throttled-transaction")
def _cases():
    """Every scenario with a DynamoDB 500; the other kinds of fault on a few of them."""
    for name in SCENARIOS:
        yield pytest.param(name, "internal-error", id=f"{name}-internal-error")
    for name in ("complete", "status-cancel"):
        yield pytest.param(name, "connection-lost", id=f"{name}-connection-lost")
    for name in ("breakdown", "create-subtask"):
        yield pytest.param(name, "throughput-exceeded", id=f"{name}-throughput-exceeded")
    for name in ("size", "create-task"):
        yield pytest.param(name, "throttled-transaction", id=f"{name}-throttled-transaction")


@pytest.mark.parametrize("scenario, fault", list(_cases()))
def test_a_failed_transaction_answers_503_and_writes_nothing(moto_api, scenario, fault):
    api = moto_api
    pid, (method, path, body, headers) = SCENARIOS[scenario](api)
    raw_before, seen_before = raw_snapshot(), api_snapshot(api, pid)

    with failing_transactions(fault) as calls:
        response = api.request(method, path, body, headers={"X-Request-ID": "fault-1",
                                                            **headers})
    assert calls, "the request never reached TransactWriteItems"
    assert response.status_code == 503, (response.status_code, response.data)
    assert response.data == {"error": {"code": "UNAVAILABLE", "message": response.data[
        "error"]["message"], "details": {}, "request_id": "fault-1"}}
    assert response.headers["X-Request-ID"] == "fault-1"
    text = response.body.decode() if isinstance(response.body, bytes) else response.body
    for internal in ("Traceback", "botocore", "TransactWriteItems", "ThrottlingError",
                     "Exception", "amazonaws", os.environ["CHORUS_TABLE_PREFIX"]):
        assert internal not in text

    assert raw_snapshot() == raw_before  # not one item of any table changed
    assert api_snapshot(api, pid) == seen_before

    # nothing was recorded under the key either: the same request now simply succeeds
    retried = api.request(method, path, body, headers=headers)
    assert 200 <= retried.status_code < 300, (retried.status_code, retried.data)
    assert "Idempotent-Replayed" not in retried.headers
    assert raw_snapshot() != raw_before


def test_a_failed_read_answers_503_too(moto_api):
    """Reads go through the same guard: a DynamoDB outage on GetItem is 503, not 500."""
    from chalicelib.store.db import connection
    from chalicelib.store.tables import ALL_MODELS

    pid = _project(moto_api)
    connection()

    def hook(**_kwargs):
        raise _client_error("InternalServerError", "Internal server error")

    clients = {id(c): c for c in (m._get_connection().connection.client for m in ALL_MODELS)}
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb.GetItem", hook,
                                    unique_id="integration-read-fault")
    try:
        response = moto_api.get(f"/projects/{pid}")
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb.GetItem",
                                          unique_id="integration-read-fault")
    assert response.status_code == 503
    assert response.data["error"]["code"] == "UNAVAILABLE"
    assert response.data["error"]["request_id"] == response.headers["X-Request-ID"]
