"""Server-Timing on every response and one JSON log line per request, without bodies."""
from __future__ import annotations

import json
import logging
import re

import pytest

from tests.api.helpers import MISSING_ID, get, ok, project, task

SERVER_TIMING = re.compile(r'^db;dur=(\d+(?:\.\d+)?);desc="(\d+) requests, (\d+) items"$')
LOG_FIELDS = {"request_id", "method", "route", "status", "latency_ms", "dynamodb_requests",
              "dynamodb_items"}


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    logger = logging.getLogger("chorus")
    handler = Lines()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def timing(response):
    match = SERVER_TIMING.match(response.headers["Server-Timing"])
    assert match, response.headers["Server-Timing"]
    return float(match[1]), int(match[2]), int(match[3])


def test_server_timing_on_success_and_error_responses(api):
    pid = project(api)["id"]
    t = task(api, pid)
    for response in (api.get("/health"), api.get(f"/tasks/{t['id']}"),
                     api.get(f"/tasks/{MISSING_ID}"), api.post("/projects", raw=b"["),
                     api.request("DELETE", "/health"), api.get("/openapi.json")):
        timing(response)
    assert timing(api.get("/health"))[1:] == (0, 0)
    assert timing(api.get(f"/tasks/{t['id']}"))[1:] == (2, 2)
    duration, requests, items = timing(api.get(f"/tasks/{MISSING_ID}"))
    assert requests >= 1 and items == 0


def test_server_timing_counts_items_read_by_a_query(api):
    pid = project(api)["id"]
    for i in range(5):
        task(api, pid, f"T{i}", points=1)
    _, requests, items = timing(api.get(f"/projects/{pid}/backlog?limit=3"))
    assert requests >= 3            # the project, the index, the page's tasks
    assert 1 + 3 + 3 <= items <= 1 + 5 + 3  # the project, index entries, the page


def test_one_json_log_line_per_request_without_bodies(api, log_lines):
    secret_in = "request-body-secret-text"
    pid = project(api, "Logged", description=secret_in)["id"]
    t = task(api, pid, "Named task", description="response-body-secret-text")
    log_lines.clear()
    responses = [api.get(f"/tasks/{t['id']}", headers={"X-Request-ID": "trace-me.1"}),
                 api.put(f"/tasks/{t['id']}", {"context": "put-body-secret-text"}),
                 api.get(f"/tasks/{MISSING_ID}"),
                 api.post("/projects", {"name": ""})]
    assert len(log_lines) == len(responses)
    for line, response in zip(log_lines, responses):
        entry = json.loads(line)
        assert set(entry) >= LOG_FIELDS, entry
        assert entry["request_id"] == response.headers["X-Request-ID"]
        assert entry["status"] == response.status_code
        assert "\n" not in line
    first = json.loads(log_lines[0])
    assert first["request_id"] == "trace-me.1"
    assert (first["method"], first["route"]) == ("GET", "/tasks/{task_id}")
    assert first["dynamodb_requests"] == 2 and first["dynamodb_items"] == 2
    everything = "\n".join(log_lines)
    for secret in (secret_in, "response-body-secret-text", "put-body-secret-text",
                   "Named task"):
        assert secret not in everything


def test_log_lines_of_error_responses_carry_the_request_id(api, log_lines):
    response = api.patch(f"/tasks/{MISSING_ID}/status", {"status": "doing"},
                         headers={"X-Request-ID": "err-42"})
    assert response.status_code == 404
    (line,) = log_lines
    entry = json.loads(line)
    assert entry["request_id"] == "err-42" and entry["status"] == 404


def test_server_timing_duration_is_the_time_spent_in_dynamodb(api):
    pid = project(api)["id"]
    t = task(api, pid)
    duration, requests, _ = timing(api.get(f"/tasks/{t['id']}"))
    assert requests == 2 and 0 <= duration < 10_000
    assert get(api, t["id"])["id"] == t["id"]
    assert ok(api.get("/health"))["status"] == "ok"
