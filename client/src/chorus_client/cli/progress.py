"""Waiting for a background job with visible progress: a bar on a terminal, plain lines otherwise.

Progress goes to stderr, so stdout still carries only the command's result (and stays parseable with
`--json`). Ctrl-C stops the waiting, not the job: it goes on in the background, and the message says
how to pick it up again.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import typer

from chorus_client.api import ChorusClient
from chorus_client.cli import exit_codes
from chorus_client.jobs import DEFAULT_INTERVAL_SECONDS, wait_for_job
from chorus_client.resources import Job


def describe(job: Job) -> str:
    """`job ID (kind) status: done/total tasks`, the line a log or a script reads."""
    progress = job.progress
    return f"job {job.id} ({job.kind}) {job.status}: {progress.done}/{progress.total} tasks"


class ProgressDisplay:
    """Shows each update of one job: a rich progress bar on a terminal, else a line per change."""

    def __init__(self, *, terminal: bool | None = None, say: Callable[[str], None] | None = None) -> None:
        from chorus_client.cli import render

        self._console = render.stderr
        self._terminal = self._console.is_terminal if terminal is None else terminal
        self._say = say or (lambda text: print(f"chorus: {text}", file=self._console.file, flush=True))
        self._last: tuple[str, int, int] | None = None
        self._bar = None
        self._bar_task = None

    def __enter__(self) -> ProgressDisplay:
        if self._terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("tasks"),
                TimeElapsedColumn(),
                console=self._console,
            )
            self._bar.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, trace)

    def update(self, job: Job) -> None:
        state = (job.status, job.progress.done, job.progress.total)
        if self._bar is not None:
            description = f"{job.kind} {job.id[:8]} {job.status}"
            total = job.progress.total or None  # not known yet: a pulsing bar
            if self._bar_task is None:
                self._bar_task = self._bar.add_task(description, total=total, completed=job.progress.done)
            else:
                self._bar.update(self._bar_task, description=description, total=total, completed=job.progress.done)
        elif state != self._last:
            self._say(describe(job))
        self._last = state


def wait_with_progress(
    client: ChorusClient,
    job: Job,
    *,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    timeout_seconds: float | None = None,
    display: ProgressDisplay | None = None,
) -> Job:
    """Follow `job` to its end, showing progress; Ctrl-C exits 130 and leaves the job running."""
    display = display or ProgressDisplay()
    try:
        with display:
            return wait_for_job(
                client,
                job,
                interval_seconds=interval_seconds,
                timeout_seconds=timeout_seconds,
                on_update=display.update,
            )
    except KeyboardInterrupt:
        from chorus_client.cli import render

        render.stderr.print(
            f"chorus: stopped waiting; job {job.id} goes on in the background (chorus job wait {job.id})",
            markup=False,
        )
        raise typer.Exit(exit_codes.INTERRUPTED) from None
