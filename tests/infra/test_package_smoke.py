"""The trimmed deployment.zip works: unzipped, on the Lambda's Python version, its handlers
answer API Gateway events, run the sweep, and run an import job from a jobs-stream event
against a moto server (standing in for AWS)."""
from __future__ import annotations

import json
import subprocess
import zipfile

import pytest

from scripts import deploy

SCRIPT = r"""
import json, os, sys
task_root = os.environ["LAMBDA_TASK_ROOT"]
sys.path.insert(0, task_root)  # as in Lambda: the package first, then the runtime (boto3)
import botocore, pydantic_core
assert botocore.__file__.startswith(task_root), botocore.__file__
from chalicelib.store import objects, tables
tables.create_missing_tables()
objects.ensure_bucket()
import app

class Context:
    function_name = "chorus-smoke"
    aws_request_id = "req-1"
    memory_limit_in_mb = 1024
    def get_remaining_time_in_millis(self):
        return 30000

def event(method, resource, path, body=None, params=None):
    return {"resource": resource, "path": path, "httpMethod": method,
            "headers": {"content-type": "application/json", "x-request-id": "smoke-1"},
            "multiValueHeaders": {}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": params,
            "stageVariables": None, "isBase64Encoded": False,
            "body": json.dumps(body) if body is not None else None,
            "requestContext": {"resourcePath": resource, "httpMethod": method,
                               "path": "/api" + path, "stage": "api", "requestId": "gw-1",
                               "identity": {"sourceIp": "127.0.0.1"}}}

out = {}
created = app.app(event("POST", "/projects", "/projects", {"name": "smoke"}), Context())
out["create"] = created["statusCode"]
out["request_id"] = created["headers"].get("X-Request-ID")
pid = json.loads(created["body"])["id"]
got = app.app(event("GET", "/projects/{project_id}", "/projects/" + pid, None,
                    {"project_id": pid}), Context())
out["get"] = got["statusCode"]
out["upload"] = app.app(event("POST", "/projects/import-uploads", "/projects/import-uploads"),
                        Context())["statusCode"]
sweep = {"version": "0", "id": "e-1", "detail-type": "Scheduled Event", "source": "aws.events",
         "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
         "resources": ["arn:aws:events:us-east-1:123456789012:rule/sweep"], "detail": {}}
out["sweep"] = app.sweep(sweep, Context())
# an import through an upload: the API starts a job, the jobs stream's record runs it
upload = json.loads(app.app(event("POST", "/projects/import-uploads", "/projects/import-uploads"),
                            Context())["body"])
document = {"format_version": 2, "project": {"name": "uploaded"},
            "tasks": [{"id": "t1", "name": "T", "task_type": "feature", "status": "todo"}]}
objects._client().put_object(Bucket=os.environ["CHORUS_EXPORT_BUCKET"],
                             Key="imports/" + upload["upload_id"],
                             Body=json.dumps(document).encode())
started = app.app(event("POST", "/projects/import", "/projects/import",
                        {"upload_id": upload["upload_id"]}), Context())
out["import"] = started["statusCode"]
job_id = json.loads(started["body"])["id"]
image = tables.JobItem.get(job_id).serialize()
record = {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1",
          "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
          "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/smoke-jobs/stream/x",
          "dynamodb": {"ApproximateCreationDateTime": 1767225600, "Keys": {"id": image["id"]},
                       "NewImage": image, "SequenceNumber": "1", "SizeBytes": 100,
                       "StreamViewType": "NEW_IMAGE"}}
app.job_worker({"Records": [record]}, Context())
job = json.loads(app.app(event("GET", "/jobs/{job_id}", "/jobs/" + job_id, None,
                               {"job_id": job_id}), Context())["body"])
out["job"] = job["status"]
imported = job["result"]["project_id"]
out["imported"] = app.app(event("GET", "/projects/{project_id}", "/projects/" + imported, None,
                                {"project_id": imported}), Context())["statusCode"]
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    from scripts.dynamodb_local import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_the_trimmed_zip_keeps_only_the_botocore_models_it_needs(prod):
    with zipfile.ZipFile(prod.package.zip) as bundle:
        services = {name.split("/")[2] for name in bundle.namelist()
                    if name.startswith("botocore/data/") and name.count("/") >= 3}
        names = set(bundle.namelist())
    assert services == set(deploy.BOTOCORE_SERVICES)
    assert {"app.py", "chalicelib/store/tables.py", "botocore/data/endpoints.json"} <= names
    assert not any(n.startswith(("tests/", "frontend/", "infra/", "scripts/")) for n in names)


def test_the_package_answers_requests_runs_the_sweep_and_the_job_worker(prod, tmp_path,
                                                                       moto_endpoint):
    task_root = tmp_path / "task"
    with zipfile.ZipFile(prod.package.zip) as bundle:
        bundle.extractall(task_root)
    python, version = deploy.find_lambda_python()
    assert prod.package.runtime == f"python{version}"
    venv = deploy.packaging_venv(python, version, deploy.Plan(out=lambda line: None))
    env = {"PATH": "/usr/bin:/bin", "LAMBDA_TASK_ROOT": str(task_root),
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
           "CHORUS_DYNAMODB_ENDPOINT": moto_endpoint, "CHORUS_S3_ENDPOINT": moto_endpoint,
           "CHORUS_TABLE_PREFIX": "smoke-", "CHORUS_EXPORT_BUCKET": "smoke-exports",
           "CHORUS_AUTH": "off"}
    result = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", SCRIPT], env=env,
                            cwd=task_root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-5000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    assert out["create"] == 201 and out["get"] == 200 and out["upload"] == 201, out
    assert out["request_id"] == "smoke-1"
    assert set(out["sweep"]) == {"locks_removed", "jobs_woken", "projects_purged"}
    assert out["import"] == 202 and out["job"] == "succeeded" and out["imported"] == 200, out
