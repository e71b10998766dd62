"""The DynamoDB tables and indexes, as pynamodb models: the one source of table definitions.

Local table creation (scripts/local_server.py, tests) and the infra template both derive from
these classes. docs/data-model.md explains every attribute and access pattern.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib import config


class _Meta:
    billing_mode = "PAY_PER_REQUEST"


def _meta(name: str) -> type:
    return type(
        "Meta",
        (_Meta,),
        {"base_name": name, "table_name": config.table_prefix() + name,
         "host": config.dynamodb_endpoint(), "region": config.region()},
    )


def _index_meta(name: str, projection) -> type:
    return type("Meta", (), {"index_name": name, "projection": projection})


class ProjectsByList(GlobalSecondaryIndex):
    """Live projects (`list_key` = "projects") oldest first, and pending purges ("purge")."""
    Meta = _index_meta("by-list", AllProjection())
    list_key = UnicodeAttribute(hash_key=True)
    list_sort = UnicodeAttribute(range_key=True)


class ProjectItem(Model):
    """A project with the counters its detail view needs, kept current by every write."""
    Meta = _meta("projects")
    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    list_key = UnicodeAttribute(null=True)
    list_sort = UnicodeAttribute(null=True)
    # counters (ADD-updated inside the task writes' transactions)
    task_count = NumberAttribute(default=0)
    status_todo = NumberAttribute(default=0)
    status_doing = NumberAttribute(default=0)
    status_done = NumberAttribute(default=0)
    status_wont_do = NumberAttribute(default=0)
    readiness_needs_refinement = NumberAttribute(default=0)
    readiness_blocked_by_children = NumberAttribute(default=0)
    readiness_needs_sizing = NumberAttribute(default=0)
    readiness_needs_breakdown = NumberAttribute(default=0)
    readiness_ready = NumberAttribute(default=0)
    points_total = NumberAttribute(default=0)
    points_completed = NumberAttribute(default=0)
    top_level_count = NumberAttribute(default=0)  # top-level tasks: the next free position
    by_list = ProjectsByList()


class TasksByParent(GlobalSecondaryIndex):
    """Children of a task (or top-level tasks of a project) in position order."""
    Meta = _index_meta("by-parent", AllProjection())
    parent_key = UnicodeAttribute(hash_key=True)
    position = NumberAttribute(range_key=True)


class TasksByPath(GlobalSecondaryIndex):
    """A subtree is one key range: `path` is the ancestor ids and the task's id joined by '/'."""
    Meta = _index_meta("by-path", AllProjection())
    project_id = UnicodeAttribute(hash_key=True)
    path = UnicodeAttribute(range_key=True)


class TasksByQueueScope(GlobalSecondaryIndex):
    """Sparse: the operation queue of a task within its project, in the default order."""
    Meta = _index_meta("by-queue-scope", AllProjection())
    queue_scope = UnicodeAttribute(hash_key=True)
    queue_sort = UnicodeAttribute(range_key=True)


class TasksByQueueOp(GlobalSecondaryIndex):
    """Sparse: the same operation queues across all projects."""
    Meta = _index_meta("by-queue-op", AllProjection())
    queue_op = UnicodeAttribute(hash_key=True)
    queue_sort = UnicodeAttribute(range_key=True)


class TasksByBoard(GlobalSecondaryIndex):
    """Sparse: the project's backlog (todo and ready) and in-progress (doing) lists."""
    Meta = _index_meta("by-board", AllProjection())
    board_key = UnicodeAttribute(hash_key=True)
    queue_sort = UnicodeAttribute(range_key=True)


class LocksByProject(GlobalSecondaryIndex):
    """Sparse: the tasks of a project that carry a lock record, by expiry."""
    Meta = _index_meta("locks-by-project", AllProjection())
    lock_scope = UnicodeAttribute(hash_key=True)
    lock_expires_ms = NumberAttribute(range_key=True)


class LocksByExpiry(GlobalSecondaryIndex):
    """Sparse: every task carrying a lock record, by expiry (the lock list and the sweep)."""
    Meta = _index_meta("locks-by-expiry", AllProjection())
    lock_all = UnicodeAttribute(hash_key=True)
    lock_expires_ms = NumberAttribute(range_key=True)


