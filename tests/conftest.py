"""Fixtures: an in-process moto DynamoDB with Chorus's tables, and Chalice's test client."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["CHORUS_AUTH"] = "off"


@pytest.fixture
def dynamodb():
    """Fresh tables for each test (moto: single-threaded tests only)."""
    from moto import mock_aws

    from chalicelib.store import tables

    with mock_aws():
        tables.configure(endpoint=None, prefix="test-")
        tables.create_missing_tables()
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="chorus-test-exports")
        yield
        tables.configure(endpoint=None)


class ApiClient:
    """Chalice's in-process client with JSON helpers."""

    def __init__(self, client):
        self.client = client

    def request(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
        headers = {"Content-Type": "application/json", **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method, path, headers=headers, body=payload)
        try:
            response.data = json.loads(response.body) if response.body else None
        except ValueError:  # not JSON (markdown export)
            response.data = None
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


TEST_STAGE_DIR = Path(__file__).parent / "chalice_stage"


@pytest.fixture
def api(dynamodb):
    """The test client applies a stage's environment to every request: ours has auth off."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test", project_dir=str(TEST_STAGE_DIR)) as client:
        yield ApiClient(client)
