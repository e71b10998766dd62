"""Request bodies of the SPEC (sections 2-4, 9), validated before they are sent.

The client adds `caller_label` from its settings, so these models leave it out; they double as the
MCP tools' input schemas, which is why every field says what it is for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chorus_client.errors import InvalidRequestError
from chorus_client.vocabulary import Status, TaskType, WorkLogOperation

KIB = 1024
Text = Annotated[str, Field(max_length=64 * KIB)]
NonBlank = Annotated[str, Field(min_length=1, max_length=64 * KIB, pattern=r"\S")]
Label = Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]
Priority = Annotated[int, Field(ge=-1000, le=1000, description="Higher is picked first; default 0.")]
Points = Annotated[int, Field(ge=0, le=10, description="A size set by hand, 0-10.")]


class Body(BaseModel):
    """A request body: unknown fields are refused, as the server refuses them."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        """Validate input from a person or a model, failing the way the server would (VALIDATION_ERROR)."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            errors = [
                {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
                for item in error.errors(include_url=False)
            ]
            summary = "; ".join(f"{'.'.join(map(str, item['loc'])) or 'body'}: {item['msg']}" for item in errors)
            raise InvalidRequestError("VALIDATION_ERROR", summary, details={"errors": errors}) from None

    def payload(self) -> dict[str, Any]:
        """The JSON object to send: only the fields that were set (an explicit null still clears a field);
        every default here is also the server's, so leaving it out changes nothing."""
        return self.model_dump(mode="json", exclude_unset=True)


class ProjectCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    description: Text | None = None


class ProjectUpdate(Body):
    name: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    description: Text | None = None


class TaskCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=500, description="Short imperative title.")]
    task_type: TaskType = Field(description="feature, bug or tech_debt.")
    description: Text | None = Field(None, description="What done looks like.")
    context: Text | None = Field(None, description="What an agent needs to know to start.")
    priority: Priority | None = None
    points: Points | None = None
    position: Annotated[int, Field(ge=0)] | None = None


class TaskUpdate(Body):
    name: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    description: Text | None = None
    context: Text | None = None
    task_type: TaskType | None = None
    priority: Priority | None = None
    points: Points | None = None


class StatusChange(Body):
    status: Status


class Reorder(Body):
    position: Annotated[int, Field(ge=0)]


class OperationBody(Body):
    """Fields every atomic operation takes (SPEC section 4)."""

    work_log_content: NonBlank = Field(
        description="The work-log entry for this operation: what you did and why, for the next agent."
    )
    author: Label | None = Field(None, description="Defaults to the caller label.")
    release_lock: bool = Field(
        False, description="Release the lock in the same write; true when this is your last step on the task."
    )


class DimensionScore(Body):
    score: Annotated[int, Field(ge=0, le=2, description="0 (easy) to 2 (hard).")]
    reasoning: Annotated[str, Field(max_length=4 * KIB, description="Why this score, in a sentence.")]


class SizeRequest(OperationBody):
    """Score the five dimensions; the server adds them up (total <= 6: one session; >= 7: break down)."""

    scope_clarity: DimensionScore = Field(description="How clear is what to build? 0 clear, 2 vague.")
    decision_points: DimensionScore = Field(description="How many open design decisions? 0 none, 2 many.")
    context_window_demand: DimensionScore = Field(description="How much code must be read? 0 little, 2 a lot.")
    verification_complexity: DimensionScore = Field(description="How hard to prove it works? 0 easy, 2 hard.")
    domain_specificity: DimensionScore = Field(description="How much special knowledge? 0 none, 2 deep.")
    confidence: Annotated[
        int, Field(ge=0, le=5, description="0-5 confidence in this sizing; <= 2 flags the task for refinement.")
    ]
    risk_factors: Annotated[list[Annotated[str, Field(max_length=4 * KIB)]], Field(max_length=20)] | None = None
    breakdown_suggestions: Text | None = Field(None, description="How to split it, when it is too big.")
    scored_by: Label | None = None


class SubtaskSpec(Body):
    name: Annotated[str, Field(min_length=1, max_length=500, description="Short imperative title.")]
    task_type: TaskType = Field(description="feature, bug or tech_debt.")
    description: Text | None = Field(None, description="What done looks like for this piece.")
    context: Text | None = Field(None, description="What an agent needs to know to start it.")
    priority: Priority | None = None
    points: Points | None = None
    after: Annotated[list[Annotated[int, Field(ge=0)]], Field(max_length=49)] | None = Field(
        None,
        description="Indexes (0-based) of earlier subtasks in this same list that must be finished before this"
        " one is implemented, e.g. [0] for the first. Only earlier ones, each once.",
    )


class BreakdownRequest(OperationBody):
    """Split a task that is too big into subtasks (appended after any existing children)."""

    subtasks: Annotated[list[SubtaskSpec], Field(min_length=1, max_length=50)]
    parent_description_update: Text | None = Field(None, description="New description for the parent.")

    @model_validator(mode="after")
    def _after_names_earlier_subtasks(self) -> Self:
        """`after` may name only earlier subtasks, each once (SPEC section 4), as the server checks."""
        for index, subtask in enumerate(self.subtasks):
            after = subtask.after or []
            if any(earlier >= index for earlier in after):
                allowed = f"0..{index - 1}" if index else "none: the first subtask cannot wait for another"
                raise ValueError(f"subtasks[{index}].after may name only earlier subtasks ({allowed})")
            if len(set(after)) != len(after):
                raise ValueError(f"subtasks[{index}].after names a subtask twice")
        return self


class RefineRequest(OperationBody):
    """Clarify a flagged task; clears needs_refinement and its notes."""

    name: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    description: Text | None = None
    context: Text | None = None
    task_type: TaskType | None = None
    confirm_context: bool | None = Field(None, description="True: the context is still right; marks it fresh.")


class CommitRecord(Body):
    commit_hash: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{7,64}$", description="7-64 hex characters.")]
    message: Text | None = None
    author: Label | None = None
    committed_at: datetime | None = None


class CompleteRequest(OperationBody):
    """Mark implemented work done, recording its commits."""

    commits: list[CommitRecord] | None = None


class WorkLogCreate(Body):
    operation: WorkLogOperation
    content: NonBlank
    author: Label | None = None


class DependencyCreate(Body):
    """The task waits for `blocker_id`: it is not implemented until the blocker is done or cancelled."""

    blocker_id: Annotated[str, Field(min_length=1, max_length=255, description="The task to wait for.")]
    author: Label | None = None


class RefinementFlag(Body):
    refinement_notes: NonBlank = Field(description="What is unclear or wrong, for whoever refines it.")
    author: Label | None = None
