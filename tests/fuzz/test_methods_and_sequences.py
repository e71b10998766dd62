"""schemathesis's coverage phase (every undeclared method must be a 405 in the envelope,
boundary values) and stateful phase (sequences that follow the document's links from the
creates), run as the `st` command. A module of its own so that it runs beside the other fuzz
suite on parallel workers."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_unsupported_methods_and_stateful_sequences(server_url):
    """Deterministic. It found: an unknown verb answered http.server's HTML 501, and
    /tasks/available without a project in a deployment with no projects answered 500."""
    checks = ("not_a_server_error,status_code_conformance,content_type_conformance,"
              "unsupported_method,use_after_free,ensure_resource_availability")
    finished = subprocess.run(
        [str(Path(sys.executable).parent / "st"), "run", f"{server_url}/openapi.json",
         "--phases", "coverage,stateful", "--checks", checks, "--max-examples", "5",
         "--generation-deterministic", "--no-color"],
        capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout[-6000:]
