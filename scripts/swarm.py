"""A swarm of simulated agents driving one project to done over real HTTP, then checking
every invariant. Each agent follows the SKILL.md workflows with deterministic decisions.

    python scripts/swarm.py [--agents 16] [--tasks 500] [--json out.json]

It starts scripts/local_server.py (DynamoDB Local, in a temporary data dir) unless --url is
given. Exit status 1 when an invariant breaks.

What the agents do
------------------
Each agent polls the four queues (refinement, breakdown, sizing, implementation), locks a
task, does that one operation and releases the lock in the same request. Dependencies
(SPEC 12) come in three ways: some breakdowns order their new steps with `after` (a feature's
leaves in chains of three; an epic's last feature waits for its first); after a successful
operation an agent sometimes makes one open task wait for an open task of another branch
(`--edge-rate`; a `422 INVALID_DEPENDENCY` cycle or limit refusal is a normal outcome), and
sometimes removes one such edge again (`--unlink-rate`). Nothing can deadlock: waiting holds
back implementation only, the server refuses every edge that would make a task wait for
itself (through subtrees too), so some open leaf is always implementable, and agents just take
what the queues offer. Right after every implementation lock an agent re-reads the task; when
it waits by then (an edge was added meanwhile) it releases the lock and works elsewhere.
A watcher stops the run when nothing is open, or reports a stall (no task finished for
`--stall-seconds`), which with acyclic waiting can only be a server bug.

What is checked, and how (from the outside)
-------------------------------------------
Every request an agent makes is timed on the wall clock (sent, received). The local server
shares that clock and stamps each event with its request's time (`at`), taken before its
transaction commits. So each event's change committed inside a window [at, end of the actor's
request that contains `at`] (each agent writes sequentially, so that request is unique), and
each answer reflects the state at one moment inside its request. From the whole feed the
checker rebuilds, per edge, when it was added or removed and, per task, its status changes,
each with its commit window. A task is then *certainly waiting* over a time span when some
edge of it or of an ancestor is certainly present and its blocker certainly open throughout,
and *certainly not waiting* when every such edge is certainly absent or its blocker certainly
finished throughout; otherwise (a change racing the span) it is undecided. Undecided cases are
counted, never judged: from the outside only answers that do not race a relevant write can be
proved right or wrong.

1. No implementation lock on a waiting task: each `201` of an implementation lock committed
   within [its `lock_acquired` event's `at`, its answer]. A violation is a grant over which
   the task was certainly waiting. (The agent's re-read right after the grant alone proves
   nothing either way: an edge may be added between grant and read, or a blocker finish.)
2. Readiness matches blockers: (a) every Task an agent received (queues, re-reads, operation
   answers) is self-consistent (readiness follows its fields and `waiting`; `open_blockers` at
   most `len(blocked_by)` and implies `waiting`), and, where decided, its `waiting`,
   `open_blockers` and `blocked_by` equal what the feed's edges and statuses imply at that
   moment; (b) at checkpoints (a quarter, half and three quarters of the planned tasks done,
   and the end) the agents are paused, so nothing races: every task's `open_blockers` is
   recomputed from its `blocked_by` tasks' statuses, `waiting` from the ancestors, readiness
   from both, and scripts/check_integrity.py recomputes every stored aggregate from base data;
   at the end `GET /tasks/{id}/dependencies` must mirror the `blocked_by` lists and the edges
   the feed leaves standing must be exactly the tasks' `blocked_by`.
3. Every write appears exactly once in the feed, with its actor: each successful write records
   the events it must have made (task id, kind, actor, and the purpose, blocker, from->to or
   commit hash), e.g. a completion: `completed`, `status_changed` doing->done, `commit_recorded`,
   `lock_released`; the first implementation grant of a task: `status_changed` todo->doing.
   The whole feed is paged (`limit`/`offset`, following `X-Next-Offset`) after the run, and
   the count of every such key must equal the count the swarm expects (a write whose outcome
   the swarm could not know, after a 5xx, widens that to a range). Cascaded status changes
   (complete upward) are not predicted per write: every task's `status_changed` events must
   instead chain from `todo` to its final status. Every event's actor is an agent, `anonymous`
   (the setup's epics) or `system` (a `lock_expired` only), and every event's `at` falls inside
   a write request of its actor.
"""
from __future__ import annotations

import argparse
import bisect
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
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIMENSIONS = ("scope_clarity", "decision_points", "context_window_demand",
              "verification_complexity", "domain_specificity")
OPERATIONS = ("refinement", "breakdown", "sizing", "implementation")
PURPOSE_OF = {"sizing": "sizing", "breakdown": "breakdown", "implementation": "implementation",
              "refinement": "refinement"}
OPEN = frozenset({"todo", "doing"})
CLOSED = frozenset({"done", "wont_do"})
TOLERANCE = 0.002  # seconds: the server stamps events to the millisecond
SETUP = "anonymous"  # the setup's writes take no author (SPEC 9, auth off)
CHECKPOINTS = (0.25, 0.5, 0.75)  # of the planned tasks done


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


def after_plan(name: str, depth: int, count: int) -> list[list[int] | None]:
    """Which new steps of a breakdown wait for earlier ones (`after`), decided by the name:
    half the breakdowns are ordered; an epic's last feature waits for its first, a feature's
    leaves go in chains of three."""
    if count < 2 or digest(name + "ordered") % 2:
        return [None] * count
    if depth == 0:
        return [None] * (count - 1) + [[0]]
    return [[i - 1] if i % 3 else None for i in range(count)]


def event_key(event: dict) -> tuple:
    """(task, kind, actor, detail): what an event must match in the swarm's own record."""
    kind, details = event["kind"], event["details"]
    if kind.startswith("lock_"):
        detail = details.get("lock_purpose", "")
    elif kind.startswith("dependency_"):
        detail = details.get("blocker_id", "")
    elif kind == "status_changed":
        detail = f"{details.get('from')}->{details.get('to')}"
    elif kind == "commit_recorded":
        detail = details.get("commit_hash", "")
    else:
        detail = ""
    return (event["task_id"], kind, event["actor"], detail)


def parse_at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def expected_readiness(task: dict, waiting: bool) -> str:
    """SPEC 1, first match wins (the swarm cancels nothing, so every child counts)."""
    if task["needs_refinement"]:
        return "needs_refinement"
    if task["children_count"] > 0:
        return "blocked_by_children"
    if task["points"] is None:
        return "needs_sizing"
    if task["points"] > 6:
        return "needs_breakdown"
    return "blocked_by_dependencies" if waiting else "ready"


