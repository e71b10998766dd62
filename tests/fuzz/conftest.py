"""The fuzz suites' local server (in memory, auth off), one per worker process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from scripts.dynamodb_local import free_port

ROOT = Path(__file__).resolve().parents[2]


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


