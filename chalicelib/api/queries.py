"""Query-string models: lax number parsing (query values are text), strict booleans."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from datetime import datetime

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from chalicelib.api.models import EventKind, Label, TaskType
from chalicelib.domain.queues import SORTS


def _boolean(value: object) -> object:
    if isinstance(value, str):
        if value == "true":
            return True
        if value == "false":
            return False
        raise ValueError("must be exactly true or false")
    return value


QueryBool = Annotated[bool, BeforeValidator(_boolean)]
Limit = Annotated[int, Field(ge=1, le=200)]
MAX_OFFSET = 10**12  # past any list: an offset beyond it is an empty page, not an error
Offset = Annotated[int, Field(ge=0), AfterValidator(lambda value: min(value, MAX_OFFSET))]


def _timestamp(value: object) -> object:
    """A full ISO-8601 timestamp (a bare date is not one)."""
    if isinstance(value, str) and "T" not in value.upper():
        raise ValueError("must be an ISO-8601 timestamp such as 2026-12-05T14:00:00Z")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
Sort = Literal[SORTS]  # type: ignore[valid-type]
QueueOperation = Literal["sizing", "breakdown", "implementation", "refinement"]


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Paging(Query):
    limit: Limit = 50
    offset: Offset = 0


class QueueQuery(Paging):
    sort: Sort = "-priority"  # type: ignore[valid-type]


class AvailableQuery(QueueQuery):
    operation: QueueOperation
    project_id: Optional[str] = None
    task_type: Optional[TaskType] = None
    min_points: Optional[Annotated[int, Field(ge=0)]] = None
    max_points: Optional[Annotated[int, Field(ge=0)]] = None


class LocksQuery(Paging):
    project_id: Optional[str] = None


class TreeQuery(Query):
    depth: Optional[Annotated[int, Field(ge=0, le=15)]] = None


class ContextQuery(Query):
    include_commits: QueryBool = False
    max_bytes: Annotated[int, Field(ge=1024, le=6_000_000)] = 65536


class HeartbeatQuery(Query):
    caller_label: Label


class ReleaseQuery(Query):
    caller_label: Optional[Label] = None
    force: QueryBool = False

    @model_validator(mode="after")
    def _holder_or_force(self) -> "ReleaseQuery":
        if self.caller_label is None and not self.force:
            raise ValueError("give caller_label (the holder) or force=true")
        return self


class ExportQuery(Query):
    format: Literal["json", "markdown"] = "json"


class ActivityQuery(Paging):
    task_id: Optional[str] = None
    actor: Optional[str] = None
    kind: Optional[list[EventKind]] = None
    since: Optional[Timestamp] = None


class HistoryQuery(Query):
    days: Annotated[int, Field(ge=1, le=365)] = 30


class AgentsQuery(Query):
    hours: Annotated[int, Field(ge=1, le=168)] = 24


class AuthorQuery(Query):
    author: Optional[Label] = None
