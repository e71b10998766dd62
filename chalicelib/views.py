"""Stored items as the SPEC §2 resources (plain dicts, ready for JSON)."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.clock import iso_from_ms
from chalicelib.domain.dependencies import blocker_ids
from chalicelib.domain.locks import is_live
from chalicelib.domain.readiness import (
    READINESS_STATES,
    effective_points,
    is_waiting,
    rolled_up_points,
    unsized_children,
)
from chalicelib.domain.status import STATUSES


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def lock_view(task: Any, now_ms: int) -> dict | None:
    """The live lock, or None: an expired lock is no lock."""
    if not is_live(_int(task.lock_expires_ms), now_ms):
        return None
    return {
        "task_id": task.id,
        "caller_label": task.lock_caller,
        "lock_purpose": task.lock_purpose,
        "acquired_at": task.lock_acquired_at,
        "last_heartbeat_at": task.lock_heartbeat_at,
        "expires_at": iso_from_ms(int(task.lock_expires_ms)),
        "fencing_token": int(task.fencing_token),
        "ttl_seconds": int(task.lock_ttl),
    }


def task_view(task: Any, now_ms: int) -> dict:
    lock = lock_view(task, now_ms)
    return {
        "id": task.id,
        "project_id": task.project_id,
        "parent_task_id": task.parent_task_id,
        "name": task.name,
        "description": task.description,
        "context": task.context,
        "task_type": task.task_type,
        "status": task.status,
        "priority": int(task.priority),
        "points": _int(task.points),
        "points_breakdown": json.loads(task.points_breakdown) if task.points_breakdown else None,
        "sizing_confidence": _int(task.sizing_confidence),
        "needs_refinement": bool(task.needs_refinement),
        "refinement_notes": task.refinement_notes,
        "context_captured_at": task.context_captured_at,
        "content_changed_at": task.content_changed_at,
        "position": int(task.position),
        "depth": int(task.depth),
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "effective_points": effective_points(task),
        "rolled_up_points": rolled_up_points(task),
        "unsized_children": unsized_children(task),
        "children_count": int(task.children_count),
        "readiness": task.readiness,
        "is_locked": lock is not None,
        "lock": lock,
        "blocked_by": blocker_ids(task),
        "open_blockers": int(task.open_blockers or 0),
        "waiting": is_waiting(task),
    }


def project_view(project: Any) -> dict:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
    }


def project_detail_view(project: Any, active_locks: int) -> dict:
    return {
        **project_view(project),
        "task_count": int(project.task_count),
        "points_total": int(project.points_total),
        "points_completed": int(project.points_completed),
        "status_counts": {s: int(getattr(project, f"status_{s}")) for s in STATUSES},
        "readiness_counts": {r: int(getattr(project, f"readiness_{r}"))
                             for r in READINESS_STATES},
        "active_locks": active_locks,
    }


def work_log_view(entry: Any) -> dict:
    return {
        "id": entry.id,
        "task_id": entry.task_id,
        "author": entry.author,
        "operation": entry.operation,
        "content": entry.content,
        "created_at": entry.created_at,
    }


def commit_view(commit: Any) -> dict:
    return {
        "id": commit.id,
        "task_id": commit.task_id,
        "author": commit.author,
        "commit_hash": commit.commit_hash,
        "message": commit.message,
        "committed_at": commit.committed_at,
    }
