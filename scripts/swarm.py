"""A swarm of simulated agents driving one project to done over real HTTP, then checking
every invariant. Each agent follows the SKILL.md workflows with deterministic decisions.

    python scripts/swarm.py [--agents 16] [--tasks 500] [--json out.json]

It starts scripts/local_server.py (DynamoDB Local, in a temporary data dir) unless --url is
given. Exit status 1 when an invariant breaks.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIMENSIONS = ("scope_clarity", "decision_points", "context_window_demand",
              "verification_complexity", "domain_specificity")
OPERATIONS = ("refinement", "breakdown", "sizing", "implementation")
PURPOSE_OF = {"sizing": "sizing", "breakdown": "breakdown", "implementation": "implementation",
              "refinement": "refinement"}


@dataclass
class Shape:
    """How the project grows: epics split into features, features into leaves."""
    epics: int
    features_per_epic: int
    leaves_per_feature: int

    @classmethod
    def for_total(cls, total: int) -> "Shape":
        epics = max(1, round(total ** (1 / 3) / 1.6))
        features = max(1, min(50, round((total / epics) ** 0.5)))
        leaves = max(1, min(50, round((total / epics - 1) / features) - 1))
        return cls(epics, features, leaves)

    @property
    def total(self) -> int:
        return self.epics * (1 + self.features_per_epic * (1 + self.leaves_per_feature))


def digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def scores_for(total: int) -> list[int]:
    return [min(2, max(0, total - 2 * i)) for i in range(5)]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    conflicts: int = 0
    retries: int = 0
    operations: Counter = field(default_factory=Counter)
    acquisitions: list[tuple] = field(default_factory=list)  # (task, token, start, end, agent)
    five_hundreds: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Agent(threading.Thread):
    def __init__(self, name: str, base: str, project_id: str, shape: Shape, stats: Stats,
                 stop: threading.Event, deadline: float):
        super().__init__(daemon=True)
        self.label, self.base, self.project_id = name, base, project_id
        self.shape, self.stats, self.stop, self.deadline = shape, stats, stop, deadline
        self.http = requests.Session()
        self.rng = random.Random(digest(name))

    def call(self, method: str, path: str, route: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        response = self.http.request(method, self.base + path, timeout=60, **kwargs)
        elapsed = time.perf_counter() - started
        with self.stats.lock:
            self.stats.latencies[route].append(elapsed)
            self.stats.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.stats.five_hundreds.append(f"{method} {path}: {response.text[:200]}")
        return response

    def run(self) -> None:
        idle = 0
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            if self.work_once():
                idle = 0
            else:
                idle += 1
                time.sleep(min(0.5, 0.02 * 2 ** min(idle, 5)) * self.rng.uniform(0.5, 1.5))

    def work_once(self) -> bool:
        for operation in OPERATIONS:
            queue = self.call("GET", "/tasks/available", "GET /tasks/available", params={
                "operation": operation, "project_id": self.project_id, "limit": 10})
            if queue.status_code != 200:
                continue
            candidates = queue.json()
            self.rng.shuffle(candidates)
            for task in candidates:
                if self.try_task(operation, task):
                    return True
        return False

    def try_task(self, operation: str, task: dict) -> bool:
        lock = self.call("POST", f"/tasks/{task['id']}/lock", "POST /tasks/{id}/lock",
                         json={"caller_label": self.label,
                               "lock_purpose": PURPOSE_OF[operation]})
        if lock.status_code in (409, 422):
            with self.stats.lock:
                self.stats.conflicts += 1
            return False
        if lock.status_code != 201:
            return False
        acquired = time.monotonic()
        token = lock.json()["fencing_token"]
        try:
            done = self.operate(operation, task)
        finally:
            with self.stats.lock:
                self.stats.acquisitions.append(
                    (task["id"], token, acquired, time.monotonic(), self.label))
        return done

    def operate(self, operation: str, task: dict) -> bool:
        body = {"caller_label": self.label, "release_lock": True,
                "work_log_content": f"{operation} by {self.label}: decision, changes, handoff"}
        key = f"{self.label}-{task['id']}-{operation}-{self.rng.random()}"
        if operation == "sizing":
            total = self.size_of(task)
            confidence = 2 if digest(task["name"] + "unsure") % 10 == 0 else 4
            body.update({name: {"score": s, "reasoning": f"{name}: {s}"}
                         for name, s in zip(DIMENSIONS, scores_for(total))},
                        confidence=confidence)
            path, route = f"/tasks/{task['id']}/size", "POST /tasks/{id}/size"
        elif operation == "breakdown":
            count = (self.shape.features_per_epic if task["depth"] == 0
                     else self.shape.leaves_per_feature)
            body["subtasks"] = [
                {"name": f"{task['name']}.{i}", "task_type": ("feature", "bug", "tech_debt")[i % 3],
                 "description": f"Part {i} of {task['name']}", "context": "swarm"}
                for i in range(count)]
            path, route = f"/tasks/{task['id']}/breakdown", "POST /tasks/{id}/breakdown"
        elif operation == "refinement":
            body["description"] = f"{task['name']}, clarified by {self.label}"
            path, route = f"/tasks/{task['id']}/refine", "POST /tasks/{id}/refine"
        else:
            body["commits"] = [{"commit_hash": hashlib.sha1(task["id"].encode()).hexdigest()}]
            path, route = f"/tasks/{task['id']}/complete", "POST /tasks/{id}/complete"
        for attempt in range(5):
            response = self.call("POST", path, route, json=body,
                                 headers={"Idempotency-Key": key})
            if response.status_code == 200:
                with self.stats.lock:
                    self.stats.operations[operation] += 1
                    if response.headers.get("Idempotent-Replayed") == "true":
                        self.stats.operations[operation] -= 1
                return True
            if response.status_code < 500 and response.status_code != 409:
                break
            with self.stats.lock:
                self.stats.retries += 1
            time.sleep(0.05 * 2 ** attempt)
        self.call("DELETE", f"/tasks/{task['id']}/lock", "DELETE /tasks/{id}/lock",
                  params={"caller_label": self.label})
        return False

    def size_of(self, task: dict) -> int:
        depth = task["depth"]
        if depth == 0:
            return 9
        if depth == 1 and self.shape.leaves_per_feature > 0:
            return 8
        return 1 + digest(task["name"]) % 5


# -- setup, run, verify -------------------------------------------------------------------
def start_server(data_dir: Path, port: int, env: dict) -> subprocess.Popen:
    command = [sys.executable, str(ROOT / "scripts" / "local_server.py"), "--port", str(port),
               "--data-dir", str(data_dir), "--no-frontend"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("the local server did not start")


def fetch(method: str, url: str, **kwargs):
    """The harness's own requests retry 5xx (faults may be injected) and return JSON."""
    for attempt in range(10):
        response = requests.request(method, url, timeout=60, **kwargs)
        if response.status_code < 500:
            response.raise_for_status()
            return response.json()
        time.sleep(0.05 * 2 ** min(attempt, 5))
    raise SystemExit(f"{method} {url} kept failing: {response.status_code} {response.text[:200]}")


