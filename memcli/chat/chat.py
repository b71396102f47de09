"""The turn pipeline: one conversation and a current strategy; the memory work is in `memory_work`.

Each step is an event: message.user → memory.retrieved → context.built →
message.assistant; then, in the background and in order, memory.extracted →
consolidation ops → decay ops. The same class drives the TUI, `memcli chat`,
replays, evals and backfills. It notifies nobody: a watcher subscribes to the engine
(`Engine.subscribe`), which announces every committed append once, whoever wrote it.

Longer than ~300 lines because a turn is one sequence (log, retrieve, build the context,
stream a reply that is no repeat, queue the memory work) best read in one place.
"""

from __future__ import annotations

import queue
import threading
import traceback
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from memcli.chat import memory_work
from memcli.chat.memory_work import MemoryWork
from memcli.context import DEFAULT_SYSTEM, ContextReport, only_asks
from memcli.core.events import Event, Kind, NewEvent
from memcli.core.planning import InvalidOperation
from memcli.engine import Engine
from memcli.model.base import ChatModel, ContextOverflowError, Generation, Message
from memcli.model.probe import probed
from memcli.repetition import RECENT_REPLIES, RETRIES, RETRY_TEMPERATURE, RepeatGuard, normalized
from memcli.strategy.api import Strategy
from memcli.strategy.values import Hit, Retrieval, Turn
from memcli.strategy.registry import StrategyLoadError, StrategyRegistry
from memcli.strategy.view import MemoryView, turn_from_event


@dataclass
class TurnResult:
    user: Turn
    retrieval: Retrieval
    context: ContextReport | None
    reply: Turn | None
    generation: Generation | None = None
    events: list[Event] = field(default_factory=list)


def llm_allowed(model: ChatModel | None, mode: str, data_dir: Path) -> bool:
    """Whether strategies may call the model for memory work.

    "auto" asks a measured probe (memcli.model.probe): a fixed extraction check, run once per
    model and remembered. The embedded SmolLM2-135M fails it (it answers {"facts": []} to a
    sentence with three), so the rule-based paths are used; a capable model passes.
    """
    if model is None or mode == "off":
        return False
    return mode == "on" or probed(model, data_dir)


