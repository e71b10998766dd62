"""The Lambda policies allow exactly what the code does, function by function.

Drives the app in-process (moto) through every kind of data access it has: projects, tasks,
subtasks, locks, the four atomic operations, work log, commits, every queue order, tree and
context, dependencies, activity, history and agents, idempotent replays, export and import
through S3, deletes, the sweep (waking a stalled job, the purge), bearer token
checks, and the background jobs (an import through an upload, a cancel and a delete past the
job threshold, a background `propagate`) run as the stream-driven worker runs them. Every AWS
call is recorded against the function that makes it (transactions item by item, presigned
URLs as the request the browser will make): the API handler and the sweep share
.chalice/policy-prod.json, the job worker has .chalice/policy-prod-worker.json. Each call
must be allowed by its function's policy and every action a policy grants must have been used
by that function.
"""
from __future__ import annotations

import fnmatch
import json
import os
from unittest import mock
from urllib.parse import urlparse

import pytest

from scripts import build_template
from tests.infra.conftest import resolve_sub

PREFIX = "test-"  # tests/conftest.py's table prefix
BUCKET = "chorus-test-exports"
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem"}
API, WORKER = "api", "worker"  # the API handler with the sweep; the job worker


class Recorder:
    def __init__(self):
        self.calls: dict[str, set[tuple[str, str]]] = {API: set(), WORKER: set()}
        self.role = API  # whose calls are being recorded
        self.on = True

    def table(self, name: str, index: str | None = None) -> str:
        assert name.startswith(PREFIX), name
        arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/chorus-prod-{name[len(PREFIX):]}"
        return f"{arn}/index/{index}" if index else arn

    def object(self, bucket: str, key: str) -> str:
        assert bucket == BUCKET, bucket
        return f"arn:aws:s3:::chorus-prod-exports/{key}"

    def add(self, action: str, arn: str) -> None:
        self.calls[self.role].add((action, arn))

    def record(self, service: str, operation: str, params: dict) -> None:
        if not self.on:
            return
        if service == "dynamodb":
            if "TransactItems" in params:
                for item in params["TransactItems"]:
                    (kind, body), = item.items()
                    self.add(f"dynamodb:{TRANSACT[kind]}", self.table(body["TableName"]))
            elif "RequestItems" in params:
                for name in params["RequestItems"]:
                    self.add(f"dynamodb:{operation}", self.table(name))
            else:
                self.add(f"dynamodb:{operation}",
                         self.table(params["TableName"], params.get("IndexName")))
        elif service == "s3":
            if operation in ("ListObjects", "ListObjectsV2"):
                self.add("s3:ListBucket", "arn:aws:s3:::chorus-prod-exports")
            else:
                action = {"HeadObject": "GetObject"}.get(operation, operation)
                self.add(f"s3:{action}", self.object(params["Bucket"], params["Key"]))
        else:
            raise AssertionError(f"unexpected AWS service {service}:{operation}")

    def run_worker(self) -> int:
        """What the job worker Lambda does: the jobs table's stream delivers every write that
        leaves a job running and unheld, and the worker runs the job's next step
        (chalicelib.services.jobs.on_job_records). Finding those jobs is this test's part
        (unrecorded); running them is the worker's (recorded as the worker's calls)."""
        from chalicelib.services.jobs import on_job_records
        from chalicelib.store import jobs as job_store

        steps = 0
        with mock.patch.dict(os.environ, {"CHORUS_EXPORT_BUCKET": BUCKET}):
            for _ in range(1000):
                self.on = False
                images = [job.serialize() for job in job_store.iter_running()
                          if not job.lease_owner]
                self.on = True
                if not images:
                    return steps
                self.role = WORKER
                try:
                    on_job_records(images)
                finally:
                    self.role = API
                steps += len(images)
        raise AssertionError("the jobs did not finish")


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
    # dependencies
    sibling = children[1]["id"]
    ok(api.post(f"/tasks/{sibling}/dependencies", {"blocker_id": b["id"]}))
    ok(api.get(f"/tasks/{sibling}/dependencies"))
    # reads: every queue order, the activity feeds, history and agents
    for path in (f"/tasks/{a['id']}", f"/tasks/{a['id']}/ancestry",
                 f"/tasks/{child}/ancestry", f"/tasks/{child}/context?include_commits=true",
                 f"/tasks/{a['id']}/tree?depth=1", f"/projects/{pid}/tasks",
                 f"/projects/{pid}/backlog", f"/projects/{pid}/in-progress",
                 "/tasks/available?operation=sizing",
                 f"/tasks/available?operation=sizing&project_id={pid}",
                 f"/tasks/{child}/work-log", f"/tasks/{child}/commits",
                 f"/projects/{pid}/activity", f"/projects/{pid}/activity?task_id={child}",
                 f"/projects/{pid}/history", f"/projects/{pid}/agents"):
        ok(api.get(path))
    from chalicelib.domain.queues import SORTS

    for sort in SORTS:
        ok(api.get(f"/projects/{pid}/backlog?sort={sort}"))
    ok(api.post(f"/tasks/{child}/work-log", {"operation": "note", "content": "n"}))
    ok(api.post(f"/tasks/{child}/commits", {"commit_hash": "1234567"}))
    ok(api.put(f"/tasks/{b['id']}", {"priority": 5}))
    ok(api.patch(f"/tasks/{b['id']}/status", {"status": "doing"}))
    ok(api.delete(f"/tasks/{sibling}/dependencies/{b['id']}"))
    # export inline and through S3, import inline and through an upload (a job)
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
    job = ok(api.post("/projects/import", {"upload_id": upload["upload_id"]}), 202)
    assert recorder.run_worker() >= 1
    assert ok(api.get(f"/jobs/{job['id']}"))["status"] == "succeeded"
    ok(api.post("/projects/import", {"upload_id": upload["upload_id"]}), 404)  # imported
    ok(api.post("/projects/import", {"upload_id": "no-such-upload"}), 404)
    # deletes, cancel cascade (synchronous) and the scheduled sweep
    ok(api.patch(f"/tasks/{a['id']}/status", {"status": "wont_do"}))
    ok(api.delete(f"/tasks/{b['id']}"))
    ok(api.delete(f"/projects/{pid}"))
    from chalicelib.services.maintenance import run_maintenance

    run_maintenance()