@dataclass
class Grant:
    task_id: str
    agent: str
    token: int
    sent: float
    received: float
    reread_waiting: bool | None = None


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
    # for the checker: wall-clock (sent, received) of every write request, per actor
    writes: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list))
    expected: Counter = field(default_factory=Counter)  # event keys certainly recorded
    uncertain: Counter = field(default_factory=Counter)  # ... perhaps recorded (after a 5xx)
    grants: list[Grant] = field(default_factory=list)  # implementation locks granted
    unknown_implementation: set = field(default_factory=set)  # tasks: a lock of unknown fate
    snapshots: list[tuple] = field(default_factory=list)  # every Task received, with its time
    notes: int = 0  # notes the dependency endpoints log by themselves
    uncertain_notes: int = 0
    dependencies: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # answers no agent should get
    # edges asked for by hand: (waiter, blocker, sent, received, "added" or the refusal)
    edge_attempts: list[tuple] = field(default_factory=list)

    def expect(self, keys: list[tuple], certain: bool = True) -> None:
        with self.lock:
            (self.expected if certain else self.uncertain).update(keys)

    def surprise(self, text: str) -> None:
        with self.lock:
            self.unexpected.append(text)


def snapshot(task: dict, sent: float, received: float) -> tuple:
    return (sys.intern(task["id"]), task["status"], task["readiness"], task["waiting"],
            task["open_blockers"], tuple(sys.intern(b) for b in task["blocked_by"]),
            task["needs_refinement"], task["children_count"], task["points"], sent, received)


class World:
    """What the agents have seen of the tree (parents, whether open), and the edges they
    added by hand (the ones they may remove again)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.parent: dict[str, str | None] = {}
        self.depth: dict[str, int] = {}
        self.open: dict[str, bool] = {}
        self.tried: set[tuple[str, str]] = set()
        self.linked: list[tuple[str, str]] = []

    def see(self, task: dict) -> None:
        with self.lock:
            self.parent[task["id"]] = task["parent_task_id"]
            self.depth[task["id"]] = task["depth"]
            # statuses only move forward in the swarm: once seen finished, a stale read
            # showing it open does not revive it
            self.open[task["id"]] = self.open.get(task["id"], True) and task["status"] in OPEN

    def _chain(self, task_id: str) -> list[str]:
        chain = []
        while task_id is not None and len(chain) < 20:
            chain.append(task_id)
            task_id = self.parent.get(task_id)
        return chain

    def pick_pair(self, rng: random.Random) -> tuple[str, str] | None:
        """An open waiter and an open blocker (not an epic) of another branch: neither is
        the other's ancestor, never tried before."""
        with self.lock:
            candidates = sorted(i for i, is_open in self.open.items() if is_open)
            if len(candidates) < 2:
                return None
            for _ in range(20):
                waiter, blocker = rng.sample(candidates, 2)
                if (self.depth.get(blocker, 0) == 0 or (waiter, blocker) in self.tried
                        or blocker in self._chain(waiter) or waiter in self._chain(blocker)):
                    continue
                self.tried.add((waiter, blocker))
                return waiter, blocker
        return None

    def exist(self, pairs: list[tuple[str, str]]) -> None:
        """Edges a breakdown made (`after`): not to be asked for again."""
        with self.lock:
            self.tried.update(pairs)

    def linked_edge(self, pair: tuple[str, str]) -> None:
        with self.lock:
            self.linked.append(pair)

    def take_edge(self, rng: random.Random) -> tuple[str, str] | None:
        with self.lock:
            if not self.linked:
                return None
            return self.linked.pop(rng.randrange(len(self.linked)))


class Gate:
    """Checkpoints: pause() waits until every running agent is parked between two tasks
    (holding no lock), so the checkers see a state no request is changing."""

    def __init__(self, agents: int):
        self.cond = threading.Condition()
        self.paused = False
        self.parked = 0
        self.running = agents

    def park_if_paused(self) -> None:
        with self.cond:
            if not self.paused:
                return
            self.parked += 1
            self.cond.notify_all()
            while self.paused:
                self.cond.wait()
            self.parked -= 1

    def leave(self) -> None:
        with self.cond:
            self.running -= 1
            self.cond.notify_all()

    def pause(self, timeout: float) -> bool:
        with self.cond:
            self.paused = True
            return self.cond.wait_for(lambda: self.parked >= self.running, timeout)

    def resume(self) -> None:
        with self.cond:
            self.paused = False
            self.cond.notify_all()


