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
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from chalicelib import config


class _Meta:
    billing_mode = "PAY_PER_REQUEST"


def _meta(name: str, **extra) -> type:
    return type(
        "Meta",
        (_Meta,),
        {"base_name": name, "table_name": config.table_prefix() + name,
         "host": config.dynamodb_endpoint(), "region": config.region(), **extra},
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
    readiness_blocked_by_dependencies = NumberAttribute(default=0)
    readiness_ready = NumberAttribute(default=0)
    points_total = NumberAttribute(default=0)
    points_completed = NumberAttribute(default=0)
    top_level_count = NumberAttribute(default=0)  # top-level tasks: the next free position
    # moved by every edge addition (with a condition): additions in a project are serialized,
    # so two concurrent additions can never close a cycle together
    edges_version = NumberAttribute(default=0)
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


# what a queue read needs to filter and page before it fetches the page's tasks
QUEUE_PROJECTION = IncludeProjection(non_attr_keys=[
    "project_id", "status", "readiness", "task_type", "points", "rolled_sum", "sized_children",
    "lock_expires_ms",
])


def _queue_index(sort_attribute: str, name: str) -> type:
    """Sparse: one project's queue partition (status and readiness) in one sort order."""
    meta = _index_meta(name, QUEUE_PROJECTION)
    return type(f"Queue_{sort_attribute}", (GlobalSecondaryIndex,), {
        "__doc__": f"Queue partitions ordered by {sort_attribute}.",
        "Meta": meta,
        "queue_part": UnicodeAttribute(hash_key=True),
        sort_attribute: UnicodeAttribute(range_key=True),
    })


class TasksByQueueOp(GlobalSecondaryIndex):
    """Sparse: an operation's queue across all projects, in the default order."""
    Meta = _index_meta("by-queue-op", QUEUE_PROJECTION)
    queue_op = UnicodeAttribute(hash_key=True)
    qs_default = UnicodeAttribute(range_key=True)


class TasksWithBlockers(GlobalSecondaryIndex):
    """Sparse: the edges (not the tasks) of a subtree in one range read, for the cycle rule."""
    Meta = _index_meta("edges-by-path", IncludeProjection(non_attr_keys=["blocker_edges"]))
    project_id = UnicodeAttribute(hash_key=True)
    dep_path = UnicodeAttribute(range_key=True)


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
    descendants = NumberAttribute(default=0)
    readiness = UnicodeAttribute()
    # dependencies (chalicelib.domain.dependencies): this task's blockers, with their paths,
    # oldest first (JSON); the tasks that wait for it; the counters that make `waiting` local
    blocker_edges = UnicodeAttribute(null=True)
    dependent_ids = ListAttribute(of=UnicodeAttribute, null=True)
    open_blockers = NumberAttribute(default=0)
    waiting_ancestors = NumberAttribute(default=0)
    dep_path = UnicodeAttribute(null=True)
    # the events item that holds this task's creation (its task feed ends there)
    created_seq = UnicodeAttribute(null=True)
    # a running background job started by a request on this task (cancel or delete)
    job_id = UnicodeAttribute(null=True)
    # queue index keys (absent when the task is in no queue): its partition and one sort key
    # per `sort` value (chalicelib.domain.queues)
    queue_op = UnicodeAttribute(null=True)
    queue_part = UnicodeAttribute(null=True)
    qs_default = UnicodeAttribute(null=True)
    qs_priority = UnicodeAttribute(null=True)
    qs_points = UnicodeAttribute(null=True)
    qs_points_desc = UnicodeAttribute(null=True)
    qs_created = UnicodeAttribute(null=True)
    qs_created_desc = UnicodeAttribute(null=True)
    qs_updated = UnicodeAttribute(null=True)
    qs_updated_desc = UnicodeAttribute(null=True)
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
    by_queue_op = TasksByQueueOp()
    with_blockers = TasksWithBlockers()
    locks_by_project = LocksByProject()
    locks_by_expiry = LocksByExpiry()
    queue_default = _queue_index("qs_default", "queue-default")()
    queue_priority = _queue_index("qs_priority", "queue-priority")()
    queue_points = _queue_index("qs_points", "queue-points")()
    queue_points_desc = _queue_index("qs_points_desc", "queue-points-desc")()
    queue_created = _queue_index("qs_created", "queue-created")()
    queue_created_desc = _queue_index("qs_created_desc", "queue-created-desc")()
    queue_updated = _queue_index("qs_updated", "queue-updated")()
    queue_updated_desc = _queue_index("qs_updated_desc", "queue-updated-desc")()


# sort attribute -> its index on TaskItem
QUEUE_INDEXES = {
    "qs_default": TaskItem.queue_default, "qs_priority": TaskItem.queue_priority,
    "qs_points": TaskItem.queue_points, "qs_points_desc": TaskItem.queue_points_desc,
    "qs_created": TaskItem.queue_created, "qs_created_desc": TaskItem.queue_created_desc,
    "qs_updated": TaskItem.queue_updated, "qs_updated_desc": TaskItem.queue_updated_desc,
}


class RecordsByPath(GlobalSecondaryIndex):
    """A project's log entries or commits by their task's path: a subtree's records are one
    range read (delete), the project's all of them (export, purge)."""
    Meta = _index_meta("records-by-path", AllProjection())
    project_id = UnicodeAttribute(hash_key=True)
    path_key = UnicodeAttribute(range_key=True)


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
    path_key = UnicodeAttribute()  # <task path>#<sort_key>
    by_path = RecordsByPath()


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
    path_key = UnicodeAttribute()  # <task path>#<commit_hash>
    by_path = RecordsByPath()


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


class EventsByTask(GlobalSecondaryIndex):
    """One task's events, newest first (its creation is in a batch item named on the task)."""
    Meta = _index_meta("events-by-task", AllProjection())
    task_id = UnicodeAttribute(hash_key=True)
    seq = UnicodeAttribute(range_key=True)


class EventItem(Model):
    """Events recorded by one write (SPEC §14): one item per task it touched, holding that
    task's events, plus one or more batch items for the tasks it created (no task_id: a
    breakdown creates up to 50 tasks, which one transaction could not give an item each)."""
    Meta = _meta("events")
    project_id = UnicodeAttribute(hash_key=True)
    seq = UnicodeAttribute(range_key=True)  # <at>#<write tag>#<item number>: newest last
    task_id = UnicodeAttribute(null=True)
    created_seq = UnicodeAttribute(null=True)  # the task's creation batch, for its feed
    events = UnicodeAttribute()  # JSON list, in recording order
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute (90 days)
    by_task = EventsByTask()


class StatItem(Model):
    """Counters added by the writes: per project and UTC day (`day#2026-12-05`: deltas of
    the history series) and per project, hour and actor (`agent#2026-12-05T14#<actor>`)."""
    Meta = _meta("stats")
    project_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    points_total = NumberAttribute(default=0)
    points_completed = NumberAttribute(default=0)
    tasks_total = NumberAttribute(default=0)
    tasks_done = NumberAttribute(default=0)
    events = NumberAttribute(default=0)
    operations = NumberAttribute(default=0)
    locks_expired = NumberAttribute(default=0)
    actor = UnicodeAttribute(null=True)
    last_seen = UnicodeAttribute(null=True)


class JobsByState(GlobalSecondaryIndex):
    """Sparse: running jobs, least recently updated first (the sweep resumes stalled ones)."""
    Meta = _index_meta("jobs-running", AllProjection())
    state_key = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class JobItem(Model):
    """A background job (SPEC §13). Its stream drives the worker: a write that leaves the job
    running without a lease schedules the next step."""
    Meta = _meta("jobs", stream_view_type="NEW_IMAGE")
    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    owner = UnicodeAttribute()
    project_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    done = NumberAttribute(default=0)
    total = NumberAttribute(default=0)
    params = UnicodeAttribute()  # JSON
    cursor = UnicodeAttribute(null=True)  # JSON
    result = UnicodeAttribute(null=True)  # JSON
    error = UnicodeAttribute(null=True)  # JSON
    lease_owner = UnicodeAttribute(null=True)
    lease_until_ms = NumberAttribute(null=True)
    state_key = UnicodeAttribute(null=True)
    nudges = NumberAttribute(default=0)
    failures = NumberAttribute(default=0)  # steps that crashed; the job fails after a few
    expires_at = NumberAttribute(null=True)  # TTL, once finished
    by_state = JobsByState()


ALL_MODELS: tuple[type[Model], ...] = (
    ProjectItem, TaskItem, WorkLogItem, CommitItem, IdempotencyItem, TokenItem, EventItem,
    StatItem, JobItem,
)
TTL_ATTRIBUTES = {IdempotencyItem: "expires_at", EventItem: "expires_at", JobItem: "expires_at"}


def configure(endpoint: str | None = None, prefix: str | None = None) -> None:
    """Point every model at a DynamoDB endpoint and table prefix (tests, the local server)."""
    for model in ALL_MODELS:
        model.Meta.table_name = (prefix if prefix is not None else config.table_prefix()) + (
            model.Meta.base_name
        )
        model.Meta.host = endpoint
        model._connection = None


class OutdatedTables(RuntimeError):
    """Tables made by an older Chorus lack indexes this one needs."""


def _check_indexes(model: type[Model]) -> None:
    described = model._get_connection().describe_table()
    have = {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}
    want = {index.Meta.index_name for index in model._indexes.values()}
    if not want <= have:
        raise OutdatedTables(
            f"table {model.Meta.table_name} was made by an older Chorus (missing indexes: "
            f"{', '.join(sorted(want - have))}); start from a new data directory")


def create_missing_tables() -> list[str]:
    """Create every table that does not exist yet (idempotent); return the names created."""
    created = []
    for model in ALL_MODELS:
        if model.exists():
            _check_indexes(model)
            continue
        model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
        created.append(model.Meta.table_name)
        ttl_attribute = TTL_ATTRIBUTES.get(model)
        if ttl_attribute:
            model._get_connection().connection.client.update_time_to_live(
                TableName=model.Meta.table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
            )
    return created
