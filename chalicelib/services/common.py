"""What every service shares: the caller, results, ids, paging, idempotent writes."""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from chalicelib.errors import NotFound
from chalicelib.store.db import Transaction, retrying
from chalicelib.store.records import IdempotencyClaim, add_idempotency, find_replay
from chalicelib.store.tasks import commit

RESPONSE_LIMIT = 6_000_000


@dataclass(frozen=True)
class Caller:
    """Who is asking: a token's label and role, or anonymous when auth is off."""
    label: str | None = None
    role: str = "anonymous"
    scope: str = "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.role in ("admin", "anonymous")


@dataclass
class Call:
    """One request as the services see it."""
    caller: Caller
    method: str = "GET"
    path: str = "/"
    idempotency_key: str | None = None
    body: dict | None = None


@dataclass
class Result:
    status: int
    body: Any  # JSON-able value, or already-serialized JSON text (a replay)
    headers: dict[str, str] = field(default_factory=dict)


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, AttributeError):
        return False


def require_uuid(value: str, kind: str) -> str:
    """A malformed id is simply not found."""
    if not is_uuid(value):
        raise NotFound(f"{kind} not found.", {f"{kind.lower()}_id": value})
    return value.lower()


def page_headers(offset: int, returned: int, more: bool) -> dict[str, str]:
    return {"X-Next-Offset": str(offset + returned)} if more else {}


def fit_page(items: list[dict], limit_bytes: int = RESPONSE_LIMIT - 1024) -> list[dict]:
    """End a page early rather than pass the response limit (the client goes on from the
    X-Next-Offset header)."""
    size, kept = 2, []
    for item in items:
        size += len(json.dumps(item, ensure_ascii=False).encode()) + 1
        if size > limit_bytes and kept:
            break
        kept.append(item)
    return kept


def list_result(items: list[dict], offset: int, more: bool) -> Result:
    kept = fit_page(items)
    more = more or len(kept) < len(items)
    return Result(200, kept, page_headers(offset, len(kept), more))


# -- idempotent writes --------------------------------------------------------------------
def _claim(call: Call, project_id: str | None = None) -> IdempotencyClaim | None:
    if not call.idempotency_key:
        return None
    scope = json.dumps([call.caller.scope, call.method, call.path, call.idempotency_key])
    body = json.dumps(call.body, sort_keys=True, separators=(",", ":"))
    return IdempotencyClaim(
        key=hashlib.sha256(scope.encode()).hexdigest(),
        request_hash=hashlib.sha256(body.encode()).hexdigest(),
        project_id=project_id,
    )


def write(call: Call, attempt: Callable[[], Result]) -> Result:
    """Run a write until it commits; with an Idempotency-Key, a recorded response replays."""
    claim = _claim(call)

    def once() -> Result:
        if claim is not None:
            replay = find_replay(claim, int(time.time()))
            if replay is not None:
                # a first response too large to keep (over ~350 KB compressed) replays as a
                # bare acknowledgement: the work is never done twice (docs/decisions.md)
                body = replay.body if replay.body is not None else '{"replayed":true}'
                return Result(replay.status, body, {"Idempotent-Replayed": "true"})
        return attempt()

    return retrying(once)


def add_claim(call: Call, tx: Transaction, result: Result, project_id: str | None) -> None:
    """Put the idempotency record of this response into the operation's transaction."""
    claim = _claim(call, project_id)
    if claim is not None:
        body = result.body if isinstance(result.body, str) else json.dumps(
            result.body, ensure_ascii=False, separators=(",", ":"))
        add_idempotency(tx, claim, result.status, body, int(time.time()))


def commit_with(call: Call, tx: Transaction, result: Result, project_id: str | None) -> Result:
    """Commit the transaction, with the idempotency record of this response inside it."""
    add_claim(call, tx, result, project_id)
    commit(tx)
    return result
