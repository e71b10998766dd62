"""One place that decides between human and `--json` output, for results and for errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from chorus_client.errors import ChorusError

ResultT = TypeVar("ResultT")


def jsonable(value: Any) -> Any:
    """Resources (pydantic models) and lists of them as plain JSON values."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def emit(result: ResultT, as_json: bool, human: Callable[[ResultT], None]) -> None:
    """Print the result: as JSON on stdout for machines, else through its human renderer."""
    if as_json:
        print(json.dumps(jsonable(result), indent=2))
    else:
        human(result)


def report_error(error: ChorusError, as_json: bool) -> None:
    """Errors go to stderr, so stdout only ever carries a result; `--json` keeps them parseable."""
    if as_json:
        print(json.dumps({"error": error.to_dict()}, indent=2), file=sys.stderr)
        return
    from rich.markup import escape

    from chorus_client.cli.render import stderr

    stderr.print(f"[bold red]{escape(error.code)}[/bold red]: {escape(error.message)}")
    if error.details:
        stderr.print(escape(json.dumps(error.details)))
    stderr.print(f"[yellow]Next:[/yellow] {escape(error.next_step)}")
    if error.request_id:
        stderr.print(f"[dim]request id {escape(error.request_id)}[/dim]")
