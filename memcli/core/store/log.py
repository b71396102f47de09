"""The event log of a data dir: `EventStore` appends batches of events and keeps the memory
projection in step with them.

A batch of events and the projection rows it changes are written in one DuckDB transaction, so
a crash (even SIGKILL) leaves either the whole batch or none of it. Sequence numbers are
assigned here, one writer per data dir (see `memcli.core.lock`), so they are monotonic and
gap-free. The reads are in log_reads.py and projection_reads.py, the erase's part in erase.py.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import duckdb

from memcli.clock import Clock, SystemClock
from memcli.core.erasure import Erasure, clear_pending, mark_pending, scrub
from memcli.core.events import Event, NewEvent
from memcli.core.pending import PendingBatch, as_stored
from memcli.core.privacy import Redactor
from memcli.core.projection import Key, ProjectionState, apply_event, touched_keys
from memcli.core.store.codecs import EVENTS, MEMORIES, VERSIONS, key_table
from memcli.core.store.erase import EraseParts
from memcli.core.store.files import DB_FILE, StoreError, open_writer, snapshot_copy
from memcli.core.store.log_reads import LogReads
from memcli.core.store.projection_reads import ProjectionReads


class EventStore(LogReads, ProjectionReads, EraseParts):
    """The event log and memory projection of one data dir."""

    def __init__(self, data_dir: Path, *, read_only: bool = False, clock: Clock | None = None) -> None:
        self.path = data_dir / DB_FILE
        self.read_only = read_only
        self.clock = clock or SystemClock()
        self._lock = threading.RLock()
        if read_only and not self.path.exists():
            raise StoreError(f"no memcli data in {data_dir} yet (nothing has been written there)")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.snapshot: Path | None = None
        self.redactor = Redactor()  # every appended payload passes through it: no secret at rest
        self._pending = None
        if read_only:  # a reader never holds the file: it reads a sandboxed copy (file + WAL)
            self.snapshot, self._con = snapshot_copy(self.path, read_only=True)
        else:
            self._con = open_writer(self.path)
        self._next_seq = self._scalar("SELECT coalesce(max(seq), 0) FROM events") + 1

    # -- appending -------------------------------------------------------------------------

    def append(
        self, new_events: Sequence[NewEvent], session_id: str | None = None, ts: datetime | None = None,
        erase: Erasure | None = None,
    ) -> list[Event]:
        """Append a batch atomically: events and projection in one transaction.

        `erase` (hard deletes, see `memcli.core.erasure`): in the same transaction the erased texts
        are removed from the log. A marker file is written first; it stays until
        `Engine.finish_erase` has also rewritten the file (freed DuckDB blocks keep old bytes), the
        index and its embedding cache; if the transaction fails, nothing changed and the marker goes.
        Secrets are redacted from every payload first (see privacy.py).
        """
        if self.read_only:
            raise StoreError("this store was opened read-only")
        if not new_events:
            return []
        new_events = self.redactor.events(new_events)
        with self._lock:
            if self._pending is not None:
                if not erase:
                    return self._append_pending(new_events, session_id, ts)
                self.flush()
            first = self._next_seq
            ts = ts or self.clock.now()
            events = [
                Event(first + i, ts, session_id, ne.kind, ne.actor, ne.namespace, ne.memory_id, ne.payload, first)
                for i, ne in enumerate(new_events)
            ]
            keys = sorted({k for e in events for k in touched_keys(e)})
            con = self._con
            if erase:
                mark_pending(self.path.parent)
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    if erase:
                        scrub(con, erase)
                    EVENTS.insert(con, events)
                    if keys:
                        state = self._load(keys)
                        for e in events:
                            apply_event(state, e)
                        self._replace(keys, state)
                    con.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            except BaseException:
                if erase:
                    clear_pending(self.path.parent)
                raise
            self._next_seq = first + len(events)
            return events

    # -- write batches ---------------------------------------------------------------------

    @contextmanager
    def batch(self, limit: int = 4096) -> Iterator[None]:
        """Appends inside are written together, in one transaction per `limit` events.

        Reads see them at once (see `memcli.core.pending`); other processes, and the vector index,
        once they are written. The batch is the unit a crash loses: on leaving the block, also by an
        exception, everything appended so far is written. Nested batches join the outer one.
        """
        with self._lock:
            if self._pending is not None:
                yield
                return
            self._pending = PendingBatch(limit)
        try:
            yield
        finally:
            with self._lock:
                try:
                    self.flush()
                finally:
                    self._pending = None

    def _append_pending(self, new_events: Sequence[NewEvent], session_id: str | None,
                        ts: datetime | None) -> list[Event]:
        p = self._pending
        assert p is not None
        first = self._next_seq
        ts = ts or self.clock.now()
        events = [Event(first + i, ts, session_id, ne.kind, ne.actor, ne.namespace, ne.memory_id, ne.payload, first)
                  for i, ne in enumerate(new_events)]
        payloads = [EVENTS.dumps(e.payload) for e in events]
        stored = [as_stored(e, js) for e, js in zip(events, payloads)]
        keys = sorted({k for e in stored for k in touched_keys(e)})
        self._stage(p, keys)
        before = {k: (p.state.memories[k].copy(), [replace(v) for v in p.state.versions.get(k, [])])
                  for k in keys if k in p.state.memories}
        try:
            for e in stored:
                apply_event(p.state, e)
        except BaseException:  # as a failed transaction would: nothing of this append stays
            for k in keys:
                p.state.memories.pop(k, None)
                p.state.versions.pop(k, None)
            for k, (mem, versions) in before.items():
                p.state.memories[k], p.state.versions[k] = mem, versions
            raise
        p.new_keys.update(k for k in keys if k in p.state.memories and k[1] not in p.stored_ids[k[0]])
        p.events.extend(stored)
        p.payloads.extend(payloads)
        self._next_seq = first + len(events)
        if len(p.events) >= p.limit:
            self.flush()
        return events

    def _stage(self, p: PendingBatch, keys: list[Key]) -> None:
        """Bring the table's state of `keys` into the batch (once per key; a new memory has none)."""
        load: list[Key] = []
        for ns, mid in keys:
            if ns not in p.stored_ids:
                p.stored_ids[ns] = {r[0] for r in self._con.execute(
                    "SELECT id FROM memories WHERE namespace = ?", [ns]).fetchall()}
            if (ns, mid) not in p.state.memories and mid in p.stored_ids[ns]:
                load.append((ns, mid))
        if load:
            loaded = self._load(load)
            p.state.memories.update(loaded.memories)
            p.state.versions.update(loaded.versions)

    def flush(self) -> None:
        """Write what a batch has appended so far, in one transaction (nothing outside a batch)."""
        with self._lock:
            p = self._pending
            if p is None or not p.events:
                return
            con = self._con
            rows = [EVENTS.encode(e) | {"payload": js} for e, js in zip(p.events, p.payloads)]
            keys = sorted(p.state.memories)
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    EVENTS.insert(con, [], encoded=rows)
                    if keys:
                        key_table(con, keys)
                        self._replace(keys, p.state)
                    con.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            except BaseException:
                self._next_seq = p.first_seq or self._next_seq
                p.discarded()
                raise
            p.committed()

    def _rollback(self) -> None:
        """Undo the open transaction; if DuckDB already aborted it (a failed write), there is none to undo."""
        try:
            self._con.execute("ROLLBACK")
        except duckdb.Error:
            pass

    # -- projection rows -------------------------------------------------------------------

    def _load(self, keys: list[Key]) -> ProjectionState:
        """The stored state of some memories (and the temp table _keys holding them)."""
        state = ProjectionState()
        key_table(self._con, keys)
        for r in self._con.execute(
                f"SELECT {MEMORIES.select} FROM memories SEMI JOIN _keys USING (namespace, id)").fetchall():
            m = MEMORIES.decode(r)
            state.memories[(m.namespace, m.id)] = m
        versions = self._con.execute(
            f"SELECT {VERSIONS.select} FROM memory_versions SEMI JOIN _keys USING (namespace, id) ORDER BY version"
        ).fetchall()
        for r in versions:
            v = VERSIONS.decode(r)
            state.versions.setdefault((v.namespace, v.id), []).append(v)
        return state

    def _replace(self, keys: list[Key], state: ProjectionState) -> None:
        """Rewrite the projection rows of `keys` (the _keys temp table) from `state`."""
        self._con.execute("DELETE FROM memories WHERE (namespace, id) IN (SELECT (namespace, id) FROM _keys)")
        self._con.execute("DELETE FROM memory_versions WHERE (namespace, id) IN (SELECT (namespace, id) FROM _keys)")
        self._write_state(state, keys)

    def _write_state(self, state: ProjectionState, keys: Iterable[Key]) -> None:
        keys = [k for k in keys if k in state.memories]
        MEMORIES.insert(self._con, [state.memories[k] for k in keys])
        VERSIONS.insert(self._con, [v for k in keys for v in state.versions.get(k, [])])

    # -- imports and rebuilds --------------------------------------------------------------

    def load_events(self, events: Sequence[Event]) -> None:
        """Insert already-numbered events (an import) in one transaction; the projection is rebuilt after.
        Payloads are redacted like appended ones (no memory.redacted record: the numbering is given)."""
        events = [replace(e, payload=self.redactor.value(e.payload, set())) for e in events]
        with self._lock:
            self.flush()
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                EVENTS.insert(con, events)
                con.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            self._next_seq = (events[-1].seq if events else 0) + 1

    def rebuild(self) -> ProjectionState:
        """Throw the projection away and fold it again from the whole log."""
        with self._lock:
            self.flush()
            state = self.state_as_of(self.last_seq)
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("DELETE FROM memories")
                con.execute("DELETE FROM memory_versions")
                self._write_state(state, sorted(state.memories))
                con.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            return state

    def close(self) -> None:
        with self._lock:
            try:
                self.flush()
            finally:
                self._pending = None
                self._con.close()
        wal = self.path.with_name(self.path.name + ".wal")
        if not self.read_only and wal.is_file() and wal.stat().st_size == 0:
            wal.unlink()  # left by a commit that failed (full disk): it holds nothing
        if self.snapshot is not None:
            import shutil

            shutil.rmtree(self.snapshot, ignore_errors=True)
