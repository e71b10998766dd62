"""The scheduled work: the lock sweep and background purges of deleted projects."""
from __future__ import annotations

from chalicelib.clock import now_ms
from chalicelib.store.locks import sweep_expired_locks
from chalicelib.store.projects import purge_projects

PURGE_SECONDS = 40.0


def run_maintenance() -> dict:
    """Callable directly: the local server runs it every minute like the deployed schedule."""
    return {"locks_removed": sweep_expired_locks(now_ms()),
            "projects_purged": purge_projects(PURGE_SECONDS)}