class Agent(threading.Thread):
    def __init__(self, name: str, base: str, project_id: str, shape: Shape, stats: Stats,
                 stop: threading.Event, deadline: float, world: World, gate: Gate,
                 edge_rate: float, unlink_rate: float):
        super().__init__(daemon=True)
        self.label, self.base, self.project_id = name, base, project_id
        self.shape, self.stats, self.stop, self.deadline = shape, stats, stop, deadline
        self.world, self.gate = world, gate
        self.edge_rate, self.unlink_rate = edge_rate, unlink_rate
        self.http = requests.Session()
        self.rng = random.Random(digest(name))

    def call(self, method: str, path: str, route: str, **kwargs) -> requests.Response:
        sent, started = time.time(), time.perf_counter()
        response = self.http.request(method, self.base + path, timeout=60, **kwargs)
        elapsed, received = time.perf_counter() - started, time.time()
        response.sent, response.received = sent, received
        with self.stats.lock:
            self.stats.latencies[route].append(elapsed)
            self.stats.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.stats.five_hundreds.append(f"{method} {path}: {response.text[:200]}")
            if method != "GET":
                self.stats.writes[self.label].append((sent, received))
        return response

    def observe(self, tasks: list[dict], response: requests.Response) -> None:
        rows = [snapshot(task, response.sent, response.received) for task in tasks]
        with self.stats.lock:
            self.stats.snapshots.extend(rows)
        for task in tasks:
            self.world.see(task)

    def run(self) -> None:
        try:
            idle = 0
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                self.gate.park_if_paused()
                try:
                    worked = self.work_once()
                except requests.RequestException as error:
                    self.stats.surprise(f"{self.label}: {error!r}")
                    worked = False
                if worked:
                    idle = 0
                else:
                    idle += 1
                    time.sleep(min(0.5, 0.02 * 2 ** min(idle, 5)) * self.rng.uniform(0.5, 1.5))
        finally:
            self.gate.leave()

    def work_once(self) -> bool:
        for operation in OPERATIONS:
            queue = self.call("GET", "/tasks/available", "GET /tasks/available", params={
                "operation": operation, "project_id": self.project_id, "limit": 10})
            if queue.status_code != 200:
                continue
            candidates = queue.json()
            self.observe(candidates, queue)
            self.rng.shuffle(candidates)
            for task in candidates:
                if self.try_task(operation, task):
                    self.rewire()
                    return True
        return False

    # -- locks --------------------------------------------------------------------------
    def try_task(self, operation: str, task: dict) -> bool:
        purpose = PURPOSE_OF[operation]
        lock = self.acquire(task["id"], purpose)
        if lock is None:
            return False
        token, acquired, grant = lock
        try:
            if grant is not None:
                reread = self.call("GET", f"/tasks/{task['id']}", "GET /tasks/{id}")
                if reread.status_code == 200:
                    self.observe([reread.json()], reread)
                    grant.reread_waiting = reread.json()["waiting"]
                if grant.reread_waiting:  # it waits by now: leave it for later
                    with self.stats.lock:
                        self.stats.dependencies["released_waiting"] += 1
                    self.release(task["id"], purpose)
                    return False
            return self.operate(operation, task)
        finally:
            with self.stats.lock:
                self.stats.acquisitions.append(
                    (task["id"], token, acquired, time.monotonic(), self.label))

    def acquire(self, task_id: str, purpose: str) -> tuple | None:
        """POST the lock; after a 5xx ask again: a 200 (the holder's re-acquire) then says
        the earlier attempt had won it, so the outcome is always known unless every attempt
        fails. Returns (fencing token, when, Grant of an implementation lock) or None."""
        first_sent = None
        for attempt in range(5):
            lock = self.call("POST", f"/tasks/{task_id}/lock", "POST /tasks/{id}/lock",
                             json={"caller_label": self.label, "lock_purpose": purpose})
            first_sent = first_sent or lock.sent
            if lock.status_code == 201 or (lock.status_code == 200 and attempt > 0):
                self.stats.expect([(task_id, "lock_acquired", self.label, purpose)])
                token = lock.json()["fencing_token"]
                grant = None
                if purpose == "implementation":
                    sent = lock.sent if lock.status_code == 201 else first_sent
                    grant = Grant(task_id, self.label, token, sent, lock.received)
                    with self.stats.lock:
                        self.stats.grants.append(grant)
                return token, time.monotonic(), grant
            if lock.status_code in (409, 422):
                with self.stats.lock:
                    self.stats.conflicts += 1
                    if lock.status_code == 422 and lock.json()["error"]["details"].get(
                            "readiness") == "blocked_by_dependencies":
                        self.stats.dependencies["lock_refused_waiting"] += 1
                return None
            if lock.status_code < 500:
                self.stats.surprise(f"{self.label}: lock {task_id} answered "
                                    f"{lock.status_code} {lock.text[:200]}")
                return None
            time.sleep(0.05 * 2 ** attempt)
        self.stats.expect([(task_id, "lock_acquired", self.label, purpose)], certain=False)
        if purpose == "implementation":
            with self.stats.lock:
                self.stats.unknown_implementation.add(task_id)
        return None

    def release(self, task_id: str, purpose: str) -> None:
        unknown = False
        for attempt in range(5):
            response = self.call("DELETE", f"/tasks/{task_id}/lock", "DELETE /tasks/{id}/lock",
                                 params={"caller_label": self.label})
            if response.status_code == 204:
                self.stats.expect([(task_id, "lock_released", self.label, purpose)])
                return
            if response.status_code < 500:
                break  # no live lock of ours: an operation released it, or it expired
            unknown = True
            time.sleep(0.05 * 2 ** attempt)
        if unknown:
            self.stats.expect([(task_id, "lock_released", self.label, purpose)], certain=False)

    # -- the four operations ------------------------------------------------------------
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
            order = after_plan(task["name"], task["depth"], count)
            body["subtasks"] = [
                {"name": f"{task['name']}.{i}", "task_type": ("feature", "bug", "tech_debt")[i % 3],
                 "description": f"Part {i} of {task['name']}", "context": "swarm",
                 **({"after": order[i]} if order[i] else {})}
                for i in range(count)]
            path, route = f"/tasks/{task['id']}/breakdown", "POST /tasks/{id}/breakdown"
        elif operation == "refinement":
            body["description"] = f"{task['name']}, clarified by {self.label}"
            path, route = f"/tasks/{task['id']}/refine", "POST /tasks/{id}/refine"
        else:
            body["commits"] = [{"commit_hash": hashlib.sha1(task["id"].encode()).hexdigest()}]
            path, route = f"/tasks/{task['id']}/complete", "POST /tasks/{id}/complete"
        unknown = False
        for attempt in range(5):
            response = self.call("POST", path, route, json=body,
                                 headers={"Idempotency-Key": key})
            if response.status_code == 200:
                # a replay (Idempotent-Replayed) answers an earlier attempt that wrote: the
                # operation happened once either way
                data = response.json()
                if response.headers.get("Idempotent-Replayed") != "true":
                    # a replay shows the state of an earlier attempt, not of this request
                    self.observe([data] + data.get("subtasks", []), response)
                events = self.events_of(operation, task["id"], body, data)
                self.stats.expect(events)
                self.world.exist([(k[0], k[3]) for k in events if k[1] == "dependency_added"])
                with self.stats.lock:
                    self.stats.operations[operation] += 1
                    if body.get("subtasks"):
                        self.stats.dependencies["after_edges"] += sum(
                            len(s.get("after", [])) for s in body["subtasks"])
                return True
            if response.status_code >= 500:
                unknown = True
            elif response.status_code != 409:
                break
            with self.stats.lock:
                self.stats.retries += 1
            time.sleep(0.05 * 2 ** attempt)
        if unknown:
            self.stats.expect(self.events_of(operation, task["id"], body, None), certain=False)
        self.release(task["id"], PURPOSE_OF[operation])
        return False

    def events_of(self, operation: str, task_id: str, body: dict, data: dict | None) -> list:
        """The events an operation records (SPEC 14), as keys of event_key()."""
        me = self.label
        keys = [(task_id, "lock_released", me, PURPOSE_OF[operation])]
        if operation == "sizing":
            keys.append((task_id, "sized", me, ""))
            if body["confidence"] <= 2:
                keys.append((task_id, "flagged", me, ""))
        elif operation == "breakdown":
            keys.append((task_id, "broken_down", me, ""))
            if data is not None:
                ids = {sub["name"]: sub["id"] for sub in data["subtasks"]}
                made = [ids.get(spec["name"], f"missing {spec['name']}")
                        for spec in body["subtasks"]]
                for spec, sub_id in zip(body["subtasks"], made):
                    keys.append((sub_id, "task_created", me, ""))
                    keys += [(sub_id, "dependency_added", me, made[i])
                             for i in spec.get("after", [])]
        elif operation == "refinement":
            keys.append((task_id, "refined", me, ""))
        else:
            keys += [(task_id, "completed", me, ""),
                     (task_id, "status_changed", me, "doing->done"),
                     (task_id, "commit_recorded", me, body["commits"][0]["commit_hash"])]
        return keys

    def size_of(self, task: dict) -> int:
        depth = task["depth"]
        if depth == 0:
            return 9
        if depth == 1 and self.shape.leaves_per_feature > 0:
            return 8
        return 1 + digest(task["name"]) % 5

    # -- dependencies -------------------------------------------------------------------
    def rewire(self) -> None:
        if self.rng.random() < self.edge_rate:
            self.link()
        if self.rng.random() < self.unlink_rate:
            self.unlink()

    def link(self) -> None:
        pair = self.world.pick_pair(self.rng)
        if pair is None:
            return
        waiter, blocker = pair
        unknown, response, answers = False, None, []
        for attempt in range(5):
            response = self.call(
                "POST", f"/tasks/{waiter}/dependencies", "POST /tasks/{id}/dependencies",
                json={"blocker_id": blocker, "author": self.label},
                headers={"Idempotency-Key": f"{self.label}-edge-{waiter}-{blocker}"})
            answers.append(answer_of(response))
            if response.status_code < 500 and response.status_code != 409:
                break
            unknown = unknown or response.status_code >= 500
            time.sleep(0.05 * 2 ** attempt)
        key = (waiter, "dependency_added", self.label, blocker)
        if response.status_code == 201:  # also a replay: it was added once
            self.stats.expect([key])
            self.world.linked_edge(pair)
            with self.stats.lock:
                self.stats.notes += 1
                self.stats.dependencies["added"] += 1
                if not unknown:
                    self.stats.edge_attempts.append(
                        (waiter, blocker, response.sent, response.received, "added"))
        elif response.status_code == 200:  # it stood already: a breakdown's `after` made it
            with self.stats.lock:       # meanwhile (World.exist came too late); no event
                self.stats.dependencies["existing"] += 1
        elif response.status_code == 422 and response.json()["error"]["code"] == \
                "INVALID_DEPENDENCY":
            reason = response.json()["error"]["details"].get("reason")
            with self.stats.lock:
                self.stats.dependencies[f"refused_{reason}"] += 1
                self.stats.edge_attempts.append(
                    (waiter, blocker, response.sent, response.received, reason))
            if reason not in ("cycle", "limit"):
                self.stats.surprise(f"{self.label}: edge {waiter} -> {blocker} refused: "
                                    f"{reason}")
        elif unknown:
            self.stats.expect([key], certain=False)
            with self.stats.lock:
                self.stats.uncertain_notes += 1
        elif response.status_code == 409:  # still contended after 5 tries: not applied
            with self.stats.lock:
                self.stats.dependencies["gave_up"] += 1
        else:
            self.stats.surprise(f"{self.label}: POST /tasks/{waiter}/dependencies (blocker "
                                f"{blocker}) answered {' then '.join(answers)}: "
                                f"{response.text[:300]}")

    def unlink(self) -> None:
        pair = self.world.take_edge(self.rng)
        if pair is None:
            return
        waiter, blocker = pair
        unknown, response, answers = False, None, []
        for attempt in range(5):
            response = self.call(
                "DELETE", f"/tasks/{waiter}/dependencies/{blocker}",
                "DELETE /tasks/{id}/dependencies/{blocker_id}", params={"author": self.label})
            answers.append(answer_of(response))
            if response.status_code < 500 and response.status_code != 409:
                break
            unknown = unknown or response.status_code >= 500
            time.sleep(0.05 * 2 ** attempt)
        key = (waiter, "dependency_removed", self.label, blocker)
        if response.status_code == 204:
            self.stats.expect([key])
            with self.stats.lock:
                self.stats.notes += 1
                self.stats.dependencies["removed"] += 1
        elif unknown:
            self.stats.expect([key], certain=False)
            with self.stats.lock:
                self.stats.uncertain_notes += 1
        elif response.status_code == 409:  # still contended after 5 tries: it stands
            self.world.linked_edge(pair)
            with self.stats.lock:
                self.stats.dependencies["gave_up"] += 1
        else:  # only this agent removes this edge, and nothing deletes tasks
            self.stats.surprise(f"{self.label}: DELETE /tasks/{waiter}/dependencies/{blocker} "
                                f"answered {' then '.join(answers)}: {response.text[:300]}")


