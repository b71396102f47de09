"""Planning: memory operations → the events that carry them out, checked against the projection.

Pure with respect to storage: it reads the memories a batch targets and numbers new ones, and
raises InvalidOperation for the whole batch before anything is written (the engine appends).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from memcli.core import operations as ops
from memcli.core.events import Kind, NewEvent
from memcli.core.projection import ACTIVE, DELETED, Memory
from memcli.errors import MemcliError

if TYPE_CHECKING:
    from memcli.core.store.log import EventStore


class InvalidOperation(MemcliError):
    """A batch asked for something impossible (unknown id, empty text, …); nothing was written."""


@dataclass
class _BatchContext:
    store: EventStore
    namespace: str
    next_number: int

    def get(self, memory_id: str) -> Memory | None:
        return self.store.memory(self.namespace, memory_id)


def plan(store: EventStore, namespace: str, operations: Sequence[ops.Operation], actor: str) -> list[NewEvent]:
    """Turn operations into events, or raise InvalidOperation for the whole batch."""
    ctx = _BatchContext(store, namespace, store.count_added(namespace) + 1)
    out: list[NewEvent] = []
    for op in operations:
        out.extend(_plan_one(ctx, op, actor))
    return out


def _existing(ctx: _BatchContext, memory_id: str, op: ops.Operation) -> Memory:
    """The memory an operation targets; a deleted one only for Restore (and not if its text was erased)."""
    mem = ctx.get(memory_id)
    restorable = isinstance(op, ops.Restore) and mem is not None and mem.text != ""
    if mem is None or (mem.status == DELETED and not restorable):
        raise InvalidOperation(f"{type(op).__name__}: no memory {memory_id!r} in namespace {ctx.namespace!r}")
    return mem


def _plan_one(ctx: _BatchContext, op: ops.Operation, actor: str) -> list[NewEvent]:
    ns = ctx.namespace
    base = {"reason": op.reason, "scores": dict(op.scores)} if (op.reason or op.scores) else {}

    def ev(event_kind: Kind, memory_id: str | None, **payload: Any) -> NewEvent:
        return NewEvent(event_kind, {**base, **payload}, actor, ns, memory_id)

    def text_of(text: str) -> str:  # secrets are redacted by the store, for every event
        text = text.strip()
        if not text:
            raise InvalidOperation(f"{type(op).__name__}: empty memory text")
        return text

    return _plan_op(ctx, op, actor, ev, text_of)


def _plan_op(ctx: _BatchContext, op: ops.Operation, actor: str, ev: Any, text_of: Any) -> list[NewEvent]:
    ns = ctx.namespace

    match op:
        case ops.Add():
            memory_id = f"m{ctx.next_number}"
            ctx.next_number += 1
            metadata = dict(op.metadata)
            added = ev(Kind.MEMORY_ADDED, memory_id, text=text_of(op.text), kind=op.kind,
                       importance=op.importance, strength=op.strength, sources=list(op.sources),
                       metadata=metadata)
            if not op.quarantine:
                return [added]
            return [added, NewEvent(Kind.MEMORY_QUARANTINED, {"reason": op.quarantine, "scores": dict(op.scores)},
                                    actor, ns, memory_id)]
        case ops.Update() | ops.Edit():
            mem = _existing(ctx, op.memory_id, op)
            kind = Kind.MEMORY_EDITED if isinstance(op, ops.Edit) else Kind.MEMORY_UPDATED
            extra = {"sources": list(op.sources), "metadata": dict(op.metadata)} if isinstance(op, ops.Update) else {}
            return [ev(kind, mem.id, text=text_of(op.text), previous_text=mem.text, **extra)]
        case ops.Merge():
            target = _existing(ctx, op.target_id, op)
            merged = [_existing(ctx, s, op) for s in op.source_ids if s != target.id]
            sources = sorted({s for m in merged for s in m.sources})
            return [
                ev(Kind.MEMORY_MERGED, target.id, text=text_of(op.text), previous_text=target.text,
                   merged_from=[m.id for m in merged], sources=sources),
                *(NewEvent(Kind.MEMORY_ARCHIVED, {"reason": f"merged into {target.id}"}, actor, ns, m.id)
                  for m in merged),
            ]
        case ops.Delete(hard=True):
            mem = _existing(ctx, op.memory_id, op)
            return [ev(Kind.MEMORY_DELETED, mem.id, hard=True, tombstone="text erased at the user's request")]
        case ops.Archive() | ops.Delete() | ops.Quarantine():
            mem = _existing(ctx, op.memory_id, op)
            kind = {ops.Archive: Kind.MEMORY_ARCHIVED, ops.Delete: Kind.MEMORY_DELETED,
                    ops.Quarantine: Kind.MEMORY_QUARANTINED}[type(op)]
            return [ev(kind, mem.id)]
        case ops.Restore():
            mem = _existing(ctx, op.memory_id, op)
            if mem.status == ACTIVE:
                raise InvalidOperation(f"Restore: memory {mem.id!r} is already active")
            return [ev(Kind.MEMORY_RESTORED, mem.id)]
        case ops.Decay() | ops.Reinforce():
            mem = _existing(ctx, op.memory_id, op)
            kind = Kind.MEMORY_DECAYED if isinstance(op, ops.Decay) else Kind.MEMORY_REINFORCED
            extra = {"sources": list(op.sources)} if isinstance(op, ops.Reinforce) and op.sources else {}
            return [ev(kind, mem.id, strength=float(op.strength), previous=mem.strength, **extra)]
        case ops.Pin():
            mem = _existing(ctx, op.memory_id, op)
            return [ev(Kind.MEMORY_PINNED if op.pinned else Kind.MEMORY_UNPINNED, mem.id)]
        case ops.Noop():
            return [ev(Kind.MEMORY_NOOP, op.memory_id)]
    raise InvalidOperation(f"unknown operation {op!r}")
