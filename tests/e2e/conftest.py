"""End-to-end fixtures: the real local server (scripts/local_server.py) as a subprocess in its
own process group, driven over real sockets. Helpers live in tests/integration/helpers.py."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
