"""`chorus hold TASK -- COMMAND`: run a command under the caller's lock, heartbeating it meanwhile.

The lock is kept when the command succeeds (the agent goes on to `complete`), and released when it
fails, is interrupted (Ctrl-C, SIGTERM) or the lock is lost, so a dead attempt never blocks the task
until its TTL runs out.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from chorus_client.api import ChorusClient
from chorus_client.cli import exit_codes
from chorus_client.errors import ChorusError
from chorus_client.keepalive import KeepAlive

CHILD_GRACE_SECONDS = 10.0
WATCH_SECONDS = 0.2


class Interrupted(Exception):
    """SIGTERM arrived; handled like Ctrl-C."""


@dataclass(frozen=True)
class HoldResult:
    task_id: str
    command_exit_code: int | None
    exit_code: int
    heartbeats: int
    lock_released: bool
    lock_lost: str | None


def hold(
    client: ChorusClient,
    task_id: str,
    command: Sequence[str],
    say: Callable[[str], None],
) -> HoldResult:
    """Run `command` while keeping the caller's lock on `task_id` alive; the caller must hold it already."""
    lock = client.heartbeat(task_id)
    keepalive = KeepAlive(client, lock)
    child: subprocess.Popen[bytes] | None = None
    interrupted = False
    try:
        with _sigterm_raises(), keepalive:
            child = subprocess.Popen(list(command))
            say(f"holding the {lock.lock_purpose} lock on {task_id}: heartbeat every {keepalive.interval_seconds:.1f}s")
            while child.poll() is None:
                if keepalive.wait_until_lost(WATCH_SECONDS):
                    _stop_child(child)
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        if child is not None:
            _stop_child(child, signal.SIGINT)
    returncode = None if child is None else child.returncode
    if keepalive.lost is not None:
        say(f"lock lost ({keepalive.lost.code}); the command was stopped")
        return HoldResult(task_id, returncode, exit_codes.LOCK, keepalive.beats, False, keepalive.lost.code)
    if interrupted or returncode != 0:
        release_failure = _release(client, task_id)
        cause = "interrupted" if interrupted else f"command exited {returncode}"
        say(f"{cause}; lock {'released' if release_failure is None else f'not released: {release_failure}'}")
        exit_code = exit_codes.INTERRUPTED if interrupted else returncode
        return HoldResult(task_id, returncode, exit_code, keepalive.beats, release_failure is None, None)
    say("command succeeded; lock kept for the next step (complete, or release)")
    return HoldResult(task_id, returncode, exit_codes.OK, keepalive.beats, False, None)


def _stop_child(child: subprocess.Popen[bytes], first_signal: int = signal.SIGTERM) -> None:
    """Ask the command to stop, and kill it if it has not within the grace period."""
    if child.poll() is not None:
        return
    child.send_signal(first_signal)
    try:
        child.wait(timeout=CHILD_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _release(client: ChorusClient, task_id: str) -> str | None:
    """Release the lock; the reason it could not be, or None."""
    try:
        client.release_lock(task_id)
    except ChorusError as error:
        return f"{error.code}: {error.message}"
    return None


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into an exception while the command runs, so it is cleaned up like Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum: int, frame: FrameType | None) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
