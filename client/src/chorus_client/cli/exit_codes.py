"""Documented exit codes, so a script can tell "another agent won" from "no such task"."""

from __future__ import annotations

from chorus_client.errors import (
    ChorusError,
    ConfigurationError,
    InvalidRequestError,
    InvalidStateError,
    LockConflictError,
    LockLostError,
    LockRequiredError,
    NotFoundError,
)

OK = 0
FAILURE = 1
USAGE = 2
LOCK = 3
NOT_FOUND = 4
INVALID_STATE = 5
INTERRUPTED = 130

_BY_ERROR: tuple[tuple[type[ChorusError], int], ...] = (
    (LockConflictError, LOCK),
    (LockLostError, LOCK),
    (LockRequiredError, LOCK),
    (NotFoundError, NOT_FOUND),
    (InvalidStateError, INVALID_STATE),
    (InvalidRequestError, USAGE),
    (ConfigurationError, USAGE),
)


def exit_code_for(error: ChorusError) -> int:
    """3: the lock is not yours (another agent won, or yours was lost); 4: not found or queue empty;
    5: the task's state forbids it; 2: a bad request or missing setting; 1: anything else."""
    for error_type, code in _BY_ERROR:
        if isinstance(error, error_type):
            return code
    return FAILURE
