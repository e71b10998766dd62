"""Shared by the integration and end-to-end tests: the local server as a subprocess, process
and socket inspection through /proc, and the SPEC's rollups recomputed from scratch.

Everything here is bounded in time and count; every process started is in its own process
group and is killed by the code that started it.
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
from pathlib import Path
from typing import Any, Iterable

import requests

ROOT = Path(__file__).resolve().parents[2]
LOCAL_SERVER = ROOT / "scripts" / "local_server.py"
HTTP_TIMEOUT = 30  # seconds, per request

# environment variables of the test process that must not leak into a server we start
_PRIVATE_ENV = ("CHORUS_DYNAMODB_ENDPOINT", "CHORUS_TABLE_PREFIX", "CHORUS_S3_ENDPOINT",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "CHORUS_DATASTORE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the local server -------------------------------------------------------------------------
class LocalServer:
    """`scripts/local_server.py` in its own process group, its output in a log file."""

    def __init__(self, log_path: Path, *, port: int | None = None, data_dir: Path | None = None,
                 env: dict[str, str] | None = None):
        self.port = port or free_port()
        self.data_dir = data_dir
        self.log_path = log_path
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    def start(self, timeout: float = 90) -> "LocalServer":
        args = [sys.executable, str(LOCAL_SERVER), "--no-frontend", "--port", str(self.port)]
        args += ["--data-dir", str(self.data_dir)] if self.data_dir else ["--in-memory"]
        env = {k: v for k, v in os.environ.items() if k not in _PRIVATE_ENV}
        env.update({"CHORUS_AUTH": "off", "PYTHONUNBUFFERED": "1"}, **self.extra_env)
        started = time.monotonic()
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            args, cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = started + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"local server exited with {self.process.returncode}:\n"
                                   + self.log_text()[-3000:])
            try:
                if requests.get(self.base + "/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("local server did not answer /health in time:\n"
                                   + self.log_text()[-3000:])
            time.sleep(0.1)
        self.startup_seconds = time.monotonic() - started
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def dynamodb_endpoint(self) -> str | None:
        found = re.findall(r"DynamoDB Local: (http://127\.0\.0\.1:\d+)", self.log_text())
        return found[-1] if found else None

    def group_pids(self) -> set[int]:
        return pids_in_group(self.pid)

    def kill9(self, whole_group: bool = True, timeout: float = 15) -> None:
        """kill -9 (the process group, or only the server process)."""
        assert self.process is not None
        try:
            if whole_group:
                os.killpg(self.pid, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=timeout)
        self._log.close()

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the group, then SIGKILL to whatever is left (the fixture finalizer)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:  # anything of ours still alive in the group (the JVM, normally gone already)
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()

    # small JSON helpers over real sockets
    def call(self, method: str, path: str, body: Any = None, headers: dict | None = None,
             session: requests.Session | None = None, **kw) -> requests.Response:
        sender = session or requests
        data = json.dumps(body) if body is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        return sender.request(method, self.base + path, data=data, headers=hdrs,
                              timeout=HTTP_TIMEOUT, **kw)


# -- /proc -------------------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # fields after "(comm)"; [0] is the state


def pids_in_group(pgid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and fields[0] != "Z" and int(fields[2]) == pgid:
                found.add(int(entry.name))
    return found


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def live_processes_with_arg(fragment: str) -> list[int]:
    """Live (not zombie) processes whose command line contains `fragment`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None or fields[0] == "Z":
            continue
        if any(fragment in part for part in cmdline(int(entry.name))):
            pids.append(int(entry.name))
    return pids


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _decode_address(hex_address: str) -> tuple[str, int]:
    host_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(host_hex)
    if len(raw) == 4:
        host = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:
        words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
        host = socket.inet_ntop(socket.AF_INET6, words)
    return host, int(port_hex, 16)


def listening_sockets(pids: Iterable[int]) -> list[tuple[int, str, int]]:
    """(pid, bound address, port) of every listening TCP socket the processes hold."""
    owner: dict[str, int] = {}
    for pid in pids:
        for inode in _socket_inodes(pid):
            owner[inode] = pid
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and parts[9] in owner:  # 0A: LISTEN
                host, port = _decode_address(parts[1])
                found.append((owner[parts[9]], host, port))
    return found


def non_loopback_addresses() -> list[str]:
    """This machine's addresses that are not loopback (`hostname -I`, then the socket module)."""
    import ipaddress

    candidates: list[str] = []
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5)
        candidates += out.stdout.split()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            candidates.append(info[4][0])
    except OSError:
        pass
    result = []
    for candidate in dict.fromkeys(candidates):
        try:
            address = ipaddress.ip_address(candidate.split("%")[0])
        except ValueError:
            continue
        if not (address.is_loopback or address.is_link_local or address.is_unspecified):
            result.append(str(address))
    return result


# -- the SPEC's numbers, recomputed from the tree ------------------------------------------
def flatten(tree: dict) -> list[dict]:
    """A /tasks/{id}/tree answer as a flat list of nodes (each keeping its `children`)."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.get("children", []))
    return out


def expected_figures(node: dict) -> dict:
    """SPEC §1 (Point rollup, Readiness) for one node of a full tree, from stored fields and
    its children alone (recursively), never from the server's computed fields."""
    counted = [child for child in node["children"] if child["status"] != "wont_do"]
    child_effective = [expected_figures(child)["effective_points"] for child in counted]
    sized = [points for points in child_effective if points is not None]
    rolled = sum(sized) if sized else None
    effective = rolled if rolled is not None else node["points"]
    if node["needs_refinement"]:
        readiness = "needs_refinement"
    elif counted:
        readiness = "blocked_by_children"
    elif node["points"] is None:
        readiness = "needs_sizing"
    elif node["points"] > 6:
        readiness = "needs_breakdown"
    elif node.get("expected_waiting"):
        readiness = "blocked_by_dependencies"
    else:
        readiness = "ready"
    return {"rolled_up_points": rolled, "effective_points": effective,
            "unsized_children": len(child_effective) - len(sized),
            "children_count": len(node["children"]), "readiness": readiness,
            "open_blockers": node.get("expected_open_blockers", 0),
            "waiting": bool(node.get("expected_waiting"))}


