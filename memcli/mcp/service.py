"""What the MCP tools do, over a chat session, without any MCP: plain calls that return JSON-ready
dicts or raise `ToolInputError` with one sentence for the caller. The server (server.py) runs
them on its single engine thread and logs each call as an `mcp.call` event."""

from __future__ import annotations

import math
from typing import Any

from memcli.core import operations as ops
from memcli.core.events import Event, Kind
from memcli.core.projection import ACTIVE, ARCHIVED, DELETED, QUARANTINED, Memory
from memcli.errors import MemcliError
from memcli.chat import Chat

STATUSES = (ACTIVE, ARCHIVED, DELETED, QUARANTINED)
PAGE_SIZE = 20
MAX_K = 50
MAX_TEXT = 20_000  # characters a single `remember` or `update_memory` may carry
CHARS_PER_TOKEN = 4  # the token estimate of `recall` (no tokenizer of the client's model is known here)


class ToolInputError(MemcliError):
    """A tool was called with arguments it cannot use (unknown id, empty text, k out of range…)."""


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def memory_row(m: Memory) -> dict[str, Any]:
    return {"id": m.id, "text": m.text, "kind": m.kind, "status": m.status, "pinned": m.pinned,
            "strength": round(m.strength, 4), "importance": round(m.importance, 4), "version": m.version,
            "access_count": m.access_count, "created_at": m.created_at.isoformat(),
            "valid_from": m.valid_from.isoformat(), "sources": list(m.sources), "metadata": m.metadata}


def _event_row(e: Event) -> dict[str, Any]:
    p = e.payload
    row: dict[str, Any] = {"seq": e.seq, "ts": e.ts.isoformat(), "kind": e.kind.value, "actor": e.actor}
    for key in ("text", "previous_text", "reason"):
        if p.get(key):
            row[key] = p[key]
    return row


