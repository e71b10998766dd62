"""GET /tasks/{id}/context: everything an agent needs to work on one task (SPEC §6)."""
from __future__ import annotations

from chalicelib.clock import now_ms
from chalicelib.domain.context import DoesNotFit, fit, stale_reasons
from chalicelib.errors import ResponseTooLarge
from chalicelib.services.common import Result, require_uuid
from chalicelib.store import records as record_store
from chalicelib.store.tasks import get_ancestors, get_live_task
from chalicelib.views import commit_view, task_view, work_log_view


def get_context(task_id: str, include_commits: bool, max_bytes: int) -> Result:
    task, project = get_live_task(require_uuid(task_id, "Task"))
    ancestors = get_ancestors(task)
    commits = record_store.list_commits(task.id) if include_commits else None
    reasons = stale_reasons(task.context_captured_at, ancestors)
    document = {
        "task": task_view(task, now_ms()),
        "project": {"id": project.id, "name": project.name, "description": project.description},
        "ancestors": [
            {"id": a.id, "name": a.name, "description": a.description, "context": a.context,
             "updated_at": a.updated_at}
            for a in ancestors
        ],
        "work_log": [work_log_view(e) for e in record_store.list_work_log(task.id)],
        "commits": None if commits is None else [commit_view(c) for c in commits],
        "context_captured_at": task.context_captured_at,
        "context_freshness": "stale" if reasons else "fresh",
        "stale_reasons": reasons,
    }
    try:
        return Result(200, fit(document, max_bytes))
    except DoesNotFit as too_big:
        raise ResponseTooLarge(
            f"Even the smallest context is {too_big.min_bytes} bytes; raise max_bytes.",
            {"min_bytes": too_big.min_bytes, "max_bytes": max_bytes},
        ) from too_big
