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
from seed import project, rubric, sized, task
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
    "add_dependency",
    "remove_dependency",
    "list_dependencies",
    "recent_activity",
}
READ_ONLY_TOOLS = {"list_projects", "show_tree", "next_tasks", "get_context", "list_dependencies", "recent_activity"}


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

        breakdown = listing["break_down_task"].input_schema
        subtasks = breakdown["properties"]["subtasks"]
        assert (subtasks["minItems"], subtasks["maxItems"]) == (1, 50)
        after = breakdown["$defs"]["SubtaskSpec"]["properties"]["after"]
        assert "earlier subtasks" in after["description"] and after["anyOf"][0]["items"]["minimum"] == 0

        assert set(listing["add_dependency"].input_schema["required"]) == {"task_id", "blocker_id"}
        activity = listing["recent_activity"].input_schema
        assert activity["required"] == ["project_id"]
        assert "completed" in activity["properties"]["kinds"]["anyOf"][0]["items"]["enum"]
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


def test_dependencies_and_activity_through_mcp(cli_env: dict[str, str], api: ChorusClient, agent: str) -> None:
    project_id = project(api).id
    schema, page = sized(api, project_id, 2), sized(api, project_id, 3)
    epic = sized(api, project_id, 8)

    async def scenario(tools: ToolCaller) -> None:
        added = await tools("add_dependency", task_id=page.id, blocker_id=schema.id)
        assert (added["blocker_id"], added["already_existed"], added["author"]) == (schema.id, False, agent)
        assert (await tools("add_dependency", task_id=page.id, blocker_id=schema.id))["already_existed"] is True

        listed = await tools("list_dependencies", task_id=page.id)
        assert (listed["waiting"], listed["readiness"]) == (True, "blocked_by_dependencies")
        assert [(b["id"], b["status"], b["open"]) for b in listed["blocked_by"]] == [(schema.id, "todo", True)]
        assert [w["name"] for w in listed["waiting_for"]] == [schema.name]
        blocking = await tools("list_dependencies", task_id=schema.id)
        assert [(b["id"], b["readiness"]) for b in blocking["blocking"]] == [(page.id, "blocked_by_dependencies")]

        context = await tools("get_context", task_id=page.id)
        assert [(w["blocker_id"], w["status"]) for w in context["waiting_for"]] == [(schema.id, "todo")]
        assert "waiting_for" not in await tools("get_context", task_id=schema.id)
        queue = await tools("next_tasks", operation="implementation", project_id=project_id)
        assert page.id not in [t["id"] for t in queue["tasks"]]

        refused = await tools.error("add_dependency", task_id=schema.id, blocker_id=page.id)
        assert refused.startswith("INVALID_DEPENDENCY:") and '"reason": "cycle"' in refused
        assert "wait for itself" in refused

        removed = await tools("remove_dependency", task_id=page.id, blocker_id=schema.id)
        assert removed["removed"] is True
        assert (await tools("list_dependencies", task_id=page.id))["readiness"] == "ready"

        await tools("claim_task", task_id=epic.id, purpose="breakdown")
        steps = [{"name": "Model", "task_type": "feature"}, {"name": "View", "task_type": "feature", "after": [0]}]
        broken = await tools("break_down_task", task_id=epic.id, work_log_content="In order", subtasks=steps)
        model, view = broken["subtasks"]
        assert view["blocked_by"] == [model["id"]] and view["waiting"] is True
        bad = [{"name": "A", "task_type": "feature", "after": [0]}]
        invalid = await tools.error("break_down_task", task_id=epic.id, work_log_content="x", subtasks=bad)
        assert invalid.startswith("VALIDATION_ERROR:") and "earlier subtasks" in invalid

        feed = await tools("recent_activity", project_id=project_id, kinds=["dependency_added", "dependency_removed"])
        assert [(e["kind"], e["task_id"], e["actor"]) for e in feed["events"]] == [
            ("dependency_added", view["id"], agent),
            ("dependency_removed", page.id, agent),
            ("dependency_added", page.id, agent),
        ]
        newest = feed["events"][0]["at"]
        recent = await tools("recent_activity", project_id=project_id, task_id=epic.id, since=newest, limit=5)
        assert {e["kind"] for e in recent["events"]} <= {"broken_down", "lock_released", "status_changed"}
        assert "broken_down" in {e["kind"] for e in recent["events"]}

    with_tools(cli_env, scenario)
