"""Human output: rich tables and trees. Ids are never cut, since the next command needs them."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from chorus_client.resources import (
    Breakdown,
    Claim,
    Lock,
    Project,
    Task,
    TaskContext,
    TaskTree,
    WorkLogEntry,
)

ID_WIDTH = 36
PIPE_WIDTH = 200
STATUS_MARKS = {"todo": "[ ]", "doing": "[~]", "done": "[x]", "wont_do": "[-]"}

# Piped output is read later (a log, a pager), not squeezed into 80 columns.
stdout = Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)
stderr = Console(stderr=True, soft_wrap=True)


def _id_column(table: Table) -> None:
    table.add_column("ID", no_wrap=True, min_width=ID_WIDTH, style="cyan")


def _points(task: Task) -> str:
    return "-" if task.effective_points is None else str(task.effective_points)


def _holder(lock: Lock | None) -> str:
    return "" if lock is None else f"{lock.caller_label} ({lock.lock_purpose})"


def tasks(items: list[Task], title: str) -> None:
    if not items:
        stdout.print(f"{title}: none.")
        return
    table = Table(title=title, title_justify="left")
    _id_column(table)
    for heading in ("Name", "Type", "Status", "Readiness", "Pts", "Pri", "Locked by"):
        table.add_column(heading)
    for task in items:
        table.add_row(
            task.id,
            escape(task.name),
            task.task_type,
            task.status,
            task.readiness,
            _points(task),
            str(task.priority),
            escape(_holder(task.lock)),
        )
    stdout.print(table)


def projects(items: list[Project]) -> None:
    if not items:
        stdout.print("No projects.")
        return
    table = Table(title="Projects", title_justify="left")
    _id_column(table)
    table.add_column("Name")
    table.add_column("Description")
    for project in items:
        table.add_row(project.id, escape(project.name), escape(_first_line(project.description)))
    stdout.print(table)


def task(item: Task) -> None:
    stdout.print(f"[bold]{escape(item.name)}[/bold]  [cyan]{item.id}[/cyan]")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    rows = {
        "type": item.task_type,
        "status": item.status,
        "readiness": item.readiness,
        "points": _points(item) + ("" if item.sizing_confidence is None else f" (confidence {item.sizing_confidence})"),
        "priority": str(item.priority),
        "parent": item.parent_task_id or "-",
        "children": f"{item.children_count} ({item.unsized_children} unsized)",
        "lock": _lock_line(item.lock) if item.lock else "none",
    }
    if item.needs_refinement:
        rows["refinement"] = item.refinement_notes or "needed"
    for key, value in rows.items():
        table.add_row(key, escape(value))
    stdout.print(table)
    for heading, text in (("Description", item.description), ("Context", item.context)):
        if text:
            stdout.print(f"\n[bold]{heading}[/bold]\n{escape(text)}")


def breakdown(result: Breakdown) -> None:
    stdout.print(f"Broke down {result.id} {escape(result.name)} into {len(result.subtasks)} subtasks:")
    tasks(result.subtasks, "Subtasks")


def trees(roots: Iterable[TaskTree], title: str) -> None:
    tree = Tree(f"[bold]{escape(title)}[/bold]")
    for root in roots:
        _branch(tree, root)
    stdout.print(tree)


def _branch(parent: Tree, node: TaskTree) -> None:
    label = (
        f"{escape(STATUS_MARKS.get(node.status, node.status))} {escape(node.name)} "
        f"[dim]({node.task_type}, {_points(node)} pts, {node.readiness})"
        f"{' locked by ' + escape(node.lock.caller_label) if node.lock else ''}[/dim] [cyan]{node.id}[/cyan]"
    )
    branch = parent.add(label)
    for child in node.children:
        _branch(branch, child)


def context(result: TaskContext) -> None:
    task(result.task)
    stdout.print(f"\n[bold]Project[/bold] {escape(result.project.name)}  [cyan]{result.project.id}[/cyan]")
    for depth, ancestor in enumerate(result.ancestors):
        stdout.print(f"{'  ' * depth}- {escape(ancestor.name)}  [cyan]{ancestor.id}[/cyan]")
        if ancestor.context:
            stdout.print(f"{'  ' * depth}  {escape(ancestor.context)}")
    freshness = result.context_freshness
    if result.stale_reasons:
        freshness += ": " + "; ".join(result.stale_reasons)
    stdout.print(f"\n[bold]Context[/bold] {escape(freshness)}")
    if result.work_log:
        stdout.print("\n[bold]Work log[/bold]")
        work_log(result.work_log)
    if result.truncated:
        stdout.print("[yellow]Truncated to fit; ask with a larger --max-bytes for more.[/yellow]")


def work_log(entries: list[WorkLogEntry]) -> None:
    if not entries:
        stdout.print("No work-log entries.")
        return
    table = Table()
    for heading in ("When", "Author", "Operation", "Content"):
        table.add_column(heading)
    for entry in entries:
        table.add_row(
            f"{entry.created_at:%Y-%m-%d %H:%M:%S}", escape(entry.author), entry.operation, escape(entry.content)
        )
    stdout.print(table)


def claim(result: Claim) -> None:
    stdout.print(f"Claimed [cyan]{result.task.id}[/cyan] {escape(result.task.name)}")
    lock(result.lock)


def lock(item: Lock) -> None:
    stdout.print(escape(_lock_line(item)))


def _lock_line(item: Lock) -> str:
    return (
        f"{item.lock_purpose} lock held by {item.caller_label} until {item.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        f" (ttl {item.ttl_seconds}s, fencing token {item.fencing_token})"
    )


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""
