"""Reads of the event log: filtered events, a memory's history, the turns a memory came from.

Each is one SQL query; an open write batch's events (see `memcli.core.pending`) are added in
Python, so a read sees every append at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

import duckdb

from memcli.core.events import MEMORY_STATE_KINDS, Event, Kind
from memcli.core.projection import ProjectionState, fold
from memcli.core.store.base import StoreBase
from memcli.core.store.codecs import EVENTS, naive_utc
from memcli.core.store.files import StoreError

MESSAGE_KINDS = (Kind.MESSAGE_USER.value, Kind.MESSAGE_ASSISTANT.value)


def _marks(values: list) -> str:
    return ", ".join("?" * len(values))


class LogReads(StoreBase):
    @property
    def committed_seq(self) -> int:
        """The last event in the database file: `last_seq` less what an open write batch still holds."""
        with self._lock:
            first = self._pending.first_seq if self._pending is not None else None
            return self.last_seq if first is None else first - 1

    def events(
        self,
        *,
        since: int = 0,
        until: int | None = None,
        kinds: Iterable[str] | None = None,
        namespace: str | None = None,
        memory_id: str | None = None,
        seqs: Iterable[int] | None = None,
        limit: int | None = None,
        newest: int | None = None,
    ) -> list[Event]:
        """Events after `since` (up to `until`), oldest first, of some `kinds` (none given: every kind),
        in a namespace, of a memory, or with given sequence numbers (`seqs`); `limit`: the first N,
        `newest`: the last N."""
        kinds = list(kinds) if kinds else None
        seqs = sorted(set(seqs)) if seqs is not None else None
        if seqs == []:
            return []
        with self._lock:
            p = self._pending
            if p is None or not p.events:
                return self._stored_events(since, until, kinds, namespace, memory_id, seqs, limit, newest)
            pending = p.matching(since=since, until=until, kinds=set(kinds) if kinds else None,
                                 namespace=namespace, memory_id=memory_id, newest=newest,
                                 seqs=set(seqs) if seqs is not None else None)
            if newest is not None and len(pending) >= newest:
                return pending
            if since >= p.first_seq - 1:
                stored: list[Event] = []
            else:
                stored = self._stored_events(since, until, kinds, namespace, memory_id, seqs, limit,
                                             None if newest is None else newest - len(pending))
            out = stored + pending
            return out[:limit] if limit is not None and newest is None else out

    def _stored_events(self, since: int, until: int | None, kinds: list[str] | None, namespace: str | None,
                       memory_id: str | None, seqs: list[int] | None, limit: int | None,
                       newest: int | None) -> list[Event]:
        where: list[str] = ["seq > ?"]
        params: list = [since]
        if until is not None:
            where.append("seq <= ?")
            params.append(until)
        if kinds:
            where.append(f"kind IN ({_marks(kinds)})")
            params.extend(kinds)
        if namespace is not None:
            where.append("namespace = ?")
            params.append(namespace)
        if memory_id is not None:
            where.append("memory_id = ?")
            params.append(memory_id)
        if seqs is not None:  # one list parameter: a mark per seq would make the statement grow with it
            where.append("seq IN (SELECT unnest(?::BIGINT[]))")
            params.append(seqs)
        sql = f"SELECT {EVENTS.select} FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        if newest is not None:  # the last N, still oldest first
            sql = f"SELECT * FROM ({sql} DESC LIMIT {int(newest)}) ORDER BY seq"
        elif limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [EVENTS.decode(r) for r in self._rows(sql, params)]

    def memory_history(self, namespace: str, memory_id: str) -> list[Event]:
        """Every event that touched a memory, oldest first: its own events and the retrievals that found it."""
        with self._lock:
            stored = [EVENTS.decode(r) for r in self._rows(
                f"SELECT {EVENTS.select} FROM events WHERE namespace = ? AND (memory_id = ? OR (kind = ? AND "
                "list_contains(json_extract_string(payload, '$.hits[*].id'), ?))) ORDER BY seq",
                [namespace, memory_id, Kind.MEMORY_RETRIEVED.value, memory_id])]
            p = self._pending
            if p is None or not p.events:
                return stored
            return stored + [e for e in p.events if e.namespace == namespace and (
                e.memory_id == memory_id
                or (e.kind is Kind.MEMORY_RETRIEVED and any(h.get("id") == memory_id for h in e.payload.get("hits", []))))]

    def source_turns(self, seqs: Iterable[int]) -> list[Event]:
        """The messages with these sequence numbers (a memory's `sources`), oldest first."""
        return self.events(seqs=seqs, kinds=MESSAGE_KINDS)

    def last_seq_before(self, when: datetime) -> int:
        """The last event (in log order) stamped before `when`; 0 if none (`memcli log --since TIME`)."""
        with self._lock:
            stored = self._scalar("SELECT coalesce(max(seq), 0) FROM events WHERE ts < ?", [naive_utc(when)])
            p = self._pending
            pending = [e.seq for e in p.events if e.ts < when] if p is not None else []
            return max([stored, *pending])

    def count_events(self, kinds: Iterable[str], until: int | None = None) -> int:
        kinds = list(kinds)
        sql = f"SELECT count(*) FROM events WHERE kind IN ({_marks(kinds)})"
        if until is not None:
            sql += " AND seq <= ?"
        with self._lock:
            stored = self._scalar(sql, [*kinds, *([until] if until is not None else [])])
            p = self._pending
            if p is None:
                return stored
            return stored + len(p.matching(since=0, until=until, kinds=set(kinds), namespace=None, memory_id=None))

    def state_as_of(self, seq: int) -> ProjectionState:
        """Time travel: the projection as it was right after event `seq`."""
        return fold(self.events(until=seq, kinds=[k.value for k in MEMORY_STATE_KINDS]))

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """A read-only SQL query (`memcli log --sql`): it runs on a read-only connection."""
        if not self.read_only:
            raise StoreError("SQL queries run on a read-only store")
        try:
            with self._lock:
                cur = self._con.execute(sql)
                return [d[0] for d in cur.description or []], cur.fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"SQL error: {str(exc).splitlines()[0]}") from None
