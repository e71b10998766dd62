"""`chorus mcp` as a subprocess, driven by the MCP SDK's own client over stdio."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from chorus_client.api import ChorusClient
from chorus_client.config import Settings
from chorus_client.vocabulary import DIMENSIONS

from conftest import CLIENT_BIN
from seed import project, rubric, task
from timing import record_timing

pytestmark = pytest.mark.integration

EXPECTED_TOOLS = {
    "list_projects",
    "show_tree",
    "next_tasks",
    "claim_next",
    "claim_task",
    "get_context",
    "size_task",
    "break_down_task",
    "refine_task",
    "complete_task",
    "add_work_log_note",
    "flag_for_refinement",
    "heartbeat",
    "release_lock",
}
READ_ONLY_TOOLS = {"list_projects", "show_tree", "next_tasks", "get_context"}


def chorus_mcp(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=str(CLIENT_BIN / "chorus"), args=["mcp"], env=env)


class ToolCaller:
    """Calls tools the way an agent reads them: the text content, parsed as JSON."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.calls = 0

    async def __call__(self, name: str, **arguments: Any) -> Any:
        self.calls += 1
        result = await self.client.call_tool(name, arguments)
        assert not result.is_error, f"{name}({arguments}) failed: {result.content[0].text}"
        return json.loads(result.content[0].text)

    async def error(self, name: str, **arguments: Any) -> str:
        result = await self.client.call_tool(name, arguments)
        assert result.is_error, f"{name}({arguments}) should have failed"
        return result.content[0].text


def with_tools(env: dict[str, str], scenario: Callable[[ToolCaller], Awaitable[None]]) -> None:
    async def main() -> None:
        async with Client(chorus_mcp(env), read_timeout_seconds=60) as client:
            await scenario(ToolCaller(client))

    anyio.run(main)


def test_the_tools_are_listed_with_their_schemas(cli_env: dict[str, str]) -> None:
    async def scenario(tools: ToolCaller) -> None:
        listing = {tool.name: tool for tool in (await tools.client.list_tools()).tools}
        assert set(listing) == EXPECTED_TOOLS
        for tool in listing.values():
            assert len(tool.description) > 40, tool.name
            assert tool.input_schema["additionalProperties"] is False, tool.name
            assert "caller_label" not in tool.input_schema["properties"], "the server signs with CHORUS_AGENT"
            assert tool.annotations.read_only_hint is (tool.name in READ_ONLY_TOOLS), tool.name

        size = listing["size_task"].input_schema
        assert {"task_id", "confidence", "work_log_content", *DIMENSIONS} <= set(size["required"])
        score = size["$defs"]["DimensionScore"]["properties"]["score"]
        assert (score["minimum"], score["maximum"]) == (0, 2)
        assert (size["properties"]["confidence"]["minimum"], size["properties"]["confidence"]["maximum"]) == (0, 5)
        assert size["properties"]["release_lock"]["default"] is True

        subtasks = listing["break_down_task"].input_schema["properties"]["subtasks"]
        assert (subtasks["minItems"], subtasks["maxItems"]) == (1, 50)
        claim = listing["claim_next"].input_schema["properties"]["operation"]
        assert set(claim["enum"]) == {"sizing", "breakdown", "implementation", "refinement"}

    with_tools(cli_env, scenario)


def test_the_pipeline_through_mcp_ends_with_the_epic_done(cli_env: dict[str, str], api: ChorusClient) -> None:
    project_id = project(api).id
    epic = task(api, project_id, name="Search epic")
    timings: dict[str, float] = {}

    async def scenario(tools: ToolCaller) -> None:
        started = time.perf_counter()
        assert project_id in [p["id"] for p in (await tools("list_projects"))["projects"]]
        claim = await tools("claim_next", operation="sizing", project_id=project_id)
        assert claim["task"]["id"] == epic.id
        await tools("get_context", task_id=epic.id)
        sized = await tools("size_task", task_id=epic.id, work_log_content="Needs splitting", **rubric(8))
        assert sized["readiness"] == "needs_breakdown" and sized["is_locked"] is False

        await tools("claim_next", operation="breakdown", project_id=project_id)
        subtasks = [{"name": "Index", "task_type": "feature"}, {"name": "Query page", "task_type": "feature"}]
        broken = await tools("break_down_task", task_id=epic.id, subtasks=subtasks, work_log_content="By layer")
        assert len(broken["subtasks"]) == 2

        for _ in subtasks:
            claim = await tools("claim_next", operation="sizing", project_id=project_id)
            await tools("size_task", task_id=claim["task"]["id"], work_log_content="Small", **rubric(3))

        for sha in ("0a1b2c3", "4d5e6f7"):
            claim = await tools("claim_next", operation="implementation", project_id=project_id)
            task_id = claim["task"]["id"]
            await tools("heartbeat", task_id=task_id)
            await tools("add_work_log_note", task_id=task_id, content="Tests first")
            done = await tools(
                "complete_task", task_id=task_id, work_log_content="Done", commits=[{"commit_hash": sha}]
            )
            assert done["status"] == "done"
        timings["pipeline"] = time.perf_counter() - started
        timings["pipeline_calls"] = tools.calls

        (tree,) = (await tools("show_tree", project_id=project_id))["trees"]
        assert tree["id"] == epic.id and tree["status"] == "done"
        assert "QUEUE_EMPTY" in await tools.error("claim_next", operation="implementation", project_id=project_id)
        timings["calls"] = tools.calls

    started = time.perf_counter()
    with_tools(cli_env, scenario)
    record_timing("golden path, MCP tool calls over stdio", timings["pipeline"], int(timings["pipeline_calls"]))
    record_timing("golden path, MCP incl. starting `chorus mcp`", time.perf_counter() - started, int(timings["calls"]))
    assert api.get_task(epic.id).status == "done"


def test_api_errors_come_back_as_tool_errors_saying_what_to_do(
    cli_env: dict[str, str], api: ChorusClient, server_url: str
) -> None:
    taken = task(api, project(api).id)
    with ChorusClient(Settings(url=server_url, agent="rival-agent")) as rival:
        rival.acquire_lock(taken.id, "sizing")

    async def scenario(tools: ToolCaller) -> None:
        conflict = await tools.error("claim_task", task_id=taken.id, purpose="sizing")
        assert conflict.startswith("LOCK_CONFLICT:") and "pick another task" in conflict and "rival-agent" in conflict
        invalid = await tools.error("size_task", task_id=taken.id, work_log_content="x", confidence=9)
        assert invalid.startswith("VALIDATION_ERROR:") and "confidence" in invalid

    with_tools(cli_env, scenario)
