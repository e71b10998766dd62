"""Work-log entries, commits and idempotency records."""
from __future__ import annotations

import base64
import uuid
import zlib
from dataclasses import dataclass
from typing import Iterable

from chalicelib.store.db import Transaction, connection
from chalicelib.store.tables import CommitItem, IdempotencyItem, WorkLogItem

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
IDEMPOTENCY_TAG = "idempotency"
_STORED_BODY_LIMIT = 350_000


# -- work log -----------------------------------------------------------------------------
def new_log_entry(task, author: str, operation: str, content: str, at: str,
                  entry_id: str | None = None) -> WorkLogItem:
    entry_id = entry_id or str(uuid.uuid4())
    sort_key = f"{at}#{entry_id}"
    return WorkLogItem(task.id, sort_key, id=entry_id, project_id=task.project_id,
                       author=author, operation=operation, content=content, created_at=at,
                       path_key=f"{task.path}#{sort_key}")


def add_work_log(tx: Transaction, entry: WorkLogItem) -> None:
    tx.put(entry, f"log:{entry.id}", condition=WorkLogItem.sort_key.does_not_exist())


def list_work_log(task_id: str) -> list[WorkLogItem]:
    """Oldest first (the sort key starts with created_at)."""
    connection()
    return list(WorkLogItem.query(task_id, consistent_read=True))


# -- commits ------------------------------------------------------------------------------
def new_commit(task, commit_id: str, commit_hash: str, author: str, message: str | None,
               committed_at: str, recorded_at: str) -> CommitItem:
    commit_hash = commit_hash.lower()
    return CommitItem(task.id, commit_hash, id=commit_id, project_id=task.project_id,
                      author=author, message=message, committed_at=committed_at,
                      recorded_at=recorded_at, path_key=f"{task.path}#{commit_hash}")


def add_commit(tx: Transaction, commit: CommitItem) -> None:
    tx.put(commit, f"commit:{commit.commit_hash}",
           condition=CommitItem.commit_hash.does_not_exist())


def get_commits(task_id: str, hashes: Iterable[str]) -> dict[str, CommitItem]:
    keys = [(task_id, h) for h in dict.fromkeys(hashes)]
    if not keys:
        return {}
    connection()
    return {c.commit_hash: c for c in CommitItem.batch_get(keys, consistent_read=True)}


def list_commits(task_id: str) -> list[CommitItem]:
    """Oldest `committed_at` first, ties in recording order."""
    connection()
    commits = list(CommitItem.query(task_id, consistent_read=True))
    return sorted(commits, key=lambda c: (c.committed_at, c.recorded_at))


def delete_subtree_records(project_id: str, path: str) -> int:
    """Every work-log entry and commit of the tasks in a subtree: range reads of the
    records' path index and BatchWriteItem, never a query per task."""
    connection()
    removed = 0
    for model in (WorkLogItem, CommitItem):
        with model.batch_write() as batch:
            for item in model.by_path.query(
                    project_id, range_key_condition=model.path_key.startswith(path)):
                batch.delete(item)
                removed += 1
    return removed


# -- idempotency --------------------------------------------------------------------------
@dataclass(frozen=True)
class IdempotencyClaim:
    key: str
    request_hash: str
    project_id: str | None = None


@dataclass(frozen=True)
class Replay:
    status: int
    body: str | None  # None: the first response was too large to keep; answer afresh


def find_replay(claim: IdempotencyClaim, now_s: int) -> Replay | None:
    """The recorded response for this key, unless it expired (TTL deletion can lag)."""
    connection()
    try:
        record = IdempotencyItem.get(claim.key, consistent_read=True)
    except IdempotencyItem.DoesNotExist:
        return None
    if record.expires_at <= now_s:
        return None
    from chalicelib.errors import IdempotencyKeyReused

    if record.request_hash != claim.request_hash:
        raise IdempotencyKeyReused(details={"first_status": int(record.status_code)})
    body = zlib.decompress(base64.b64decode(record.body)).decode() if record.body else None
    return Replay(int(record.status_code), body)


def add_idempotency(tx: Transaction, claim: IdempotencyClaim, status: int, body: str,
                    now_s: int) -> None:
    """Recorded in the operation's own transaction: exactly once, or not at all."""
    packed = base64.b64encode(zlib.compress(body.encode(), 6)).decode()
    record = IdempotencyItem(
        claim.key,
        request_hash=claim.request_hash,
        status_code=status,
        body=packed if len(packed) <= _STORED_BODY_LIMIT else "",
        expires_at=now_s + IDEMPOTENCY_TTL_SECONDS,
        project_id=claim.project_id,
    )
    tx.put(record, IDEMPOTENCY_TAG,
           condition=IdempotencyItem.key.does_not_exist() | (IdempotencyItem.expires_at <= now_s))