def answer_of(response: requests.Response) -> str:
    """`201`, `409 CONCURRENT_MODIFICATION`, `201 (replayed)`: for reports."""
    text = str(response.status_code)
    if response.status_code >= 400:
        try:
            text += " " + response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            pass
    if response.headers.get("Idempotent-Replayed") == "true":
        text += " (replayed)"
    return text


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


def fetch_response(method: str, url: str, **kwargs) -> requests.Response:
    """The harness's own requests retry 5xx (faults may be injected)."""
    for attempt in range(10):
        response = requests.request(method, url, timeout=60, **kwargs)
        if response.status_code < 500:
            response.raise_for_status()
            return response
        time.sleep(0.05 * 2 ** min(attempt, 5))
    raise SystemExit(f"{method} {url} kept failing: {response.status_code} {response.text[:200]}")


def fetch(method: str, url: str, **kwargs):
    return fetch_response(method, url, **kwargs).json()


def read_tasks(base: str, project_id: str, stats: Stats) -> list[dict]:
    """Every task of the project (one tree read per top-level task); each read's Tasks join
    the snapshots, with that read's time."""
    tasks = []
    for root in fetch("GET", f"{base}/projects/{project_id}/tasks", params={"limit": 200}):
        sent = time.time()
        tree = fetch("GET", f"{base}/tasks/{root['id']}/tree")
        received = time.time()
        stack = [tree]
        while stack:
            node = stack.pop()
            tasks.append(node)
            stats.snapshots.append(snapshot(node, sent, received))
            stack += node["children"]
    return tasks


