"""Events and counters that writes add in their own transaction (SPEC §14), and their reads.

Items a write adds besides its tasks:
- one events item per task that recorded events (its events, in order), plus batch items for
  the tasks the write created (a breakdown creates up to 50 tasks; each created task names
  its batch in `created_seq`, so its own feed still ends with its creation);
- the project's day item (`day#YYYY-MM-DD`): deltas of the history series and the day's
  event count;
- the actor's hour item (`agent#YYYY-MM-DDTHH#<actor>`): last seen, events, operations; and
  for an expired lock, the hour item of the agent that held it (`locks_expired`).
"""
from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Iterable, Iterator

from pynamodb.expressions.condition import Condition

from chalicelib.domain.events import OPERATION_KINDS, SYSTEM, Event, summary
from chalicelib.store.db import Transaction, connection
from chalicelib.store.tables import EventItem, StatItem

EVENT_TTL_SECONDS = 90 * 24 * 3600
BATCH_BYTES = 300_000
HISTORY_FIELDS = {"points_total": "points_total", "points_completed": "points_completed",
                  "task_count": "tasks_total", "status_done": "tasks_done"}


def write_tag() -> str:
    """Distinguishes writes recorded at the same instant."""
    return uuid.uuid4().hex[:8]


def _stored(event: Event, actor: str) -> dict:
    who = event.actor or actor
    return {"id": str(uuid.uuid4()), "task_id": event.task_id, "task_name": event.task_name,
            "kind": event.kind, "actor": who,
            "summary": summary(event.kind, who, event.task_name, event.details),
            "details": event.details}


def plan_events(events: list[Event], created: set[str], actor: str, at: str,
                tag: str) -> tuple[list[EventItem], dict[str, str], str]:
    """The events items of one write, and the batch seq of every created task. `project_id`
    and TTL are set by `add_events`."""
    groups: dict[str | None, list[dict]] = {}
    batches: list[list[dict]] = []
    batch_size = 0
    for event in events:
        record = _stored(event, actor)
        if event.task_id in created:
            size = len(json.dumps(record, ensure_ascii=False).encode())
            if not batches or batch_size + size > BATCH_BYTES:
                batches.append([])
                batch_size = 0
            batches[-1].append(record)
            batch_size += size
        else:
            groups.setdefault(event.task_id, []).append(record)
    items, created_seq = [], {}
    number = 0
    for records in batches:
        seq = f"{at}#{tag}#{number:03d}"
        number += 1
        items.append(EventItem(seq=seq, events=json.dumps(records, ensure_ascii=False)))
        for record in records:
            created_seq.setdefault(record["task_id"], seq)
    for task_id, records in groups.items():
        seq = f"{at}#{tag}#{number:03d}"
        number += 1
        items.append(EventItem(seq=seq, task_id=task_id,
                               events=json.dumps(records, ensure_ascii=False)))
    return items, created_seq, tag


def add_events(tx: Transaction, project_id: str, items: list[EventItem],
               created_seq_of: dict[str, str | None], now_s: int) -> None:
    for item in items:
        item.project_id = project_id
        item.expires_at = now_s + EVENT_TTL_SECONDS
        if item.task_id is not None:
            item.created_seq = created_seq_of.get(item.task_id)
        tx.put(item, f"events:{item.seq}")


def add_counters(tx: Transaction, project_id: str, at: str, actor: str,
                 project_deltas: dict[str, int], events: list[Event]) -> None:
    """The day's history deltas and the actors' hour items."""
    day = {HISTORY_FIELDS[f]: v for f, v in project_deltas.items() if f in HISTORY_FIELDS}
    if events:
        day["events"] = len(events)
    if day:
        tx.update(StatItem(project_id, f"day#{at[:10]}"),
                  [getattr(StatItem, field).add(value) for field, value in day.items()],
                  f"stats:day")
    mine = [e for e in events if (e.actor or actor) == actor]
    if actor != SYSTEM:
        actions = [StatItem.actor.set(actor), StatItem.last_seen.set(at)]
        if mine:
            actions.append(StatItem.events.add(len(mine)))
        operations = sum(1 for e in mine if e.kind in OPERATION_KINDS)
        if operations:
            actions.append(StatItem.operations.add(operations))
        tx.update(StatItem(project_id, _agent_key(at, actor)), actions, "stats:actor")
    expired = Counter(e.holder for e in events if e.kind == "lock_expired" and e.holder)
    for holder, count in expired.items():  # a separate item: the holder may be this actor
        tx.update(StatItem(project_id, _agent_key(at, holder, "expired")),
                  [StatItem.actor.set(holder), StatItem.locks_expired.add(count)],
                  f"stats:expired:{holder}")


def _agent_key(at: str, actor: str, part: str = "seen") -> str:
    return f"agent#{at[:13]}#{part}#{actor}"


# -- reads --------------------------------------------------------------------------------
def iter_project_events(project_id: str, since: str | None) -> Iterator[EventItem]:
    """Newest first; items hold one write's events for one task (or a creation batch)."""
    connection()
    condition: Condition | None = EventItem.seq >= since if since else None
    yield from EventItem.query(project_id, range_key_condition=condition,
                               scan_index_forward=False, consistent_read=True, page_size=50)


def iter_task_events(task_id: str, since: str | None) -> Iterator[EventItem]:
    connection()
    condition = EventItem.seq >= since if since else None
    yield from EventItem.by_task.query(task_id, range_key_condition=condition,
                                       scan_index_forward=False, page_size=50)


def get_event_item(project_id: str, seq: str) -> EventItem | None:
    connection()
    try:
        return EventItem.get(project_id, seq, consistent_read=True)
    except EventItem.DoesNotExist:
        return None


def unpack(item: EventItem) -> list[dict]:
    """The item's events as the API shows them, newest first."""
    at = item.seq.split("#", 1)[0]
    return [{**record, "project_id": item.project_id, "at": at}
            for record in reversed(json.loads(item.events))]


def day_keys(days: Iterable[str]) -> list[str]:
    return [f"day#{day}" for day in days]


def get_days(project_id: str, days: list[str]) -> dict[str, StatItem]:
    """The day items that exist among `days` (YYYY-MM-DD), one BatchGetItem per 100."""
    connection()
    keys = [(project_id, key) for key in day_keys(days)]
    found = {}
    for start in range(0, len(keys), 100):
        for item in StatItem.batch_get(keys[start:start + 100], consistent_read=True):
            found[item.key[4:]] = item
    return found


def iter_agent_hours(project_id: str, from_hour: str) -> Iterator[StatItem]:
    """Actor hour items from `from_hour` (YYYY-MM-DDTHH) on."""
    connection()
    yield from StatItem.query(project_id, range_key_condition=StatItem.key.between(
        f"agent#{from_hour}", "agent#\uffff"), consistent_read=True)
