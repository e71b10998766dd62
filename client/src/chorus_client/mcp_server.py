"""`chorus mcp`: the Chorus tools over MCP stdio, with the official SDK's low-level server.

The low-level server lets each tool publish its pydantic model's JSON schema as is (flat, with every
field's description), and lets an API error come back as a tool error the agent can act on.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server

from chorus_client import __version__
from chorus_client.api import ChorusClient
from chorus_client.config import Settings
from chorus_client.errors import ChorusError
from chorus_client.mcp_tools import INSTRUCTIONS, TOOLS, ChorusTool


def describe(tool: ChorusTool[Any]) -> types.Tool:
    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=tool.arguments.model_json_schema(),
        annotations=types.ToolAnnotations(read_only_hint=tool.read_only, destructive_hint=False),
    )


def error_result(error: ChorusError) -> types.CallToolResult:
    """The error as the agent should read it: what happened, then what to do about it."""
    lines = [f"{error.code}: {error.message}", f"What to do next: {error.next_step}"]
    if error.details:
        lines.append(f"Details: {json.dumps(error.details)}")
    if error.request_id:
        lines.append(f"Request id: {error.request_id}")
    return types.CallToolResult(
        content=[types.TextContent(type="text", text="\n".join(lines))],
        structured_content={"error": error.to_dict()},
        is_error=True,
    )


def build_server(client: ChorusClient) -> Server[Any]:
    tools = {tool.name: tool for tool in TOOLS}
    listing = types.ListToolsResult(tools=[describe(tool) for tool in TOOLS])

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return listing

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = tools.get(params.name)
        if tool is None:
            return error_result(ChorusError("UNKNOWN_TOOL", f"No tool named {params.name!r}; see tools/list."))
        try:
            # The client is synchronous; a worker thread keeps the stdio loop answering meanwhile.
            result = await anyio.to_thread.run_sync(tool.call, client, params.arguments or {})
        except ChorusError as error:
            return error_result(error)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(result))], structured_content=result
        )

    return Server(
        "chorus",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def serve(settings: Settings) -> None:
    """Serve until the MCP client closes stdin."""

    async def run() -> None:
        with ChorusClient(settings) as client:
            server = build_server(client)
            async with stdio_server() as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(run)
