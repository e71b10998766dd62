"""SPEC §1 Status: the transitions a client may ask for, every pair of the table."""
import itertools

import pytest

from chalicelib.domain.status import CLOSED, OPEN, STATUSES, is_open, transition_allowed

# the SPEC table, written out again (not imported) so that a change to the code shows up here
SPEC_TABLE = {
    "todo": {"doing", "wont_do"},
    "doing": {"done", "todo", "wont_do"},
    "done": {"todo", "wont_do"},
    "wont_do": {"todo"},
}


def test_the_four_statuses():
    assert set(STATUSES) == {"todo", "doing", "done", "wont_do"}
    assert OPEN == {"todo", "doing"}
    assert CLOSED == {"done", "wont_do"}


@pytest.mark.parametrize("current,requested", [
    (a, b) for a, b in itertools.product(SPEC_TABLE, SPEC_TABLE) if b in SPEC_TABLE[a]])
def test_allowed_transition(current, requested):
    assert transition_allowed(current, requested)


@pytest.mark.parametrize("current,requested", [
    (a, b) for a, b in itertools.product(SPEC_TABLE, SPEC_TABLE)
    if a != b and b not in SPEC_TABLE[a]])
def test_forbidden_transition(current, requested):
    assert not transition_allowed(current, requested)


def test_forbidden_pairs_are_exactly_the_ones_the_table_leaves_out():
    forbidden = {(a, b) for a, b in itertools.product(STATUSES, STATUSES)
                 if not transition_allowed(a, b)}
    assert forbidden == {("todo", "done"), ("wont_do", "doing"), ("wont_do", "done"),
                         ("done", "doing")}


@pytest.mark.parametrize("status", STATUSES)
def test_setting_the_current_status_again_is_allowed_as_a_no_op(status):
    assert transition_allowed(status, status)


@pytest.mark.parametrize("status,expected", [
    ("todo", True), ("doing", True), ("done", False), ("wont_do", False)])
def test_is_open(status, expected):
    assert is_open(status) is expected
