"""The Lambda policy allows exactly what the code does.

Drives the app in-process (moto) through every kind of data access it has: projects, tasks,
subtasks, locks, the four atomic operations, work log, commits, queues, tree and context,
idempotent replays, export and import through S3, deletes and the sweep's purge, and bearer
token checks. Every AWS call is recorded (transactions item by item, presigned URLs as the
request the browser will make) and must be allowed by .chalice/policy-prod.json; every action
the policy grants must have been used.
"""
from __future__ import annotations

import fnmatch
import json
from urllib.parse import urlparse

import pytest

from scripts import build_template
from tests.infra.conftest import resolve_sub

PREFIX = "test-"  # tests/conftest.py's table prefix
BUCKET = "chorus-test-exports"
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem"}


class Recorder:
    def __init__(self):
        self.calls: set[tuple[str, str]] = set()  # (action, resource ARN)
        self.on = True

    def table(self, name: str, index: str | None = None) -> str:
        assert name.startswith(PREFIX), name
        arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/chorus-prod-{name[len(PREFIX):]}"
        return f"{arn}/index/{index}" if index else arn

    def object(self, bucket: str, key: str) -> str:
        assert bucket == BUCKET, bucket
        return f"arn:aws:s3:::chorus-prod-exports/{key}"

    def record(self, service: str, operation: str, params: dict) -> None:
        if not self.on:
            return
        if service == "dynamodb":
            if "TransactItems" in params:
                for item in params["TransactItems"]:
                    (kind, body), = item.items()
                    self.calls.add((f"dynamodb:{TRANSACT[kind]}", self.table(body["TableName"])))
            elif "RequestItems" in params:
                for name in params["RequestItems"]:
                    self.calls.add((f"dynamodb:{operation}", self.table(name)))
            else:
                self.calls.add((f"dynamodb:{operation}",
                                self.table(params["TableName"], params.get("IndexName"))))
        elif service == "s3":
            if operation in ("ListObjects", "ListObjectsV2"):
                self.calls.add(("s3:ListBucket", "arn:aws:s3:::chorus-prod-exports"))
            else:
                action = {"HeadObject": "GetObject"}.get(operation, operation)
                self.calls.add((f"s3:{action}", self.object(params["Bucket"], params["Key"])))
        else:
            raise AssertionError(f"unexpected AWS service {service}:{operation}")


@pytest.fixture
def recorder(monkeypatch, dynamodb):
    import botocore.client
    import botocore.signers

    monkeypatch.setenv("CHORUS_EXPORT_BUCKET", BUCKET)  # for the direct objects.* call
    rec = Recorder()
    original_call = botocore.client.BaseClient._make_api_call

    def make_api_call(client, operation, params):
        rec.record(client.meta.service_model.service_name, operation, params)
        return original_call(client, operation, params)

    original_presign = botocore.signers.RequestSigner.generate_presigned_url

    def presign(signer, request_dict, operation_name, *args, **kwargs):
        # a presigned URL is a request the role's credentials sign for someone else
        url = urlparse(request_dict["url"])
        bucket = url.hostname.split(".")[0]
        rec.record("s3", operation_name, {"Bucket": bucket, "Key": url.path.lstrip("/")})
        return original_presign(signer, request_dict, operation_name, *args, **kwargs)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    monkeypatch.setattr(botocore.signers.RequestSigner, "generate_presigned_url", presign)
    return rec


def _dimensions(score: int = 1) -> dict:
    names = ("scope_clarity", "decision_points", "context_window_demand",
             "verification_complexity", "domain_specificity")
    return {n: {"score": score, "reasoning": f"{n} is {score}"} for n in names}


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 201, 204)), (
        response.status_code, response.data)
    return response.data


