"""The five-dimension sizing rubric (SPEC §1, Sizing)."""
from __future__ import annotations

DIMENSIONS = (
    "scope_clarity", "decision_points", "context_window_demand", "verification_complexity",
    "domain_specificity",
)
LOW_CONFIDENCE = 2


def total_points(scores: dict[str, int]) -> int:
    """The server computes the total; clients never send it."""
    return sum(scores[name] for name in DIMENSIONS)


def low_confidence_note(confidence: int) -> str | None:
    """The refinement note a sizing this unsure adds, if any."""
    return f"low sizing confidence: {confidence}" if confidence <= LOW_CONFIDENCE else None
