"""Running `chorus` in tests: what a run gave, and checking its exit code with a readable failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seed import rubric


@dataclass(frozen=True)
class Ran:
    exit_code: int
    stdout: str
    stderr: str


Chorus = Callable[..., Ran]


def checked(args: tuple[str, ...], ran: Ran, expect: int) -> Ran:
    assert ran.exit_code == expect, (
        f"chorus {' '.join(args)} exited {ran.exit_code}, expected {expect}\nstdout: {ran.stdout}\nstderr: {ran.stderr}"
    )
    return ran


def as_json(result: Ran) -> Any:
    return json.loads(result.stdout)


def size_args(total: int) -> list[str]:
    fields = rubric(total)
    args = [f"--confidence={fields.pop('confidence')}"]
    for name, dimension in fields.items():
        args += [f"--{name.replace('_', '-')}", str(dimension["score"]), dimension["reasoning"]]
    return args
