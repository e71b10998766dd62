"""Every example in client/README.md, run against the local server.

An example is a fenced block right after `<!-- example: NAME -->`. Each NAME has a runner here that
sets the scene (a project and task for `$PROJECT` / `$TASK`), runs the block as written, and checks
what a reader would expect to have happened.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from chorus_client.api import ChorusClient, all_items
from chorus_client.errors import NotFoundError

from conftest import CLIENT_BIN
from seed import project, sized, task
from timing import record_timing

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLE = re.compile(r"<!-- example: (?P<name>[\w-]+) -->\s*```(?P<language>\w+)\n(?P<code>.*?)```", re.S)
FENCE = re.compile(r"```(?P<language>\w*)\n(?P<code>.*?)```", re.S)
README_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Example:
    name: str
    language: str
    code: str


def examples() -> dict[str, Example]:
    text = README.read_text(encoding="utf-8")
    return {m["name"]: Example(m["name"], m["language"], m["code"]) for m in EXAMPLE.finditer(text)}


def test_every_chorus_example_in_the_readme_is_marked_and_has_a_runner() -> None:
    text = README.read_text(encoding="utf-8")
    marked = {example.code for example in examples().values()}
    for fence in FENCE.finditer(text):
        code = fence["code"]
        uses_chorus = re.search(r"^chorus ", code, re.M) or "mcpServers" in code or '"tool"' in code
        if uses_chorus or "chorus_client" in code:
            assert code in marked, f"README example not marked for the tests:\n{code}"
    assert set(examples()) == set(RUNNERS), "each marked example needs exactly one runner below"


@pytest.fixture
def shell(cli_env: dict[str, str], tmp_path: Path) -> Any:
    """Runs a README shell block with bash -e in a scratch directory; `make` is a stand-in there."""
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    (stand_ins / "make").write_text('#!/bin/sh\necho "make $*: ok"\n')
    (stand_ins / "make").chmod(0o755)

    def run(code: str, **variables: str) -> subprocess.CompletedProcess[str]:
        env = {**cli_env, **variables, "PATH": f"{stand_ins}{os.pathsep}{cli_env['PATH']}"}
        script = code.replace(README_URL, cli_env["CHORUS_URL"])
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (
            f"README example failed ({done.returncode}):\n{script}\n{done.stdout}\n{done.stderr}"
        )
        return done

    return run


@dataclass(frozen=True)
class Scene:
    """What an example's runner works with: the API (to set up and check) and the shell or MCP env."""

    api: ChorusClient
    shell: Any
    env: dict[str, str]


def run_configure(example: Example, scene: Scene) -> None:
    listed = project(scene.api)
    assert listed.id in scene.shell(example.code).stdout


def run_walkthrough(example: Example, scene: Scene) -> None:
    api, shell = scene.api, scene.shell
    ready = sized(api, project(api).id, 3)
    started = time.perf_counter()
    output = shell(example.code, PROJECT=ready.project_id, TASK=ready.id)
    record_timing("walk-through, five `chorus` processes (README)", time.perf_counter() - started, 5)
    assert "make test: ok" in output.stdout
    done = api.get_task(ready.id)
    assert done.status == "done" and not done.is_locked
    assert [c.commit_hash for c in api.list_commits(ready.id).items] == ["1a2b3c4"]


def run_sizing(example: Example, scene: Scene) -> None:
    api, shell = scene.api, scene.shell
    epic = task(api, project(api).id, name="Payments")
    output = shell(example.code, PROJECT=epic.project_id, TASK=epic.id)
    after = api.get_tree(epic.id)
    assert after.points == 8 and [child.name for child in after.children] == ["Payment API", "Checkout page"]
    assert "Payment API" in output.stdout


def run_json(example: Example, scene: Scene) -> None:
    api, shell = scene.api, scene.shell
    ready = sized(api, project(api).id, 2)
    assert shell(example.code, PROJECT=ready.project_id).stdout.strip() == ready.id
    empty = project(api)
    assert "nothing claimed: exit 4" in shell(example.code, PROJECT=empty.id).stdout


def run_python(example: Example, scene: Scene) -> None:
    api, shell = scene.api, scene.shell
    ready = sized(api, project(api).id, 2)
    shell(f"{sys.executable} - <<'PYTHON'\n{example.code}PYTHON\n", PROJECT=ready.project_id)
    assert api.get_task(ready.id).status == "done"