def verify(base: str, project_id: str, stats: Stats, data_dir: Path | None) -> list[str]:
    problems = []
    tasks = []
    top = fetch("GET", f"{base}/projects/{project_id}/tasks", params={"limit": 200})
    for root in top:
        tree = fetch("GET", f"{base}/tasks/{root['id']}/tree")
        stack = [tree]
        while stack:
            node = stack.pop()
            tasks.append(node)
            stack += node["children"]
    open_tasks = [t for t in tasks if t["status"] not in ("done", "wont_do")]
    if open_tasks:
        problems.append(f"{len(open_tasks)} tasks are not done or wont_do")
    if stats.five_hundreds:
        problems.append(f"{len(stats.five_hundreds)} 5xx answers, e.g. {stats.five_hundreds[0]}")
    by_task = defaultdict(list)
    for task_id, token, start, end, agent in stats.acquisitions:
        by_task[task_id].append((token, start, end, agent))
    for task_id, holds in by_task.items():
        tokens = [h[0] for h in holds]
        if len(tokens) != len(set(tokens)):
            problems.append(f"task {task_id}: one fencing token granted twice")
        holds.sort(key=lambda h: h[0])
        for earlier, later in zip(holds, holds[1:]):
            if later[1] < earlier[2] - 0.001 and later[3] != earlier[3]:
                problems.append(f"task {task_id}: two agents held the lock at once")
    logged = Counter()
    for task in tasks:
        entries = fetch("GET", f"{base}/tasks/{task['id']}/work-log", params={"limit": 200})
        logged.update(entry["operation"] for entry in entries)
    expected = {"sizing": stats.operations["sizing"], "breakdown": stats.operations["breakdown"],
                "implementation": stats.operations["implementation"],
                "refinement": stats.operations["refinement"]}
    if dict(expected) != {k: logged[k] for k in expected}:
        problems.append(f"work log {dict(logged)} differs from successful operations {expected}")
    if data_dir is not None:
        problems += integrity(data_dir, project_id)
    return problems


