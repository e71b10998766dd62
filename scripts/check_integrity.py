"""Recompute every stored aggregate, derived attribute and index key of a project from its
base data (the tasks' own fields and parent links) and report any drift.

    python scripts/check_integrity.py --endpoint http://127.0.0.1:PORT [PROJECT_ID ...]

Without project ids it checks every project. Exit status 1 when anything drifted.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.domain import dependencies as deps  # noqa: E402
from chalicelib.domain.queues import SORT_ATTRIBUTES  # noqa: E402
from chalicelib.domain.rollup import (  # noqa: E402
    CHILD_AGGREGATES,
    contribution_to_parent,
    contribution_to_project,
)
from chalicelib.domain.status import OPEN  # noqa: E402
from chalicelib.domain.tree import refresh_derived  # noqa: E402

DERIVED = ("readiness", "queue_op", "queue_part", "dep_path", "open_blockers",
           "waiting_ancestors", *SORT_ATTRIBUTES.values())
COUNTERS = (
    "task_count", "status_todo", "status_doing", "status_done", "status_wont_do",
    "readiness_needs_refinement", "readiness_blocked_by_children", "readiness_needs_sizing",
    "readiness_needs_breakdown", "readiness_blocked_by_dependencies", "readiness_ready",
    "points_total", "points_completed", "top_level_count",
)


def _value(value):
    return None if value is None else (int(value) if isinstance(value, float) else value)


def drift(project, tasks: list) -> list[str]:
    """Every difference between what is stored and what the base data implies."""
    problems: list[str] = []
    by_id = {task.id: task for task in tasks}
    expected = {task.id: type(task).from_raw_data(task.serialize()) for task in tasks}
    children: dict[str | None, list] = {}
    for task in tasks:
        children.setdefault(task.parent_task_id, []).append(task)
        if task.parent_task_id is not None and task.parent_task_id not in by_id:
            problems.append(f"task {task.id}: parent {task.parent_task_id} does not exist")
    problems += edge_drift(by_id)
    for task in tasks:  # own open blockers, from the blockers' statuses
        expected[task.id].open_blockers = sum(
            1 for b in deps.blocker_ids(task) if b in by_id and by_id[b].status in OPEN)
    for task in sorted(tasks, key=lambda t: t.depth):  # inherited waiting, from the top
        parent = expected.get(task.parent_task_id)
        expected[task.id].waiting_ancestors = (deps.inherited_by_children(parent)
                                               if parent is not None else 0)
    for task in sorted(tasks, key=lambda t: -t.depth):
        mine = expected[task.id]
        for field in CHILD_AGGREGATES:
            setattr(mine, field, 0)
        for child in children.get(task.id, []):
            for field, value in contribution_to_parent(expected[child.id]).items():
                setattr(mine, field, getattr(mine, field) + value)
        refresh_derived(mine)
    for task in tasks:
        mine = expected[task.id]
        for field in CHILD_AGGREGATES + DERIVED:
            stored, wanted = _value(getattr(task, field)), _value(getattr(mine, field))
            if stored != wanted:
                problems.append(f"task {task.id}: {field} is {stored!r}, expected {wanted!r}")
        parent = by_id.get(task.parent_task_id)
        if parent is not None and task.status in OPEN and parent.status not in OPEN:
            problems.append(f"task {task.id}: {task.status} under a {parent.status} parent")
        if (task.lock_caller is None) != (task.lock_scope is None):
            problems.append(f"task {task.id}: lock record and lock index keys disagree")
    for parent_id, siblings in children.items():
        positions = sorted(int(s.position) for s in siblings)
        if positions != list(range(len(siblings))):
            problems.append(f"children of {parent_id or 'the project'}: positions {positions}")
    totals: dict[str, int] = {"top_level_count": len(children.get(None, []))}
    for task in tasks:
        for field, value in contribution_to_project(expected[task.id]).items():
            totals[field] = totals.get(field, 0) + value
    for field in COUNTERS:
        stored, wanted = int(getattr(project, field) or 0), totals.get(field, 0)
        if stored != wanted:
            problems.append(f"project {project.id}: {field} is {stored}, expected {wanted}")
    return problems


def edge_drift(by_id: dict) -> list[str]:
    """Both sides of every edge agree, and edges stay inside the project."""
    problems = []
    for task in by_id.values():
        for blocker_id in deps.blocker_ids(task):
            blocker = by_id.get(blocker_id)
            if blocker is None:
                problems.append(f"task {task.id}: waits for {blocker_id}, not in the project")
            elif task.id not in deps.dependents(blocker):
                problems.append(f"task {task.id}: {blocker_id} does not list it as dependent")
        for waiter_id in deps.dependents(task):
            waiter = by_id.get(waiter_id)
            if waiter is None or task.id not in deps.blocker_ids(waiter):
                problems.append(f"task {task.id}: lists {waiter_id} as dependent, no such edge")
    return problems


def check(project_ids: list[str] | None = None) -> dict[str, list[str]]:
    from chalicelib.store.projects import list_projects
    from chalicelib.store.tasks import get_project, iter_project_tasks

    if not project_ids:
        project_ids = [p.id for p in list_projects(0, 10_000)[0]]
    report = {}
    for project_id in project_ids:
        project = get_project(project_id)
        if project is None:
            report[project_id] = ["project does not exist"]
            continue
        report[project_id] = drift(project, list(iter_project_tasks(project_id)))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Report drift in stored aggregates.")
    parser.add_argument("--endpoint", help="DynamoDB endpoint (default: AWS)")
    parser.add_argument("--prefix", help="table prefix (default: CHORUS_TABLE_PREFIX)")
    parser.add_argument("project_ids", nargs="*")
    args = parser.parse_args(argv)
    from chalicelib.store import tables

    tables.configure(endpoint=args.endpoint, prefix=args.prefix)
    report = check(args.project_ids)
    failed = False
    for project_id, problems in report.items():
        print(f"{project_id}: {'ok' if not problems else f'{len(problems)} problems'}")
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
