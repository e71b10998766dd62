"""SPEC §1 Locks and Atomic operations: verdicts of acquire and of operations."""
import itertools

import pytest

from chalicelib.domain.locks import (
    LockView,
    acquire_verdict,
    is_live,
    operation_verdict,
    precondition_met,
)
from chalicelib.domain.readiness import READINESS_STATES
from chalicelib.domain.status import STATUSES

NOW = 1_700_000_000_000
PURPOSES = ("sizing", "breakdown", "refinement", "implementation")
OPERATIONS = ("size", "breakdown", "refine", "complete")

SPEC_PRECONDITIONS = {
    "sizing": ({"needs_sizing"}, {"todo"}),
    "breakdown": ({"needs_breakdown"}, {"todo", "doing"}),
    "refinement": (set(READINESS_STATES), set(STATUSES)),
    "implementation": ({"ready"}, {"todo", "doing"}),
}
SPEC_ACCEPTED = {
    "size": {"sizing", "refinement"},
    "breakdown": {"breakdown"},
    "refine": {"refinement"},
    "complete": {"implementation"},
}


def live(caller="agent-1", purpose="sizing", ms_left=60_000):
    return LockView(caller, purpose, NOW + ms_left)


# -- liveness ---------------------------------------------------------------------------
def test_no_expiry_is_no_lock():
    assert not is_live(None, NOW)


def test_a_lock_is_live_until_the_instant_it_expires():
    assert is_live(NOW + 1, NOW)
    assert not is_live(NOW, NOW)
    assert not is_live(NOW - 1, NOW)


# -- preconditions ----------------------------------------------------------------------
@pytest.mark.parametrize("purpose,readiness,status", list(
    itertools.product(PURPOSES, READINESS_STATES, STATUSES)))
def test_precondition_table(purpose, readiness, status):
    readinesses, statuses = SPEC_PRECONDITIONS[purpose]
    expected = readiness in readinesses and status in statuses
    assert precondition_met(purpose, readiness, status) is expected


# -- acquire ----------------------------------------------------------------------------
@pytest.mark.parametrize("purpose", PURPOSES)
def test_no_lock_and_precondition_met_acquires(purpose):
    readiness = {"sizing": "needs_sizing", "breakdown": "needs_breakdown",
                 "refinement": "blocked_by_children", "implementation": "ready"}[purpose]
    assert acquire_verdict(None, NOW, "a", purpose, readiness, "todo") == "acquire"


def test_no_lock_and_precondition_failed():
    assert acquire_verdict(None, NOW, "a", "sizing", "ready", "todo") == "precondition"
    assert acquire_verdict(None, NOW, "a", "sizing", "needs_sizing", "doing") == "precondition"
    assert acquire_verdict(None, NOW, "a", "implementation", "ready", "done") == "precondition"


def test_the_holder_acquiring_again_for_the_same_purpose_is_a_heartbeat():
    assert acquire_verdict(live("a", "sizing"), NOW, "a", "sizing", "needs_sizing",
                           "todo") == "heartbeat"


def test_a_heartbeat_does_not_check_the_precondition_again():
    # the task was sized meanwhile: readiness is no longer needs_sizing
    assert acquire_verdict(live("a", "sizing"), NOW, "a", "sizing", "ready", "todo") == "heartbeat"


def test_someone_elses_live_lock_is_a_conflict():
    assert acquire_verdict(live("b", "sizing"), NOW, "a", "sizing", "needs_sizing",
                           "todo") == "conflict"


def test_the_same_holder_with_another_purpose_is_a_conflict():
    assert acquire_verdict(live("a", "sizing"), NOW, "a", "refinement", "needs_sizing",
                           "todo") == "conflict"


def test_a_live_lock_is_checked_before_the_precondition():
    assert acquire_verdict(live("b", "sizing"), NOW, "a", "implementation", "needs_sizing",
                           "done") == "conflict"


@pytest.mark.parametrize("ms_left", [0, -1, -3_600_000])
def test_an_expired_lock_is_no_lock_from_the_instant_it_expires(ms_left):
    expired = live("b", "sizing", ms_left)
    assert acquire_verdict(expired, NOW, "a", "sizing", "needs_sizing", "todo") == "acquire"
    assert acquire_verdict(expired, NOW, "a", "sizing", "ready", "todo") == "precondition"
    # the former holder gets a fresh lock too, not a heartbeat
    assert acquire_verdict(LockView("a", "sizing", NOW + ms_left), NOW, "a", "sizing",
                           "needs_sizing", "todo") == "acquire"


def test_one_millisecond_before_expiry_the_lock_still_holds():
    assert acquire_verdict(live("b", "sizing", 1), NOW, "a", "sizing", "needs_sizing",
                           "todo") == "conflict"


# -- operations -------------------------------------------------------------------------
@pytest.mark.parametrize("operation,purpose", list(itertools.product(OPERATIONS, PURPOSES)))
def test_operation_accepts_exactly_the_spec_purposes(operation, purpose):
    verdict = operation_verdict(live("a", purpose), NOW, "a", operation)
    assert verdict == ("ok" if purpose in SPEC_ACCEPTED[operation] else "conflict")


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_without_a_lock_requires_one(operation):
    assert operation_verdict(None, NOW, "a", operation) == "required"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_under_an_expired_lock_requires_one(operation):
    purpose = next(iter(SPEC_ACCEPTED[operation]))
    assert operation_verdict(live("a", purpose, 0), NOW, "a", operation) == "required"
    assert operation_verdict(live("b", purpose, 0), NOW, "a", operation) == "required"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_under_someone_elses_lock_is_a_conflict(operation):
    purpose = next(iter(SPEC_ACCEPTED[operation]))
    assert operation_verdict(live("b", purpose), NOW, "a", operation) == "conflict"
