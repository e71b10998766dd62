"""Fuzzing against /openapi.json (schemathesis): no 5xx, every response matches its documented
schema, every 4xx uses the error envelope. Bounded so that it fits CI."""
from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings

EXAMPLES = int(os.environ.get("CHORUS_FUZZ_EXAMPLES", "8"))


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

