"""The memory work on each turn: extraction → consolidation → decay, in a background thread
(or inline), and the backfill that runs a stored conversation through a strategy.

A mixin of `Chat` (it uses the chat's engine, hooks and views): the turn pipeline and the memory
work are two concerns of one object, kept in two files. A failure of the worker outside the
strategy's hooks is a strategy.error event, so the feed shows it.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from memcli.core.events import Event, Kind, NewEvent
from memcli.core.operations import Delete
from memcli.core.projection import ACTIVE, ARCHIVED, QUARANTINED
from memcli.core.planning import InvalidOperation
from memcli.engine import Engine
from memcli.strategy.api import Candidate, Retrieval, Strategy, Turn
from memcli.strategy.registry import StrategyRegistry
from memcli.strategy.view import MESSAGE_KINDS, MemoryView, turn_from_event

_log = logging.getLogger(__name__)

FILL_DEPTH = 16  # more memories ranked than the prompt takes: they fill the places of hits left out (unseen);
# a backfill ranks as deep, so that its retrievals and recall effects are those of the live chat


class MemoryWork:
    """Queue, worker thread, processing and backfill (see the module docstring)."""

    engine: Engine
    registry: StrategyRegistry
    strategy: Strategy
    _queue: queue.Queue[tuple[str, Any] | None] | None
    _worker: threading.Thread | None

    if TYPE_CHECKING:  # provided by Chat
        def _call(self, strategy: Strategy, hook: str, default: Any, *args: Any, **kwargs: Any) -> Any: ...
        def _apply(self, strategy: Strategy, operations: list, *, at: datetime | None = None,
                   extra: list[NewEvent] | None = None, hook: str = "", turn: int | None = None) -> list[Event]: ...
        def _record(self, kind: Kind, payload: dict[str, Any], **kw: Any) -> Event: ...
        def activate(self, strategy: Strategy) -> Strategy: ...
        def view(self, strategy: Strategy | None = None, *, now: datetime | None = None,
                 upto: int | None = None) -> MemoryView: ...
        def retrieve(self, query: str, k: int, *, strategy: Strategy | None = None, at: datetime | None = None,
                     upto: int | None = None, depth: int = 0) -> Retrieval: ...

    def _start_worker(self) -> None:
        self._queue = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="memcli-memory", daemon=True)
        self._worker.start()

    def submit(self, turn: Turn) -> None:
        """Queue a turn for extraction → consolidation → decay (in order)."""
        if self._queue is None:
            self.process(self.strategy, turn)
        else:
            self._queue.put(("turn", (self.strategy, turn)))

    def process(self, strategy: Strategy, turn: Turn) -> None:
        """Extraction → consolidation → decay for one turn, stamped with the turn's own time
        (so a backfill later produces exactly what live processing did)."""
        at = turn.ts
        view = self.view(strategy, now=at, upto=turn.seq)
        candidates: list[Candidate] = self._call(strategy, "extract", [], turn, view)
        extracted = NewEvent(Kind.MEMORY_EXTRACTED, {
            "turn": turn.seq, "path": "llm" if view.model is not None else "rules",
            "candidates": [{"text": c.text, "kind": c.kind, "importance": c.importance,
                            "metadata": c.metadata} for c in candidates],
        }, f"strategy:{strategy.name}", strategy.namespace)
        operations = self._call(strategy, "consolidate", [], candidates, view) if candidates else []
        self._apply(strategy, operations, at=at, extra=[extracted] if candidates else None, hook="consolidate",
                    turn=turn.seq)
        self._apply(strategy, self._call(strategy, "decay", [], self.view(strategy, now=view.now, upto=turn.seq)),
                    at=at, hook="decay", turn=turn.seq)

    def _work(self) -> None:
        assert self._queue is not None
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                strategy, turn = item[1]
                try:
                    self.process(strategy, turn)
                except Exception as exc:  # noqa: BLE001 - keep the worker alive; the failure is an event
                    self._worker_failed(strategy, turn, exc)
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every queued turn has been processed."""
        if self._queue is not None:
            self._queue.join()

    def _worker_failed(self, strategy: Strategy, turn: Turn, exc: Exception) -> None:
        """A failure outside the strategy's hooks (those are caught by `_call`), e.g. the engine refusing a
        write: logged as a strategy.error (hook "memory-worker") so that the feed shows it."""
        try:
            self._record(Kind.STRATEGY_ERROR, {"strategy": strategy.name, "hook": "memory-worker", "turn": turn.seq,
                                               "error": f"{type(exc).__name__}: {exc}"},
                         actor=f"strategy:{strategy.name}", namespace=strategy.namespace)
        except Exception:  # noqa: BLE001 - the log itself refused: nowhere left to record it but the logger
            _log.exception("memory work for turn %s failed and could not be logged", turn.seq)

    def backfill(self, name: str | None = None, params: dict[str, Any] | None = None, *, k: int = 8,
                 namespace: str | None = None, progress: Callable[[int, int], None] | None = None,
                 restart: bool = False) -> int:
        """Run the stored conversation through a strategy into its (empty) namespace (a backfill).

        Each turn is processed at its own logged time, so the memories come out as if
        the strategy had been used from the start. `restart` first deletes the namespace's
        memories, in one batch of events (restorable, never erased), so an interrupted backfill
        can always be run again.
        """
        strategy = self.activate(self.registry.create(name, params, namespace=namespace)) if name else self.strategy
        live = self.engine.store.memories(strategy.namespace, statuses=[ACTIVE, ARCHIVED, QUARANTINED])
        if live and not restart:
            raise InvalidOperation(
                f"namespace {strategy.namespace!r} already has {len(live)} memories; backfill needs an empty one "
                "(--restart deletes them, as restorable events, and backfills again)")
        self.drain()
        if live:
            self.engine.apply(strategy.namespace, [Delete(memory_id=m.id, reason="backfill restarted") for m in live],
                              actor="user")
        turns = [turn_from_event(e) for e in self.engine.store.events(kinds=MESSAGE_KINDS)]
        with self.engine.batch():
            for i, turn in enumerate(turns, 1):
                if turn.role == "user" and not turn.metadata.get("ingested"):
                    self.retrieve(turn.text, k, strategy=strategy, at=turn.ts, upto=turn.seq, depth=FILL_DEPTH)
                self.process(strategy, turn)
                if progress is not None:
                    progress(i, len(turns))
        return len(turns)
