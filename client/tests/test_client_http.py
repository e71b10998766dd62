"""The client against scripts/local_server.py over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from chorus_client.api import ChorusClient
from chorus_client.bodies import CompleteRequest
from chorus_client.config import Settings
from chorus_client.errors import LockConflictError, NotFoundError
from chorus_client.resources import Task

from seed import project, sized

pytestmark = pytest.mark.integration


class LoseFirstAnswer(httpx.BaseTransport):
    """Delivers every request, but swallows the first answer to `path` and raises a timeout instead:
    the server did the work, the client never heard back."""

    def __init__(self, path: str) -> None:
        self._real = httpx.HTTPTransport()
        self._path = path
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._real.handle_request(request)
        if request.url.path != self._path:
            return response
        response.read()
        self.requests.append(request)
        self.responses.append(response)
        if len(self.responses) == 1:
            raise httpx.ReadTimeout("injected: the answer was lost", request=request)
        return response

    def close(self) -> None:
        self._real.close()


def test_a_timeout_on_complete_then_the_automatic_retry_does_the_work_once(
    server_url: str, api: ChorusClient, agent: str
) -> None:
    task = sized(api, project(api).id, 3)
    api.acquire_lock(task.id, "implementation")
    lossy = LoseFirstAnswer(f"/tasks/{task.id}/complete")
    body = CompleteRequest.parse({"work_log_content": "implemented", "commits": [{"commit_hash": "abc1234"}]})

    with ChorusClient(Settings(url=server_url, agent=agent), transport=lossy, backoff_seconds=0.1) as client:
        completed = client.complete(task.id, body)

    first, retry = lossy.responses
    assert first.status_code == 200, "the first attempt reached the server and did the work"
    assert lossy.requests[0].headers["Idempotency-Key"] == lossy.requests[1].headers["Idempotency-Key"]
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert completed.status == "done"
    implementation_entries = [e for e in api.list_work_log(task.id).items if e.operation == "implementation"]
    assert len(implementation_entries) == 1
    assert [c.commit_hash for c in api.list_commits(task.id).items] == ["abc1234"]
    after = api.get_task(task.id)
    assert after.status == "done"
    # One status change: the task was last written by the first attempt, not again by the retry.
    assert after.updated_at == Task.model_validate(first.json()).updated_at == completed.updated_at


def test_errors_carry_the_envelope_and_the_request_id(api: ChorusClient, server_url: str) -> None:
    with pytest.raises(NotFoundError) as missing:
        api.get_task("00000000-0000-4000-8000-000000000000")
    assert missing.value.status == 404 and missing.value.request_id

    task = sized(api, project(api).id, 2)
    api.acquire_lock(task.id, "implementation")
    with (
        ChorusClient(Settings(url=server_url, agent="someone-else")) as rival,
        pytest.raises(LockConflictError) as lost,
    ):
        rival.acquire_lock(task.id, "implementation")
    assert lost.value.code == "LOCK_CONFLICT"
    assert lost.value.details["caller_label"] == api.settings.agent
