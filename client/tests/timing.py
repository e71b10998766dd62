"""Golden-path timings, printed at the end of the run by conftest's terminal summary."""

from __future__ import annotations

TIMINGS: dict[str, str] = {}


def record_timing(name: str, seconds: float, steps: int) -> None:
    TIMINGS[name] = f"{seconds:.2f} s for {steps} steps ({seconds / steps * 1000:.0f} ms each)"