def dependency_drift(tasks: list[dict]) -> list[str]:
    """Every task's open_blockers, waiting and readiness, recomputed from its blockers'
    statuses and its ancestors (SPEC 12), against what the API says."""
    by_id = {task["id"]: task for task in tasks}
    problems, waiting = [], {}
    for task in sorted(tasks, key=lambda t: t["depth"]):
        missing = [b for b in task["blocked_by"] if b not in by_id]
        if missing:
            problems.append(f"task {task['id']}: blocked_by names {missing}, not in the project")
        opened = sum(1 for b in task["blocked_by"] if by_id.get(b, {}).get("status") in OPEN)
        waiting[task["id"]] = opened > 0 or waiting.get(task["parent_task_id"], False)
        if task["open_blockers"] != opened:
            problems.append(f"task {task['id']}: open_blockers {task['open_blockers']}, "
                            f"but {opened} of its blockers are open")
        if task["waiting"] != waiting[task["id"]]:
            problems.append(f"task {task['id']}: waiting {task['waiting']}, expected "
                            f"{waiting[task['id']]}")
        wanted = expected_readiness(task, waiting[task["id"]])
        if task["readiness"] != wanted:
            problems.append(f"task {task['id']}: readiness {task['readiness']}, expected "
                            f"{wanted}")
    return problems


def dependency_lists(base: str, tasks: list[dict]) -> list[str]:
    """GET /tasks/{id}/dependencies mirrors the blocked_by lists, both ways."""
    blocking = defaultdict(set)
    for task in tasks:
        for blocker in task["blocked_by"]:
            blocking[blocker].add(task["id"])
    problems = []
    for task in tasks:
        if not task["blocked_by"] and task["id"] not in blocking:
            continue
        answer = fetch("GET", f"{base}/tasks/{task['id']}/dependencies")
        if [t["id"] for t in answer["blocked_by"]] != task["blocked_by"]:
            problems.append(f"task {task['id']}: dependencies.blocked_by "
                            f"{[t['id'] for t in answer['blocked_by']]} != {task['blocked_by']}")
        if {t["id"] for t in answer["blocking"]} != blocking[task["id"]]:
            problems.append(f"task {task['id']}: dependencies.blocking differs from the tasks "
                            f"naming it in blocked_by")
    return problems


def checkpoint(base: str, project_id: str, stats: Stats, data_dir: Path | None) -> dict:
    """The quiescent checks of invariant 2 (the agents are parked)."""
    tasks = read_tasks(base, project_id, stats)
    problems = dependency_drift(tasks)
    if data_dir is not None:
        problems += integrity(data_dir, project_id)
    return {"tasks": len(tasks), "waiting": sum(1 for t in tasks if t["waiting"]),
            "edges": sum(len(t["blocked_by"]) for t in tasks), "problems": problems}


def read_feed(base: str, project_id: str) -> tuple[list[dict], int, list[str]]:
    """The whole activity feed, newest first, page by page along X-Next-Offset."""
    url, problems, events, offset, pages = f"{base}/projects/{project_id}/activity", [], [], 0, 0
    newest = fetch("GET", url, params={"limit": 1})
    while True:
        response = fetch_response("GET", url, params={"limit": 200, "offset": offset})
        page, pages = response.json(), pages + 1
        events += page
        following = response.headers.get("X-Next-Offset")
        if following is None:
            break
        if int(following) != offset + len(page) or not page:
            problems.append(f"feed: X-Next-Offset {following} after offset {offset} and "
                            f"{len(page)} events")
            break
        offset = int(following)
    stable = fetch("GET", url, params={"limit": 1}) == newest
    ids = Counter(event["id"] for event in events)
    doubled = [i for i, n in ids.items() if n > 1]
    if doubled and stable:
        problems.append(f"feed: {len(doubled)} events appear on two pages, e.g. {doubled[0]}")
    if doubled:  # something wrote meanwhile (a lock sweep): keep one of each
        seen, unique = set(), []
        for event in events:
            if event["id"] not in seen:
                seen.add(event["id"])
                unique.append(event)
        events = unique
    return events, pages, problems


class Timeline:
    """The feed's edges and status changes, each with the window in which it committed:
    [its event's `at`, the end of the actor's request that recorded it]."""

    def __init__(self, chronological: list[dict], windows: list[tuple[float, float]],
                 parents: dict[str, str | None]):
        self.parents = parents
        self.status: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        self.edges: dict[tuple, list[tuple[float, float, bool]]] = defaultdict(list)
        self.blockers: dict[str, list[str]] = defaultdict(list)  # waiter -> ever its blockers
        for event, (low, high) in zip(chronological, windows):
            kind, details = event["kind"], event["details"]
            if kind == "status_changed":
                self.status[event["task_id"]].append((low, high, details["to"]))
            elif kind in ("dependency_added", "dependency_removed"):
                pair = (event["task_id"], details["blocker_id"])
                if pair not in self.edges:
                    self.blockers[pair[0]].append(pair[1])
                self.edges[pair].append((low, high, kind == "dependency_added"))

    @staticmethod
    def possible(changes: list, initial, start: float, end: float) -> set:
        """The values the thing may have had at some moment in [start, end]. Changes commit
        in feed order, so if change i committed before `start`, all earlier ones did."""
        low = max((i + 1 for i, c in enumerate(changes) if c[1] < start), default=0)
        high = max((i + 1 for i, c in enumerate(changes) if c[0] <= end), default=0)
        return {changes[k - 1][2] if k else initial for k in range(low, high + 1)}

    def edge_holds(self, pair: tuple, start: float, end: float) -> bool | None:
        """True: the edge stood and its blocker was open throughout; False: throughout,
        the edge was absent or its blocker finished; None: undecided."""
        present = self.possible(self.edges[pair], False, start, end)
        statuses = self.possible(self.status[pair[1]], "todo", start, end)
        if present == {True} and statuses <= OPEN:
            return True
        if present == {False} or statuses <= CLOSED:
            return False
        return None

    def chain(self, task_id: str) -> list[str]:
        chain = []
        while task_id is not None:
            chain.append(task_id)
            task_id = self.parents.get(task_id)
        return chain

    def waiting(self, task_id: str, start: float, end: float) -> bool | None:
        verdicts = [self.edge_holds((waiter, blocker), start, end)
                    for waiter in self.chain(task_id) for blocker in self.blockers[waiter]]
        if True in verdicts:
            return True
        return None if None in verdicts else False

    def open_blockers(self, task_id: str, start: float, end: float) -> int | None:
        verdicts = [self.edge_holds((task_id, b), start, end) for b in self.blockers[task_id]]
        return None if None in verdicts else sum(verdicts)

    def standing(self) -> set[tuple[str, str]]:
        return {pair for pair, changes in self.edges.items() if changes and changes[-1][2]}