class Chat(MemoryWork):
    """One conversation: its turns and a current strategy; `MemoryWork` adds the memory work on each turn."""

    def __init__(
        self,
        engine: Engine,
        registry: StrategyRegistry,
        *,
        model: ChatModel | None,
        strategy: str,
        params: dict[str, Any] | None = None,
        system: str = DEFAULT_SYSTEM,
        llm_memory: str = "auto",
        history_messages: int | None = None,
        background: bool = True,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.model = model
        self.system = system
        self.llm_memory = llm_memory
        self.history_messages = history_messages  # None: the whole conversation
        self._llm_ok: bool | None = None  # may strategies call the model? decided on first use
        self._configured: set[str] = set()
        self.strategy: Strategy = self.activate(registry.create(strategy, params))
        self._queue: queue.Queue[tuple[str, Any] | None] | None = None
        self._worker: threading.Thread | None = None
        if background:
            self._start_worker()

    @property
    def namespace(self) -> str:
        return self.strategy.namespace

    # -- events (whoever watches subscribes to the engine: `Engine.subscribe`) ------------------

    def _record(self, kind: Kind, payload: dict[str, Any], **kw: Any) -> Event:
        return self.engine.record(kind, payload, **kw)

    def _apply(self, strategy: Strategy, operations: list, *, at: datetime | None = None,
               extra: list[NewEvent] | None = None, hook: str = "", turn: int | None = None) -> list[Event]:
        if not operations and not extra:
            return []
        try:
            return self.engine.apply(strategy.namespace, operations, actor=f"strategy:{strategy.name}",
                                     extra=extra or [], ts=at, turn=turn)
        except InvalidOperation as exc:
            self._strategy_error(strategy, hook, str(exc))
            return []

    def _strategy_error(self, strategy: Strategy, hook: str, message: str) -> None:
        self._record(Kind.STRATEGY_ERROR, {"strategy": strategy.name, "hook": hook, "error": message},
                     actor=f"strategy:{strategy.name}", namespace=strategy.namespace)

    def _call(self, strategy: Strategy, hook: str, default: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a hook; a plugin that raises is logged and skipped, never fatal."""
        try:
            return getattr(strategy, hook)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - plugin code
            last = traceback.extract_tb(exc.__traceback__)[-1]
            self._strategy_error(strategy, hook, f"{type(exc).__name__}: {exc} ({last.filename}:{last.lineno})")
            return default

    def activate(self, strategy: Strategy) -> Strategy:
        """Tell the engine how the strategy's namespace is indexed (once per namespace): every
        strategy that is used goes through here (created, switched to, backfilled), so that
        handing out a view has no effect."""
        if strategy.namespace not in self._configured:
            self._configured.add(strategy.namespace)
            self.engine.configure(strategy.namespace, strategy.index_options())
        return strategy

    def view(self, strategy: Strategy | None = None, *, now: datetime | None = None,
             upto: int | None = None) -> MemoryView:
        strategy = strategy or self.strategy
        if self._llm_ok is None:
            self._llm_ok = llm_allowed(self.model, self.llm_memory, self.engine.data_dir)
        model = self.model if self._llm_ok else None
        return MemoryView(self.engine, strategy.namespace, now or self.engine.clock.now(), model=model, upto=upto)

    # -- the turn --------------------------------------------------------------------------

    def add_message(self, role: str, text: str, *, speaker: str = "", metadata: dict | None = None,
                    stats: dict | None = None, actor: str | None = None) -> Turn:
        kind = Kind.MESSAGE_USER if role == "user" else Kind.MESSAGE_ASSISTANT
        payload: dict[str, Any] = {"text": text}
        if speaker:
            payload["speaker"] = speaker
        if metadata:
            payload["metadata"] = metadata
        if stats:
            payload["stats"] = stats
        return turn_from_event(self._record(kind, payload, actor=actor or role))

    def edit(self, operation: Any, namespace: str | None = None) -> list[Event]:
        """A change made by the person (edit, pin, forget, restore): an event like any other.
        `namespace`: another strategy's memory (opened from the feed); default the current one."""
        return self.engine.apply(namespace or self.namespace, [operation], actor="editor")

    def ingest(self, role: str, text: str, *, speaker: str = "", metadata: dict | None = None,
               actor: str | None = None) -> Turn:
        """Log a message without a model call or a retrieval (imports, scripted history, an MCP client's
        `remember`) and queue it. `actor`: who logged it (default: the role)."""
        turn = self.add_message(role, text, speaker=speaker, metadata={**(metadata or {}), "ingested": True},
                                actor=actor)
        self.submit(turn)
        return turn

    def retrieve(self, query: str, k: int, *, strategy: Strategy | None = None, at: datetime | None = None,
                 upto: int | None = None, depth: int = 0) -> Retrieval:
        """Rank memories for `query`, log what was found (and missed), apply recall effects.

        `depth`: rank that many more; they are logged as near misses, after the strategy's own
        (the chat fills the places of the hits it leaves out of the prompt from them, `unseen`).
        """
        s = strategy or self.strategy
        retrieval = self._call(s, "retrieve", Retrieval([]), query, self.view(s, now=at, upto=upto), k + depth)
        if depth:
            hits, cutoff = retrieval.hits, retrieval.cutoff
            if cutoff is not None and retrieval.cutoff_on is None and len(hits) >= k:  # a rank cutoff: the k-th
                cutoff = hits[k - 1].score  # score (a threshold on a score part, memorybank's cosine, stays)
            retrieval = replace(retrieval, hits=hits[:k], near_misses=[*hits[k:], *retrieval.near_misses],
                                cutoff=cutoff)
        retrieved = NewEvent(Kind.MEMORY_RETRIEVED, {
            "query": query, "k": k, "cutoff": retrieval.cutoff, "note": retrieval.note,
            **({"cutoff_on": retrieval.cutoff_on} if retrieval.cutoff_on else {}),
            **({"turn": upto} if upto is not None else {}),  # the turn it serves (a hard erase finds it by this)
            "hits": [h.as_dict() for h in retrieval.hits],
            "near_misses": [h.as_dict() for h in retrieval.near_misses],
        }, f"strategy:{s.name}", s.namespace)
        recalled = self._call(s, "recalled", [], retrieval, self.view(s, now=at, upto=upto))
        if not self._apply(s, recalled, at=at, extra=[retrieved], hook="recalled", turn=upto):
            self._apply(s, [], at=at, extra=[retrieved], hook="retrieve", turn=upto)
        return retrieval

    def send(
        self,
        text: str,
        *,
        k: int = 8,
        reply: str | None = None,
        on_piece: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
        max_tokens: int | None = None,
    ) -> TurnResult:
        """One user turn: log it, retrieve, build the context, get the reply, queue memory work.

        `reply` fixes the assistant's words (scripted sessions); otherwise the model streams.
        """
        self.drain()  # retrieval sees the memories of every earlier turn
        if reply is None and self.model is not None:
            self._fits(text, max_tokens)  # before anything is logged: a turn that fails logs nothing
        window = self.strategy.history_window(self.history_messages)
        shown = self.view().turns(window) if window != 0 else []
        history: list[Message] = [{"role": t.role, "content": t.text} for t in shown]
        user = self.add_message("user", text)
        text = user.text  # as logged (secrets redacted): the model is shown what the log holds
        retrieval = self.retrieve(text, k, at=user.ts, upto=user.seq, depth=memory_work.FILL_DEPTH)
        context: ContextReport | None = None
        generation: Generation | None = None
        if reply is None:
            if self.model is None:
                raise InvalidOperation("no chat model is configured and no fixed reply was given")
            budget = self.model.n_ctx - (max_tokens or 256)
            fresh = self.unseen(retrieval, shown)
            context = self._call(self.strategy, "build_context", None, fresh, history, text,
                                 system=self.system, count=self.model.count_tokens, budget=budget) or \
                Strategy.build_context(self.strategy, fresh, history, text, system=self.system,
                                       count=self.model.count_tokens, budget=budget)
            self._record(Kind.CONTEXT_BUILT, {"messages": context.messages, "tokens": context.tokens,
                                              "budget": context.budget, "cut": context.cut},
                         namespace=self.namespace)
            try:
                generation, retries, repeated = self._reply(context.messages, max_tokens, cancel, on_piece)
            except Exception as exc:
                # the user message is logged: finish the turn (an empty reply marked as an error) so that
                # live memory work and a later backfill both process it, then report the failure
                failed = self.add_message("assistant", "", stats={"finish_reason": "error", "error": str(exc)})
                self.submit(user)
                self.submit(failed)
                raise
            reply = generation.text
            stats = generation.stats.as_dict()
            if retries:
                stats["repeat_retries"] = retries
            if repeated:
                stats["repeated"] = True
        else:
            stats = {"fixed": True}
        answer = self.add_message("assistant", reply, stats=stats)
        self.submit(user)
        self.submit(answer)
        return TurnResult(user, retrieval, context, answer, generation)

    def _fits(self, text: str, max_tokens: int | None) -> None:
        """Raise ContextOverflowError when the message alone (with the system prompt) cannot fit:
        build_context cuts memories and history to the budget, never the message."""
        assert self.model is not None
        room = self.model.n_ctx - (max_tokens or 256)
        need = self.model.count_message_tokens([{"role": "system", "content": self.system},
                                                {"role": "user", "content": text}])
        if need > room:
            raise ContextOverflowError(need, room)

    def unseen(self, retrieval: Retrieval, shown: list[Turn]) -> Retrieval:
        """The hits as dated lines in the user's words, without what the prompt already holds.

        A memory whose source messages are all in the visible history, or whose text is
        the same as a history message or an earlier hit, is left out: the same text twice
        in one prompt makes a small model copy it. So is a message that only asks ("What's
        my cat called?"): it tells nothing, and later in a chat the person's own earlier
        questions are what ranks first for a new one (bench_chat: six of eight hits). The
        near misses, in rank order, fill the places of what was left out, up to the number
        of hits. Dated lines come oldest first, so the newest value of a fact that changed
        is nearest the question.
        """
        in_history = {t.seq for t in shown}
        said = {normalized(t.text) for t in shown}
        ranked = [*retrieval.hits, *retrieval.near_misses]
        rows = self.view().get_many([h.memory_id for h in ranked])
        kept: list[tuple[str, Hit]] = []
        for hit in ranked:
            if len(kept) == len(retrieval.hits):
                break
            words = hit.text.removeprefix("User: ")
            if (hit.sources and set(hit.sources) <= in_history) or normalized(words) in said or only_asks(words):
                continue
            said.add(normalized(words))
            row = rows.get(hit.memory_id)
            date = (row.metadata.get("date") or row.valid_from.date().isoformat()) if row is not None else ""
            kept.append((date, Hit(hit.memory_id, f"{date}: {words}" if date else words, hit.score, hit.parts,
                                   hit.sources)))
        kept.sort(key=lambda pair: pair[0])  # stable: the same date keeps the rank order
        return replace(retrieval, hits=[h for _, h in kept])

    def _reply(self, messages: list[Message], max_tokens: int | None, cancel: threading.Event | None,
               on_piece: Callable[[str], None] | None) -> tuple[Generation, int, bool]:
        """Stream a reply that is not one of the last few; (generation, retries, still a repeat)."""
        assert self.model is not None
        recent = [t.text for t in self.view().turns(2 * RECENT_REPLIES) if t.role == "assistant"][-RECENT_REPLIES:]
        base_seed = getattr(self.model, "seed", 0)
        base_temperature = getattr(self.model, "temperature", 0.0) or 0.0
        for attempt in range(RETRIES + 1):
            guard = RepeatGuard(recent, on_piece)
            options: dict[str, Any] = {}
            if attempt:
                options = {"seed": base_seed + attempt, "temperature": max(base_temperature, RETRY_TEMPERATURE)}
            generation = self.model.stream(messages, max_tokens=max_tokens, cancel=cancel, **options)
            for piece in generation:
                guard.feed(piece)
            repeated = guard.repeats() and generation.stats.finish_reason != "cancelled"
            if not repeated:
                break
        guard.flush()
        return generation, attempt, repeated

    # -- strategies ------------------------------------------------------------------------

    def switch(self, name: str, params: dict[str, Any] | None = None) -> Strategy:
        """Swap the strategy; on failure the old one stays and a strategy.error is logged."""
        old = self.strategy
        try:
            new = self.activate(self.registry.create(name, params))
        except Exception as exc:
            self._record(Kind.STRATEGY_ERROR, {"strategy": name, "hook": "load", "error": str(exc)},
                         actor="engine", namespace=name)
            if isinstance(exc, StrategyLoadError):
                raise
            raise StrategyLoadError(str(exc)) from None
        self.drain()
        self.strategy = new
        self._record(Kind.STRATEGY_SWITCHED, {"from": old.name, "to": new.name, "params": new.p}, actor="user",
                     namespace=new.namespace)
        return new

    def close(self) -> None:
        if self._queue is not None and self._worker is not None:
            self.drain()
            self._queue.put(None)
            self._worker.join(timeout=10)
            self._queue = None
