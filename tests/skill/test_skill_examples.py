"""Every HTTP example in skills/chorus/SKILL.md, run in order against a real local server.

The convention (SKILL.md explains it to its readers in "How to read the examples"):

    ```http                      <- an example is a fenced block tagged `http`
    POST /tasks/{task_id}/lock   <- first line: METHOD and path (query string allowed)
    Idempotency-Key: 1a2b...     <- optional `Name: value` header lines
                                 <- optional blank line
    {"caller_label": "..."}      <- optional JSON body: the rest of the block
    ```
    → 201 · `{lock_id}` = `id`   <- required: the first non-blank line after the block starts
                                    with "→", then the expected status, then (for an error)
                                    its code, e.g. "→ 409 LOCK_CONFLICT". Each `{name}` =
                                    `dotted.path` binds {name} to that field of the response
                                    (`subtasks.0.id`: first subtask's id) for later examples.
    ```json                      <- optional: a JSON block right after the → line is the
    {"id": "{task_id}"}             documented response, checked as a subset (below)
    ```

A target that is a full URL once filled (`PUT {upload_url}`: a presigned upload) is sent as it
is, without the Authorization header. A → line that says "poll" repeats the request (every
POLL_SECONDS, for at most POLL_TIMEOUT_SECONDS) until the documented response is contained in
the answer, as a client polls a job until it finishes.

`{name}` placeholders in the path, headers and body are filled from earlier bindings before
the request is sent; an unknown one fails the example. The documented response must be
contained in the real one: every key of a documented object is present with a matching
value; documented lists match element by element and have the same length, unless their
last element is the string "…" (more may follow). A documented string with a placeholder is
compared after filling it; a documented UUID or timestamp stands for any string (ids and
times differ per run); every other value must be equal.

The examples run as one story in document order, so one failure skips the rest. The module
also checks that the reference lists every endpoint of the API and every error code, and that
examples send an Idempotency-Key exactly on the requests that accept one (SKILL.md's rule).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKILL = ROOT / "skills" / "chorus" / "SKILL.md"
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
EXPECT = re.compile(r"^→ (\d{3})(?: ([A-Z][A-Z_]+))?")
BINDING = re.compile(r"`\{([a-z][a-z0-9_]*)\}` = `([A-Za-z0-9_.]+)`")
ANY_STRING = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))$")
OPERATIONS = ("size", "breakdown", "refine", "complete")
POLL = re.compile(r"\bpoll\b")
MORE = "…"
START_TIMEOUT_SECONDS = 60
POLL_SECONDS = 1.0
POLL_TIMEOUT_SECONDS = 30


@dataclass
class Example:
    line: int
    method: str
    target: str
    headers: dict[str, str]
    body: str | None
    status: int
    code: str | None
    bindings: list[tuple[str, str]]
    poll: bool = False
    response: str | None = None

    @property
    def label(self) -> str:
        return f"L{self.line} {self.method} {self.target}"


def parse_examples(text: str) -> list[Example]:
    lines = text.splitlines()
    examples, i = [], 0
    while i < len(lines):
        if lines[i].strip() != "```http":
            i += 1
            continue
        start = i + 1
        end = lines.index("```", start)
        block = lines[start:end]
        method, target = block[0].split(" ", 1)
        headers, j = {}, 1
        while j < len(block) and re.match(r"^[A-Za-z-]+: ", block[j]):
            name, value = block[j].split(": ", 1)
            headers[name] = value
            j += 1
        body = "\n".join(block[j:]).strip() or None
        k = end + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        match = EXPECT.match(lines[k]) if k < len(lines) else None
        assert match, f"SKILL.md line {start}: an http example needs a '→ <status>' line after it"
        example = Example(start, method, target.strip(), headers, body, int(match.group(1)),
                          match.group(2), BINDING.findall(lines[k]), bool(POLL.search(lines[k])))
        m = k + 1
        while m < len(lines) and not lines[m].strip():
            m += 1
        if m < len(lines) and lines[m].strip() == "```json":
            close = lines.index("```", m + 1)
            example.response = "\n".join(lines[m + 1:close])
            m = close + 1
        examples.append(example)
        i = m
    return examples


EXAMPLES = parse_examples(SKILL.read_text(encoding="utf-8"))


# -- the server ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """The local server (DynamoDB Local in memory, auth off), in its own process group."""
    port = _free_port()
    env = {**os.environ, "CHORUS_AUTH": "off"}
    process = subprocess.Popen(
        [sys.executable, "scripts/local_server.py", "--host", "127.0.0.1", "--port", str(port),
         "--in-memory", "--no-frontend"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the local server exited with {process.returncode}")
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the local server did not answer /health in {START_TIMEOUT_SECONDS} s")
            time.sleep(0.3)
        yield base
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- running one example ------------------------------------------------------------------
def fill(text: str, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in values, f"placeholder {{{name}}} is not bound by an earlier example"
        return values[name]
    return PLACEHOLDER.sub(value, text)


def send(base: str, method: str, target: str, headers: dict[str, str], body: str | None):
    data = None if body is None else body.encode("utf-8")
    absolute = target.startswith(("http://", "https://"))  # a presigned URL: no token
    auth = {} if absolute else {"Authorization": "Bearer local"}
    request = urllib.request.Request(
        target if absolute else base + target, data=data, method=method,
        headers={"Content-Type": "application/json", **auth, **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, (json.loads(raw) if raw else None)


def contained(documented, actual, values: dict[str, str], where: str = "$") -> None:
    """Assert that the documented response is a subset of the actual one (see the top)."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in documented.items():
            assert key in actual, f"{where}: no field {key!r} in {sorted(actual)}"
            contained(value, actual[key], values, f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        items = documented
        if items and items[-1] == MORE:
            items = items[:-1]
            assert len(actual) >= len(items), f"{where}: {len(actual)} items, want ≥ {len(items)}"
        else:
            assert len(actual) == len(items), f"{where}: {len(actual)} items, want {len(items)}"
        for index, value in enumerate(items):
            contained(value, actual[index], values, f"{where}[{index}]")
    elif isinstance(documented, str) and PLACEHOLDER.search(documented):
        assert actual == fill(documented, values), f"{where}: {actual!r}"
    elif isinstance(documented, str) and ANY_STRING.match(documented):
        assert isinstance(actual, str), f"{where}: expected a string, got {actual!r}"
    else:
        assert actual == documented and type(actual) is type(documented), \
            f"{where}: documented {documented!r}, got {actual!r}"


def lookup(body, path: str):
    for part in path.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


STATE: dict = {"values": {}, "failed": None}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.label for e in EXAMPLES])
def test_example(server, example: Example):
    if STATE["failed"]:
        pytest.skip(f"an earlier example failed ({STATE['failed']})")
    STATE["failed"] = example.label
    values = STATE["values"]
    target = fill(example.target, values)
    headers = {name: fill(value, values) for name, value in example.headers.items()}
    body = fill(example.body, values) if example.body is not None else None
    if body is not None:
        json.loads(body)  # the documented body is valid JSON
    deadline = time.monotonic() + POLL_TIMEOUT_SECONDS
    while True:
        status, answer = send(server, example.method, target, headers, body)
        try:
            check(example, status, answer, values)
            break
        except AssertionError:
            if not example.poll or time.monotonic() > deadline:
                raise
            time.sleep(POLL_SECONDS)
    STATE["failed"] = None


