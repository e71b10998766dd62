"""Human output: rich tables and trees. Ids are never cut, since the next command needs them."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from chorus_client.resources import (
    AgentActivity,
    Breakdown,
    Claim,
    Event,
    HistoryPoint,
    Job,
    Lock,
    Project,
    ProjectDetail,
    Task,
    TaskContext,
    TaskTree,
    WorkLogEntry,
)

if TYPE_CHECKING:
    from chorus_client.dependencies import DependencyReport

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


def task(item: Task, report: DependencyReport | None = None) -> None:
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
        "blocked by": f"{len(item.blocked_by)} ({item.open_blockers} open)" if item.blocked_by else "none",
        "waiting": _waiting_line(item),
    }
    if item.needs_refinement:
        rows["refinement"] = item.refinement_notes or "needed"
    for key, value in rows.items():
        table.add_row(key, escape(value))
    stdout.print(table)
    if report is not None and report.waiting_on:
        _waits_for(report)
    for heading, text in (("Description", item.description), ("Context", item.context)):
        if text:
            stdout.print(f"\n[bold]{heading}[/bold]\n{escape(text)}")


def _waiting_line(item: Task) -> str:
    if not item.waiting:
        return "no"
    if item.open_blockers:
        return f"yes: not implemented until its {item.open_blockers} open blocker(s) are done or cancelled"
    return "yes: an ancestor waits for other tasks, which holds back everything below it"


def _waits_for(report: DependencyReport) -> None:
    from chorus_client.dependencies import describe_waiting

    stdout.print("\n[bold]Waits for[/bold] (not offered for implementation until these are done or cancelled)")
    for item in report.waiting_on:
        stdout.print(f"- {escape(describe_waiting(item))}")


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


def context(result: TaskContext, report: DependencyReport | None = None) -> None:
    task(result.task, report)
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


# -- dependencies ----------------------------------------------------------------------------


def dependencies(report: DependencyReport) -> None:
    item = report.task
    stdout.print(f"[bold]{escape(item.name)}[/bold]  [cyan]{item.id}[/cyan]  ({item.status}, {item.readiness})")
    stdout.print(escape(f"waiting: {_waiting_line(item)}"))
    _dependency_table(
        "Waits for (blocked by)", report.blocked_by, "Edge", lambda t: "open" if t.is_open else "satisfied"
    )
    _dependency_table(
        "Waited for by (blocking)", report.blocking or [], "Waiting", lambda t: "yes" if t.waiting else "no"
    )
    inherited = [entry for entry in report.waiting_on if entry.inherited]
    if inherited:
        from chorus_client.dependencies import describe_waiting

        stdout.print("\n[bold]Held back through ancestors[/bold]")
        for entry in inherited:
            stdout.print(f"- {escape(describe_waiting(entry))}")


def _dependency_table(title: str, items: list[Task], last: str, value: object) -> None:
    if not items:
        stdout.print(f"{title}: none.")
        return
    table = Table(title=title, title_justify="left")
    _id_column(table)
    for heading in ("Name", "Status", "Readiness", last):
        table.add_column(heading)
    for item in items:
        table.add_row(item.id, escape(item.name), item.status, item.readiness, value(item))  # type: ignore[operator]
    stdout.print(table)


def dependency_added(report: DependencyReport, blocker_id: str, existed: bool) -> None:
    item = report.task
    blocker = next((entry for entry in report.blocked_by if entry.id == blocker_id), None)
    named = f"“{blocker.name}” ({blocker.status}, {blocker.id})" if blocker else blocker_id
    if existed:
        stdout.print(escape(f"“{item.name}” already waited for {named}: nothing changed."))
    else:
        stdout.print(escape(f"“{item.name}” ({item.id}) now waits for {named}."))
    if blocker is not None and not blocker.is_open:
        stdout.print(escape(f"The blocker is {blocker.status} already, so this holds nothing back."))
    stdout.print(escape(f"readiness: {item.readiness}; waiting: {_waiting_line(item)}"))


def dependency_removed(report: DependencyReport, blocker_id: str) -> None:
    item = report.task
    stdout.print(escape(f"“{item.name}” ({item.id}) no longer waits for {blocker_id}."))
    stdout.print(escape(f"readiness: {item.readiness}; waiting: {_waiting_line(item)}"))
    if report.waiting_on:
        _waits_for(report)


# -- activity, agents, history ----------------------------------------------------------------


def event_line(event: Event) -> str:
    """One line per event: when, what kind, what happened (and who, when the summary does not say)."""
    line = f"{event.at:%Y-%m-%d %H:%M:%S}  {event.kind:<18} {event.summary}"
    if not event.summary.startswith(event.actor):
        line += f" (by {event.actor})"
    blocker = event.details.get("blocker_id")
    if blocker:
        line += f" [blocker {blocker}]"
    return f"{line}  task {event.task_id}"


def events(items: list[Event]) -> None:
    """A feed page, newest first, as plain lines (easy to grep)."""
    if not items:
        print("No activity.")
        return
    for event in items:
        print(event_line(event))


def event_lines(items: list[Event], as_json: bool) -> None:
    """Events as they arrive (--follow): a line each, flushed at once; JSON Lines with --json."""
    for event in items:
        print(json.dumps(event.to_json()) if as_json else event_line(event), flush=True)


def agents(items: list[AgentActivity], hours: int) -> None:
    if not items:
        stdout.print(f"Nobody worked on this project in the last {hours} hours.")
        return
    table = Table(title=f"Agents, last {hours} hours", title_justify="left")
    for heading in ("Actor", "Last seen", "Events", "Operations", "Locks expired", "Live locks"):
        table.add_column(heading)
    for row in items:
        locks = "\n".join(
            f"{lock.lock_purpose} on {lock.task_id} until {lock.expires_at:%H:%M:%S}" for lock in row.live_locks
        )
        seen = "-" if row.last_seen_at is None else f"{row.last_seen_at:%Y-%m-%d %H:%M:%S}"
        table.add_row(
            escape(row.actor), seen, str(row.events), str(row.operations), str(row.locks_expired), escape(locks)
        )
    stdout.print(table)


def history(points: list[HistoryPoint]) -> None:
    if not points:
        stdout.print("No history.")
        return
    table = Table(title="Burn-up (UTC days)", title_justify="left")
    for heading in ("Date", "Points done", "Tasks done", "Events", ""):
        table.add_column(heading)
    for point in points:
        share = point.points_completed / point.points_total if point.points_total else 0.0
        table.add_row(
            point.date,
            f"{point.points_completed}/{point.points_total}",
            f"{point.tasks_done}/{point.tasks_total}",
            str(point.events),
            "#" * round(share * 20),
        )
    stdout.print(table)


# -- jobs and projects -------------------------------------------------------------------------


def job(item: Job) -> None:
    stdout.print(f"[bold]Job[/bold] [cyan]{item.id}[/cyan]  {item.kind}  [bold]{item.status}[/bold]")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    total = item.progress.total
    share = f" ({item.progress.done * 100 // total}%)" if total else ""
    table.add_row("progress", f"{item.progress.done}/{total} tasks{share}")
    table.add_row("created", f"{item.created_at:%Y-%m-%d %H:%M:%S}")
    table.add_row("updated", f"{item.updated_at:%Y-%m-%d %H:%M:%S}")
    if item.result:
        table.add_row("result", escape(", ".join(f"{key} {value}" for key, value in item.result.items())))
    if item.error:
        table.add_row("error", escape(f"{item.error.code}: {item.error.message}"))
    stdout.print(table)


def job_started(item: Job) -> None:
    stdout.print(
        f"Started job [cyan]{item.id}[/cyan] ({item.kind}); it runs in the background."
        f" Follow it with: chorus job wait {item.id}"
    )


def project_detail(item: ProjectDetail) -> None:
    stdout.print(f"[bold]{escape(item.name)}[/bold]  [cyan]{item.id}[/cyan]")
    counts = ", ".join(f"{count} {status}" for status, count in item.status_counts.items() if count)
    stdout.print(
        f"{item.task_count} tasks ({counts or 'none'}); {item.points_completed}/{item.points_total} points done;"
        f" {item.active_locks} live locks"
    )
