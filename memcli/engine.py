"""The engine: the one writer of a data dir.

Everything that changes state goes through `Engine.apply` (memory operations)
or `Engine.record` (conversation events). The engine validates a batch,
turns it into events, appends them atomically, and then brings the vector
index up to date from the log.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from memcli.clock import Clock, SystemClock
from memcli.core import operations as ops
from memcli.core.events import Event, Kind, NewEvent
from memcli.core.lock import WriterLock
from memcli.core.privacy import redact
from memcli.core.projection import ACTIVE, DELETED, Memory
from memcli.core.store import EventStore
from memcli.embed.embedder import Embedder, SentenceTransformerEmbedder
from memcli.errors import MemcliError
from memcli.settings import Settings

if TYPE_CHECKING:  # numpy and lancedb load with the index, not with the engine (start-up time)
    from memcli.index.vector_index import SearchHit, VectorIndex
    from memcli.model.scorer import TokenScorer


class InvalidOperation(MemcliError):
    """A batch asked for something impossible (unknown id, empty text, …); nothing was written."""


@dataclass
class _BatchContext:
    store: EventStore
    namespace: str
    next_number: int

    def get(self, memory_id: str) -> Memory | None:
        return self.store.memory(self.namespace, memory_id)


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        embedder: Embedder | None = None,
        read_only: bool = False,
        session_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.read_only = read_only
        self.session_id = session_id or uuid.uuid4().hex[:12]
        self._lock: WriterLock | None = None
        if not read_only:
            self._lock = WriterLock(settings.data_dir)
            self._lock.acquire()
        try:
            self.store = EventStore(settings.data_dir, read_only=read_only, clock=self.clock)
        except Exception:
            self._release()
            raise
        self.embedder: Embedder = embedder or SentenceTransformerEmbedder(settings.embedder)
        self._index: VectorIndex | None = None
        self._dirty: set[str] = set()
        self._scorer: TokenScorer | None = None

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def index(self) -> VectorIndex:
        """The vector index, opened on first use and then brought up to the log if it lags."""
        if self._index is None:
            from memcli.index.vector_index import VectorIndex

            self._index = VectorIndex(
                self.data_dir / "index", self.store, self.embedder, compact_every=self.settings.compact_every
            )
            if not self.read_only:
                self.reconcile()
        return self._index

    @property
    def scorer(self) -> TokenScorer:
        """Token surprisal under the configured chat model (its own small context), loaded on first use."""
        if self._scorer is None:
            from memcli.model.scorer import TokenScorer

            # one thread: a short text gains nothing from more, and on a busy machine llama.cpp's spinning
            # threads made one scoring pass 25x slower (measured: 29 s with 2 threads, 1.1 s with 1)
            self._scorer = TokenScorer(self.settings.model, n_threads=1)
        return self._scorer

    # -- writing ---------------------------------------------------------------------------

    def record(
        self,
        kind: Kind,
        payload: dict[str, Any],
        *,
        actor: str = "engine",
        namespace: str | None = None,
        memory_id: str | None = None,
    ) -> Event:
        """Append one non-memory event (a message, a context, a switch…)."""
        return self.store.append([NewEvent(kind, payload, actor, namespace, memory_id)], self.session_id)[0]

    def apply(
        self,
        namespace: str,
        operations: Sequence[ops.Operation],
        *,
        actor: str = "engine",
        extra: Sequence[NewEvent] = (),
        sync_index: bool = False,
        ts: datetime | None = None,
    ) -> list[Event]:
        """Validate and apply a batch of operations atomically; returns the events written.

        The vector index follows lazily: the namespace is marked and synced before its next
        search, so a run of appends (an import, a backfill) is embedded in one batch.
        `sync_index` syncs now. `ts` stamps the events with a given time (backfills).
        """
        new_events = list(extra) + self.plan(namespace, operations, actor)
        erase = [(namespace, op.memory_id) for op in operations if isinstance(op, ops.Delete) and op.hard]
        if erase:  # what came from the same turns, in any namespace, goes too
            derived = [key for key in self.store.derived_from(erase) if key not in erase]
            new_events += [NewEvent(Kind.MEMORY_DELETED, {"hard": True, "tombstone": f"erased with {erase[0][1]} "
                                                          "(same source turns)"}, actor, ns, mid)
                           for ns, mid in derived]
            erase += derived
        events = self.store.append(new_events, self.session_id, ts=ts, erase=erase)
        if erase:
            self.rebuild(purge=True)  # other namespaces' memories may have held the erased turns
        if any(e.namespace == namespace and e.memory_id for e in events):
            self._dirty.add(namespace)
            if sync_index:
                self.synced(namespace)
        return events

    def plan(self, namespace: str, operations: Sequence[ops.Operation], actor: str) -> list[NewEvent]:
        """Turn operations into events, or raise InvalidOperation for the whole batch."""
        ctx = _BatchContext(self.store, namespace, self.store.count_added(namespace) + 1)
        out: list[NewEvent] = []
        for op in operations:
            out.extend(self._plan_one(ctx, op, actor))
        return out

    def _existing(self, ctx: _BatchContext, memory_id: str, op: ops.Operation) -> Memory:
        """The memory an operation targets; a deleted one only for Restore (and not if its text was erased)."""
        mem = ctx.get(memory_id)
        restorable = isinstance(op, ops.Restore) and mem is not None and mem.text != ""
        if mem is None or (mem.status == DELETED and not restorable):
            raise InvalidOperation(f"{type(op).__name__}: no memory {memory_id!r} in namespace {ctx.namespace!r}")
        return mem

    def _plan_one(self, ctx: _BatchContext, op: ops.Operation, actor: str) -> list[NewEvent]:
        ns = ctx.namespace
        base = {"reason": op.reason, "scores": dict(op.scores)} if (op.reason or op.scores) else {}

        def ev(event_kind: Kind, memory_id: str | None, **payload: Any) -> NewEvent:
            return NewEvent(event_kind, {**base, **payload}, actor, ns, memory_id)

        redacted: list[str] = []

        def text_of(text: str) -> str:
            text, kinds = redact(text.strip())
            if not text:
                raise InvalidOperation(f"{type(op).__name__}: empty memory text")
            redacted.extend(kinds)
            return text

        events = self._plan_op(ctx, op, actor, ev, text_of)
        if redacted and events:
            target = events[0].memory_id
            events.append(NewEvent(Kind.MEMORY_REDACTED, {"kinds": sorted(set(redacted)),
                                                          "reason": "secret-looking text was not stored"},
                                   actor, ns, target))
        return events

    def _plan_op(self, ctx: _BatchContext, op: ops.Operation, actor: str, ev: Any, text_of: Any) -> list[NewEvent]:
        ns = ctx.namespace

        match op:
            case ops.Add():
                memory_id = f"m{ctx.next_number}"
                ctx.next_number += 1
                metadata = dict(op.metadata)
                if "key" in metadata:
                    metadata["key"] = redact(str(metadata["key"]))[0]
                added = ev(Kind.MEMORY_ADDED, memory_id, text=text_of(op.text), kind=op.kind,
                           importance=op.importance, strength=op.strength, sources=list(op.sources),
                           metadata=metadata)
                if not op.quarantine:
                    return [added]
                return [added, NewEvent(Kind.MEMORY_QUARANTINED, {"reason": op.quarantine, "scores": dict(op.scores)},
                                        actor, ns, memory_id)]
            case ops.Update() | ops.Edit():
                mem = self._existing(ctx, op.memory_id, op)
                kind = Kind.MEMORY_EDITED if isinstance(op, ops.Edit) else Kind.MEMORY_UPDATED
                extra = {"sources": list(op.sources), "metadata": dict(op.metadata)} if isinstance(op, ops.Update) else {}
                return [ev(kind, mem.id, text=text_of(op.text), previous_text=mem.text, **extra)]
            case ops.Merge():
                target = self._existing(ctx, op.target_id, op)
                merged = [self._existing(ctx, s, op) for s in op.source_ids if s != target.id]
                sources = sorted({s for m in merged for s in m.sources})
                return [
                    ev(Kind.MEMORY_MERGED, target.id, text=text_of(op.text), previous_text=target.text,
                       merged_from=[m.id for m in merged], sources=sources),
                    *(NewEvent(Kind.MEMORY_ARCHIVED, {"reason": f"merged into {target.id}"}, actor, ns, m.id)
                      for m in merged),
                ]
            case ops.Delete(hard=True):
                mem = self._existing(ctx, op.memory_id, op)
                return [ev(Kind.MEMORY_DELETED, mem.id, hard=True, tombstone="text erased at the user's request")]
            case ops.Archive() | ops.Delete() | ops.Quarantine():
                mem = self._existing(ctx, op.memory_id, op)
                kind = {ops.Archive: Kind.MEMORY_ARCHIVED, ops.Delete: Kind.MEMORY_DELETED,
                        ops.Quarantine: Kind.MEMORY_QUARANTINED}[type(op)]
                return [ev(kind, mem.id)]
            case ops.Restore():
                mem = self._existing(ctx, op.memory_id, op)
                if mem.status == ACTIVE:
                    raise InvalidOperation(f"Restore: memory {mem.id!r} is already active")
                return [ev(Kind.MEMORY_RESTORED, mem.id)]
            case ops.Decay() | ops.Reinforce():
                mem = self._existing(ctx, op.memory_id, op)
                kind = Kind.MEMORY_DECAYED if isinstance(op, ops.Decay) else Kind.MEMORY_REINFORCED
                extra = {"sources": list(op.sources)} if isinstance(op, ops.Reinforce) and op.sources else {}
                return [ev(kind, mem.id, strength=float(op.strength), previous=mem.strength, **extra)]
            case ops.Pin():
                mem = self._existing(ctx, op.memory_id, op)
                return [ev(Kind.MEMORY_PINNED if op.pinned else Kind.MEMORY_UNPINNED, mem.id)]
            case ops.Noop():
                return [ev(Kind.MEMORY_NOOP, op.memory_id)]
        raise InvalidOperation(f"unknown operation {op!r}")

    # -- reading ---------------------------------------------------------------------------

    def configure(self, namespace: str, options: dict[str, str]) -> None:
        """Index options a strategy asks for (see Strategy.index_options)."""
        if not self.read_only and "analyzer" in options:
            self.index.configure(namespace, options["analyzer"])

    def synced(self, namespace: str) -> VectorIndex:
        """The index, with `namespace` brought up to the log if this engine changed it."""
        index = self.index
        if namespace in self._dirty:
            index.sync(namespace)
            self._dirty.discard(namespace)
        return index

    def search(self, namespace: str, query: str, k: int = 10, mode: str = "hybrid",
               depth: int | None = None) -> list[SearchHit]:
        index = self.synced(namespace)
        try:
            return index.search(namespace, query, k=k, mode=mode, depth=depth)
        except Exception as exc:  # noqa: BLE001 - a damaged table: rebuild it from the log, once
            if self.read_only or isinstance(exc, ValueError):
                raise
            index.forget_table(namespace)
            index.rebuild([namespace])
            return index.search(namespace, query, k=k, mode=mode, depth=depth)

    def rebuild(self, purge: bool = False) -> dict[str, int]:
        """Rebuild the projection and every vector table from the log (`purge`: keep no old table versions)."""
        state = self.store.rebuild()
        namespaces = sorted({ns for ns, _ in state.memories})
        self.index.rebuild(namespaces)
        if purge:
            for ns in namespaces:
                self.index.compact(ns, purge=True)
        self._dirty.clear()
        return {"events": self.store.last_seq, "memories": len(state.memories)}

    def reconcile(self) -> dict[str, int]:
        """Bring every vector table up to the log (after a crash or an interrupted sync)."""
        index = self.index
        return {ns: index.sync(ns) for ns in self.store.namespaces()}

    # -- life cycle ------------------------------------------------------------------------

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def close(self) -> None:
        """Bring the index up to date (so readers find every memory), then let go of the data dir."""
        try:
            for namespace in sorted(self._dirty):
                self.synced(namespace)
        finally:
            self.store.close()
            self._release()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
