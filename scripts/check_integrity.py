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

from chalicelib.domain.rollup import (  # noqa: E402
    CHILD_AGGREGATES,
    contribution_to_parent,
    contribution_to_project,
)
from chalicelib.domain.status import OPEN  # noqa: E402
from chalicelib.domain.tree import refresh_derived  # noqa: E402

DERIVED = ("readiness", "queue_op", "queue_scope", "board_key", "queue_sort")
COUNTERS = (
    "task_count", "status_todo", "status_doing", "status_done", "status_wont_do",
    "readiness_needs_refinement", "readiness_blocked_by_children", "readiness_needs_sizing",
    "readiness_needs_breakdown", "readiness_ready", "points_total", "points_completed",
    "top_level_count",
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