def has_cycle(edges: list[tuple[str, str]], related) -> bool:
    """SPEC 12's cycle rule: an edge W -> B makes every task of W's subtree wait for every
    task of B's subtree, so some task waits for itself exactly when a chain of edges
    e1 .. ek has B(i) related to W(i+1) (the same task, or one an ancestor of the other:
    their subtrees meet) and B(k) related to W(1); k = 1 is an edge between related tasks."""
    after = {i: [j for j, (waiter, _) in enumerate(edges) if related(blocker, waiter)]
             for i, (_, blocker) in enumerate(edges)}
    state: dict[int, int] = {}  # 1: on the current path, 2: explored
    for root in range(len(edges)):
        if root in state:
            continue
        state[root], stack = 1, [(root, iter(after[root]))]
        while stack:
            node, following = stack[-1]
            step = next(following, None)
            if step is None:
                state[node] = 2
                stack.pop()
            elif state.get(step) == 1:
                return True
            elif step not in state:
                state[step] = 1
                stack.append((step, iter(after[step])))
    return False


def check_cycle_rule(stats: Stats, timeline: "Timeline") -> dict:
    """A `cycle` refusal is wrong when even every edge that may have stood during the
    request closes no cycle with the new one; an acceptance is wrong when the edges that
    certainly stood throughout do."""
    chains: dict[str, set[str]] = {}

    def related(a: str, b: str) -> bool:
        for task in (a, b):
            if task not in chains:
                chains[task] = set(timeline.chain(task))
        return a in chains[b] or b in chains[a]

    counts, problems = Counter(), []
    for waiter, blocker, sent, received, outcome in stats.edge_attempts:
        if outcome not in ("added", "cycle"):
            continue
        standing = []
        for pair, changes in timeline.edges.items():
            values = timeline.possible(changes, False, sent, received)
            if pair != (waiter, blocker) and (True in values if outcome == "cycle"
                                              else values == {True}):
                standing.append(pair)
        cycle = has_cycle(standing + [(waiter, blocker)], related)
        counts[f"{outcome}_checked"] += 1
        if cycle != (outcome == "cycle"):
            counts["wrong"] += 1
            verdict = "closes no cycle" if outcome == "cycle" else "closes a cycle"
            problems.append(f"edge {waiter} -> {blocker} was {outcome}, but with the "
                            f"{len(standing)} edges standing then it {verdict}")
    return {**counts, "problems": problems}


def event_windows(chronological: list[dict], stats: Stats) -> tuple[list, list[str]]:
    """Each event's commit window: from its `at` to the end of the write request of its actor
    that was running at `at` (each actor writes one request at a time)."""
    spans = {actor: sorted(times) for actor, times in stats.writes.items()}
    starts = {actor: [s for s, _ in times] for actor, times in spans.items()}
    windows, outside = [], []
    for event in chronological:
        at = parse_at(event["at"])
        actor, end = event["actor"], float("inf")
        if actor in spans:
            index = bisect.bisect_right(starts[actor], at + TOLERANCE) - 1
            if index >= 0 and at <= spans[actor][index][1] + TOLERANCE:
                end = spans[actor][index][1] + TOLERANCE
            else:
                outside.append(f"{event['kind']} on {event['task_id']} by {actor} at "
                               f"{event['at']}")
        windows.append((at, end))
    return windows, outside


def check_feed(events: list[dict], tasks: list[dict], stats: Stats, labels: set[str]) -> dict:
    """Invariant 3: each write the swarm made is in the feed exactly once, with its actor."""
    problems = []
    by_id = {task["id"]: task for task in tasks}
    expected, uncertain = Counter(stats.expected), Counter(stats.uncertain)
    first = {}  # the first implementation grant of a task moved it todo -> doing
    for grant in stats.grants:
        if grant.task_id not in first or grant.token < first[grant.task_id].token:
            first[grant.task_id] = grant
    for task_id, grant in first.items():
        if task_id not in stats.unknown_implementation:
            expected[(task_id, "status_changed", grant.agent, "todo->doing")] += 1
    found, chains, kinds, foreign = Counter(), defaultdict(list), Counter(), []
    for event in reversed(events):  # oldest first
        kinds[event["kind"]] += 1
        actor = event["actor"]
        if not (actor in labels or actor == SETUP
                or (actor == "system" and event["kind"] == "lock_expired")):
            foreign.append(f"{event['kind']} on {event['task_id']} by {actor!r}")
        if event["kind"] == "status_changed":
            chains[event["task_id"]].append(event["details"])
            if event["details"].get("cause") != "request":
                continue  # a cascade: checked by the chains below
            if event["task_id"] in stats.unknown_implementation and \
                    event_key(event)[3] == "todo->doing":
                continue  # which grant moved it is not known
        if event["kind"] == "lock_expired":
            continue
        found[event_key(event)] += 1
    missing, extra = [], []
    for key in set(expected) | set(found) | set(uncertain):
        low = expected[key]
        if found[key] < low:
            missing.append((key, found[key], low))
        elif found[key] > low + uncertain[key]:
            extra.append((key, found[key], low + uncertain[key]))
    if missing:
        problems.append(f"{len(missing)} writes missing from the feed (key, found, expected), "
                        f"e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} feed entries recorded more often than written (key, "
                        f"found, expected), e.g. {extra[:3]}")
    if foreign:
        problems.append(f"{len(foreign)} events by an actor no agent used, e.g. {foreign[:3]}")
    broken = []
    for task in tasks:
        status = "todo"
        for change in chains.get(task["id"], []):
            if change.get("from") != status:
                broken.append(f"{task['id']}: {status} then {change}")
            status = change.get("to")
        if status != task["status"]:
            broken.append(f"{task['id']}: its events end at {status}, it is {task['status']}")
    if broken:
        problems.append(f"{len(broken)} status histories do not chain, e.g. {broken[:3]}")
    created = Counter(e["task_id"] for e in events if e["kind"] == "task_created")
    if set(created) != set(by_id) or any(n != 1 for n in created.values()):
        problems.append("task_created events do not match the tasks one to one")
    return {"events": len(events), "kinds": dict(sorted(kinds.items())),
            "writes_expected": sum(expected.values()), "uncertain": sum(uncertain.values()),
            "missing": len(missing), "duplicated_or_unexpected": len(extra),
            "foreign_actors": len(foreign), "broken_status_chains": len(broken),
            "problems": problems}