FILLERS = 12  # top-level tasks after the root: more than a small delete round shifts


def big_tree_document(children: int) -> dict:
    """A root with `children` leaves (past changes.PROPAGATE_IN_WRITE), one with records and
    one blocking a task outside the root; top-level fillers after the root; a second root
    with one child; a free task to block with."""
    leaf = {"task_type": "bug", "status": "todo", "points": 1}
    tasks = [{"id": "root", "name": "Root", "task_type": "feature", "status": "todo"}]
    tasks += [{"id": f"filler-{n}", "name": f"Filler {n}", **leaf} for n in range(FILLERS)]
    tasks += [{"id": "other", "name": "Other", "task_type": "feature", "status": "todo"},
              {"id": "other-1", "parent_task_id": "other", "name": "Other 1", **leaf},
              {"id": "blocker", "name": "Blocker", "task_type": "feature", "status": "todo"},
              {"id": "outside", "name": "Outside", "task_type": "feature", "status": "todo",
               "blocked_by": ["leaf-1"]}]
    for n in range(children):
        record = {"id": f"leaf-{n}", "parent_task_id": "root", "name": f"Leaf {n}", **leaf}
        if n == 0:
            record["work_log_entries"] = [{"author": "a", "operation": "note", "content": "hi",
                                           "created_at": "2026-01-01T00:00:00Z"}]
            record["commits"] = [{"author": "a", "commit_hash": "abcdef1",
                                  "committed_at": "2026-01-01T00:00:00Z"}]
        tasks.append(record)
    return {"format_version": 2, "project": {"name": "Jobs"}, "tasks": tasks}


def _after_one_unit(lease) -> bool:
    """A step's time runs out once it has done one unit of work (its first check passes)."""
    checks = lease.__dict__.setdefault("checks", 0)
    lease.checks = checks + 1
    return checks > 0


def upload(api, recorder, body: bytes) -> str:
    upload_id = ok(api.post("/projects/import-uploads"))["upload_id"]
    recorder.on = False  # the browser's PUT: already recorded as the presigned PutObject
    import boto3

    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=BUCKET, Key="imports/" + upload_id, Body=body)
    recorder.on = True
    return upload_id


