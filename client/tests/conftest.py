"""Fixtures: a real Chorus API (scripts/local_server.py, started here) and timing of golden paths.

The server runs in its own process group on a free port, in memory, with auth off and a 3 s
refinement-lock TTL (for the `hold` tests); the other lock TTLs keep their defaults so that slow
steps never lose a lock. Its sweep (expired locks, stalled background jobs) runs every 5 s instead
of every minute, so a job never waits long for it. It is stopped, group and all, at the end of the
session.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from chorus_client.api import ChorusClient
from chorus_client.cli.app import app
from chorus_client.config import Settings

from clirun import Chorus, Ran, checked
from seed import unique
from timing import TIMINGS

REPO = Path(__file__).resolve().parents[2]
CLIENT_BIN = Path(sys.executable).parent
SHORT_TTL_SECONDS = 3
SWEEP_SECONDS = 5
STARTUP_TIMEOUT_SECONDS = 120


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("golden-path timings")
        for name, line in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {line}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    port = _free_port()
    python = REPO / ".venv" / "bin" / "python"
    command = [
        str(python),
        "scripts/local_server.py",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--in-memory",
        "--no-frontend",
    ]
    env = {
        **os.environ,
        "CHORUS_AUTH": "off",
        "CHORUS_LOCK_TTL_REFINEMENT": str(SHORT_TTL_SECONDS),
        "CHORUS_SWEEP_SECONDS": str(SWEEP_SECONDS),
    }
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_healthy(url, process, log)
            yield url
        finally:
            _stop(process)


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: tempfile._TemporaryFileWrapper) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"local server exited with {process.returncode}:\n{_tail(log)}", pytrace=False)
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"local server gave no /health in {STARTUP_TIMEOUT_SECONDS}s:\n{_tail(log)}", pytrace=False)


def _tail(log: tempfile._TemporaryFileWrapper) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-10000:]


@pytest.fixture
def agent() -> str:
    return unique("agent")


@pytest.fixture
def api(server_url: str, agent: str) -> Iterator[ChorusClient]:
    """A client acting as this test's agent."""
    with ChorusClient(Settings(url=server_url, agent=agent)) as client:
        yield client


@pytest.fixture
def cli_env(server_url: str, agent: str) -> dict[str, str]:
    """Environment for `chorus` run as this test's agent; the venv's bin first, so `chorus` resolves."""
    return {
        **os.environ,
        "CHORUS_URL": server_url,
        "CHORUS_AGENT": agent,
        "PATH": f"{CLIENT_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


@pytest.fixture
def chorus(cli_env: dict[str, str]) -> Chorus:
    """Run `chorus ARGS` in-process through typer's runner as this test's agent (`agent=`: another)."""
    runner = CliRunner()

    def run(*args: str, agent: str | None = None, expect: int = 0) -> Ran:
        result = runner.invoke(app, list(args), env={**cli_env, "CHORUS_AGENT": agent or cli_env["CHORUS_AGENT"]})
        return checked(args, Ran(result.exit_code, result.stdout, result.stderr), expect)

    return run
