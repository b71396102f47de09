"""The read-only view a strategy sees: memories, search, embeddings, the conversation, the time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from memcli.core.events import Kind
from memcli.core.projection import ACTIVE, Memory
from memcli.strategy.ask import ask_json
from memcli.strategy.values import Hit, Turn

if TYPE_CHECKING:
    import numpy as np

    from memcli.engine import Engine
    from memcli.model.scorer import TokenScore
    from memcli.model.base import ChatModel

T = TypeVar("T")

MESSAGE_KINDS = (Kind.MESSAGE_USER.value, Kind.MESSAGE_ASSISTANT.value)


def turn_from_event(e: Any) -> Turn:
    p = e.payload
    return Turn(seq=e.seq, role="user" if e.kind == Kind.MESSAGE_USER else "assistant", text=p.get("text", ""),
                ts=e.ts, speaker=p.get("speaker", ""), session_id=e.session_id, metadata=p.get("metadata", {}))


class MemoryView:
    """Everything here reads; nothing writes. `model` is None when the strategy must not call the LLM.
    Searches and vectors go through the engine, which brings the namespace's index up to the log
    first if it changed it (the engine, the one writer, takes that step, not the view)."""

    def __init__(
        self, engine: "Engine", namespace: str, now: datetime, *, model: "ChatModel | None" = None,
        upto: int | None = None,
    ) -> None:
        self._engine = engine
        self.namespace = namespace
        self.now = now
        self.model = model
        self._upto = upto

    def memories(self, statuses: Iterable[str] | None = (ACTIVE,)) -> list[Memory]:
        return self._engine.store.memories(self.namespace, statuses)

    def get(self, memory_id: str) -> Memory | None:
        return self._engine.store.memory(self.namespace, memory_id)

    def get_many(self, ids: list[str]) -> dict[str, Memory]:
        return self._engine.store.memories_by_ids(self.namespace, ids)

    def with_metadata(self, key: str, value: str) -> list[Memory]:
        """Active memories whose metadata[key] == value (for example a fact slot's current holder)."""
        return self._engine.store.with_metadata(self.namespace, key, value)

    def search(self, query: str, k: int = 10, mode: str = "hybrid", depth: int | None = None,
               vector: np.ndarray | None = None) -> list[Hit]:
        """Hybrid (vector + keyword, RRF over the top `depth` of each; 0: complete rankings), vector or keyword.
        `vector`: the query's embedding, when the strategy has it already."""
        found = self._engine.search(self.namespace, query, k=k, mode=mode, depth=depth, query_vector=vector)
        rows = self._engine.store.memories_by_ids(self.namespace, [h.id for h in found])
        return [Hit(h.id, h.text, h.score, dict(h.parts), tuple(rows[h.id].sources) if h.id in rows else ())
                for h in found]

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._engine.embedder.embed(texts)

    @property
    def embedder_id(self) -> str:
        """Which embedder `embed` uses: vectors of different embedders are not comparable, so caches key on it."""
        embedder = self._engine.embedder
        return getattr(embedder, "model_id", None) or type(embedder).__name__

    def surprisal(self, text: str) -> list[TokenScore]:
        """-log p of each token of `text` under the configured chat model (even the embedded 135M one:
        scoring is not generation, so `llm_memory` does not gate it)."""
        return self._engine.scorer.surprisal(text)

    def likelihood(self, context: str, text: str) -> float:
        """Mean log p of `text`'s tokens after `context` under the configured chat model (as `surprisal`)."""
        return self._engine.scorer.likelihood(context, text)

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        return self._engine.vectors(self.namespace, ids)

    def turns(self, limit: int | None = None) -> list[Turn]:
        """The conversation so far (shared by every strategy), oldest first; `limit`: the last N."""
        events = self._engine.store.events(kinds=MESSAGE_KINDS, until=self._upto, newest=limit or None)
        return [turn_from_event(e) for e in events]

    def turn_count(self) -> int:
        """How many messages the conversation has so far (without reading them)."""
        return self._engine.store.count_events(MESSAGE_KINDS, until=self._upto)

    def ask_json(self, instruction: str, text: str, schema: dict[str, Any], *, read: Callable[[Any], T | None],
                 fallback: Callable[[str], T], max_tokens: int = 256) -> T:
        """The model path or the rule path: `read(reply)` of the model's schema-constrained JSON reply to
        `text` (system prompt `instruction`), else `fallback(why)`, when `model` is None (the rules are
        the strategy's path), the reply is not valid JSON for `schema`, or `read` finds it unusable
        (returns None or raises KeyError, TypeError, …). See memcli.strategy.ask."""
        return ask_json(self.model, instruction, text, schema, read=read, fallback=fallback, max_tokens=max_tokens)