def check_timeline(events: list[dict], tasks: list[dict], stats: Stats) -> dict:
    """Invariants 1 and 2(a): grants and every received Task against the rebuilt timeline."""
    chronological = list(reversed(events))
    windows, outside = event_windows(chronological, stats)
    timeline = Timeline(chronological, windows, {t["id"]: t["parent_task_id"] for t in tasks})
    problems = []
    if outside:
        problems.append(f"{len(outside)} events lie outside every write request of their "
                        f"actor, e.g. {outside[:3]}")
    grant_at = defaultdict(list)  # (task, actor) -> `at` of its implementation lock events
    for event, (low, _) in zip(chronological, windows):
        if event["kind"] == "lock_acquired" and \
                event["details"].get("lock_purpose") == "implementation":
            grant_at[(event["task_id"], event["actor"])].append(low)
    grants = Counter()
    for grant in stats.grants:
        start = max([a for a in grant_at[(grant.task_id, grant.agent)]
                     if grant.sent - TOLERANCE <= a <= grant.received + TOLERANCE],
                    default=grant.sent)
        verdict = timeline.waiting(grant.task_id, start, grant.received)
        grants[{True: "violations", False: "proved_not_waiting", None: "undecided"}[verdict]] += 1
        if verdict:
            problems.append(f"implementation lock on {grant.task_id} granted to {grant.agent} "
                            f"(token {grant.token}) while it certainly waited")
        if grant.reread_waiting:
            grants["reread_waiting"] += 1
    grants["grants"] = len(stats.grants)
    seen = Counter()
    bad: list[str] = []
    for (task_id, status, readiness, waiting, open_blockers, blocked_by, needs_refinement,
         children, points, sent, received) in stats.snapshots:
        seen["snapshots"] += 1
        shape = {"needs_refinement": needs_refinement, "children_count": children,
                 "points": points}
        if readiness != expected_readiness(shape, waiting) or open_blockers > len(blocked_by) \
                or (open_blockers > 0 and not waiting):
            bad.append(f"{task_id}: readiness {readiness}, waiting {waiting}, open_blockers "
                       f"{open_blockers} of {len(blocked_by)} blockers")
            continue
        if status not in timeline.possible(timeline.status[task_id], "todo", sent, received):
            bad.append(f"{task_id}: status {status}, which its status events rule out then")
        truth = timeline.waiting(task_id, sent, received)
        count = timeline.open_blockers(task_id, sent, received)
        if truth is None or count is None:
            seen["undecided"] += 1
        else:
            seen["decided"] += 1
        if truth is not None and truth != waiting:
            bad.append(f"{task_id}: waiting {waiting}, but it certainly "
                       f"{'waited' if truth else 'did not wait'}")
        elif count is not None and count != open_blockers:
            bad.append(f"{task_id}: open_blockers {open_blockers}, certainly {count}")
        for blocker in timeline.blockers[task_id]:
            present = timeline.possible(timeline.edges[(task_id, blocker)], False, sent, received)
            if (present == {True}) != (blocker in blocked_by) and len(present) == 1:
                bad.append(f"{task_id}: blocked_by {list(blocked_by)} and the edge to "
                           f"{blocker} {'stood' if present == {True} else 'did not'}")
        unknown = set(blocked_by) - set(timeline.blockers[task_id])
        if unknown:
            bad.append(f"{task_id}: blocked_by names {unknown}, never added per the feed")
    seen["violations"] = len(bad)
    if bad:
        problems.append(f"{len(bad)} Tasks received disagree with their blockers, e.g. "
                        f"{bad[:3]}")
    edges = {(t["id"], b) for t in tasks for b in t["blocked_by"]}
    if edges != timeline.standing():
        problems.append(f"the feed leaves {len(timeline.standing())} edges standing, the tasks "
                        f"have {len(edges)}: {sorted(edges ^ timeline.standing())[:3]}")
    cycles = check_cycle_rule(stats, timeline)
    problems += cycles.pop("problems")
    return {"grants": dict(grants), "snapshots": dict(seen), "cycle_rule": cycles,
            "problems": problems}


