"""What happened, and are we converging (SPEC §14): the activity feed, the burn-up history,
and the agents view (who is working, who is stuck or gone)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Iterator

from chalicelib.clock import normalize_iso, now_ms
from chalicelib.errors import NotFound
from chalicelib.services.common import Result, is_uuid, list_result, require_uuid
from chalicelib.store import journal
from chalicelib.store import locks as lock_store
from chalicelib.store import tasks as task_store
from chalicelib.views import lock_view

HISTORY_COUNTERS = (("points_total", "points_total"), ("points_completed", "points_completed"),
                    ("tasks_total", "task_count"), ("tasks_done", "status_done"))


def _project(project_id: str):
    project = task_store.get_project(require_uuid(project_id, "Project"))
    if project is None:
        raise NotFound("Project not found.", {"project_id": project_id})
    return project


# -- feed ---------------------------------------------------------------------------------
def _project_events(project_id: str, since: str | None) -> Iterator[dict]:
    for item in journal.iter_project_events(project_id, since):
        yield from journal.unpack(item)


def _task_events(project_id: str, task_id: str, since: str | None) -> Iterator[dict]:
    """A task's events newest first: its own items, then its creation (in the batch of the
    write that created it), also after the task was deleted."""
    if not is_uuid(task_id):
        return
    task = task_store.get_task(task_id.lower())
    if task is not None and task.project_id != project_id:
        return
    created_seq = task.created_seq if task is not None else None
    for item in journal.iter_task_events(task_id.lower(), since):
        if item.project_id != project_id:
            return
        created_seq = created_seq or item.created_seq
        yield from journal.unpack(item)
    if created_seq and (since is None or created_seq >= since):
        batch = journal.get_event_item(project_id, created_seq)
        if batch is not None:
            yield from (e for e in journal.unpack(batch) if e["task_id"] == task_id.lower())


def activity(project_id: str, offset: int, limit: int, task_id: str | None,
             actor: str | None, kinds: list[str] | None, since: datetime | None) -> Result:
    project = _project(project_id)
    since_key = normalize_iso(since) if since is not None else None
    events = (_task_events(project.id, task_id, since_key) if task_id is not None
              else _project_events(project.id, since_key))
    page, more = [], False
    for event in events:
        if actor is not None and event["actor"] != actor:
            continue
        if kinds and event["kind"] not in kinds:
            continue
        if since_key is not None and event["at"] < since_key:
            continue
        if len(page) == offset + limit:
            more = True
            break
        page.append(event)
    return list_result([_event_view(e) for e in page[offset:]], offset, more)


def _event_view(event: dict) -> dict:
    return {key: event[key] for key in ("id", "project_id", "task_id", "task_name", "kind",
                                        "actor", "at", "summary", "details")}


# -- history ------------------------------------------------------------------------------
def _today() -> date:
    return datetime.fromtimestamp(now_ms() / 1000, tz=timezone.utc).date()


def history(project_id: str, days: int) -> Result:
    """One point per UTC day, oldest first, ending today. Today's point is the project's
    counters; each earlier day is the next one minus that next day's deltas (the writes add
    them to the day item in the same transaction as the counters), so the read is O(days).
    The project is read before and after the days, and again if a write came in between."""
    for _ in range(5):
        before = _project(project_id)
        today = _today()
        first = max(today - timedelta(days=days - 1),
                    date.fromisoformat(before.created_at[:10]))
        dates = [(today - timedelta(days=n)).isoformat()
                 for n in range((today - first).days + 1)]
        items = journal.get_days(before.id, dates)
        after = _project(project_id)
        if _counters(after) == _counters(before):
            break
    values = dict(_counters(after))
    points = []
    for day in dates:  # newest first
        item = items.get(day)
        points.append({"date": day, **values, "events": int(item.events) if item else 0})
        if item is not None:
            for name, _ in HISTORY_COUNTERS:
                values[name] -= int(getattr(item, name) or 0)
    return Result(200, points[::-1])


def _counters(project) -> tuple[tuple[str, int], ...]:
    return tuple((name, int(getattr(project, field))) for name, field in HISTORY_COUNTERS)


# -- agents -------------------------------------------------------------------------------
def agents(project_id: str, hours: int) -> Result:
    """Everyone who wrote to the project in the last `hours` (or holds a lock in it now):
    when last seen, events and atomic operations done, locks that expired on them, and the
    live locks they hold."""
    project = _project(project_id)
    now = now_ms()
    start = datetime.fromtimestamp(now / 1000, tz=timezone.utc) - timedelta(hours=hours)
    rows: dict[str, dict] = {}

    def row(actor: str) -> dict:
        return rows.setdefault(actor, {"actor": actor, "last_seen_at": None, "events": 0,
                                       "operations": 0, "locks_expired": 0, "live_locks": []})

    for item in journal.iter_agent_hours(project.id, start.strftime("%Y-%m-%dT%H")):
        entry = row(item.actor)
        entry["events"] += int(item.events or 0)
        entry["operations"] += int(item.operations or 0)
        entry["locks_expired"] += int(item.locks_expired or 0)
        if item.last_seen and (entry["last_seen_at"] is None
                               or item.last_seen > entry["last_seen_at"]):
            entry["last_seen_at"] = item.last_seen
    for task in lock_store.iter_live_locks(project.id, now):
        row(task.lock_caller)["live_locks"].append(lock_view(task, now))
    ordered = sorted(rows.values(), key=lambda r: (r["last_seen_at"] or "", r["actor"]),
                     reverse=True)
    return Result(200, ordered)
