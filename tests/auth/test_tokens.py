"""SPEC §10 with CHORUS_AUTH=token: bearer tokens, lock identity, admin-only actions, CORS."""
from __future__ import annotations

import json
import pytest

from scripts import chorus_tokens
from tests.conftest import TEST_STAGE_DIR, ApiClient

DIMENSIONS = ("scope_clarity", "decision_points", "context_window_demand",
              "verification_complexity", "domain_specificity")


class TokenClient(ApiClient):
    """Sends one token on every request."""

    def __init__(self, client, token: str | None):
        super().__init__(client)
        self.token = token

    def request(self, method, path, body=None, headers=None, raw=None):
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return super().request(method, path, body, {**auth, **(headers or {})}, raw)


@pytest.fixture
def tokens(dynamodb, monkeypatch):
    from chalicelib.services.tokens import create_token

    monkeypatch.setenv("CHORUS_AUTH", "token")
    return {"admin": create_token("root", "admin"), "claude": create_token("claude", "agent"),
            "codex": create_token("codex", "agent")}


@pytest.fixture
def as_(tokens):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test-auth", project_dir=str(TEST_STAGE_DIR)) as client:
        yield lambda who: TokenClient(client, tokens.get(who, who))


def test_health_needs_no_token(as_):
    assert as_(None).get("/health").status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer chorus_unknown"])
