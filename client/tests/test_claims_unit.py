"""claim-next against a scripted queue: it walks past tasks other agents won, and stops when told."""

from __future__ import annotations

import httpx
import pytest

from chorus_client.claims import claim_next
from chorus_client.errors import AllClaimsLostError, QueueEmptyError, UnavailableError

from fakes import FakeApi, error, lock_json, task_json


def queue(*task_ids: str) -> httpx.Response:
    return httpx.Response(200, json=[task_json(task_id, readiness="ready") for task_id in task_ids])


def test_claim_next_skips_tasks_another_agent_won_and_locks_the_next() -> None:
    fake = (
        FakeApi()
        .on("GET", "/tasks/available", queue("t1", "t2", "t3"))
        .on("POST", "/tasks/t1/lock", error(409, "LOCK_CONFLICT"))
        .on("POST", "/tasks/t2/lock", error(422, "INVALID_READINESS_STATE"))
        .on("POST", "/tasks/t3/lock", httpx.Response(201, json=lock_json("t3", purpose="implementation")))
        .on("GET", "/tasks/t3", httpx.Response(200, json=task_json("t3", status="doing")))
    )
    with fake.client() as client:
        claim = claim_next(client, "implementation", project_id="p1")
    assert (claim.task.id, claim.task.status, claim.lock.lock_purpose) == ("t3", "doing", "implementation")
    listing = fake.sent("GET", "/tasks/available")[0].url.params
    assert (listing["operation"], listing["project_id"], listing["limit"]) == ("implementation", "p1", "5")


def test_claim_next_on_an_empty_queue_says_so() -> None:
    fake = FakeApi().on("GET", "/tasks/available", queue())
    with fake.client() as client, pytest.raises(QueueEmptyError):
        claim_next(client, "sizing")


def test_claim_next_gives_up_after_its_attempts_naming_each_task_lost() -> None:
    fake = (
        FakeApi()
        .on("GET", "/tasks/available", queue("t1", "t2"))
        .on("POST", "/tasks/t1/lock", error(409, "LOCK_CONFLICT"))
        .on("POST", "/tasks/t2/lock", error(409, "LOCK_CONFLICT"))
    )
    with fake.client() as client, pytest.raises(AllClaimsLostError) as raised:
        claim_next(client, "sizing", attempts=2)
    assert [lost["task_id"] for lost in raised.value.details["tried"]] == ["t1", "t2"]


def test_claim_next_stops_at_an_error_the_next_task_would_meet_too() -> None:
    fake = (
        FakeApi()
        .on("GET", "/tasks/available", queue("t1", "t2"))
        .on("POST", "/tasks/t1/lock", error(503, "UNAVAILABLE"))
    )
    with fake.client() as client, pytest.raises(UnavailableError):
        claim_next(client, "sizing")
    assert fake.sent("POST", "/tasks/t2/lock") == []
