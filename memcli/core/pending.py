"""Events appended in a write batch but not yet committed, and the memories they changed.

During `EventStore.batch()` (an import, a backfill, an eval's ingest) appends go here instead
of into one DuckDB transaction each; the batch is written in one transaction when it ends or
grows past its limit. Reads in the meantime see the log as if every append had been committed:
they combine the database's rows with what is pending here (which always has the newest
sequence numbers, and the latest state of every memory the batch touched).

What is kept here is exactly what a read of the database would return: each event with its
payload as JSON brought it back and its time in UTC, and memories are handed out through the
same row conversion the database path uses (`EventStore` does that part).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timezone
from typing import Iterable

from memcli.core.events import Event
from memcli.core.projection import Key, ProjectionState


def as_stored(event: Event, payload_json: str) -> Event:
    """The event as the database gives it back: payload through JSON, time in UTC."""
    ts = event.ts
    ts = ts.astimezone(timezone.utc) if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    return replace(event, ts=ts, payload=json.loads(payload_json))


@dataclass
class PendingBatch:
    """What a write batch has appended so far (events in order, with their JSON payloads)."""

    limit: int
    events: list[Event] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)
    state: ProjectionState = field(default_factory=ProjectionState)
    new_keys: set[Key] = field(default_factory=set)  # memories added in this batch (not in the table yet)
    stored_ids: dict[str, set[str]] = field(default_factory=dict)  # per namespace, read once per batch
    counts: dict[str, int] = field(default_factory=dict)  # memories per namespace in the table

    @property
    def first_seq(self) -> int | None:
        return self.events[0].seq if self.events else None

    def matching(self, *, since: int, until: int | None, kinds: set[str] | None, namespace: str | None,
                 memory_id: str | None, newest: int | None = None, seqs: set[int] | None = None) -> list[Event]:
        """Pending events that a query with these filters would return, oldest first; `newest`: at
        most the last N of them (found from the end: a strategy reading the last turns stays cheap)."""
        def wanted(e: Event) -> bool:
            return (e.seq > since and (until is None or e.seq <= until) and (kinds is None or e.kind.value in kinds)
                    and (namespace is None or e.namespace == namespace)
                    and (memory_id is None or e.memory_id == memory_id) and (seqs is None or e.seq in seqs))

        if newest is None:
            return [e for e in self.events if wanted(e)]
        found: list[Event] = []
        for e in reversed(self.events):
            if len(found) == newest or e.seq <= since:
                break
            if wanted(e):
                found.append(e)
        return found[::-1]

    def keys_in(self, namespace: str) -> Iterable[Key]:
        return (k for k in self.state.memories if k[0] == namespace)

    def committed(self) -> None:
        """The batch was written: start an empty one (the table now holds what was pending)."""
        for ns, mid in self.state.memories:
            if ns in self.stored_ids:
                self.stored_ids[ns].add(mid)
        self.events, self.payloads = [], []
        self.state = ProjectionState()
        self.new_keys = set()
        self.counts = {}

    def discarded(self) -> None:
        """The batch could not be written: forget it, and what was read from the table with it."""
        self.events, self.payloads = [], []
        self.state = ProjectionState()
        self.new_keys = set()
        self.counts = {}
        self.stored_ids = {}
