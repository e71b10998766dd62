"""The fuzz suites' local server (in memory, auth off), one per worker process."""
from __future__ import annotations

import pytest

from tests.integration.helpers import LocalServer


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    server = LocalServer(tmp_path_factory.mktemp("fuzz") / "server.log").start(timeout=120)
    yield server.base
    server.stop()