def integrity(data_dir: Path, project_id: str) -> list[str]:
    from scripts import dynamodb_local
    from scripts.check_integrity import check
    from chalicelib.store import tables

    server = json.loads((data_dir / "server.json").read_text())
    key, secret = dynamodb_local.credentials(data_dir)
    os.environ.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
                       "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")})
    tables.configure(endpoint=server["dynamodb_endpoint"])
    return [f"integrity: {p}" for p in check([project_id])[project_id]]


def summarize(stats: Stats, seconds: float) -> dict:
    total = sum(len(v) for v in stats.latencies.values())
    return {
        "seconds": round(seconds, 2),
        "requests": total,
        "requests_per_second": round(total / seconds, 1) if seconds else 0,
        "operations": dict(stats.operations),
        "operations_per_second": round(sum(stats.operations.values()) / seconds, 1),
        "lock_conflicts": stats.conflicts,
        "retries": stats.retries,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "latency_ms": {
            route: {"n": len(values),
                    "p50": round(statistics.median(values) * 1000, 1),
                    "p95": round(sorted(values)[int(0.95 * (len(values) - 1))] * 1000, 1)}
            for route, values in sorted(stats.latencies.items())
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run an agent swarm and check invariants.")
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=900, help="give up after this long")
    parser.add_argument("--url", help="use a running server (skips the integrity check)")
    parser.add_argument("--json", help="write the summary here")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="CHORUS_FAULT_RATE for the server it starts")
    args = parser.parse_args(argv)
    shape = Shape.for_total(args.tasks)
    process, data_dir, temp = None, None, None
    if args.url:
        base = args.url.rstrip("/")
    else:
        from scripts.dynamodb_local import free_port

        temp = tempfile.TemporaryDirectory(prefix="chorus-swarm-")
        data_dir = Path(temp.name)
        port = free_port()
        env = {**os.environ, "CHORUS_AUTH": "off"}
        if args.fault_rate:
            env["CHORUS_FAULT_RATE"] = str(args.fault_rate)
        process = start_server(data_dir, port, env)
        base = f"http://127.0.0.1:{port}"
    try:
        project = fetch("POST", f"{base}/projects", json={"name": "swarm"},
                        headers={"Idempotency-Key": "swarm-project"})
        for index in range(shape.epics):
            fetch("POST", f"{base}/projects/{project['id']}/tasks",
                  json={"name": f"epic{index}", "task_type": "feature"},
                  headers={"Idempotency-Key": f"swarm-epic-{index}"})
        stats, stop = Stats(), threading.Event()
        started = time.monotonic()
        agents = [Agent(f"agent-{i}", base, project["id"], shape, stats, stop,
                        started + args.seconds) for i in range(args.agents)]
        watcher = threading.Thread(target=_stop_when_done, args=(base, project["id"], stop,
                                                                  started + args.seconds))
        for agent in agents:
            agent.start()
        watcher.start()
        watcher.join()
        for agent in agents:
            agent.join(timeout=60)
        seconds = time.monotonic() - started
        summary = summarize(stats, seconds)
        summary.update(agents=args.agents, tasks_planned=shape.total,
                       fault_rate=args.fault_rate)
        summary["tasks"] = fetch("GET", f"{base}/projects/{project['id']}")["task_count"]
        problems = verify(base, project["id"], stats, data_dir)
        summary["problems"] = problems
        print(json.dumps(summary, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=2))
        return 1 if problems else 0
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        if temp is not None:
            temp.cleanup()


def _stop_when_done(base: str, project_id: str, stop: threading.Event, deadline: float) -> None:
    while time.monotonic() < deadline:
        detail = fetch("GET", f"{base}/projects/{project_id}")
        counts = detail["status_counts"]
        if detail["task_count"] and counts["todo"] + counts["doing"] == 0:
            break
        time.sleep(0.5)
    stop.set()


if __name__ == "__main__":
    sys.exit(main())