COMPUTED = ("rolled_up_points", "effective_points", "unsized_children", "children_count",
            "readiness", "open_blockers", "waiting")


def mark_waiting(trees: list[dict]) -> None:
    """SPEC §12, from stored fields alone: a node's open blockers are its `blocked_by` tasks
    that are todo or doing; it waits when it or an ancestor has one."""
    status = {node["id"]: node["status"] for tree in trees for node in flatten(tree)}

    def walk(node: dict, inherited: bool) -> None:
        own = sum(1 for b in node["blocked_by"] if status.get(b) in ("todo", "doing"))
        node["expected_open_blockers"] = own
        node["expected_waiting"] = inherited or own > 0
        for child in node["children"]:
            walk(child, node["expected_waiting"])

    for tree in trees:
        walk(tree, False)


def figure_mismatches(trees: list[dict]) -> list[str]:
    """Every node whose computed fields differ from a from-scratch recomputation."""
    problems = []
    for tree in trees:
        for node in flatten(tree):
            expected = expected_figures(node)
            actual = {key: node[key] for key in COMPUTED}
            if actual != expected:
                problems.append(f"{node['name']} ({node['id']}): server {actual}, "
                                f"recomputed {expected}")
    return problems


def expected_project_counters(trees: list[dict]) -> dict:
    """SPEC §2 ProjectDetail counters recomputed from every top-level task's full tree."""
    status_counts = {"todo": 0, "doing": 0, "done": 0, "wont_do": 0}
    readiness_counts = {key: 0 for key in ("needs_refinement", "blocked_by_children",
                                           "needs_sizing", "needs_breakdown",
                                           "blocked_by_dependencies", "ready")}
    task_count = points_total = points_completed = 0

    def walk(node: dict, cancelled_above: bool) -> None:
        nonlocal task_count, points_completed
        task_count += 1
        status_counts[node["status"]] += 1
        figures = expected_figures(node)
        if node["status"] in ("todo", "doing"):
            readiness_counts[figures["readiness"]] += 1
        is_leaf = not any(child["status"] != "wont_do" for child in node["children"])
        if node["status"] == "done" and is_leaf and not cancelled_above:
            points_completed += node["points"] or 0
        for child in node["children"]:
            walk(child, cancelled_above or node["status"] == "wont_do")

    for tree in trees:
        walk(tree, False)
        if tree["status"] != "wont_do":
            points_total += expected_figures(tree)["effective_points"] or 0
    return {"task_count": task_count, "status_counts": status_counts,
            "readiness_counts": readiness_counts, "points_total": points_total,
            "points_completed": points_completed}


def detail_counters(detail: dict) -> dict:
    return {key: detail[key] for key in ("task_count", "status_counts", "readiness_counts",
                                         "points_total", "points_completed")}


def sizing_body(caller: str, scores: tuple[int, int, int, int, int], confidence: int = 4,
                **extra: Any) -> dict:
    names = ("scope_clarity", "decision_points", "context_window_demand",
             "verification_complexity", "domain_specificity")
    body = {name: {"score": score, "reasoning": f"{name} is {score}"}
            for name, score in zip(names, scores)}
    body.update(caller_label=caller, confidence=confidence,
                work_log_content=f"sized by {caller}: {sum(scores)}")
    body.update(extra)
    return body


def scores_for(total: int) -> tuple[int, int, int, int, int]:
    """Five 0-2 scores adding up to `total` (0-10)."""
    scores = []
    left = total
    for _ in range(5):
        score = min(2, left)
        scores.append(score)
        left -= score
    assert left == 0, total
    return tuple(scores)  # type: ignore[return-value]


def project_trees(get, project_id: str) -> list[dict]:
    """Every top-level task of a project with its whole subtree. `get(path)` returns JSON."""
    top: list[dict] = []
    for _ in range(100):  # bounded: 100 pages of 200
        page = get(f"/projects/{project_id}/tasks?limit=200&offset={len(top)}")
        top += page
        if len(page) < 200:
            break
    return [get(f"/tasks/{task['id']}/tree") for task in top]


def consistency_problems(get, project_id: str) -> list[str]:
    """Rollups of every task, the project's counters and sibling positions, each compared
    with a from-scratch recomputation; an empty list means all agree."""
    trees = project_trees(get, project_id)
    mark_waiting(trees)
    problems = figure_mismatches(trees)
    expected = expected_project_counters(trees)
    actual = detail_counters(get(f"/projects/{project_id}"))
    if actual != expected:
        problems.append(f"project counters: server {actual}, recomputed {expected}")
    if [tree["position"] for tree in trees] != list(range(len(trees))):
        problems.append(f"top-level positions {[tree['position'] for tree in trees]}")
    for tree in trees:
        for node in flatten(tree):
            positions = [child["position"] for child in node["children"]]
            if positions != list(range(len(positions))):
                problems.append(f"positions under {node['name']}: {positions}")
    return problems