class TaskItem(Model):
    """A task, its stored aggregates over its children, its lock, and its index keys."""
    Meta = _meta("tasks")
    id = UnicodeAttribute(hash_key=True)
    project_id = UnicodeAttribute()
    parent_task_id = UnicodeAttribute(null=True)
    ancestor_ids = ListAttribute(of=UnicodeAttribute, default=list)
    parent_key = UnicodeAttribute()
    path = UnicodeAttribute()
    depth = NumberAttribute(default=0)
    position = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    # stored fields of the SPEC's Task
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    context = UnicodeAttribute(null=True)
    task_type = UnicodeAttribute()
    status = UnicodeAttribute()
    priority = NumberAttribute(default=0)
    points = NumberAttribute(null=True)
    points_breakdown = UnicodeAttribute(null=True)  # JSON text
    sizing_confidence = NumberAttribute(null=True)
    needs_refinement = BooleanAttribute(default=False)
    refinement_notes = UnicodeAttribute(null=True)
    context_captured_at = UnicodeAttribute(null=True)
    content_changed_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # aggregates over direct children (see chalicelib.domain.rollup)
    children_count = NumberAttribute(default=0)
    counted_children = NumberAttribute(default=0)
    sized_children = NumberAttribute(default=0)
    rolled_sum = NumberAttribute(default=0)
    open_children = NumberAttribute(default=0)
    done_children = NumberAttribute(default=0)
    open_descendants = NumberAttribute(default=0)
    completed_sum = NumberAttribute(default=0)
    readiness = UnicodeAttribute()
    # queue index keys (absent when the task is in no such queue)
    queue_scope = UnicodeAttribute(null=True)
    queue_op = UnicodeAttribute(null=True)
    board_key = UnicodeAttribute(null=True)
    queue_sort = UnicodeAttribute(null=True)
    # the lock record (absent when there is none; an expired one is no lock)
    lock_caller = UnicodeAttribute(null=True)
    lock_purpose = UnicodeAttribute(null=True)
    lock_acquired_at = UnicodeAttribute(null=True)
    lock_heartbeat_at = UnicodeAttribute(null=True)
    lock_expires_ms = NumberAttribute(null=True)
    lock_ttl = NumberAttribute(null=True)
    lock_scope = UnicodeAttribute(null=True)
    lock_all = UnicodeAttribute(null=True)
    fencing_token = NumberAttribute(default=0)

    by_parent = TasksByParent()
    by_path = TasksByPath()
    by_queue_scope = TasksByQueueScope()
    by_queue_op = TasksByQueueOp()
    by_board = TasksByBoard()
    locks_by_project = LocksByProject()
    locks_by_expiry = LocksByExpiry()


class RecordsByProject(GlobalSecondaryIndex):
    """A project's log entries or commits, for export and the purge."""
    Meta = _index_meta("by-project", AllProjection())
    project_id = UnicodeAttribute(hash_key=True)


class KeysByProject(GlobalSecondaryIndex):
    """A project's idempotency records, for the purge."""
    Meta = _index_meta("by-project", KeysOnlyProjection())
    project_id = UnicodeAttribute(hash_key=True)


class WorkLogItem(Model):
    Meta = _meta("work-log")
    task_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # created_at#id: oldest first
    id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    author = UnicodeAttribute()
    operation = UnicodeAttribute()
    content = UnicodeAttribute()
    created_at = UnicodeAttribute()
    by_project = RecordsByProject()


class CommitItem(Model):
    Meta = _meta("commits")
    task_id = UnicodeAttribute(hash_key=True)
    commit_hash = UnicodeAttribute(range_key=True)  # lowercase: one record per hash and task
    id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    author = UnicodeAttribute()
    message = UnicodeAttribute(null=True)
    committed_at = UnicodeAttribute()
    recorded_at = UnicodeAttribute()
    by_project = RecordsByProject()


class IdempotencyItem(Model):
    Meta = _meta("idempotency")
    key = UnicodeAttribute(hash_key=True)  # sha256 of caller, method, path and the client's key
    request_hash = UnicodeAttribute()
    status_code = NumberAttribute()
    body = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute
    project_id = UnicodeAttribute(null=True)
    by_project = KeysByProject()


class TokenItem(Model):
    Meta = _meta("tokens")
    token_hash = UnicodeAttribute(hash_key=True)
    label = UnicodeAttribute()
    role = UnicodeAttribute()
    created_at = UnicodeAttribute()
    last_used_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    ProjectItem, TaskItem, WorkLogItem, CommitItem, IdempotencyItem, TokenItem,
)
TTL_ATTRIBUTES = {IdempotencyItem: "expires_at"}


def configure(endpoint: str | None = None, prefix: str | None = None) -> None:
    """Point every model at a DynamoDB endpoint and table prefix (tests, the local server)."""
    for model in ALL_MODELS:
        model.Meta.table_name = (prefix if prefix is not None else config.table_prefix()) + (
            model.Meta.base_name
        )
        model.Meta.host = endpoint
        model._connection = None


def create_missing_tables() -> list[str]:
    """Create every table that does not exist yet (idempotent); return the names created."""
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
            created.append(model.Meta.table_name)
            ttl_attribute = TTL_ATTRIBUTES.get(model)
            if ttl_attribute:
                model._get_connection().connection.client.update_time_to_live(
                    TableName=model.Meta.table_name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
                )
    return created
