"""The scheduled work: the lock sweep, waking stalled jobs, and purges of deleted projects."""
from __future__ import annotations

from chalicelib.clock import now_ms
from chalicelib.services.jobs import wake_stalled
from chalicelib.services.locks import sweep_expired_locks
from chalicelib.store.projects import purge_projects

PURGE_SECONDS = 40.0


def run_maintenance() -> dict:
    """Callable directly: the local server runs it every CHORUS_SWEEP_SECONDS like the
    deployed schedule does every minute."""
    return {"locks_removed": sweep_expired_locks(now_ms()),
            "jobs_woken": wake_stalled(),
            "projects_purged": purge_projects(PURGE_SECONDS)}