def run_mcp_config(example: Example, scene: Scene) -> None:
    env = scene.env
    server = json.loads(example.code)["mcpServers"]["chorus"]
    command = shutil.which(server["command"], path=env["PATH"])
    assert command and Path(command).parent == CLIENT_BIN
    parameters = StdioServerParameters(
        command=command, args=server["args"], env={**env, **server["env"], "CHORUS_URL": env["CHORUS_URL"]}
    )

    async def main() -> list[str]:
        async with Client(parameters, read_timeout_seconds=60) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    assert "claim_next" in anyio.run(main)


def run_mcp_calls(example: Example, scene: Scene) -> None:
    api, env = scene.api, scene.env
    ready = sized(api, project(api).id, 2)
    calls = json.loads(example.code.replace("PROJECT_ID", ready.project_id).replace("TASK_ID", ready.id))

    async def main() -> None:
        async with Client(StdioServerParameters(command=str(CLIENT_BIN / "chorus"), args=["mcp"], env=env)) as client:
            for call in calls:
                result = await client.call_tool(call["tool"], call["arguments"])
                assert not result.is_error, result.content[0].text

    anyio.run(main)
    assert api.get_task(ready.id).status == "done"


def run_deps(example: Example, scene: Scene) -> None:
    api, shell = scene.api, scene.shell
    project_id = project(api).id
    blocker, waiter = sized(api, project_id, 2), sized(api, project_id, 3)
    output = shell(example.code, PROJECT=project_id, TASK=waiter.id, BLOCKER=blocker.id).stdout
    assert "Waits for" in output and f"“{blocker.name}” (todo, {blocker.id})" in output
    assert "blocked_by_dependencies" in output
    after = api.get_task(waiter.id)
    assert (after.blocked_by, after.readiness) == ([], "ready")
    notes = [entry.content for entry in api.list_work_log(waiter.id).items if entry.operation == "note"]
    assert len(notes) == 2 and all(blocker.id in note for note in notes)


def run_ordered_breakdown(example: Example, scene: Scene) -> None:
    api, shell = scene.api, scene.shell
    epic = sized(api, project(api).id, 8)
    shell(example.code, TASK=epic.id)
    schema, endpoint, page = api.get_tree(epic.id).children
    assert [schema.name, endpoint.name, page.name] == ["Schema", "Endpoint", "Page"]
    assert (schema.blocked_by, endpoint.blocked_by, page.blocked_by) == ([], [schema.id], [endpoint.id])


def run_activity(example: Example, scene: Scene) -> None:
    api, shell = scene.api, scene.shell
    ready = sized(api, project(api).id, 2)  # sized by this test's agent, the one $CHORUS_AGENT names
    output = shell(example.code, PROJECT=ready.project_id, TASK=ready.id).stdout
    assert f"{api.settings.agent} sized “{ready.name}”" in output
    assert "Agents, last 24 hours" in output and "Burn-up" in output


def run_jobs(example: Example, scene: Scene) -> None:
    api, shell = scene.api, scene.shell
    source = project(api)
    doomed = task(api, source.id)
    sized(api, source.id, 3)
    output = shell(example.code, PROJECT=source.id, TASK=doomed.id).stdout
    assert "Follow it with: chorus job wait " in output
    copies = [p for p in all_items(lambda offset: api.list_projects(limit=200, offset=offset)) if p.name == source.name]
    assert len(copies) in (2, 3)  # the source, its inline copy, and the upload once its job has run
    with pytest.raises(NotFoundError):
        api.get_task(doomed.id)


RUNNERS = {
    "configure": run_configure,
    "walkthrough": run_walkthrough,
    "sizing": run_sizing,
    "json": run_json,
    "python": run_python,
    "mcp-config": run_mcp_config,
    "mcp-calls": run_mcp_calls,
    "deps": run_deps,
    "ordered-breakdown": run_ordered_breakdown,
    "activity": run_activity,
    "jobs": run_jobs,
}


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_readme_example(name: str, api: ChorusClient, shell: Any, cli_env: dict[str, str]) -> None:
    RUNNERS[name](examples()[name], Scene(api, shell, cli_env))
