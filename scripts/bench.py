"""Per-endpoint cost at scale: DynamoDB requests and items read per call, response bytes and
in-process latency, for projects of 1 000, 10 000 and 100 000 tasks on DynamoDB Local; plus
the Lambda cold start. Writes docs/performance.md and bench-results/bench.json.

    python scripts/bench.py [--scales 1000,10000,100000] [--repeat 20] [--smoke]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local  # noqa: E402
from chalicelib.domain.queues import SORTS  # noqa: E402

DIMENSIONS = ("scope_clarity", "decision_points", "context_window_demand",
              "verification_complexity", "domain_specificity")
MAX_DEPTH = 12
TEXT = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "


def synthetic_export(tasks: int, seed: int = 7) -> dict:
    """A project of `tasks` tasks, depth up to 12, realistic text, a mix of readiness."""
    rng = random.Random(seed)
    nodes: list[dict] = []
    depth_of: dict[str, int] = {}
    for index in range(tasks):
        task_id = f"t{index}"
        parent = None
        if nodes and rng.random() < 0.97:
            candidate = nodes[max(0, len(nodes) - 1 - int(rng.expovariate(1 / 40)))]
            if depth_of[candidate["id"]] < MAX_DEPTH:
                parent = candidate["id"]
        depth_of[task_id] = 0 if parent is None else depth_of[parent] + 1
        roll = rng.random()
        nodes.append({
            "id": task_id, "parent_task_id": parent, "name": f"Task {index}",
            "description": TEXT * rng.randint(2, 8), "context": TEXT * rng.randint(0, 4) or None,
            "task_type": ("feature", "bug", "tech_debt")[index % 3],
            "status": "todo", "priority": rng.randint(-3, 3),
            "points": None if roll < 0.3 else rng.randint(1, 10),
            "needs_refinement": roll > 0.95,
            "refinement_notes": "unclear acceptance criteria" if roll > 0.95 else None,
            "work_log_entries": [
                {"author": "bench", "operation": "note", "content": TEXT * 2,
                 "created_at": "2026-01-01T00:00:00Z"} for _ in range(rng.randint(0, 2))],
            "commits": [],
        })
    has_children = {n["parent_task_id"] for n in nodes if n["parent_task_id"]}
    for node in nodes:  # some finished leaves and some work in progress
        if node["id"] not in has_children and node["points"] and node["points"] <= 6:
            node["status"] = rng.choice(("todo", "todo", "doing", "done"))
    return {"format_version": 1, "project": {"name": f"bench {tasks}"}, "tasks": nodes}


def seed(tasks: int) -> str:
    """Write the synthetic project straight through the import path (no HTTP)."""
    from chalicelib.api.models import ProjectExport
    from chalicelib.clock import now_iso
    from chalicelib.services.transfer import _plan
    from chalicelib.store.transfer import write_new_project

    export = ProjectExport.model_validate_json(json.dumps(synthetic_export(tasks)))
    plan = _plan(export, now_iso(), "bench")
    write_new_project(plan.project, plan.items(), lambda tx: None)
    return plan.project.id


class Probe:
    """Chalice's in-process client; each call's cost is read from Server-Timing."""

    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        started = time.perf_counter()
        response = self.client.http.request(
            method, path, headers={"Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else None)
        elapsed = time.perf_counter() - started
        timing = response.headers.get("Server-Timing", "")
        requests_, items = 0, 0
        if 'desc="' in timing:
            words = timing.split('desc="')[1].split()
            requests_, items = int(words[0]), int(words[2])
        return response.status_code, {"seconds": elapsed, "requests": requests_,
                                      "items": items, "bytes": len(response.body or b""),
                                      "body": response.body}


def _pick(probe: Probe, project_id: str) -> dict:
    from chalicelib.store.tasks import iter_project_tasks

    tasks = list(iter_project_tasks(project_id))
    deepest = max(tasks, key=lambda t: t.depth)
    roots = [t for t in tasks if t.depth == 0]
    biggest_root = max(roots, key=lambda t: t.children_count)
    leaf = next(t for t in tasks if not t.children_count and t.status == "todo"
                and t.readiness == "ready")
    sizable = [t for t in tasks if t.readiness == "needs_sizing" and t.status == "todo"]
    for index, task in enumerate(sizable[:20]):  # some live locks
        probe.call("POST", f"/tasks/{task.id}/lock",
                   {"caller_label": f"bench-{index}", "lock_purpose": "sizing"})
    blocker = _created(probe, project_id, "blocker of 50", points=2)
    for index in range(50):
        waiter = _created(probe, project_id, f"waits {index}", points=1)
        probe.call("POST", f"/tasks/{waiter}/dependencies", {"blocker_id": blocker})
    return {"deepest": deepest.id, "root": biggest_root.id, "leaf": leaf.id,
            "sizable": sizable[25].id if len(sizable) > 25 else sizable[-1].id,
            "depth": deepest.depth, "blocker": blocker}


def _created(probe: Probe, project_id: str, name: str, parent: str | None = None,
             **fields) -> str:
    path = f"/tasks/{parent}/subtasks" if parent else f"/projects/{project_id}/tasks"
    status, sample = probe.call("POST", path, {"name": name, "task_type": "feature", **fields})
    assert status == 201, sample["body"][:300]
    return json.loads(sample["body"])["id"]


def measure(probe: Probe, project_id: str, picked: dict, repeat: int) -> dict[str, dict]:
    p, leaf, root, deep = project_id, picked["leaf"], picked["root"], picked["deepest"]
    reads = {
        "GET /health": ("GET", "/health"),
        "GET /projects": ("GET", "/projects?limit=50"),
        "GET /projects/{id}": ("GET", f"/projects/{p}"),
        "GET /projects/{id}/tasks": ("GET", f"/projects/{p}/tasks?limit=50"),
        "GET /tasks/{id} (leaf)": ("GET", f"/tasks/{leaf}"),
        "GET /tasks/{id} (biggest root)": ("GET", f"/tasks/{root}"),
        "GET /tasks/{id}/tree?depth=1 (biggest root)": ("GET", f"/tasks/{root}/tree?depth=1"),
        "GET /tasks/{id}/ancestry (deepest)": ("GET", f"/tasks/{deep}/ancestry"),
        "GET /tasks/{id}/context (deepest)": ("GET", f"/tasks/{deep}/context"),
        "GET /tasks/{id}/work-log": ("GET", f"/tasks/{deep}/work-log"),
        "GET /tasks/{id}/commits": ("GET", f"/tasks/{leaf}/commits"),
        "GET /projects/{id}/backlog?limit=10": ("GET", f"/projects/{p}/backlog?limit=10"),
        "GET /projects/{id}/in-progress?limit=10": ("GET", f"/projects/{p}/in-progress?limit=10"),
        "GET /projects/{id}/needs-refinement?limit=10":
            ("GET", f"/projects/{p}/needs-refinement?limit=10"),
        "GET /locks?project_id": ("GET", f"/locks?project_id={p}"),
    }
    for operation in ("sizing", "breakdown", "implementation", "refinement"):
        reads[f"GET /tasks/available?operation={operation}&limit=10"] = (
            "GET", f"/tasks/available?operation={operation}&project_id={p}&limit=10")
    for sort in SORTS[1:]:  # every other order reads as little as the default one
        reads[f"GET /projects/{{id}}/backlog?sort={sort}&limit=10"] = (
            "GET", f"/projects/{p}/backlog?sort={sort}&limit=10")
        reads[f"GET /tasks/available?operation=implementation&sort={sort}&limit=10"] = (
            "GET", f"/tasks/available?operation=implementation&project_id={p}"
                   f"&sort={sort}&limit=10")
    reads.update({
        "GET /projects/{id}/activity?limit=50": ("GET", f"/projects/{p}/activity?limit=50"),
        "GET /projects/{id}/activity?task_id (leaf)":
            ("GET", f"/projects/{p}/activity?task_id={leaf}&limit=50"),
        "GET /projects/{id}/history?days=30": ("GET", f"/projects/{p}/history?days=30"),
        "GET /projects/{id}/agents": ("GET", f"/projects/{p}/agents"),
        "GET /tasks/{id}/dependencies (blocker of 50)":
            ("GET", f"/tasks/{picked['blocker']}/dependencies"),
    })
    results: dict[str, dict] = {}
    for name, (method, path) in reads.items():
        samples = [probe.call(method, path)[1] for _ in range(repeat)]
        results[name] = _summary(samples)
    results.update(_writes(probe, project_id, picked, max(3, repeat // 4)))
    results.update(_dependency_writes(probe, project_id))
    return results


def _writes(probe: Probe, project_id: str, picked: dict, repeat: int) -> dict[str, dict]:
    samples: dict[str, list] = {}

    def record(name: str, method: str, path: str, body=None) -> dict:
        status, sample = probe.call(method, path, body)
        assert status < 300, (name, status, sample["body"][:300])
        samples.setdefault(name, []).append(sample)
        return json.loads(sample["body"]) if sample["body"] else {}

    size = {d: {"score": 1, "reasoning": "bench"} for d in DIMENSIONS}
    for index in range(repeat):
        caller = f"writer-{index}"
        task = record("POST /projects/{id}/tasks", "POST", f"/projects/{project_id}/tasks",
                      {"name": f"new {index}", "task_type": "bug"})
        child = record("POST /tasks/{id}/subtasks (under the deepest-but-one)", "POST",
                       f"/tasks/{picked['deepest']}/subtasks" if picked["depth"] < 15
                       else f"/tasks/{task['id']}/subtasks",
                       {"name": f"sub {index}", "task_type": "bug"})
        record("PUT /tasks/{id}", "PUT", f"/tasks/{child['id']}", {"priority": index})
        record("POST /tasks/{id}/lock", "POST", f"/tasks/{child['id']}/lock",
               {"caller_label": caller, "lock_purpose": "sizing"})
        record("POST /tasks/{id}/size (deep leaf)", "POST", f"/tasks/{child['id']}/size",
               {"caller_label": caller, "work_log_content": "sized", **size, "confidence": 4,
                "release_lock": True})
        record("POST /tasks/{id}/lock", "POST", f"/tasks/{child['id']}/lock",
               {"caller_label": caller, "lock_purpose": "implementation"})
        record("PATCH /tasks/{id}/lock/heartbeat", "PATCH",
               f"/tasks/{child['id']}/lock/heartbeat?caller_label={caller}")
        record("POST /tasks/{id}/complete (deep leaf)", "POST", f"/tasks/{child['id']}/complete",
               {"caller_label": caller, "work_log_content": "done", "release_lock": True,
                "commits": [{"commit_hash": f"{index:07x}abc"}]})
        record("POST /tasks/{id}/work-log", "POST", f"/tasks/{task['id']}/work-log",
               {"operation": "note", "content": "bench"})
        record("POST /tasks/{id}/flag-refinement", "POST", f"/tasks/{task['id']}/flag-refinement",
               {"refinement_notes": "why?"})
        record("PATCH /tasks/{id}/status", "PATCH", f"/tasks/{task['id']}/status",
               {"status": "doing"})
        record("PATCH /tasks/{id}/reorder", "PATCH", f"/tasks/{task['id']}/reorder",
               {"position": 0})
        record("DELETE /tasks/{id}", "DELETE", f"/tasks/{task['id']}")
    return {name: _summary(values) for name, values in samples.items()}


def _dependency_writes(probe: Probe, project_id: str) -> dict[str, dict]:
    """Edges (SPEC §12): adding and removing one, completing a blocker 50 tasks wait for,
    cancelling an epic 50 tasks wait for. Costs grow with what changes, not the project."""
    rows: dict[str, dict] = {}

    def record(name: str, method: str, path: str, body=None) -> None:
        status, sample = probe.call(method, path, body)
        assert status < 300, (name, status, sample["body"][:300])
        rows[name] = _summary([sample])

    blocker = _created(probe, project_id, "blocker", points=2)
    waiters = [_created(probe, project_id, f"waiter {i}", points=1) for i in range(50)]
    for waiter in waiters[:-1]:
        probe.call("POST", f"/tasks/{waiter}/dependencies", {"blocker_id": blocker})
    record("POST /tasks/{id}/dependencies (the 50th edge)", "POST",
           f"/tasks/{waiters[-1]}/dependencies", {"blocker_id": blocker})
    record("DELETE /tasks/{id}/dependencies/{blocker}", "DELETE",
           f"/tasks/{waiters[-1]}/dependencies/{blocker}")
    probe.call("POST", f"/tasks/{waiters[-1]}/dependencies", {"blocker_id": blocker})
    probe.call("POST", f"/tasks/{blocker}/lock",
               {"caller_label": "bench", "lock_purpose": "implementation"})
    record("POST /tasks/{id}/complete (a blocker 50 tasks wait for)", "POST",
           f"/tasks/{blocker}/complete",
           {"caller_label": "bench", "work_log_content": "done", "release_lock": True})
    epic = _created(probe, project_id, "epic", points=9)
    parts = [_created(probe, project_id, f"part {i}", epic, points=1) for i in range(20)]
    for index in range(50):
        waiter = _created(probe, project_id, f"after epic {index}", points=1)
        probe.call("POST", f"/tasks/{waiter}/dependencies", {"blocker_id": epic})
    record("PATCH /tasks/{id}/status wont_do (an epic of 21 tasks 50 tasks wait for)",
           "PATCH", f"/tasks/{epic}/status", {"status": "wont_do"})
    assert len(parts) == 20
    return rows


def epic_export(groups: int, per_group: int = 99) -> dict:
    """One open epic of 1 + groups × (1 + per_group) tasks (sized leaves), with some logs."""
    tasks = [{"id": "epic", "name": "Epic", "task_type": "feature", "status": "todo"}]
    for g in range(groups):
        tasks.append({"id": f"g{g}", "parent_task_id": "epic", "name": f"Group {g}",
                      "task_type": "feature", "status": "todo"})
        tasks += [{"id": f"g{g}-{i}", "parent_task_id": f"g{g}", "name": f"Leaf {g}.{i}",
                   "task_type": "bug", "status": "todo", "points": 1, "description": TEXT,
                   "work_log_entries": [{"author": "bench", "operation": "note",
                                         "content": "x", "created_at": "2026-01-01T00:00:00Z"}]
                   if i == 0 else []} for i in range(per_group)]
    return {"format_version": 2, "project": {"name": f"epic {len(tasks)}"}, "tasks": tasks}


def _seed_document(document: dict) -> str:
    from chalicelib.api.models import ProjectExport
    from chalicelib.clock import now_iso
    from chalicelib.services.transfer import _plan
    from chalicelib.store.transfer import write_new_project

    plan = _plan(ProjectExport.model_validate_json(json.dumps(document)), now_iso(), "bench")
    write_new_project(plan.project, plan.items(), lambda tx: None)
    return plan.project.id


def _timed_with_jobs(probe: Probe, method: str, path: str, body=None) -> dict:
    """A request and, when it answers 202, its job run to the end in this process: the
    DynamoDB requests and items of both, and the wall time."""
    from chalicelib import metrics
    from chalicelib.services.jobs import run_pending

    started = time.perf_counter()
    status, sample = probe.call(method, path, body)
    assert status < 300, sample["body"][:300]
    counters = metrics.start()  # the job's work (the request's is in its Server-Timing)
    if status == 202:
        run_pending()
    row = {"status": status, "requests": sample["requests"] + counters.requests,
           "items": sample["items"] + counters.items,
           "seconds": round(time.perf_counter() - started, 2)}
    if status == 202:
        job_id = json.loads(sample["body"])["id"]
        job = json.loads(probe.call("GET", f"/jobs/{job_id}")[1]["body"])
        assert job["status"] == "succeeded", job  # a failed job measures nothing
    return row


def cascade_costs(probe: Probe, sizes: list[int]) -> dict[str, dict]:
    """Cancel and delete of whole epics: cost per task must stay flat (linear cascades)."""
    rows = {}
    for size in sizes:
        groups = max(1, round((size - 1) / 100))
        for kind in ("cancel", "delete"):
            project_id = _seed_document(epic_export(groups))
            epic = json.loads(probe.call("GET", f"/projects/{project_id}/tasks")[1]["body"])[0]
            total = 1 + groups * 100
            if kind == "cancel":
                row = _timed_with_jobs(probe, "PATCH", f"/tasks/{epic['id']}/status",
                                       {"status": "wont_do"})
            else:
                row = _timed_with_jobs(probe, "DELETE", f"/tasks/{epic['id']}")
            row.update(tasks=total, requests_per_task=round(row["requests"] / total, 3),
                       items_per_task=round(row["items"] / total, 2))
            rows[f"{kind} {total:,} tasks"] = row
            print(f"{kind} of {total} tasks: {row}", flush=True)
    return rows


def import_costs(probe: Probe, sizes: list[int]) -> dict[str, dict]:
    """Imports through an upload (always a job): seconds from the request to the project."""
    from chalicelib import config
    from chalicelib.store import objects

    rows = {}
    for size in sizes:
        body = json.dumps(synthetic_export(size)).encode()
        status, sample = probe.call("POST", "/projects/import-uploads")
        upload_id = json.loads(sample["body"])["upload_id"]
        objects._client().put_object(Bucket=config.export_bucket(),
                                     Key=objects.IMPORT_PREFIX + upload_id, Body=body)
        row = _timed_with_jobs(probe, "POST", "/projects/import", {"upload_id": upload_id})
        row.update(tasks=size, megabytes=round(len(body) / 1e6, 1))
        rows[f"import of {size:,} tasks (upload, job)"] = row
        print(f"import of {size} tasks: {row}", flush=True)
    return rows


def _summary(samples: list[dict]) -> dict:
    seconds = sorted(s["seconds"] for s in samples)
    return {
        "requests": max(s["requests"] for s in samples),
        "items": max(s["items"] for s in samples),
        "bytes": max(s["bytes"] for s in samples),
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(seconds[int(0.95 * (len(seconds) - 1))] * 1000, 1),
    }


FIRST_REQUEST_IMPORTS = (
    "import app, chalicelib.api.endpoints, chalicelib.api.openapi, "
    "chalicelib.services.tasks, chalicelib.services.operations, chalicelib.services.locks, "
    "chalicelib.services.queues, chalicelib.services.projects"
)


def _median_run(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold_start(runs: int = 7) -> dict:
    """Median seconds for a fresh interpreter to import `app` (the Lambda init work), and to
    import everything the first request loads (boto3, pynamodb, pydantic and our modules)."""
    return {"import_app": _median_run("import app", runs),
            "first_request_imports": _median_run(FIRST_REQUEST_IMPORTS, runs),
            "interpreter": _median_run("pass", runs)}


def report(results: dict, cold: dict, scales: list[int], extra: dict | None = None) -> str:
    extra = extra or {}
    lines = [
        "# Performance", "",
        f"Measured by `make bench` (scripts/bench.py) on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, DynamoDB Local "
        "(in memory), in-process through Chalice's test client. Latency here is the "
        "local machine's, not AWS's; the request and item counts are what matter.", "",
        f"Lambda cold start: a fresh interpreter imports `app` in "
        f"**{cold['import_app'] * 1000:.0f} ms** (of which {cold['interpreter'] * 1000:.0f} ms "
        f"is Python itself); the route modules, pydantic and pynamodb (with botocore) load on the first "
        f"request: everything together takes **{cold['first_request_imports'] * 1000:.0f} ms** "
        "(target 300 ms; `import boto3, pynamodb.models, pydantic, chalice.app` alone is "
        "200-230 ms on this machine). The deployment zip is about 4.3 MB "
        "(see infra/README.md).", "",
        "Reading the numbers: every single-task read, queue and per-task write reads the same "
        "number of items whatever the project size (ratio 1.00), and no request scans. Two "
        "writes grow with the answer rather than the project: `reorder` and `DELETE` of a "
        "top-level task rewrite the positions of the siblings it passes (the SPEC keeps "
        "positions dense, 0..n-1), and the synthetic project has 3 % of its tasks at the top "
        "level (3 000 at 100 000 tasks), moved from last to first here: the worst case. "
        "`size` and `complete` of a nested task read the task, then its ancestors in one "
        "BatchGetItem (their ids are on the task), then write one transaction; `complete` "
        "also reads the commits it is given, to skip known ones.", "",
    ]
    smallest, largest = scales[0], scales[-1]
    for scale in scales:
        lines += [f"## {scale:,} tasks", "",
                  "| endpoint | DynamoDB requests | items read | response bytes | p50 ms | p95 ms |",
                  "|---|---|---|---|---|---|"]
        for name, row in results[str(scale)]["endpoints"].items():
            lines.append(f"| {name} | {row['requests']} | {row['items']} | {row['bytes']} | "
                         f"{row['p50_ms']} | {row['p95_ms']} |")
        lines.append("")
    if smallest != largest:
        lines += [f"## Ratio {largest:,} / {smallest:,} tasks", "",
                  "| endpoint | requests | items read | p50 |", "|---|---|---|---|"]
        for name, big in results[str(largest)]["endpoints"].items():
            small = results[str(smallest)]["endpoints"].get(name)
            if not small:
                continue
            ratio = (lambda a, b: f"{a / b:.2f}" if b else ("1.00" if not a else "n/a"))
            lines.append(f"| {name} | {ratio(big['requests'], small['requests'])} | "
                         f"{ratio(big['items'], small['items'])} | "
                         f"{ratio(big['p50_ms'], small['p50_ms'])} |")
        lines.append("")
    for title, rows, note in (
            ("Cascades (cancel and delete of an epic)", extra.get("cascades", {}),
             "Request plus its job (past 2 000 tasks the request answers 202 and the job "
             "does the work): DynamoDB requests and items per task must stay flat as the "
             "subtree grows (linear, not quadratic)."),
            ("Imports through an upload", extra.get("imports", {}),
             "From the request to the created project, the job run in process.")):
        if not rows:
            continue
        lines += [f"## {title}", "", note, "",
                  "| what | requests | items read | seconds | requests/task | items/task |",
                  "|---|---|---|---|---|---|"]
        for name, row in rows.items():
            lines.append(f"| {name} | {row['requests']} | {row['items']} | {row['seconds']} "
                         f"| {row.get('requests_per_task', '')} | "
                         f"{row.get('items_per_task', '')} |")
        lines.append("")
    return "\n".join(lines)


KEPT_SECTIONS = ("## Test suite timings",)  # written by hand: a new report keeps them


def _kept(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_text()
    starts = [text.find(heading) for heading in KEPT_SECTIONS if heading in text]
    return "\n" + text[min(starts):] if starts else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure per-endpoint cost at scale.")
    parser.add_argument("--scales", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.json"))
    parser.add_argument("--markdown", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--cascades", default="1000,10000,50000",
                        help="epic sizes to cancel and delete ('' to skip)")
    parser.add_argument("--imports", default="10000,100000",
                        help="project sizes to import through an upload ('' to skip)")
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s]
    cascades = [int(s) for s in args.cascades.split(",") if s]
    imports = [int(s) for s in args.imports.split(",") if s]
    os.environ.setdefault("CHORUS_DYNAMODB_HEAP", "8g")  # every scale stays in memory
    database = dynamodb_local.start(None)
    os.environ.update(database.environment())
    os.environ["CHORUS_AUTH"] = "off"
    try:
        from chalice.test import Client

        from app import app
        from chalicelib.store import tables

        results: dict = {}
        for scale in scales:
            tables.configure(endpoint=database.endpoint, prefix=f"bench{scale}-")
            tables.create_missing_tables()
            started = time.monotonic()
            project_id = seed(scale)
            seeded = time.monotonic() - started
            with Client(app, stage_name="test",
                        project_dir=str(ROOT / "tests" / "chalice_stage")) as client:
                probe = Probe(client)
                picked = _pick(probe, project_id)
                results[str(scale)] = {"seed_seconds": round(seeded, 1), "picked": picked,
                                       "endpoints": measure(probe, project_id, picked,
                                                            args.repeat)}
            print(f"{scale} tasks: seeded in {seeded:.1f}s, measured", flush=True)
        extra: dict = {}
        if cascades or imports:
            from scripts.local_server import start_s3

            os.environ["CHORUS_S3_ENDPOINT"] = start_s3()
            os.environ["CHORUS_EXPORT_BUCKET"] = "chorus-test-exports"  # the test stage's
            tables.configure(endpoint=database.endpoint, prefix="bench-jobs-")
            tables.create_missing_tables()
            from chalicelib.store.objects import ensure_bucket

            ensure_bucket()
            with Client(app, stage_name="test",
                        project_dir=str(ROOT / "tests" / "chalice_stage")) as client:
                extra["cascades"] = cascade_costs(Probe(client), cascades)
                extra["imports"] = import_costs(Probe(client), imports)
        cold = cold_start()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"cold_start_seconds": cold, "scales": results,
                                              **extra}, indent=2))
        markdown = Path(args.markdown)
        markdown.write_text(report(results, cold, scales, extra) + _kept(markdown))
        print(f"cold start {cold}; wrote {args.markdown} and {args.out}")
        return 0
    finally:
        database.stop()


if __name__ == "__main__":
    sys.exit(main())
