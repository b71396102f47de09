"""The DuckDB store: the append-only event log and its memory projection.

A batch of events and the projection rows it changes are written in one
DuckDB transaction, so a crash (even SIGKILL) leaves either the whole batch
or none of it. Sequence numbers are assigned here, one writer per data dir
(see `lock.py`), so they are monotonic and gap-free.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import duckdb

from memcli.clock import Clock, SystemClock
from memcli.core.events import MEMORY_STATE_KINDS, Event, Kind, NewEvent
from memcli.core.erasure import Erasure, clear_pending, closure, mark_pending, scrub
from memcli.core.migrations import migrate
from memcli.core.pending import PendingBatch, as_stored
from memcli.core.privacy import Redactor
from memcli.core.projection import (
    Key,
    Memory,
    MemoryVersion,
    ProjectionState,
    apply_event,
    fold,
    touched_keys,
)
from memcli.errors import MemcliError

DB_FILE = "memcli.duckdb"


class StoreError(MemcliError):
    """The database cannot be opened or used; the message says what to do."""


class StoreBusyError(StoreError):
    """Another process has the database open for writing."""


# A reader's connection reaches memcli's tables and nothing else: no files, no network, no
# extensions, and the settings cannot be changed back (DuckDB's own sandbox, see "Securing DuckDB").
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


def snapshot_copy(path: Path, *, read_only: bool) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """Copy a database file and then its WAL into a temporary folder and open the copy.

    The writer never checkpoints while it runs (see EventStore._connect), so the main file is
    stable and the WAL only grows; a transaction being written during the copy is a torn WAL
    tail, which DuckDB drops on replay. Only a writer closing at that very instant can spoil a
    copy, which is then detected and taken again. A read-only copy is opened sandboxed.
    """
    import shutil
    import tempfile

    last: Exception | None = None
    for _ in range(3):
        tmp = Path(tempfile.mkdtemp(prefix="memcli-snapshot-"))
        copy = tmp / DB_FILE
        try:
            shutil.copyfile(path, copy)
            wal = path.with_name(path.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
            con = duckdb.connect(str(copy), read_only=read_only, config=dict(SANDBOX) if read_only else {})
            con.execute("SELECT count(*) FROM events").fetchone()
            return tmp, con
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise  # no room for the copy, or no right to read: the CLI says which in one line
        except duckdb.Error as exc:
            last = exc
            shutil.rmtree(tmp, ignore_errors=True)
    raise StoreError(corrupt_advice(path, last))


def corrupt_advice(path: Path, exc: Exception | None) -> str:
    first = (str(exc).splitlines() or [type(exc).__name__])[0] if exc is not None else "unreadable"
    return (f"cannot open {path}: {first}. If the file is damaged, restore it from a backup "
            f"(`memcli backup` makes one) or move it aside and re-import an export.")


def backup_database(data_dir: Path, target: Path) -> int:
    """A consistent single-file copy of the event log, also while a writer runs. Returns its events."""
    import shutil

    source = data_dir / DB_FILE
    if not source.exists():
        raise StoreError(f"no memcli data in {data_dir}")
    if target.exists():
        raise StoreError(f"{target} exists: choose a new file name")
    tmp, con = snapshot_copy(source, read_only=False)  # read-write: the WAL is folded in
    try:
        con.execute("CHECKPOINT")
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        con.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp / DB_FILE), target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return events


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(timezone.utc).replace(tzinfo=None) if ts.tzinfo else ts


def _aware(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=timezone.utc) if ts is not None and ts.tzinfo is None else ts


# Column layouts; the pyarrow schemas are built on first write (importing pyarrow costs
# ~0.15 s, which read-only commands and the first screen of the TUI do not need).
_MEMORY_FIELDS = [
    ("namespace", "string"), ("id", "string"), ("text", "string"), ("kind", "string"), ("status", "string"),
    ("strength", "float64"), ("importance", "float64"), ("pinned", "bool"), ("created_seq", "int64"),
    ("updated_seq", "int64"), ("created_at", "ts"), ("last_access", "ts"), ("access_count", "int32"),
    ("valid_from", "ts"), ("valid_to", "ts"), ("sources", "int64[]"), ("version", "int32"), ("metadata", "string"),
]
_VERSION_FIELDS = [("namespace", "string"), ("id", "string"), ("version", "int32"), ("text", "string"),
                   ("seq", "int64"), ("valid_from", "ts"), ("valid_to", "ts")]
_EVENT_FIELDS = [("seq", "int64"), ("ts", "ts"), ("session_id", "string"), ("kind", "string"), ("actor", "string"),
                 ("namespace", "string"), ("memory_id", "string"), ("payload", "string"), ("batch", "int64")]
_EMBEDDING_FIELDS = [("model", "string"), ("text_hash", "string"), ("vector", "float32[]")]


@functools.cache
def _schema(fields: tuple) -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "float64": pa.float64(), "bool": pa.bool_(), "int64": pa.int64(),
             "int32": pa.int32(), "ts": pa.timestamp("us"), "int64[]": pa.list_(pa.int64()),
             "float32[]": pa.list_(pa.float32())}
    return pa.schema([(name, types[t]) for name, t in fields])


_TIME_FIELDS = ("created_at", "last_access", "valid_from", "valid_to")


def _memory_row(m: Memory) -> dict[str, Any]:
    row = asdict(m)
    for f in _TIME_FIELDS:
        row[f] = _naive_utc(row[f]) if row[f] is not None else None
    row["metadata"] = json.dumps(row["metadata"], sort_keys=True)
    return row


def _version_row(v: MemoryVersion) -> dict[str, Any]:
    row = asdict(v)
    row["valid_from"] = _naive_utc(v.valid_from)
    row["valid_to"] = _naive_utc(v.valid_to) if v.valid_to else None
    return row


_MEMORY_NAMES = [n for n, _ in _MEMORY_FIELDS]
_VERSION_NAMES = [n for n, _ in _VERSION_FIELDS]
_MEMORY_COLS = ", ".join(_MEMORY_NAMES)
_VERSION_COLS = ", ".join(_VERSION_NAMES)
_EVENT_COLS = ", ".join(n for n, _ in _EVENT_FIELDS)


def _to_memory(row: tuple) -> Memory:
    d = dict(zip(_MEMORY_NAMES, row))
    for f in _TIME_FIELDS:
        d[f] = _aware(d[f])
    d["sources"] = list(d["sources"])
    d["metadata"] = json.loads(d["metadata"])
    return Memory(**d)


def _to_version(row: tuple) -> MemoryVersion:
    d = dict(zip(_VERSION_NAMES, row))
    d["valid_from"], d["valid_to"] = _aware(d["valid_from"]), _aware(d["valid_to"])
    return MemoryVersion(**d)


def _as_read(m: Memory) -> Memory:
    """A memory of a pending batch as the table would give it back (UTC times, metadata through JSON)."""
    row = _memory_row(m)
    return _to_memory(tuple(row[n] for n in _MEMORY_NAMES))


def _version_as_read(v: MemoryVersion) -> MemoryVersion:
    row = _version_row(v)
    return _to_version(tuple(row[n] for n in _VERSION_NAMES))


def _to_event(row: tuple) -> Event:
    seq, ts, session_id, kind, actor, namespace, memory_id, payload, batch = row
    return Event(seq, _aware(ts), session_id, Kind(kind), actor, namespace, memory_id, json.loads(payload), batch)


class EventStore:
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
        self._pending: PendingBatch | None = None  # appends of an open write batch (see `batch`)
        if read_only:  # a reader never holds the file: it reads a sandboxed copy (file + WAL)
            self.snapshot, self._con = snapshot_copy(self.path, read_only=True)
        else:
            try:
                self._con = self._connect()
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise StoreError(corrupt_advice(self.path, exc)) from None
                holder = re.search(r"PID (\d+)", str(exc))
                raise StoreBusyError(f"{self.path} is locked by {'pid ' + holder.group(1) if holder else 'another process'}"
                                     " (not a memcli writer): close it first") from None
            except duckdb.Error as exc:
                raise StoreError(corrupt_advice(self.path, exc)) from None
        self._next_seq = self._scalar("SELECT coalesce(max(seq), 0) FROM events") + 1

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.path))
        # No automatic checkpoints while this writer runs: the main file then only changes at
        # close, so a reader can copy it and the append-only WAL for a consistent snapshot.
        con.execute("SET checkpoint_threshold = '1TB'")
        migrate(con)
        return con

    # -- reading ---------------------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._con.execute(sql, params).fetchone()[0]

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

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
        limit: int | None = None,
        newest: int | None = None,
    ) -> list[Event]:
        kinds = list(kinds) if kinds else None
        with self._lock:
            p = self._pending
            if p is None or not p.events:
                return self._stored_events(since, until, kinds, namespace, memory_id, limit, newest)
            pending = p.matching(since=since, until=until, kinds=set(kinds) if kinds else None,
                                 namespace=namespace, memory_id=memory_id, newest=newest)
            if newest is not None and len(pending) >= newest:
                return pending
            if since >= p.first_seq - 1:
                stored: list[Event] = []
            else:
                stored = self._stored_events(since, until, kinds, namespace, memory_id, limit,
                                             None if newest is None else newest - len(pending))
            out = stored + pending
            return out[:limit] if limit is not None and newest is None else out

    def _stored_events(self, since: int, until: int | None, kinds: list[str] | None, namespace: str | None,
                       memory_id: str | None, limit: int | None, newest: int | None) -> list[Event]:
        where, params = ["seq > ?"], [since]
        if until is not None:
            where.append("seq <= ?")
            params.append(until)
        if kinds:
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            params.extend(kinds)
        if namespace is not None:
            where.append("namespace = ?")
            params.append(namespace)
        if memory_id is not None:
            where.append("memory_id = ?")
            params.append(memory_id)
        sql = f"SELECT {_EVENT_COLS} FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        if newest is not None:  # the last N, still oldest first
            sql = f"SELECT * FROM ({sql} DESC LIMIT {int(newest)}) ORDER BY seq"
        elif limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_to_event(r) for r in self._rows(sql, params)]

    def count_events(self, kinds: Iterable[str], until: int | None = None) -> int:
        kinds = list(kinds)
        sql = f"SELECT count(*) FROM events WHERE kind IN ({', '.join('?' * len(kinds))})"
        if until is not None:
            sql += " AND seq <= ?"
        with self._lock:
            stored = self._scalar(sql, [*kinds, *([until] if until is not None else [])])
            p = self._pending
            if p is None:
                return stored
            return stored + len(p.matching(since=0, until=until, kinds=set(kinds), namespace=None, memory_id=None))

    def namespaces(self) -> list[str]:
        with self._lock:
            stored = {r[0] for r in self._rows("SELECT DISTINCT namespace FROM memories")}
            return sorted(stored | ({ns for ns, _ in self._pending.state.memories} if self._pending else set()))

    def memories(self, namespace: str, statuses: Iterable[str] | None = None) -> list[Memory]:
        sql, params = f"SELECT {_MEMORY_COLS} FROM memories WHERE namespace = ?", [namespace]
        if statuses is not None:
            statuses = list(statuses)
            sql += f" AND status IN ({', '.join('?' * len(statuses))})"
            params.extend(statuses)
        with self._lock:
            stored = [_to_memory(r) for r in self._rows(sql + " ORDER BY created_seq", params)]
            p = self._pending
            if p is None or not p.state.memories:
                return stored
            pending = [_as_read(p.state.memories[k]) for k in p.keys_in(namespace)
                       if statuses is None or p.state.memories[k].status in statuses]
            kept = [m for m in stored if (namespace, m.id) not in p.state.memories]
            return sorted(kept + pending, key=lambda m: m.created_seq)

    def memory(self, namespace: str, memory_id: str) -> Memory | None:
        with self._lock:
            if self._pending is not None and (namespace, memory_id) in self._pending.state.memories:
                return _as_read(self._pending.state.memories[(namespace, memory_id)])
            rows = self._rows(f"SELECT {_MEMORY_COLS} FROM memories WHERE namespace = ? AND id = ?",
                              [namespace, memory_id])
        return _to_memory(rows[0]) if rows else None

    def memories_by_ids(self, namespace: str, ids: list[str]) -> dict[str, Memory]:
        if not ids:
            return {}
        with self._lock:
            pending = self._pending.state.memories if self._pending is not None else {}
            out = {i: _as_read(pending[(namespace, i)]) for i in ids if (namespace, i) in pending}
            rest = [i for i in ids if i not in out]
            if rest:
                marks = ", ".join("?" * len(rest))
                rows = self._rows(f"SELECT {_MEMORY_COLS} FROM memories WHERE namespace = ? AND id IN ({marks})",
                                  [namespace, *rest])
                out.update({m.id: m for m in map(_to_memory, rows)})
        return out

    def erasure_of(self, keys: Sequence[Key]) -> Erasure:
        """What a hard erase of `keys` removes: those memories, the turns they came from, and what
        was derived from those (see `memcli.core.erasure`)."""
        with self._lock:
            self.flush()
            return closure(self._con, keys)

    def with_metadata(self, namespace: str, key: str, value: str, statuses: Iterable[str] = ("active",)) -> list[Memory]:
        """Memories whose metadata[key] == value (e.g. the current holder of a fact slot).

        A pending batch is written first: the match is DuckDB's JSON semantics."""
        statuses = list(statuses)
        self.flush()
        rows = self._rows(
            f"SELECT {_MEMORY_COLS} FROM memories WHERE namespace = ? AND json_extract_string(metadata, ?) = ? "
            f"AND status IN ({', '.join('?' * len(statuses))}) ORDER BY created_seq",
            [namespace, f"$.{key}", value, *statuses],
        )
        return [_to_memory(r) for r in rows]

    def versions(self, namespace: str, memory_id: str) -> list[MemoryVersion]:
        with self._lock:
            if self._pending is not None and (namespace, memory_id) in self._pending.state.memories:
                return [_version_as_read(v) for v in self._pending.state.versions.get((namespace, memory_id), [])]
        rows = self._rows(
            f"SELECT {_VERSION_COLS} FROM memory_versions WHERE namespace = ? AND id = ? ORDER BY version",
            [namespace, memory_id],
        )
        return [_to_version(r) for r in rows]

    def count_added(self, namespace: str) -> int:
        """How many memories were ever added to a namespace (ids are derived from it)."""
        with self._lock:
            p = self._pending
            if p is None:
                return self._scalar("SELECT count(*) FROM memories WHERE namespace = ?", [namespace])
            if namespace not in p.counts:  # the table does not change while a batch is open
                p.counts[namespace] = self._scalar("SELECT count(*) FROM memories WHERE namespace = ?", [namespace])
            return p.counts[namespace] + sum(1 for k in p.new_keys if k[0] == namespace)

    def projection(self) -> ProjectionState:
        """The stored projection, as folded state (for comparisons and exports)."""
        self.flush()
        state = ProjectionState()
        for r in self._rows(f"SELECT {_MEMORY_COLS} FROM memories"):
            m = _to_memory(r)
            state.memories[(m.namespace, m.id)] = m
        for r in self._rows(f"SELECT {_VERSION_COLS} FROM memory_versions ORDER BY namespace, id, version"):
            v = _to_version(r)
            state.versions.setdefault((v.namespace, v.id), []).append(v)
        return state

    def state_as_of(self, seq: int) -> ProjectionState:
        """Time travel: the projection as it was right after event `seq`."""
        kinds = [k.value for k in MEMORY_STATE_KINDS]
        return fold(self.events(until=seq, kinds=kinds))

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

    # -- writing ---------------------------------------------------------------------------

    def append(
        self, new_events: Sequence[NewEvent], session_id: str | None = None, ts: datetime | None = None,
        erase: Erasure | None = None,
    ) -> list[Event]:
        """Append a batch atomically: events and projection in one transaction.

        `erase` (hard deletes, see `memcli.core.erasure`): in the same transaction the erased texts
        are removed from the log and the embedding cache. A marker file is written first; it stays
        until `Engine.finish_erase` has also rewritten the file (freed DuckDB blocks keep old bytes)
        and the index; if the transaction fails, nothing changed and the marker goes.
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
                    self._insert(con, "events", _EVENT_FIELDS, [self._event_row(e) for e in events])
                    if keys:
                        state = self._load(con, keys)
                        for e in events:
                            apply_event(state, e)
                        self._replace(con, keys, state)
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
        payloads = [json.dumps(e.payload, ensure_ascii=False, default=str) for e in events]
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
            loaded = self._load(self._con, load)
            p.state.memories.update(loaded.memories)
            p.state.versions.update(loaded.versions)

    def flush(self) -> None:
        """Write what a batch has appended so far, in one transaction (nothing outside a batch)."""
        with self._lock:
            p = self._pending
            if p is None or not p.events:
                return
            con = self._con
            rows = [self._event_row(e) | {"payload": js} for e, js in zip(p.events, p.payloads)]
            keys = sorted(p.state.memories)
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    self._insert(con, "events", _EVENT_FIELDS, rows)
                    if keys:
                        self._key_table(con, keys)
                        self._replace(con, keys, p.state)
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

    def rewrite_file(self) -> None:
        """Rewrite the file so no freed block keeps old bytes (after an erase; idempotent, see `append`).

        The live data is copied into a fresh file that replaces the old one; a failure (full
        disk) leaves the old file and connection as they were and removes the partial copy.
        """
        with self._lock:
            for leftover in self.path.parent.glob(f"{self.path.name}.rewrite*"):
                leftover.unlink()
            self.flush()
            fresh = self.path.with_name(self.path.name + ".rewrite")
            con = self._con
            try:
                con.execute("CHECKPOINT")
                database = con.execute("SELECT current_database()").fetchone()[0]
                con.execute(f"ATTACH '{fresh}' AS rewrite_target")
                try:
                    con.execute(f"COPY FROM DATABASE \"{database}\" TO rewrite_target")
                finally:
                    con.execute("DETACH rewrite_target")
                con.close()
                os.replace(fresh, self.path)
                self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
            except BaseException:
                try:
                    con.close()
                except duckdb.Error:
                    pass
                raise
            finally:
                for leftover in self.path.parent.glob(f"{self.path.name}.rewrite*"):
                    leftover.unlink()
                self._con = self._connect()

    @staticmethod
    def _event_row(e: Event) -> dict[str, Any]:
        return {
            "seq": e.seq, "ts": _naive_utc(e.ts), "session_id": e.session_id, "kind": e.kind.value,
            "actor": e.actor, "namespace": e.namespace, "memory_id": e.memory_id,
            "payload": json.dumps(e.payload, ensure_ascii=False, default=str), "batch": e.batch,
        }

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, fields: list, rows: list[dict]) -> None:
        if not rows:
            return
        import pyarrow as pa

        arrow = pa.Table.from_pylist(rows, schema=_schema(tuple(fields)))  # noqa: F841  (DuckDB reads it by name)
        con.execute(f"INSERT INTO {table} SELECT * FROM arrow")

    @staticmethod
    def _key_table(con: duckdb.DuckDBPyConnection, keys: list[Key]) -> None:
        """The temp table _keys holding `keys` (one Arrow scan: executemany costs a statement per key)."""
        import pyarrow as pa

        arrow = pa.table({"namespace": [k[0] for k in keys], "id": [k[1] for k in keys]},  # noqa: F841
                         schema=pa.schema([("namespace", pa.string()), ("id", pa.string())]))
        con.execute("CREATE OR REPLACE TEMP TABLE _keys AS SELECT namespace, id FROM arrow")

    def _load(self, con: duckdb.DuckDBPyConnection, keys: list[Key]) -> ProjectionState:
        state = ProjectionState()
        self._key_table(con, keys)
        for r in con.execute(f"SELECT {_MEMORY_COLS} FROM memories SEMI JOIN _keys USING (namespace, id)").fetchall():
            m = _to_memory(r)
            state.memories[(m.namespace, m.id)] = m
        versions = con.execute(
            f"SELECT {_VERSION_COLS} FROM memory_versions SEMI JOIN _keys USING (namespace, id) ORDER BY version"
        ).fetchall()
        for r in versions:
            v = _to_version(r)
            state.versions.setdefault((v.namespace, v.id), []).append(v)
        return state

    def _replace(self, con: duckdb.DuckDBPyConnection, keys: list[Key], state: ProjectionState) -> None:
        """Rewrite the projection rows of `keys` (the _keys temp table) from `state`."""
        con.execute("DELETE FROM memories WHERE (namespace, id) IN (SELECT (namespace, id) FROM _keys)")
        con.execute("DELETE FROM memory_versions WHERE (namespace, id) IN (SELECT (namespace, id) FROM _keys)")
        self._write_state(con, state, keys)

    def _write_state(self, con: duckdb.DuckDBPyConnection, state: ProjectionState, keys: Iterable[Key]) -> None:
        keys = [k for k in keys if k in state.memories]
        self._insert(con, "memories", _MEMORY_FIELDS, [_memory_row(state.memories[k]) for k in keys])
        self._insert(
            con, "memory_versions", _VERSION_FIELDS,
            [_version_row(v) for k in keys for v in state.versions.get(k, [])],
        )

    def load_events(self, events: Sequence[Event]) -> None:
        """Insert already-numbered events (an import) in one transaction; the projection is rebuilt after.
        Payloads are redacted like appended ones (no memory.redacted record: the numbering is given)."""
        events = [replace(e, payload=self.redactor.value(e.payload, set())) for e in events]
        with self._lock:
            self.flush()
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                self._insert(con, "events", _EVENT_FIELDS, [self._event_row(e) for e in events])
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
                self._write_state(con, state, sorted(state.memories))
                con.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            return state

    # -- embedding cache (a cache, not part of the log) --------------------------------------

    def cached_vectors(self, model: str, hashes: list[str]) -> dict[str, list[float]]:
        if not hashes:
            return {}
        with self._lock:  # one list parameter: executemany into a temp table cost a statement per hash
            rows = self._con.execute(
                "SELECT text_hash, vector FROM embeddings WHERE model = ? "
                "AND text_hash IN (SELECT unnest(?::VARCHAR[]))", [model, hashes],
            ).fetchall()
        return dict(rows)

    def put_vectors(self, model: str, vectors: dict[str, list[float]]) -> None:
        if not vectors or self.read_only:
            return
        rows = [{"model": model, "text_hash": h, "vector": v} for h, v in vectors.items()]
        with self._lock:
            self._con.execute("CREATE OR REPLACE TEMP TABLE _new_vectors AS SELECT * FROM embeddings LIMIT 0")
            self._insert(self._con, "_new_vectors", _EMBEDDING_FIELDS, rows)
            self._con.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM _new_vectors")

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
