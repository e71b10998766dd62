"""Fuzzing against /openapi.json (schemathesis): no 5xx, every response matches its documented
schema, every 4xx uses the SPEC §5 error envelope. Bounded so that it fits CI."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from scripts.dynamodb_local import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("CHORUS_FUZZ_EXAMPLES", "8"))


def _start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "local_server.py"), "--port", str(port),
         "--in-memory", "--no-frontend"],
        env={**os.environ, "CHORUS_AUTH": "off"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/health", timeout=1).ok:
                return process, url
        except requests.RequestException:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("the local server did not start")


@pytest.fixture(scope="session")
def server_url():
    process, url = _start_server()
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


CHECKS = (
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
)


def _operations(url: str):
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_answers_as_documented(server_url):
    failures = []
    for operation in _operations(server_url):

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(base_url=server_url)
            case.validate_response(response, checks=CHECKS)
            if 400 <= response.status_code < 500:
                error = response.json()["error"]
                assert set(error) == {"code", "message", "details", "request_id"}
                headers = {name.lower(): value for name, value in response.headers.items()}
                request_id = headers["x-request-id"]
                assert error["request_id"] == (
                    request_id[0] if isinstance(request_id, list) else request_id)

        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)


def test_unsupported_methods_and_stateful_sequences(server_url):
    """schemathesis's coverage phase (every undeclared method must be a 405 in the envelope,
    boundary values) and stateful phase (sequences that follow the document's links from the
    creates), deterministic. It found: an unknown verb answered http.server's HTML 501, and
    /tasks/available without a project in a deployment with no projects answered 500."""
    checks = ("not_a_server_error,status_code_conformance,content_type_conformance,"
              "unsupported_method,use_after_free,ensure_resource_availability")
    finished = subprocess.run(
        [str(Path(sys.executable).parent / "st"), "run", f"{server_url}/openapi.json",
         "--phases", "coverage,stateful", "--checks", checks, "--max-examples", "5",
         "--generation-deterministic", "--no-color"],
        capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout[-6000:]