def test_missing_malformed_or_unknown_tokens_are_401_in_the_envelope(as_, header):
    client = as_(None)
    response = client.get("/projects", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.data["error"]["code"] == "UNAUTHORIZED"
    assert "chorus_unknown" not in response.body.decode()


def test_a_revoked_token_is_401(as_, tokens, dynamodb):
    from chalicelib.clock import now_iso
    from chalicelib.services.tokens import token_hash
    from chalicelib.store import tokens as token_store

    assert as_("codex").get("/projects").status_code == 200
    token_store.revoke(token_hash(tokens["codex"])[:16], now_iso())
    assert as_("codex").get("/projects").status_code == 401


def _task(client, **fields):
    project = client.post("/projects", {"name": "p"}).data
    task = client.post(f"/projects/{project['id']}/tasks",
                       {"name": "t", "task_type": "bug", **fields}).data
    return project, task


def test_an_agent_locks_as_its_label_or_a_session_under_it(as_):
    claude = as_("claude")
    _, task = _task(claude)
    lock = claude.post(f"/tasks/{task['id']}/lock",
                       {"caller_label": "claude/session-1", "lock_purpose": "sizing"})
    assert lock.status_code == 201


@pytest.mark.parametrize("label", ["codex", "claudette", "claude-impostor", "root"])
def test_an_agent_taking_a_lock_as_someone_else_is_403_forbidden(as_, label):
    claude = as_("claude")
    _, task = _task(claude)
    response = claude.post(f"/tasks/{task['id']}/lock",
                           {"caller_label": label, "lock_purpose": "sizing"})
    assert (response.status_code, response.data["error"]["code"]) == (403, "FORBIDDEN")
    assert claude.get(f"/tasks/{task['id']}").data["is_locked"] is False


def test_an_agent_cannot_author_as_someone_else(as_):
    claude = as_("claude")
    _, task = _task(claude)
    response = claude.post(f"/tasks/{task['id']}/work-log",
                           {"operation": "note", "content": "x", "author": "codex"})
    assert response.status_code == 403
    assert claude.get(f"/tasks/{task['id']}/work-log").data == []


def test_a_log_without_author_is_signed_with_the_token_label(as_):
    claude = as_("claude")
    _, task = _task(claude)
    claude.post(f"/tasks/{task['id']}/work-log", {"operation": "note", "content": "x"})
    assert [e["author"] for e in claude.get(f"/tasks/{task['id']}/work-log").data] == ["claude"]


def test_an_admin_token_signs_with_its_label_too_where_no_author_is_given(as_):
    """The notes of a dependency and the feed's actor name the same admin."""
    admin = as_("admin")
    project, blocker = _task(admin)
    waiter = admin.post(f"/projects/{project['id']}/tasks",
                        {"name": "W", "task_type": "bug"}).data
    added = admin.post(f"/tasks/{waiter['id']}/dependencies", {"blocker_id": blocker["id"]})
    assert added.data["author"] == "root"
    assert admin.delete(f"/tasks/{waiter['id']}/dependencies/{blocker['id']}").status_code == 204
    notes = admin.get(f"/tasks/{waiter['id']}/work-log").data
    assert [e["author"] for e in notes] == ["root", "root"]  # added, removed
    feed = admin.get(f"/projects/{project['id']}/activity?kind=dependency_removed").data
    assert [e["actor"] for e in feed] == ["root"]


def test_the_lock_and_atomic_pipeline_works_with_auth_on(as_):
    claude = as_("claude")
    project, epic = _task(claude)
    me = "claude/s1"
    assert claude.post(f"/tasks/{epic['id']}/lock",
                       {"caller_label": me, "lock_purpose": "sizing"}).status_code == 201
    sized = claude.post(f"/tasks/{epic['id']}/size", {
        "caller_label": me, "work_log_content": "big", "confidence": 4, "release_lock": True,
        **{d: {"score": 2 if i < 4 else 0, "reasoning": "r"} for i, d in enumerate(DIMENSIONS)}})
    assert (sized.status_code, sized.data["readiness"]) == (200, "needs_breakdown")
    claude.post(f"/tasks/{epic['id']}/lock", {"caller_label": me, "lock_purpose": "breakdown"})
    broken = claude.post(f"/tasks/{epic['id']}/breakdown", {
        "caller_label": me, "work_log_content": "split", "release_lock": True,
        "subtasks": [{"name": "a", "task_type": "bug", "points": 2}]})
    child = broken.data["subtasks"][0]
    claude.post(f"/tasks/{child['id']}/lock", {"caller_label": me, "lock_purpose": "implementation"})
    done = claude.post(f"/tasks/{child['id']}/complete", {
        "caller_label": me, "work_log_content": "done", "release_lock": True})
    assert done.status_code == 200
    assert claude.get(f"/tasks/{epic['id']}").data["status"] == "done"
    authors = {e["author"] for e in claude.get(f"/tasks/{epic['id']}/work-log").data}
    assert authors == {me}


def test_force_release_is_open_to_any_caller_and_logs_who_held_it(as_):
    claude, codex = as_("claude"), as_("codex")
    _, task = _task(claude)
    claude.post(f"/tasks/{task['id']}/lock", {"caller_label": "claude", "lock_purpose": "sizing"})
    response = codex.delete(f"/tasks/{task['id']}/lock?force=true&caller_label=codex")
    assert response.status_code == 204
    notes = codex.get(f"/tasks/{task['id']}/work-log").data
    assert [(n["author"], "claude" in n["content"]) for n in notes] == [("codex", True)]


def test_an_agent_releasing_without_force_someone_elses_lock_is_403(as_):
    claude, codex = as_("claude"), as_("codex")
    _, task = _task(claude)
    claude.post(f"/tasks/{task['id']}/lock", {"caller_label": "claude", "lock_purpose": "sizing"})
    response = codex.delete(f"/tasks/{task['id']}/lock?caller_label=codex")
    assert (response.status_code, response.data["error"]["code"]) == (403, "NOT_LOCK_HOLDER")


def test_only_an_admin_deletes_projects_or_imports(as_):
    claude, admin = as_("claude"), as_("admin")
    project, _ = _task(claude)
    refused = claude.delete(f"/projects/{project['id']}")
    assert (refused.status_code, refused.data["error"]["code"]) == (403, "FORBIDDEN")
    export = admin.get(f"/projects/{project['id']}/export").data
    assert claude.post("/projects/import", export).status_code == 403
    assert admin.post("/projects/import", export).status_code == 201
    assert admin.delete(f"/projects/{project['id']}").status_code == 204


def test_idempotency_keys_are_scoped_to_the_token(as_):
    claude, codex = as_("claude"), as_("codex")
    first = claude.post("/projects", {"name": "same"}, headers={"Idempotency-Key": "k1"})
    other = codex.post("/projects", {"name": "same"}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == other.status_code == 201
    assert first.data["id"] != other.data["id"]
    assert other.headers.get("Idempotent-Replayed") is None


def test_cors_allows_only_the_configured_origin(as_):
    client = as_("claude")
    good = client.get("/projects", headers={"Origin": "http://127.0.0.1:8080"})
    assert good.headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:8080"
    evil = client.get("/projects", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers


def test_token_listing_never_shows_secrets(tokens, capsys, monkeypatch):
    monkeypatch.setattr(chorus_tokens, "connect", lambda args: None)
    assert chorus_tokens.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "claude" in listing and "codex" in listing and "root" in listing
    for secret in tokens.values():
        assert secret not in listing
        assert secret[len("chorus_"):][:12] not in listing


def test_a_created_token_is_shown_once_and_only_its_hash_is_stored(dynamodb, capsys,
                                                                   monkeypatch):
    from chalicelib.store.tables import TokenItem

    monkeypatch.setattr(chorus_tokens, "connect", lambda args: None)
    assert chorus_tokens.main(["create", "--label", "gemini", "--role", "agent"]) == 0
    secret = capsys.readouterr().out.split()[0]
    assert secret.startswith("chorus_") and len(secret) > 40
    stored = [item.attribute_values for item in TokenItem.scan()]
    assert all(secret not in str(values) for values in stored)


# -- found by fuzzing (issue 20) --------------------------------------------------------------
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_authentication_comes_before_the_body_is_read(as_, content_type):
    """A caller without a valid token learns nothing else: not even that its body is not
    JSON (it was 415 before 401)."""
    headers = {"Content-Type": content_type} if content_type else {}
    for who in ("not-a-token", None):
        client = as_(who)
        response = client.client.http.request(
            "POST", "/projects", body=b"<not json>",
            headers={**headers, **({"Authorization": f"Bearer {who}"} if who else {})})
        assert response.status_code == 401, response.body
        assert json.loads(response.body)["error"]["code"] == "UNAUTHORIZED"
    good = as_("admin").client.http.request(
        "POST", "/projects", body=b"<not json>",
        headers={**headers, "Authorization": f"Bearer {as_('admin').token}"})
    assert good.status_code == 400
