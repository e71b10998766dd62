"""Keeping a lock alive from a background thread while long work runs."""

from __future__ import annotations

import threading
import time

from chorus_client.api import ChorusClient
from chorus_client.errors import ChorusError, LockConflictError, LockLostError
from chorus_client.resources import Lock


class KeepAlive:
    """Heartbeats the caller's lock every third of its TTL, so one late beat never loses it.

    Beating stops for good once the lock is gone or taken (`lost`); a transient failure is tolerated
    until the next beat, which the lock's remaining two thirds of TTL leave time for.
    """

    def __init__(self, client: ChorusClient, lock: Lock) -> None:
        self._client = client
        self._task_id = lock.task_id
        self.interval_seconds = lock.ttl_seconds / 3
        self._stopped = threading.Event()
        self._lost_event = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"chorus-heartbeat-{lock.task_id}", daemon=True)
        self.beats = 0
        self.lost: ChorusError | None = None

    def __enter__(self) -> KeepAlive:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join()

    def wait_until_lost(self, timeout_seconds: float) -> bool:
        """True as soon as the lock is lost; False when `timeout_seconds` pass without that."""
        return self._lost_event.wait(timeout_seconds)

    def _beat(self) -> None:
        # a fixed cadence from the clock, so a slow heartbeat does not push the next one back
        next_beat = time.monotonic() + self.interval_seconds
        while not self._stopped.wait(max(0.0, next_beat - time.monotonic())):
            next_beat += self.interval_seconds
            try:
                self._client.heartbeat(self._task_id)
            except (LockLostError, LockConflictError) as error:
                self.lost = error
                self._lost_event.set()
                return
            except ChorusError:
                continue
            self.beats += 1