def verify(base: str, project_id: str, stats: Stats, data_dir: Path | None,
           labels: set[str], shared_clock: bool, checkpoints: list[dict]) -> tuple[list, dict]:
    problems = []
    tasks = read_tasks(base, project_id, stats)
    open_tasks = [t for t in tasks if t["status"] not in ("done", "wont_do")]
    if open_tasks:
        problems.append(f"{len(open_tasks)} tasks are not done or wont_do")
    if stats.five_hundreds:
        problems.append(f"{len(stats.five_hundreds)} 5xx answers, e.g. {stats.five_hundreds[0]}")
    if stats.unexpected:
        problems.append(f"{len(stats.unexpected)} unexpected answers, e.g. {stats.unexpected[0]}")
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
    if not stats.notes <= logged["note"] <= stats.notes + stats.uncertain_notes:
        problems.append(f"work log has {logged['note']} notes, the dependency writes made "
                        f"{stats.notes} (+{stats.uncertain_notes} uncertain)")

    final = {"tasks": len(tasks), "problems": dependency_drift(tasks)
             + dependency_lists(base, tasks)
             + (integrity(data_dir, project_id) if data_dir is not None else [])}
    rounds = checkpoints + [final]
    drift = [p for c in rounds for p in c["problems"]]
    problems += drift[:20] + ([f"... and {len(drift) - 20} more drift"] if len(drift) > 20 else [])
    invariants = {"readiness_matches_blockers": {
        "checkpoints": len(rounds), "tasks_checked": sum(c["tasks"] for c in rounds),
        "integrity_checked": data_dir is not None, "drift": len(drift)}}

    events, pages, feed_problems = read_feed(base, project_id)
    problems += feed_problems
    feed = check_feed(events, tasks, stats, labels)
    problems += feed.pop("problems")
    invariants["writes_in_feed_exactly_once"] = {"pages": pages, **feed}
    if shared_clock:
        timeline = check_timeline(events, tasks, stats)
        problems += timeline["problems"]
        invariants["implementation_lock_never_on_waiting_task"] = timeline["grants"]
        invariants["readiness_matches_blockers"]["received_tasks"] = timeline["snapshots"]
        invariants["dependency_cycle_rule"] = timeline["cycle_rule"]
    else:
        invariants["implementation_lock_never_on_waiting_task"] = {
            "skipped": "the server's clock is not this machine's"}
    return problems, invariants


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
        "dependencies": dict(sorted(stats.dependencies.items())),
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
    parser.add_argument("--stall-seconds", type=float, default=90,
                        help="report a stall when no task finishes for this long")
    parser.add_argument("--url", help="use a running server (skips the integrity check)")
    parser.add_argument("--json", help="write the summary here")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="CHORUS_FAULT_RATE for the server it starts")
    parser.add_argument("--edge-rate", type=float, default=0.08,
                        help="chance an agent adds a cross-branch edge after an operation")
    parser.add_argument("--unlink-rate", type=float, default=0.04,
                        help="chance an agent removes such an edge after an operation")
    args = parser.parse_args(argv)
    shape = Shape.for_total(args.tasks)
    process, data_dir, temp = None, None, None
    if args.url:
        base = args.url.rstrip("/")
        shared_clock = urlparse(base).hostname in ("127.0.0.1", "localhost", "::1")
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
        shared_clock = True
    try:
        stats, stop, world = Stats(), threading.Event(), World()
        run = uuid.uuid4().hex[:12]  # a server given by --url may have seen other runs
        project = fetch("POST", f"{base}/projects", json={"name": f"swarm {run}"},
                        headers={"Idempotency-Key": f"swarm-{run}-project"})
        for index in range(shape.epics):
            sent = time.time()
            epic = fetch("POST", f"{base}/projects/{project['id']}/tasks",
                         json={"name": f"epic{index}", "task_type": "feature"},
                         headers={"Idempotency-Key": f"swarm-{run}-epic-{index}"})
            stats.writes[SETUP].append((sent, time.time()))
            stats.expect([(epic["id"], "task_created", SETUP, "")])
            world.see(epic)
        started = time.monotonic()
        gate = Gate(args.agents)
        agents = [Agent(f"agent-{i}", base, project["id"], shape, stats, stop,
                        started + args.seconds, world, gate, args.edge_rate, args.unlink_rate)
                  for i in range(args.agents)]
        watch = Watcher(base, project["id"], shape, stats, stop, gate, data_dir,
                        started + args.seconds, args.stall_seconds)
        for agent in agents:
            agent.start()
        watch.start()
        watch.join()
        for agent in agents:
            agent.join(timeout=60)
        seconds = time.monotonic() - started
        summary = summarize(stats, seconds - watch.paused)
        summary.update(seconds=round(seconds, 2), checkpoint_seconds=round(watch.paused, 2),
                       agents=args.agents, tasks_planned=shape.total, fault_rate=args.fault_rate)
        summary["tasks"] = fetch("GET", f"{base}/projects/{project['id']}")["task_count"]
        labels = {agent.label for agent in agents}
        problems, invariants = verify(base, project["id"], stats, data_dir, labels,
                                      shared_clock, watch.checkpoints)
        problems = watch.problems + problems
        summary["invariants"] = invariants
        summary["checkpoints"] = [{k: v for k, v in c.items() if k != "problems"}
                                  | {"problems": len(c["problems"])} for c in watch.checkpoints]
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


class Watcher(threading.Thread):
    """Stops the run when nothing is open (or on a stall), and pauses the agents for the
    checkpoints of invariant 2."""

    def __init__(self, base: str, project_id: str, shape: Shape, stats: Stats,
                 stop: threading.Event, gate: Gate, data_dir: Path | None, deadline: float,
                 stall_seconds: float):
        super().__init__(daemon=True)
        self.base, self.project_id, self.shape, self.stats = base, project_id, shape, stats
        self.stop, self.gate, self.data_dir, self.deadline = stop, gate, data_dir, deadline
        self.stall_seconds = stall_seconds
        self.checkpoints: list[dict] = []
        self.problems: list[str] = []
        self.paused = 0.0

    def run(self) -> None:
        try:
            self.watch()
        except Exception as error:  # noqa: BLE001 - reported, and the run stops
            self.problems.append(f"watcher: {error!r}")
        finally:
            self.gate.resume()
            self.stop.set()

    def watch(self) -> None:
        marks = [fraction * self.shape.total for fraction in CHECKPOINTS]
        last_done, last_progress = -1, time.monotonic()
        while time.monotonic() < self.deadline:
            detail = fetch("GET", f"{self.base}/projects/{self.project_id}")
            counts = detail["status_counts"]
            if detail["task_count"] and counts["todo"] + counts["doing"] == 0:
                return
            if counts["done"] != last_done:
                last_done, last_progress = counts["done"], time.monotonic()
            elif time.monotonic() - last_progress > self.stall_seconds:
                self.problems.append(self.stalled(counts))
                return
            if marks and counts["done"] >= marks[0]:
                marks.pop(0)
                self.checkpoint(counts["done"])
                last_progress = time.monotonic()
            time.sleep(0.5)

    def checkpoint(self, done: int) -> None:
        started = time.monotonic()
        try:
            if not self.gate.pause(timeout=120):
                self.problems.append("checkpoint: the agents did not pause within 120 s")
                return
            parked = time.monotonic()
            result = checkpoint(self.base, self.project_id, self.stats, self.data_dir)
            result.update(done=done, pause_seconds=round(parked - started, 2),
                          check_seconds=round(time.monotonic() - parked, 2))
            self.checkpoints.append(result)
        finally:
            self.gate.resume()
            self.paused += time.monotonic() - started

    def stalled(self, counts: dict) -> str:
        tasks = read_tasks(self.base, self.project_id, self.stats)
        leaves = [t for t in tasks if t["status"] in OPEN and not t["children_count"]]
        readiness = Counter(t["readiness"] for t in leaves)
        return (f"stall: no task finished for {self.stall_seconds:.0f} s ({counts}); open "
                f"leaves by readiness {dict(readiness)}, locked "
                f"{sum(1 for t in leaves if t['is_locked'])}")


if __name__ == "__main__":
    sys.exit(main())
