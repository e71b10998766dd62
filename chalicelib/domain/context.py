"""Context documents: freshness and fitting the document into `max_bytes` (SPEC §6)."""
from __future__ import annotations

import json
from typing import Any

SHORTENED_FIELDS = ("description", "context")


class DoesNotFit(Exception):
    def __init__(self, min_bytes: int):
        super().__init__(min_bytes)
        self.min_bytes = min_bytes


def size_of(document: dict) -> int:
    return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def stale_reasons(captured_at: str | None, ancestors: list[Any]) -> list[str]:
    """Never captured, or an ancestor's name, description or context changed since."""
    if captured_at is None:
        return ["never captured"]
    return [
        f"ancestor {a.id} ({a.name!r}) changed at {a.content_changed_at}, after this context "
        f"was captured at {captured_at}"
        for a in ancestors if a.content_changed_at > captured_at
    ]


def _largest(low: int, high: int, fits) -> int:
    """The largest n in [low, high] with fits(n), given fits(low) is True and fits is
    monotonic (True up to some n, then False)."""
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def fit(document: dict, max_bytes: int) -> dict:
    """Drop the oldest work-log entries, then the oldest commits, then shorten the farthest
    ancestors' descriptions and contexts, only as far as needed."""
    whole = {**document, "truncated": False, "truncation": None}
    if size_of(whole) <= max_bytes:
        return whole
    log, commits = document["work_log"], document["commits"] or []
    ancestors = [dict(a) for a in document["ancestors"]]
    truncation: dict[str, Any] = {
        "work_log_entries_dropped": 0, "work_log_entries_total": len(log),
        "commits_dropped": 0, "commits_total": len(commits),
        "ancestors_shortened": 0, "shortened": [],
    }

    def build(log_dropped: int, commits_dropped: int) -> dict:
        truncation["work_log_entries_dropped"] = log_dropped
        truncation["commits_dropped"] = commits_dropped
        return {
            **document,
            "ancestors": ancestors,
            "work_log": log[log_dropped:],
            "commits": None if document["commits"] is None else commits[commits_dropped:],
            "truncated": True,
            "truncation": truncation,
        }

    def fits(candidate: dict) -> bool:
        return size_of(candidate) <= max_bytes

    kept_log = _largest(0, len(log), lambda keep: fits(build(len(log) - keep, 0)))
    if not fits(build(len(log) - kept_log, 0)):
        kept_log = 0
    log_dropped = len(log) - kept_log
    if kept_log == 0:
        kept = _largest(0, len(commits), lambda keep: fits(build(log_dropped, len(commits) - keep)))
        commits_dropped = len(commits) - kept
        if not fits(build(log_dropped, commits_dropped)):
            commits_dropped = len(commits)
    else:
        commits_dropped = 0
    shortened_ids: set[str] = set()
    for ancestor in ancestors:
        for field in SHORTENED_FIELDS:
            if fits(build(log_dropped, commits_dropped)):
                break
            original = ancestor[field]
            if not original:
                continue
            record = {"ancestor_id": ancestor["id"], "field": field,
                      "original_chars": len(original), "kept_chars": 0}
            truncation["shortened"].append(record)
            shortened_ids.add(ancestor["id"])
            truncation["ancestors_shortened"] = len(shortened_ids)

            def fits_prefix(keep: int, field=field, ancestor=ancestor, record=record) -> bool:
                ancestor[field] = original[:keep]
                record["kept_chars"] = keep
                return fits(build(log_dropped, commits_dropped))

            keep = _largest(0, len(original), fits_prefix) if fits_prefix(0) else 0
            fits_prefix(keep)
    final = build(log_dropped, commits_dropped)
    if not fits(final):
        raise DoesNotFit(size_of(final))
    return final
