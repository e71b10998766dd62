"""Reading a project's activity feed (SPEC section 14), and tailing it as events arrive.

The feed is newest first and `since` is inclusive. Following it polls with `since` set a little before
the newest event already seen (an event carries its request's start time, so a slow request can commit
one that is older than events already shown) and drops the ids already printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from chorus_client.api import ChorusClient
from chorus_client.resources import Event
from chorus_client.vocabulary import EventKind

PAGE_SIZE = 200
LAG = timedelta(seconds=30)
"""How far before the newest seen event each poll looks again: longer than a request may take (29 s)."""


def recent_events(
    client: ChorusClient,
    project_id: str,
    *,
    limit: int,
    task_id: str | None = None,
    actor: str | None = None,
    kinds: Sequence[EventKind] | None = None,
    since: datetime | None = None,
) -> list[Event]:
    """The newest `limit` matching events, newest first (several pages when `limit` is over 200)."""
    events: list[Event] = []
    offset = 0
    while len(events) < limit:
        page = client.activity(
            project_id,
            task_id=task_id,
            actor=actor,
            kinds=kinds,
            since=since,
            limit=min(PAGE_SIZE, limit - len(events)),
            offset=offset,
        )
        events.extend(page.items)
        if page.next_offset is None or not page.items:
            break
        offset = page.next_offset
    return events


class ActivityFollower:
    """Yields each matching event once, oldest first, as it appears in the feed."""

    def __init__(
        self,
        client: ChorusClient,
        project_id: str,
        *,
        task_id: str | None = None,
        actor: str | None = None,
        kinds: Sequence[EventKind] | None = None,
        since: datetime | None = None,
        lag: timedelta = LAG,
    ) -> None:
        self._client = client
        self._project_id = project_id
        self._filters = {"task_id": task_id, "actor": actor, "kinds": kinds}
        self._since = since
        self._lag = lag
        self._seen: dict[str, datetime] = {}  # id -> at, for the events inside the look-back window
        self._newest: datetime | None = None

    def start(self, backlog: int) -> list[Event]:
        """The newest `backlog` events (oldest first). Every event already in the feed counts as seen, so
        later polls return only events recorded after this call; with `backlog` 0 nothing is returned."""
        events: list[Event] = []  # newest first
        offset = 0
        while True:
            page = self._client.activity(
                self._project_id, since=self._since, limit=PAGE_SIZE, offset=offset, **self._filters
            )
            events.extend(page.items)
            if page.next_offset is None or not page.items:
                break
            # read on until the look-back window of the next poll is covered, so none of it comes back as new
            if len(events) >= backlog and page.items[-1].at < events[0].at - self._lag:
                break
            offset = page.next_offset
        unique = list({event.id: event for event in events}.values())
        self._remember(unique)
        return list(reversed(unique[:backlog]))

    def poll(self) -> list[Event]:
        """The events that appeared since the last call, oldest first (in the order they were recorded)."""
        since = self._since if self._newest is None else self._newest - self._lag
        if self._since is not None and since is not None and since < self._since:
            since = self._since
        fresh: list[Event] = []
        offset = 0
        while True:
            page = self._client.activity(self._project_id, since=since, limit=PAGE_SIZE, offset=offset, **self._filters)
            fresh.extend(event for event in page.items if event.id not in self._seen)
            if page.next_offset is None or not page.items:
                break
            offset = page.next_offset
        unique = list({event.id: event for event in fresh}.values())  # a page may overlap the next
        self._remember(unique)
        return list(reversed(unique))

    def _remember(self, events: list[Event]) -> None:
        for event in events:
            self._seen[event.id] = event.at
            if self._newest is None or event.at > self._newest:
                self._newest = event.at
        if self._newest is not None:
            horizon = self._newest - self._lag
            self._seen = {key: at for key, at in self._seen.items() if at >= horizon}