class MemoryService:
    """The six tools over one session (its strategy and namespace). Not thread-safe: one caller."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat

    @property
    def namespace(self) -> str:
        return self.chat.namespace

    @property
    def store(self) -> Any:
        return self.chat.engine.store

    # -- tools -------------------------------------------------------------------------------

    def remember(self, text: str, metadata: dict[str, Any] | None, actor: str) -> dict[str, Any]:
        text = _text(text, "text")
        if metadata is not None and not isinstance(metadata, dict):
            raise ToolInputError("metadata must be an object of string keys")
        before = self.store.last_seq
        turn = self.chat.ingest("user", text, metadata={**(metadata or {}), "via": actor}, actor=actor)
        self.chat.drain()  # a background session: wait for the strategy's work on this turn
        caused = [e for e in self.store.events(since=before)
                  if e.memory_id and e.namespace == self.namespace and e.kind is not Kind.MEMORY_EXTRACTED]
        errors = [e.payload.get("error", "") for e in self.store.events(since=before, kinds=[Kind.STRATEGY_ERROR])]
        operations = [{"op": e.kind.value.removeprefix("memory."), "id": e.memory_id,
                       **({"text": e.payload["text"]} if e.payload.get("text") else {}),
                       **({"reason": e.payload["reason"]} if e.payload.get("reason") else {})} for e in caused]
        result: dict[str, Any] = {"turn": turn.seq, "strategy": self.namespace, "operations": operations}
        if not operations:
            result["note"] = "the strategy kept no memory from this text (nothing new, or nothing it extracts)"
        if errors:
            result["strategy_errors"] = errors
        return result

    def recall(self, query: str, k: int = 5, page: int = 1, max_tokens: int = 800) -> dict[str, Any]:
        query = _text(query, "query")
        k = _int(k, "k", 1, MAX_K)
        page = _int(page, "page", 1, 1000)
        max_tokens = _int(max_tokens, "max_tokens", 50, 100_000)
        retrieval = self.chat.retrieve(query, k * page)
        hits = retrieval.hits[k * (page - 1):k * page]
        turns = {e.seq: e for e in self.store.source_turns({s for h in hits for s in h.sources})}
        rows = self.store.memories_by_ids(self.namespace, [h.memory_id for h in hits]) if hits else {}
        out: list[dict[str, Any]] = []
        used = 0
        for hit in hits:
            memory = rows.get(hit.memory_id)
            row = {**hit.as_dict(),
                   "provenance": {
                       "created_at": memory.created_at.isoformat() if memory else None,
                       "version": memory.version if memory else None,
                       "source_turns": [{"seq": s, "ts": turns[s].ts.isoformat(), "actor": turns[s].actor}
                                        for s in hit.sources if s in turns]}}
            cost = estimate_tokens(hit.text) + 30  # the text plus the fields around it
            if out and used + cost > max_tokens:
                break
            used += cost
            out.append(row)
        more = len(retrieval.hits) >= k * page or len(out) < len(hits)
        return {"query": query, "strategy": self.namespace, "page": page, "hits": out,
                "cut_to_tokens": len(out) < len(hits), "tokens_estimated": used,
                "next_page": page + 1 if more and out else None,
                **({"note": retrieval.note} if retrieval.note else {})}

    def list_memories(self, status: str = ACTIVE, page: int = 1) -> dict[str, Any]:
        if status not in STATUSES:
            raise ToolInputError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        page = _int(page, "page", 1, 1_000_000)
        memories = self.store.memories(self.namespace, [status])
        shown = memories[PAGE_SIZE * (page - 1):PAGE_SIZE * page]
        return {"strategy": self.namespace, "status": status, "page": page, "total": len(memories),
                "memories": [{"id": m.id, "text": m.text, "kind": m.kind, "pinned": m.pinned,
                              "strength": round(m.strength, 4)} for m in shown],
                "next_page": page + 1 if PAGE_SIZE * page < len(memories) else None}

    def get_memory(self, memory_id: str) -> dict[str, Any]:
        memory = self._memory(memory_id)
        versions = self.store.versions(self.namespace, memory.id)
        events = self.store.events(namespace=self.namespace, memory_id=memory.id)
        return {**memory_row(memory),
                "versions": [{"version": v.version, "text": v.text, "valid_from": v.valid_from.isoformat(),
                              "valid_to": v.valid_to.isoformat() if v.valid_to else None} for v in versions],
                "history": [_event_row(e) for e in events]}

    def update_memory(self, memory_id: str, text: str, actor: str) -> dict[str, Any]:
        memory = self._memory(memory_id)
        text = _text(text, "text")
        self._apply(ops.Update(memory_id=memory.id, text=text, reason=f"updated by {actor}"), actor)
        return self.get_memory(memory.id)

    def forget(self, memory_id: str, hard: bool, actor: str) -> dict[str, Any]:
        memory = self._memory(memory_id)
        if not isinstance(hard, bool):
            raise ToolInputError("hard must be true or false")
        events = self._apply(ops.Delete(memory_id=memory.id, hard=hard, reason=f"forgotten by {actor}"), actor)
        return {"id": memory.id, "forgotten": True, "hard": hard, "events": [e.seq for e in events],
                "note": "erased for good (a tombstone remains)" if hard else "restorable from the workbench"}

    def resource_text(self, namespace: str) -> str:
        """The `memory://<namespace>` resource: its active memories, one a line."""
        memories = self.store.memories(namespace, [ACTIVE])
        if not memories and namespace not in set(self.store.namespaces()) | {self.namespace}:
            raise ToolInputError(f"no memory namespace {namespace!r}")
        lines = [f"{m.id}{' (pinned)' if m.pinned else ''}: {m.text}" for m in memories]
        return "\n".join(lines) if lines else f"({namespace} has no active memory yet)"

    # -- helpers -----------------------------------------------------------------------------

    def _memory(self, memory_id: str) -> Memory:
        if not isinstance(memory_id, str) or not memory_id.strip():
            raise ToolInputError("id must be a memory id such as 'm3' (see list_memories or recall)")
        memory = self.store.memory(self.namespace, memory_id.strip())
        if memory is None or (memory.status == DELETED and not memory.text):
            raise ToolInputError(f"no memory {memory_id!r} in {self.namespace} (see list_memories or recall)")
        return memory

    def _apply(self, op: ops.Operation, actor: str) -> list[Event]:
        from memcli.core.planning import InvalidOperation

        try:
            return self.chat.engine.apply(self.namespace, [op], actor=actor)
        except InvalidOperation as exc:
            raise ToolInputError(str(exc)) from None


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolInputError(f"{name} must be non-empty text")
    if len(value) > MAX_TEXT:
        raise ToolInputError(f"{name} is {len(value)} characters; at most {MAX_TEXT} are accepted")
    return value.strip()


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ToolInputError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value
