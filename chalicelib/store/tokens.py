"""Token records (hashes only)."""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.store.db import connection
from chalicelib.store.tables import TokenItem


def find(digest: str) -> TokenItem | None:
    connection()
    try:
        return TokenItem.get(digest, consistent_read=True)
    except TokenItem.DoesNotExist:
        return None


def create(digest: str, label: str, role: str, now: str) -> TokenItem:
    connection()
    record = TokenItem(digest, label=label, role=role, created_at=now)
    record.save(condition=TokenItem.token_hash.does_not_exist())
    return record


def list_all() -> list[TokenItem]:
    """Admin tool only (a handful of items): never on a request path."""
    connection()
    return sorted(TokenItem.scan(), key=lambda record: record.created_at)


def revoke(digest_prefix: str, now: str) -> TokenItem | None:
    for record in list_all():
        if record.token_hash.startswith(digest_prefix) and not record.revoked_at:
            record.update(actions=[TokenItem.revoked_at.set(now)])
            return record
    return None


def has_admin() -> bool:
    return any(r.role == "admin" and not r.revoked_at for r in list_all())


def mark_used(record: TokenItem, now: str, resolution_seconds: int) -> None:
    """At most one write a minute per token."""
    if record.last_used_at:
        last = datetime.fromisoformat(record.last_used_at.replace("Z", "+00:00"))
        current = datetime.fromisoformat(now.replace("Z", "+00:00"))
        if current - last < timedelta(seconds=resolution_seconds):
            return
    try:
        condition = (TokenItem.last_used_at.does_not_exist()
                     | (TokenItem.last_used_at == record.last_used_at))
        record.update(actions=[TokenItem.last_used_at.set(now)], condition=condition)
    except UpdateError:
        pass
