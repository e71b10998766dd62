"""The one clock of Chorus: ISO-8601 UTC strings (sortable) and epoch milliseconds.

Tests can move it (`set_test_clock`): every caller of now_ms/now_iso, in every thread, then
sees the shifted or frozen time, so a test about lock expiry advances the clock instead of
sleeping. Nothing outside the tests calls it; the offset is 0 and nothing is frozen otherwise.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

_offset_ms = 0  # tests only: added to the real time
_frozen_ms: int | None = None  # tests only: the time, when frozen


def set_test_clock(offset_ms: int = 0, frozen_ms: int | None = None) -> None:
    """Tests only: shift the clock by `offset_ms`, or freeze it at `frozen_ms`;
    set_test_clock() puts the real clock back."""
    global _offset_ms, _frozen_ms
    _offset_ms, _frozen_ms = int(offset_ms), frozen_ms


def now_ms() -> int:
    if _frozen_ms is not None:
        return _frozen_ms
    return time.time_ns() // 1_000_000 + _offset_ms


def iso_from_ms(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}000Z"


def now_iso() -> str:
    if _frozen_ms is not None:
        return iso_from_ms(_frozen_ms)
    moment = datetime.now(timezone.utc)
    if _offset_ms:
        moment += timedelta(milliseconds=_offset_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_iso(value: datetime) -> str:
    """A client's timestamp as our canonical UTC string (no offset means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
