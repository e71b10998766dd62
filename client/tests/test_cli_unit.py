"""The CLI without a server: help, settings and usage errors, and a quick start."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from chorus_client.cli.app import app

from conftest import CLIENT_BIN

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there
WORKFLOW_COMMANDS = (
    "projects", "tree", "show", "context", "next", "claim-next", "claim", "size", "breakdown", "refine",
    "complete", "log", "flag", "release", "heartbeat", "hold", "mcp",
)  # fmt: skip


def invoke(*args: str, agent: str | None = "agent-a") -> tuple[int, str, str]:
    env = {"CHORUS_URL": UNREACHABLE, "CHORUS_AGENT": agent or ""}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_every_workflow_step_and_the_exit_codes() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for name in WORKFLOW_COMMANDS:
        assert f" {name} " in out, name
    assert "Exit codes" in out


def test_help_does_not_load_the_http_client_or_the_mcp_sdk() -> None:
    probe = "import sys, chorus_client.cli.app; print(sorted({'httpx', 'mcp', 'rich.table'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
    assert subprocess.run([str(CLIENT_BIN / "chorus"), "--help"], capture_output=True, timeout=10).returncode == 0


def test_locking_without_a_caller_label_is_a_usage_error_before_any_request() -> None:
    code, _, err = invoke("claim", "t1", "sizing", "--json", agent=None)
    assert code == 2
    assert '"code": "CONFIGURATION"' in err and "CHORUS_AGENT" in err


def test_an_unreachable_server_is_exit_1_with_advice() -> None:
    code, out, err = invoke("show", "t1")
    assert code == 1 and out == ""
    assert "UNREACHABLE" in err and "Next:" in err


def test_usage_errors_exit_2() -> None:
    assert invoke("breakdown", "t1", "-m", "split")[0] == 2  # neither --subtask nor --subtasks-file
    assert invoke("tree")[0] == 2  # neither a project nor --task
    assert invoke("size", "t1", "-m", "x")[0] == 2  # the rubric is required
    assert invoke("complete", "t1", "-m", "x", "--commit", "xyz")[0] == 2  # not a commit hash