def exercise_jobs(api, recorder, clock, monkeypatch) -> None:
    """The jobs the API hands to the worker, each in many small steps (every step runs out of
    time after one unit of work; small pages, rounds and slices): an import through an upload
    and a failing one, a background propagate, a cancel reaching a lock and a delete crossing
    a dependency edge and shifting many siblings, one of them woken by the sweep."""
    from chalicelib.services import cascades, changes, dependencies, jobs, transfer
    from chalicelib.services.maintenance import run_maintenance

    document = big_tree_document(changes.PROPAGATE_IN_WRITE + 5)
    monkeypatch.setattr(jobs.Lease, "out_of_time", _after_one_unit)
    monkeypatch.setattr(transfer, "WRITE_SLICE", 10)
    monkeypatch.setattr(dependencies, "PAGE", 5)
    monkeypatch.setattr(cascades, "ROUND_ITEMS", 12)
    job = ok(api.post("/projects/import", {
        "upload_id": upload(api, recorder, json.dumps(document).encode())}), 202)
    bad = ok(api.post("/projects/import", {
        "upload_id": upload(api, recorder, b'{"format_version": 2}')}), 202)
    assert recorder.run_worker() > 3
    pid = ok(api.get(f"/jobs/{job['id']}"))["result"]["project_id"]
    assert ok(api.get(f"/jobs/{bad['id']}"))["status"] == "failed"
    tops = {t["name"]: t["id"] for t in ok(api.get(f"/projects/{pid}/tasks?limit=200"))}
    root, other, blocker = tops["Root"], tops["Other"], tops["Blocker"]
    # a waiting flip over more than PROPAGATE_IN_WRITE tasks: a propagate job the request
    # runs itself (up to JOB_THRESHOLD tasks) ...
    ok(api.post(f"/tasks/{root}/dependencies", {"blocker_id": blocker}))
    monkeypatch.setattr(jobs, "JOB_THRESHOLD", 1)
    # ... or the worker (past it)
    ok(api.delete(f"/tasks/{root}/dependencies/{blocker}"))
    assert recorder.run_worker() > 1
    # cascades past the threshold answer 202 and run as jobs
    [other_1] = ok(api.get(f"/tasks/{other}/tree"))["children"]
    ok(api.post(f"/tasks/{other_1['id']}/lock", {"caller_label": "dev",
                                                 "lock_purpose": "implementation"}))
    cancel = ok(api.patch(f"/tasks/{other}/status", {"status": "wont_do"}), 202)
    clock.advance(jobs.STALLED_SECONDS + 5)  # nobody took it: the sweep nudges it
    assert run_maintenance()["jobs_woken"] >= 1
    delete = ok(api.delete(f"/tasks/{root}"), 202)
    assert recorder.run_worker() > 2
    for started in (job, cancel, delete):
        assert ok(api.get(f"/jobs/{started['id']}"))["status"] == "succeeded"
    ok(api.get(f"/projects/{pid}/activity?limit=200"))
    ok(api.delete(f"/projects/{pid}"))
    run_maintenance()


def exercise_tokens(recorder) -> None:
    """Bearer checks: what the API does with the tokens table (issuing is the admin tool's)."""
    from chalicelib.services import tokens

    recorder.on = False
    secret = tokens.create_token("agent-1", "agent")
    recorder.on = True
    tokens.authenticate(f"Bearer {secret}")


def granted(role: str) -> set[tuple[str, str]]:
    """What a role's policy allows the code to do (its logs and, for the worker, the stream
    Lambda's event source mapping reads, are not the code's calls)."""
    document = build_template.policy_document("prod", role=role)
    return {(action, resolve_sub(resource))
            for statement in document["Statement"]
            if statement["Sid"] not in ("WriteOwnLogs", "ReadJobsStream")
            for action in statement["Action"] for resource in statement["Resource"]}


def allowed(call: tuple[str, str], grants: set[tuple[str, str]]) -> bool:
    action, arn = call
    return any(action == g_action and fnmatch.fnmatchcase(arn, g_arn) for g_action, g_arn in grants)


def test_every_call_the_code_makes_is_granted_and_every_grant_is_used(api, recorder, clock,
                                                                     monkeypatch):
    exercise(api, recorder)
    exercise_jobs(api, recorder, clock, monkeypatch)
    monkeypatch.setenv("CHORUS_AUTH", "token")
    exercise_tokens(recorder)
    for role, policy in ((API, ".chalice/policy-prod.json"),
                         (WORKER, ".chalice/policy-prod-worker.json")):
        grants = granted(role)
        calls = recorder.calls[role]
        assert calls, role
        denied = sorted(call for call in calls if not allowed(call, grants))
        assert denied == [], f"the {role} code needs more than {policy} grants"
        unused = sorted(g for g in grants
                        if not any(allowed(call, {g}) for call in calls)
                        and g[0] != "s3:ListBucket")  # only S3's 404-vs-403 check needs it
        assert unused == [], f"{policy} grants what the {role} code never does"


def test_only_the_worker_reads_the_jobs_stream():
    stream = {"Fn::GetAtt": ["JobsTable", "StreamArn"]}
    for role in build_template.ROLES:
        document = build_template.policy_document("prod", role=role)
        reads = [s for s in document["Statement"] if s["Sid"] == "ReadJobsStream"]
        if role == WORKER:
            assert reads == [{"Sid": "ReadJobsStream", "Effect": "Allow", "Action": [
                "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                "dynamodb:ListStreams"], "Resource": [stream]}]
        else:
            assert reads == [] and json.dumps(stream) not in json.dumps(document)
