"""The MCP server in-process against a scripted API: errors become tool errors an agent can act on."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from mcp import Client

from chorus_client.mcp_server import build_server

from fakes import FakeApi, error, lock_json, task_json


def call(fake: FakeApi, name: str, arguments: dict[str, Any], agent: str | None = "agent-a") -> Any:
    async def main() -> Any:
        async with Client(build_server(fake.client(agent=agent))) as client:
            return await client.call_tool(name, arguments)

    return anyio.run(main)


def test_a_lock_conflict_says_to_pick_another_task() -> None:
    details = {"caller_label": "agent-b", "lock_purpose": "sizing", "expires_at": "2030-01-01T00:15:00Z"}
    fake = FakeApi().on("POST", "/tasks/t1/lock", error(409, "LOCK_CONFLICT", details))
    result = call(fake, "claim_task", {"task_id": "t1", "purpose": "sizing"})
    assert result.is_error
    text = result.content[0].text
    assert text.startswith("LOCK_CONFLICT: ") and "pick another task" in text and "agent-b" in text
    assert result.structured_content["error"]["request_id"] == "req-1"


def test_operations_release_the_lock_unless_asked_not_to() -> None:
    fake = FakeApi().on("POST", "/tasks/t1/complete", httpx.Response(200, json=task_json(status="done")))
    call(fake, "complete_task", {"task_id": "t1", "work_log_content": "done"})
    call(fake, "complete_task", {"task_id": "t1", "work_log_content": "done", "release_lock": False})
    sent = [request.read() for request in fake.sent("POST", "/tasks/t1/complete")]
    assert b'"release_lock":true' in sent[0] and b'"release_lock":false' in sent[1]
    assert all(b'"task_id"' not in body and b'"caller_label":"agent-a"' in body for body in sent)


def test_bad_arguments_and_a_missing_agent_are_tool_errors() -> None:
    fake = FakeApi().on("PATCH", "/tasks/t1/lock/heartbeat", httpx.Response(200, json=lock_json()))
    invalid = call(fake, "claim_next", {"operation": "cooking"})
    assert invalid.is_error and invalid.content[0].text.startswith("VALIDATION_ERROR: operation")
    anonymous = call(fake, "heartbeat", {"task_id": "t1"}, agent=None)
    assert anonymous.is_error and "CHORUS_AGENT" in anonymous.content[0].text
    assert fake.requests == []
