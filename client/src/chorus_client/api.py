"""The Chorus API client: one method per endpoint of SPEC section 3, typed results, typed errors.

Every write that accepts `Idempotency-Key` gets a fresh key per call (or the one passed in), reused
by the automatic retries, so a retry after a timeout can never do the work twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from chorus_client.bodies import (
    BreakdownRequest,
    CommitRecord,
    CompleteRequest,
    DependencyCreate,
    ProjectCreate,
    ProjectUpdate,
    RefinementFlag,
    RefineRequest,
    Reorder,
    SizeRequest,
    StatusChange,
    TaskCreate,
    TaskUpdate,
    WorkLogCreate,
)
from chorus_client.config import Settings
from chorus_client.errors import LockLostError, NotFoundError, UnavailableError
from chorus_client.resources import (
    AgentActivity,
    Breakdown,
    Commit,
    Dependencies,
    Dependency,
    Event,
    Health,
    HistoryPoint,
    ImportUpload,
    Job,
    Lock,
    Page,
    Project,
    ProjectDetail,
    Task,
    TaskContext,
    TaskTree,
    WorkLogEntry,
)
from chorus_client.transport import Sender, new_idempotency_key
from chorus_client.vocabulary import EventKind, LockPurpose, Operation, QueueSort, Status, TaskType

ACCEPTED = 202
"""The status of a request that started (or found) a background job; its body is the Job."""

ItemT = TypeVar("ItemT")


class ChorusClient:
    """A synchronous client for one Chorus deployment, acting as `settings.agent`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 3,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.settings = settings
        self._sender = Sender(settings, transport=transport, max_attempts=max_attempts, backoff_seconds=backoff_seconds)

    def __enter__(self) -> ChorusClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._sender.close()

    # -- plumbing ----------------------------------------------------------------------------

    def _read(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return self._sender.send("GET", path, params=params, retry_safe=True)

    def _create(self, path: str, body: dict[str, Any], idempotency_key: str | None) -> Any:
        """POST with an Idempotency-Key, so its retries replay instead of writing again."""
        return self._create_response(path, body, idempotency_key).json()

    def _create_response(self, path: str, body: dict[str, Any], idempotency_key: str | None) -> httpx.Response:
        key = idempotency_key or new_idempotency_key()
        return self._sender.send("POST", path, json=body, retry_safe=True, idempotency_key=key)

    def _operation_body(self, body: Any) -> dict[str, Any]:
        return {"caller_label": self.settings.require_agent(), **body.payload()}

    def _page(self, response: httpx.Response, item_type: Callable[[Any], ItemT]) -> Page[ItemT]:
        next_offset = response.headers.get("X-Next-Offset")
        return Page(
            items=[item_type(item) for item in response.json()],
            next_offset=int(next_offset) if next_offset is not None else None,
        )

    # -- service -----------------------------------------------------------------------------

    def health(self) -> Health:
        return Health.model_validate(self._read("/health").json())

    def openapi(self) -> dict[str, Any]:
        return self._read("/openapi.json").json()

    # -- projects ----------------------------------------------------------------------------

    def create_project(self, body: ProjectCreate, *, idempotency_key: str | None = None) -> Project:
        return Project.model_validate(self._create("/projects", body.payload(), idempotency_key))

    def list_projects(self, *, limit: int | None = None, offset: int | None = None) -> Page[Project]:
        response = self._read("/projects", {"limit": limit, "offset": offset})
        return self._page(response, Project.model_validate)

    def get_project(self, project_id: str) -> ProjectDetail:
        return ProjectDetail.model_validate(self._read(f"/projects/{project_id}").json())

    def update_project(self, project_id: str, body: ProjectUpdate) -> Project:
        response = self._sender.send("PUT", f"/projects/{project_id}", json=body.payload(), retry_safe=True)
        return Project.model_validate(response.json())

    def delete_project(self, project_id: str) -> None:
        self._sender.send("DELETE", f"/projects/{project_id}", retry_safe=False)

    def list_top_level_tasks(
        self, project_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[Task]:
        response = self._read(f"/projects/{project_id}/tasks", {"limit": limit, "offset": offset})
        return self._page(response, Task.model_validate)

    def export_project(self, project_id: str) -> dict[str, Any]:
        """The lossless snapshot (or, past 6 MB, `{download_url, expires_at, size_bytes}`)."""
        return self._read(f"/projects/{project_id}/export").json()

    def export_project_markdown(self, project_id: str) -> str:
        return self._read(f"/projects/{project_id}/export", {"format": "markdown"}).text

    def download(self, url: str) -> bytes:
        """The body behind a short-lived `download_url` (an export over 6 MB)."""
        with httpx.Client(timeout=max(self.settings.timeout_seconds, 120.0)) as storage:
            try:
                response = storage.get(url)
            except httpx.TransportError as exc:
                raise UnavailableError("DOWNLOAD_FAILED", f"GET of the download URL failed: {exc!r}") from exc
        if not response.is_success:
            raise UnavailableError("DOWNLOAD_FAILED", f"GET of the download URL answered {response.status_code}")
        return response.content

    def import_project(self, export: dict[str, Any], *, idempotency_key: str | None = None) -> ProjectDetail:
        """Import an export sent inline (up to 6 000 000 bytes): a new project, at once."""
        return ProjectDetail.model_validate(self._create("/projects/import", export, idempotency_key))

    def create_import_upload(self) -> ImportUpload:
        """A short-lived URL to PUT an import larger than 6 MB to, and the id that names it."""
        return ImportUpload.model_validate(
            self._sender.send("POST", "/projects/import-uploads", retry_safe=False).json()
        )

    def upload_import(self, document: bytes) -> ImportUpload:
        """Put an export (JSON bytes) where the server can import it from: then `import_upload`."""
        upload = self.create_import_upload()
        self._sender.upload(upload.upload_url, document, content_type="application/json")
        return upload

    def import_upload(self, upload_id: str, *, idempotency_key: str | None = None) -> Job:
        """Start importing an uploaded export: always a background job (`wait_for_job` follows it)."""
        body = {"upload_id": upload_id}
        return Job.model_validate(self._create("/projects/import", body, idempotency_key))

    # -- tasks -------------------------------------------------------------------------------

    def create_task(self, project_id: str, body: TaskCreate, *, idempotency_key: str | None = None) -> Task:
        return Task.model_validate(self._create(f"/projects/{project_id}/tasks", body.payload(), idempotency_key))

    def create_subtask(self, parent_id: str, body: TaskCreate, *, idempotency_key: str | None = None) -> Task:
        return Task.model_validate(self._create(f"/tasks/{parent_id}/subtasks", body.payload(), idempotency_key))

    def get_task(self, task_id: str) -> Task:
        return Task.model_validate(self._read(f"/tasks/{task_id}").json())

    def update_task(self, task_id: str, body: TaskUpdate) -> Task:
        response = self._sender.send("PUT", f"/tasks/{task_id}", json=body.payload(), retry_safe=True)
        return Task.model_validate(response.json())

    def delete_task(self, task_id: str) -> Job | None:
        """Delete a task and its subtree: None when done at once, the Job when over 2 000 tasks (202)."""
        response = self._sender.send("DELETE", f"/tasks/{task_id}", retry_safe=False)
        return Job.model_validate(response.json()) if response.status_code == ACCEPTED else None

    def get_tree(self, task_id: str, *, depth: int | None = None) -> TaskTree:
        return TaskTree.model_validate(self._read(f"/tasks/{task_id}/tree", {"depth": depth}).json())

    def get_ancestry(self, task_id: str) -> list[Task]:
        return [Task.model_validate(item) for item in self._read(f"/tasks/{task_id}/ancestry").json()]

    def get_context(self, task_id: str, *, include_commits: bool = False, max_bytes: int | None = None) -> TaskContext:
        params = {"include_commits": include_commits, "max_bytes": max_bytes}
        return TaskContext.model_validate(self._read(f"/tasks/{task_id}/context", params).json())

    def set_status(self, task_id: str, status: Status) -> Task | Job:
        """The task as changed, or (a cancel reaching over 2 000 tasks) the Job doing it (202)."""
        body = StatusChange(status=status).payload()
        response = self._sender.send("PATCH", f"/tasks/{task_id}/status", json=body, retry_safe=True)
        if response.status_code == ACCEPTED:
            return Job.model_validate(response.json())
        return Task.model_validate(response.json())

    def reorder(self, task_id: str, position: int) -> Task:
        body = Reorder(position=position).payload()
        response = self._sender.send("PATCH", f"/tasks/{task_id}/reorder", json=body, retry_safe=True)
        return Task.model_validate(response.json())

    # -- locks -------------------------------------------------------------------------------

    def acquire_lock(self, task_id: str, purpose: LockPurpose) -> Lock:
        """Lock the task for one operation; safe to retry, since the holder re-acquiring is a heartbeat."""
        body = {"caller_label": self.settings.require_agent(), "lock_purpose": purpose}
        return Lock.model_validate(
            self._sender.send("POST", f"/tasks/{task_id}/lock", json=body, retry_safe=True).json()
        )

    def heartbeat(self, task_id: str) -> Lock:
        """Renew the caller's lock; a missing or expired lock raises `LockLostError` (SPEC: treat alike)."""
        params = {"caller_label": self.settings.require_agent()}
        try:
            response = self._sender.send("PATCH", f"/tasks/{task_id}/lock/heartbeat", params=params, retry_safe=True)
        except NotFoundError as lost:
            raise LockLostError(
                lost.code, lost.message, details=lost.details, request_id=lost.request_id, status=lost.status
            ) from lost
        return Lock.model_validate(response.json())

    def release_lock(self, task_id: str, *, force: bool = False) -> None:
        """Release the caller's lock; `force` releases anyone's (and logs a note naming them)."""
        params: dict[str, Any] = {"caller_label": self.settings.agent if force else self.settings.require_agent()}
        if force:
            params["force"] = True
        self._sender.send("DELETE", f"/tasks/{task_id}/lock", params=params, retry_safe=False)

    def list_locks(
        self, *, project_id: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[Lock]:
        response = self._read("/locks", {"project_id": project_id, "limit": limit, "offset": offset})
        return self._page(response, Lock.model_validate)

    # -- atomic operations -------------------------------------------------------------------

    def size(self, task_id: str, body: SizeRequest, *, idempotency_key: str | None = None) -> Task:
        return Task.model_validate(self._create(f"/tasks/{task_id}/size", self._operation_body(body), idempotency_key))

    def breakdown(self, task_id: str, body: BreakdownRequest, *, idempotency_key: str | None = None) -> Breakdown:
        payload = self._operation_body(body)
        return Breakdown.model_validate(self._create(f"/tasks/{task_id}/breakdown", payload, idempotency_key))

    def refine(self, task_id: str, body: RefineRequest, *, idempotency_key: str | None = None) -> Task:
        payload = self._operation_body(body)
        return Task.model_validate(self._create(f"/tasks/{task_id}/refine", payload, idempotency_key))

    def complete(self, task_id: str, body: CompleteRequest, *, idempotency_key: str | None = None) -> Task:
        payload = self._operation_body(body)
        return Task.model_validate(self._create(f"/tasks/{task_id}/complete", payload, idempotency_key))

    def flag_for_refinement(self, task_id: str, body: RefinementFlag) -> Task:
        """Flag without a lock; not retried after a timeout, since a repeat would log a second note."""
        payload = self._with_author(body.payload())
        response = self._sender.send("POST", f"/tasks/{task_id}/flag-refinement", json=payload, retry_safe=False)
        return Task.model_validate(response.json())

    # -- work log and commits ----------------------------------------------------------------

    def add_work_log(self, task_id: str, body: WorkLogCreate, *, idempotency_key: str | None = None) -> WorkLogEntry:
        payload = self._with_author(body.payload())
        return WorkLogEntry.model_validate(self._create(f"/tasks/{task_id}/work-log", payload, idempotency_key))

    def list_work_log(self, task_id: str, *, limit: int | None = None, offset: int | None = None) -> Page[WorkLogEntry]:
        response = self._read(f"/tasks/{task_id}/work-log", {"limit": limit, "offset": offset})
        return self._page(response, WorkLogEntry.model_validate)

    def record_commit(self, task_id: str, body: CommitRecord, *, idempotency_key: str | None = None) -> Commit:
        payload = self._with_author(body.payload())
        return Commit.model_validate(self._create(f"/tasks/{task_id}/commits", payload, idempotency_key))

    def list_commits(self, task_id: str, *, limit: int | None = None, offset: int | None = None) -> Page[Commit]:
        response = self._read(f"/tasks/{task_id}/commits", {"limit": limit, "offset": offset})
        return self._page(response, Commit.model_validate)

    # -- dependencies ------------------------------------------------------------------------

    def add_dependency(self, task_id: str, body: DependencyCreate, *, idempotency_key: str | None = None) -> Dependency:
        """`task_id` waits for `body.blocker_id`; an edge already there comes back with `existed` true."""
        payload = self._with_author(body.payload())
        response = self._create_response(f"/tasks/{task_id}/dependencies", payload, idempotency_key)
        dependency = Dependency.model_validate(response.json())
        dependency._existed = response.status_code == 200
        return dependency

    def remove_dependency(self, task_id: str, blocker_id: str) -> None:
        """`task_id` no longer waits for `blocker_id` (NotFoundError when it did not)."""
        params = {"author": self.settings.agent}
        self._sender.send("DELETE", f"/tasks/{task_id}/dependencies/{blocker_id}", params=params, retry_safe=False)

    def list_dependencies(self, task_id: str) -> Dependencies:
        return Dependencies.model_validate(self._read(f"/tasks/{task_id}/dependencies").json())

    # -- jobs, activity, history -------------------------------------------------------------

    def get_job(self, job_id: str) -> Job:
        return Job.model_validate(self._read(f"/jobs/{job_id}").json())

    def activity(
        self,
        project_id: str,
        *,
        task_id: str | None = None,
        actor: str | None = None,
        kinds: Sequence[EventKind] | None = None,
        since: datetime | str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Event]:
        """The project's events, newest first; `since` is inclusive (a datetime without tzinfo is UTC)."""
        params = {
            "task_id": task_id,
            "actor": actor,
            "kind": list(kinds) if kinds else None,
            "since": _timestamp(since),
            "limit": limit,
            "offset": offset,
        }
        return self._page(self._read(f"/projects/{project_id}/activity", params), Event.model_validate)

    def history(self, project_id: str, *, days: int | None = None) -> list[HistoryPoint]:
        """One point per UTC day, oldest first, ending today."""
        response = self._read(f"/projects/{project_id}/history", {"days": days})
        return [HistoryPoint.model_validate(item) for item in response.json()]

    def agents(self, project_id: str, *, hours: int | None = None) -> list[AgentActivity]:
        """Who wrote to the project in the last `hours` (or holds a lock in it now), latest first."""
        response = self._read(f"/projects/{project_id}/agents", {"hours": hours})
        return [AgentActivity.model_validate(item) for item in response.json()]

    # -- queues ------------------------------------------------------------------------------

    def available(
        self,
        operation: Operation,
        *,
        project_id: str | None = None,
        task_type: TaskType | None = None,
        min_points: int | None = None,
        max_points: int | None = None,
        sort: QueueSort | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Task]:
        """Unlocked tasks waiting for `operation`, best first; seeing one is not a claim."""
        params = {
            "operation": operation,
            "project_id": project_id,
            "task_type": task_type,
            "min_points": min_points,
            "max_points": max_points,
            "sort": sort,
            "limit": limit,
            "offset": offset,
        }
        return self._page(self._read("/tasks/available", params), Task.model_validate)

    def backlog(
        self, project_id: str, *, sort: QueueSort | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[Task]:
        """`todo` tasks that are ready (locked ones included, with their lock)."""
        return self._project_queue(project_id, "backlog", sort, limit, offset)

    def in_progress(
        self, project_id: str, *, sort: QueueSort | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[Task]:
        """`doing` tasks, each with its live lock or none (stalled)."""
        return self._project_queue(project_id, "in-progress", sort, limit, offset)

    def needs_refinement(
        self, project_id: str, *, sort: QueueSort | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[Task]:
        return self._project_queue(project_id, "needs-refinement", sort, limit, offset)

    def _project_queue(
        self, project_id: str, queue: str, sort: QueueSort | None, limit: int | None, offset: int | None
    ) -> Page[Task]:
        response = self._read(f"/projects/{project_id}/{queue}", {"sort": sort, "limit": limit, "offset": offset})
        return self._page(response, Task.model_validate)

    def _with_author(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Sign notes and commits with the caller label, as operations are, unless an author is given."""
        if self.settings.agent and "author" not in payload:
            return {"author": self.settings.agent, **payload}
        return payload


def _timestamp(value: datetime | str | None) -> str | None:
    """A timestamp as the API reads it: ISO-8601 in UTC with a `Z`."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def all_items(fetch: Callable[[int], Page[ItemT]]) -> list[ItemT]:
    """Every item of a list endpoint, following `X-Next-Offset` page by page."""
    items: list[ItemT] = []
    offset = 0
    while True:
        page = fetch(offset)
        items.extend(page.items)
        if page.next_offset is None:
            return items
        offset = page.next_offset


def project_trees(client: ChorusClient, project_id: str, *, depth: int | None = None) -> list[TaskTree]:
    """The whole task forest of a project: its top-level tasks, each with its subtree."""
    top = all_items(lambda offset: client.list_top_level_tasks(project_id, limit=200, offset=offset))
    return [client.get_tree(task.id, depth=depth) for task in top]
