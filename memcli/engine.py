"""The engine: the one writer of a data dir.

Everything that changes state goes through `Engine.apply` (memory operations)
or `Engine.record` (conversation events). The engine validates a batch,
turns it into events, appends them atomically, and then brings the vector
index up to date from the log.
"""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import AbstractContextManager
from datetime import datetime
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from memcli.clock import Clock, SystemClock
from memcli.core import erasure, planning
from memcli.core import operations as ops
from memcli.core.events import Event, Kind, NewEvent
from memcli.core.lock import WriterLock
from memcli.core.store.log import EventStore
from memcli.embed.embedder import Embedder
from memcli.embed.factory import build_embedder
from memcli.errors import MemcliError, user_error_message
from memcli.settings import Settings

if TYPE_CHECKING:  # numpy and lancedb load with the index, not with the engine (start-up time)
    import numpy as np

    from memcli.index.ranking import SearchHit
    from memcli.index.vector_index import VectorIndex
    from memcli.model.scorer import TokenScorer


class EraseUnfinished(MemcliError):
    """A hard erase committed to the log but its physical part (file rewrite, index purge) is pending."""


Subscriber = Callable[[list[Event]], None]
_log = logging.getLogger(__name__)


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
            if read_only and erasure.pending(settings.data_dir):
                raise EraseUnfinished(f"an erase in {settings.data_dir} was interrupted: run `memcli rebuild` to "
                                      "finish it (nothing is shown until then)")
            self.store = EventStore(settings.data_dir, read_only=read_only, clock=self.clock)
        except Exception:
            self._release()
            raise
        self.embedder: Embedder = embedder or build_embedder(settings)
        self._index: VectorIndex | None = None
        self._index_lock = threading.Lock()  # racing workers must not open two indexes
        self._analyzers: dict[str, str] = {}  # namespace → keyword analyzer its strategy asked for
        self._dirty: set[str] = set()
        self._scorer: TokenScorer | None = None
        self._subscribers: list[Subscriber] = []
        if not read_only and erasure.pending(settings.data_dir):  # an interrupted erase: finish it first
            try:
                self.finish_erase()
            except BaseException:
                self.close()
                raise

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def open(self) -> VectorIndex:
        """Open the vector index (LanceDB and numpy load here, not at start-up) and, for a writer,
        bring every table up to the log (after a crash or an interrupted sync). Idempotent and
        thread-safe: racing workers get the same index, reconciled once. Searches and syncs call it."""
        with self._index_lock:
            if self._index is None:
                from memcli.index.vector_index import VectorIndex

                index = VectorIndex(
                    self.data_dir / "index", self.store, self.embedder, compact_every=self.settings.compact_every
                )
                for namespace, analyzer in self._analyzers.items():
                    index.configure(namespace, analyzer)
                if not self.read_only:
                    for namespace in self.store.namespaces():
                        index.sync(namespace)
                self._index = index
            return self._index

    @property
    def index(self) -> VectorIndex:
        """The vector index, once `open()` has opened it (reading this opens and syncs nothing)."""
        if self._index is None:
            raise RuntimeError("the vector index is not open yet: call Engine.open() first")
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

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(events)` once after every committed append, in the writing thread (inside a
        write batch, see `batch`: once the append is visible to reads; the file gets it with the batch);
        returns the function that unsubscribes it. The one notification path of the engine (the
        MCP server's event stream is built on it). A subscriber that raises is logged and skipped:
        what is committed stays committed."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _append(self, new_events: Sequence[NewEvent], **kwargs: Any) -> list[Event]:
        events = self.store.append(new_events, self.session_id, **kwargs)
        if events:
            for callback in list(self._subscribers):
                try:
                    callback(events)
                except Exception:  # noqa: BLE001 - a watcher must never undo or break a write
                    _log.exception("an engine subscriber failed")
        return events

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
        return self._append([NewEvent(kind, payload, actor, namespace, memory_id)])[0]

    def apply(
        self,
        namespace: str,
        operations: Sequence[ops.Operation],
        *,
        actor: str = "engine",
        extra: Sequence[NewEvent] = (),
        sync_index: bool = False,
        ts: datetime | None = None,
        turn: int | None = None,
    ) -> list[Event]:
        """Validate and apply a batch of operations atomically; returns the events written.

        The vector index follows lazily: the namespace is marked and synced before its next
        search, so a run of appends (an import, a backfill) is embedded in one batch.
        `sync_index` syncs now. `ts` stamps the events with a given time (backfills), `turn`
        with the message they were made for (as-of keys on it: see core/asof.py).
        """
        new_events = list(extra) + self.plan(namespace, operations, actor)
        if turn is not None:
            new_events = [replace(e, payload={**e.payload, "turn": turn}) for e in new_events]
        asked = [(namespace, op.memory_id) for op in operations if isinstance(op, ops.Delete) and op.hard]
        erasure = self.store.erasure_of(asked) if asked else None
        if erasure is not None:  # what came from the same turns (or echoed them), in any namespace, goes too
            new_events += [NewEvent(Kind.MEMORY_DELETED, {"hard": True, "tombstone": f"erased with {asked[0][1]} "
                                                          "(same source turns)"}, actor, ns, mid)
                           for ns, mid in sorted(erasure.keys - set(asked))]
        events = self._append(new_events, ts=ts, erase=erasure)
        if erasure is not None:
            self.finish_erase()
        if any(e.namespace == namespace and e.memory_id for e in events):
            self._dirty.add(namespace)
            if sync_index:
                self.synced(namespace)
        return events

    def batch(self) -> AbstractContextManager[None]:
        """Write everything appended inside in a few transactions instead of one per append (imports,
        backfills, an eval's ingest: see `EventStore.batch`); the events and memories are the same."""
        return self.store.batch()

    def plan(self, namespace: str, operations: Sequence[ops.Operation], actor: str) -> list[NewEvent]:
        """Turn operations into events, or raise InvalidOperation for the whole batch (core/planning.py)."""
        return planning.plan(self.store, namespace, operations, actor)

    # -- reading ---------------------------------------------------------------------------

    def configure(self, namespace: str, options: dict[str, str]) -> None:
        """Index options a strategy asks for (see Strategy.index_options), given when the strategy is
        activated: applied now if the index is open, else when `open()` opens it."""
        if self.read_only or "analyzer" not in options:
            return
        with self._index_lock:
            self._analyzers[namespace] = options["analyzer"]
            index = self._index
        if index is not None:
            index.configure(namespace, options["analyzer"])

    def synced(self, namespace: str) -> VectorIndex:
        """The index, with `namespace` brought up to the log if this engine changed it."""
        index = self.open()
        if namespace in self._dirty:
            index.sync(namespace)
            self._dirty.discard(namespace)
        return index

    def vectors(self, namespace: str, ids: list[str]) -> dict[str, np.ndarray]:
        """The indexed unit vectors of some active memories (the namespace synced first, as for a search)."""
        return self.synced(namespace).vectors(namespace, ids)

    def search(self, namespace: str, query: str, k: int = 10, mode: str = "hybrid",
               depth: int | None = None, query_vector: np.ndarray | None = None) -> list[SearchHit]:
        """`query_vector`: the query's embedding when the caller has it already (skips embedding it again)."""
        index = self.synced(namespace)
        try:
            return index.search(namespace, query, k=k, mode=mode, depth=depth, query_vector=query_vector)
        except Exception as exc:  # noqa: BLE001 - a damaged table: rebuild it from the log, once
            if self.read_only or isinstance(exc, ValueError):
                raise
            index.forget_table(namespace)
            index.rebuild([namespace])
            return index.search(namespace, query, k=k, mode=mode, depth=depth, query_vector=query_vector)

    def finish_erase(self) -> dict[str, int]:
        """The physical part of a hard erase (see `memcli.core.erasure`): rewrite the DuckDB file,
        rebuild the vector tables keeping no old version, then drop the pending marker. Idempotent:
        after an interruption (full disk, a kill) the next writer or `memcli rebuild` runs it again."""
        try:
            self.store.rewrite_file()
            stats = self._rebuild(purge=True)
        except Exception as exc:
            reason = user_error_message(exc) or f"{type(exc).__name__}: {exc}"
            raise EraseUnfinished(f"the erase is recorded in the log but not yet finished on disk ({reason}); "
                                  "run `memcli rebuild` to finish it (searches are refused until then)") from exc
        erasure.clear_pending(self.data_dir)
        return stats

    def rebuild(self, purge: bool = False) -> dict[str, int]:
        """Rebuild the projection and every vector table from the log. `purge` also rewrites the
        DuckDB file and keeps no old table version (no freed block or old version keeps old text);
        an interrupted erase is finished in any case."""
        if erasure.pending(self.data_dir):
            return self.finish_erase()
        if purge:
            self.store.rewrite_file()
        return self._rebuild(purge)

    def _rebuild(self, purge: bool) -> dict[str, int]:
        state = self.store.rebuild()
        namespaces = sorted({ns for ns, _ in state.memories})
        self.open().rebuild(namespaces, purge=purge)
        self._dirty.clear()
        return {"events": self.store.last_seq, "memories": len(state.memories)}

    def reconcile(self) -> dict[str, int]:
        """Open the index and bring every vector table up to the log; returns the memories synced per
        namespace (after `open()` has reconciled, what changed since)."""
        index = self.open()
        return {ns: index.sync(ns) for ns in self.store.namespaces()}

    # -- life cycle ------------------------------------------------------------------------

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def close(self) -> None:
        """Bring the index up to date (so readers find every memory), close it (its keyword-search
        thread, its embedding cache), then let go of the data dir."""
        try:
            for namespace in sorted(self._dirty):
                self.synced(namespace)
        finally:
            try:
                with self._index_lock:
                    index, self._index = self._index, None
                if index is not None:
                    index.close()
            finally:
                self.store.close()
                self._release()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