def exercise(api, recorder) -> None:
    project = ok(api.post("/projects", {"name": "iam"}, headers={"Idempotency-Key": "p-1"}))
    ok(api.post("/projects", {"name": "iam"}, headers={"Idempotency-Key": "p-1"}))  # replay
    pid = project["id"]
    ok(api.get("/projects")), ok(api.get(f"/projects/{pid}"))
    ok(api.put(f"/projects/{pid}", {"description": "d"}))
    a = ok(api.post(f"/projects/{pid}/tasks", {"name": "a", "task_type": "feature"}))
    b = ok(api.post(f"/projects/{pid}/tasks", {"name": "b", "task_type": "feature"}))
    ok(api.patch(f"/tasks/{b['id']}/reorder", {"position": 0}))
    # sizing lock, heartbeat, size
    ok(api.post(f"/tasks/{a['id']}/lock", {"caller_label": "agent", "lock_purpose": "sizing"}))
    ok(api.patch(f"/tasks/{a['id']}/lock/heartbeat?caller_label=agent"))
    ok(api.get("/locks")), ok(api.get(f"/locks?project_id={pid}"))
    ok(api.post(f"/tasks/{a['id']}/size", {"caller_label": "agent", "work_log_content": "sized",
                                           "confidence": 4, **_dimensions(2),
                                           "release_lock": True}))
    # breakdown into subtasks, then size and complete one
    ok(api.post(f"/tasks/{a['id']}/lock", {"caller_label": "agent",
                                           "lock_purpose": "breakdown"}))
    ok(api.post(f"/tasks/{a['id']}/breakdown", {
        "caller_label": "agent", "work_log_content": "split", "release_lock": True,
        "subtasks": [{"name": "a1", "task_type": "feature", "points": 2},
                     {"name": "a2", "task_type": "feature", "points": 3}]}))
    children = ok(api.get(f"/tasks/{a['id']}/tree"))["children"]
    child = children[0]["id"]
    ok(api.post(f"/tasks/{a['id']}/subtasks", {"name": "a3", "task_type": "bug"}))
    ok(api.post(f"/tasks/{child}/lock", {"caller_label": "dev",
                                         "lock_purpose": "implementation"}))
    ok(api.post(f"/tasks/{child}/complete", {
        "caller_label": "dev", "work_log_content": "done", "release_lock": True,
        "commits": [{"commit_hash": "abcdef1", "message": "m"}]},
        headers={"Idempotency-Key": "c-1"}))
    # refinement
    ok(api.post(f"/tasks/{b['id']}/flag-refinement", {"refinement_notes": "unclear"}))
    ok(api.get(f"/projects/{pid}/needs-refinement"))
    ok(api.post(f"/tasks/{b['id']}/lock", {"caller_label": "pm", "lock_purpose": "refinement"}))
    ok(api.post(f"/tasks/{b['id']}/refine", {"caller_label": "pm", "work_log_content": "clear",
                                             "description": "now clear"}))
    ok(api.delete(f"/tasks/{b['id']}/lock?caller_label=pm"))
    # reads
    for path in (f"/tasks/{a['id']}", f"/tasks/{a['id']}/ancestry",
                 f"/tasks/{child}/ancestry", f"/tasks/{child}/context?include_commits=true",
                 f"/tasks/{a['id']}/tree?depth=1", f"/projects/{pid}/tasks",
                 f"/projects/{pid}/backlog", f"/projects/{pid}/in-progress",
                 "/tasks/available?operation=sizing",
                 f"/tasks/available?operation=sizing&project_id={pid}",
                 f"/tasks/{child}/work-log", f"/tasks/{child}/commits"):
        ok(api.get(path))
    ok(api.post(f"/tasks/{child}/work-log", {"operation": "note", "content": "n"}))
    ok(api.post(f"/tasks/{child}/commits", {"commit_hash": "1234567"}))
    ok(api.put(f"/tasks/{b['id']}", {"priority": 5}))
    ok(api.patch(f"/tasks/{b['id']}/status", {"status": "doing"}))
    # export inline and through S3, import inline and through an upload
    export = ok(api.get(f"/projects/{pid}/export"))
    from chalicelib.store import objects

    objects.store_export(pid, json.dumps(export).encode())  # what a > 6 MB export does
    ok(api.post("/projects/import", export))
    upload = ok(api.post("/projects/import-uploads"))
    recorder.on = False  # the browser's PUT: already recorded as the presigned PutObject
    import boto3

    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=BUCKET, Key="imports/" + upload["upload_id"], Body=json.dumps(export).encode())
    recorder.on = True
    ok(api.post("/projects/import", {"upload_id": upload["upload_id"]}))
    ok(api.post("/projects/import", {"upload_id": "no-such-upload"}), 404)
    # deletes, cancel cascade and the scheduled sweep
    ok(api.patch(f"/tasks/{a['id']}/status", {"status": "wont_do"}))
    ok(api.delete(f"/tasks/{b['id']}"))
    ok(api.delete(f"/projects/{pid}"))
    from chalicelib.services.maintenance import run_maintenance

    run_maintenance()


def exercise_tokens(recorder) -> None:
    """Bearer checks: what the API does with the tokens table (issuing is the admin tool's)."""
    from chalicelib.services import tokens

    recorder.on = False
    secret = tokens.create_token("agent-1", "agent")
    recorder.on = True
    tokens.authenticate(f"Bearer {secret}")


def granted() -> set[tuple[str, str]]:
    document = build_template.policy_document("prod")
    return {(action, resolve_sub(resource))
            for statement in document["Statement"]
            for action in statement["Action"] for resource in statement["Resource"]
            if not action.startswith("logs:")}


def allowed(call: tuple[str, str], grants: set[tuple[str, str]]) -> bool:
    action, arn = call
    return any(action == g_action and fnmatch.fnmatchcase(arn, g_arn) for g_action, g_arn in grants)


def test_every_call_the_code_makes_is_granted_and_every_grant_is_used(api, recorder,
                                                                     monkeypatch):
    exercise(api, recorder)
    monkeypatch.setenv("CHORUS_AUTH", "token")
    exercise_tokens(recorder)
    grants = granted()
    calls = recorder.calls
    denied = sorted(call for call in calls if not allowed(call, grants))
    assert denied == [], "the code needs more than .chalice/policy-prod.json grants"
    unused = sorted(g for g in grants
                    if not any(allowed(call, {g}) for call in calls)
                    and g[0] != "s3:ListBucket")  # only S3's 404-vs-403 check needs it
    assert unused == [], "the policy grants what the code never does"