def check(example: Example, status: int, answer, values: dict[str, str]) -> None:
    assert status == example.status, f"{example.label}: got {status}: {answer}"
    if example.code:
        assert answer["error"]["code"] == example.code, answer
    for name, path in example.bindings:  # first: the documented response may use them
        values[name] = str(lookup(answer, path))
    if example.response is not None:
        contained(json.loads(example.response), answer, values)


# -- the reference covers the API ---------------------------------------------------------
def test_there_are_examples_of_every_workflow():
    paths = {e.target.split("?")[0].rsplit("/", 1)[-1] for e in EXAMPLES}
    assert {"lock", "size", "breakdown", "refine", "complete", "heartbeat", "work-log",
            "commits", "flag-refinement", "in-progress", "subtasks", "context"} <= paths


def test_the_reference_lists_every_endpoint():
    from chalicelib.api.endpoints import ENDPOINTS

    text = SKILL.read_text(encoding="utf-8")
    missing = [f"{e.method} {e.path}" for e in ENDPOINTS if f"`{e.method} {e.path}`" not in text]
    assert not missing, f"SKILL.md's endpoint reference lacks {missing}"


def test_the_error_table_names_every_error_code():
    from chalicelib import errors

    codes = {cls.code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.ChorusError)}
    text = SKILL.read_text(encoding="utf-8")
    missing = sorted(code for code in codes if f"| `{code}` |" not in text)
    assert not missing, f"SKILL.md's error table lacks {missing}"


def _endpoint_of(example: Example):
    """The endpoint an example calls (a literal route such as /tasks/available wins over a
    template such as /tasks/{task_id}); None for a full URL."""
    from chalicelib.api.endpoints import ENDPOINTS

    path = example.target.split("?")[0]
    matches = [e for e in ENDPOINTS if e.method == example.method and re.fullmatch(
        re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(e.path)), path)]
    return min(matches, key=lambda e: e.path.count("{"), default=None)


def test_examples_send_an_idempotency_key_exactly_where_it_is_accepted():
    """SKILL.md's rule: a key on every request that accepts one (the operations and the
    creates), none elsewhere (it would be ignored, and teach a wrong habit)."""
    wrong = []
    for example in EXAMPLES:
        endpoint = _endpoint_of(example)
        if endpoint is None:
            assert example.target.startswith("{"), f"{example.label}: no such endpoint"
            continue
        if endpoint.idempotent != ("Idempotency-Key" in example.headers):
            wrong.append(f"{example.label} ({'needs' if endpoint.idempotent else 'takes no'} key)")
    assert not wrong, wrong


def test_the_idempotency_rule_lists_every_request_that_takes_a_key():
    from chalicelib.api.endpoints import ENDPOINTS

    text = SKILL.read_text(encoding="utf-8")
    rule = text[text.index("**Idempotency-Key**"):text.index("- Prefer a tool?")]

    def named(e) -> bool:
        operation = e.path.rsplit("/", 1)[-1]
        return (f"`{e.path}`" in rule or f"`{e.method} {e.path}`" in rule
                or operation in OPERATIONS and f"`{operation}`" in rule)

    missing = [f"{e.method} {e.path}" for e in ENDPOINTS if e.idempotent and not named(e)]
    assert not missing, f"the Idempotency-Key rule in SKILL.md's Setup lacks {missing}"


def test_frontmatter_and_length():
    text = SKILL.read_text(encoding="utf-8")
    front = text.split("---\n")[1]
    assert re.search(r"^name: chorus$", front, re.M)
    assert re.search(r"^description: ", front, re.M)
    assert len(text.splitlines()) < 900, "SKILL.md is read in one go: keep it under 900 lines"
