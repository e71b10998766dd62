"""Integration fixtures: one Amazon DynamoDB Local per test session (in memory), fresh tables
per test under a unique prefix, and the same tables on moto for the "moto and DynamoDB Local
agree" tests. moto is not safe under concurrent requests: every race test uses DynamoDB Local.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ApiClient

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STAGE_DIR = ROOT / "tests" / "chalice_stage"
BACKENDS = ("moto", "dynamodb-local")


@pytest.fixture(scope="session")
def dynamodb_local():
    """Amazon DynamoDB Local, in memory, for the whole session (stopped at the end)."""
    from scripts import dynamodb_local as ddb

    started = time.monotonic()
    database = ddb.start(None)
    database.startup_seconds = time.monotonic() - started
    try:
        yield database
    finally:
        database.stop()


@pytest.fixture
def _fast_clients(monkeypatch):
    """Each reconfiguration makes new botocore clients; share the (read-only) service-model
    loader between their sessions so that costs milliseconds, not a second. Credentials are
    still resolved per session, from the environment."""
    import botocore.session
    import pynamodb.connection.base as pynamodb_base
    from botocore.loaders import create_loader

    loader = create_loader()

    def session():
        made = botocore.session.get_session()
        made.register_component("data_loader", loader)
        return made

    monkeypatch.setattr(pynamodb_base, "get_session", session)


def _unique_prefix(request) -> str:
    return f"it-{uuid.uuid4().hex[:10]}-"


@contextmanager
def _on_dynamodb_local(database, monkeypatch, prefix):
    from chalicelib.store import tables

    restore_prefix = os.environ.get("CHORUS_TABLE_PREFIX", "chorus-")
    for key, value in database.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CHORUS_TABLE_PREFIX", prefix)
    tables.configure(endpoint=database.endpoint, prefix=prefix)
    tables.create_missing_tables()
    try:
        yield "dynamodb-local"
    finally:
        for model in tables.ALL_MODELS:
            try:
                model.delete_table()
            except Exception:  # best effort: the in-memory database goes with the session
                pass
        tables.configure(endpoint=None, prefix=restore_prefix)


@contextmanager
def _on_moto(monkeypatch, prefix):
    import boto3
    from moto import mock_aws

    from chalicelib.store import tables

    restore_prefix = os.environ.get("CHORUS_TABLE_PREFIX", "chorus-")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("CHORUS_DYNAMODB_ENDPOINT", raising=False)
    monkeypatch.setenv("CHORUS_TABLE_PREFIX", prefix)
    with mock_aws():
        tables.configure(endpoint=None, prefix=prefix)
        tables.create_missing_tables()
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="chorus-test-exports")
        try:
            yield "moto"
        finally:
            tables.configure(endpoint=None, prefix=restore_prefix)


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch, _fast_clients):
    """Fresh tables on moto or on DynamoDB Local: the same test runs on both."""
    prefix = _unique_prefix(request)
    monkeypatch.setenv("CHORUS_AUTH", "off")
    if request.param == "moto":
        with _on_moto(monkeypatch, prefix) as name:
            yield name
    else:
        database = request.getfixturevalue("dynamodb_local")
        with _on_dynamodb_local(database, monkeypatch, prefix) as name:
            yield name


@pytest.fixture
def local_backend(request, monkeypatch, dynamodb_local, _fast_clients):
    """Fresh tables on DynamoDB Local only (expiry, anything with real timing semantics)."""
    monkeypatch.setenv("CHORUS_AUTH", "off")
    with _on_dynamodb_local(dynamodb_local, monkeypatch, _unique_prefix(request)) as name:
        yield name


@pytest.fixture
def moto_backend(request, monkeypatch, _fast_clients):
    monkeypatch.setenv("CHORUS_AUTH", "off")
    with _on_moto(monkeypatch, _unique_prefix(request)) as name:
        yield name


def _client():
    from chalice.test import Client

    from app import app

    return Client(app, stage_name="test", project_dir=str(STAGE_DIR))


@pytest.fixture
def api(backend):
    """The Chalice test client over the parametrized backend."""
    with _client() as client:
        yield ApiClient(client)


@pytest.fixture
def local_api(local_backend):
    with _client() as client:
        yield ApiClient(client)


@pytest.fixture
def moto_api(moto_backend):
    with _client() as client:
        yield ApiClient(client)
