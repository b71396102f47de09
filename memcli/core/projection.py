"""The memory projection: the current state of every memory, folded from events.

`apply_event` is the only place that knows how an event changes a memory. The
incremental path (each appended batch) and `rebuild` (the whole log) both use
it, which is why they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable

from memcli.core.events import MEMORY_STATE_KINDS, Event, Kind

ACTIVE, ARCHIVED, DELETED, QUARANTINED = "active", "archived", "deleted", "quarantined"


INT32 = {"sql": "INTEGER"}  # field metadata: a 32-bit column (the default for int is BIGINT)


@dataclass(slots=True)
class Memory:
    """One memory as the `memories` table holds it: these fields are its columns, in order
    (see `memcli.core.store.codecs`; a new field needs a migration step)."""

    namespace: str
    id: str
    text: str
    kind: str
    status: str
    strength: float
    importance: float
    pinned: bool
    created_seq: int
    updated_seq: int
    created_at: datetime
    last_access: datetime
    access_count: int = field(metadata=INT32)
    valid_from: datetime
    valid_to: datetime | None
    sources: list[int]
    version: int = field(metadata=INT32)
    metadata: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> "Memory":
        return replace(self, sources=list(self.sources), metadata=dict(self.metadata))


@dataclass(slots=True)
class MemoryVersion:
    """One text a memory had, and when it was valid. Superseded versions are closed.
    Its fields are the columns of `memory_versions`."""

    namespace: str
    id: str
    version: int = field(metadata=INT32)
    text: str
    seq: int
    valid_from: datetime
    valid_to: datetime | None


Key = tuple[str, str]


@dataclass
class ProjectionState:
    memories: dict[Key, Memory] = field(default_factory=dict)
    versions: dict[Key, list[MemoryVersion]] = field(default_factory=dict)


def touched_keys(event: Event) -> list[Key]:
    """The memories an event changes."""
    if event.kind not in MEMORY_STATE_KINDS or event.namespace is None:
        return []
    if event.kind is Kind.MEMORY_RETRIEVED:
        return [(event.namespace, h["id"]) for h in event.payload.get("hits", [])]
    return [(event.namespace, event.memory_id)] if event.memory_id else []


def _new_version(state: ProjectionState, mem: Memory, event: Event) -> None:
    versions = state.versions.setdefault((mem.namespace, mem.id), [])
    if versions and versions[-1].valid_to is None:
        versions[-1].valid_to = event.ts
    versions.append(MemoryVersion(mem.namespace, mem.id, mem.version, mem.text, event.seq, event.ts, None))


def _close(state: ProjectionState, mem: Memory, event: Event, status: str) -> None:
    mem.status = status
    mem.valid_to = event.ts
    versions = state.versions.get((mem.namespace, mem.id))
    if versions and versions[-1].valid_to is None:
        versions[-1].valid_to = event.ts


def apply_event(state: ProjectionState, event: Event) -> None:
    """Fold one event into the state (in place). Unknown memories are ignored."""
    kind, p = event.kind, event.payload
    if kind not in MEMORY_STATE_KINDS or event.namespace is None:
        return
    if kind is Kind.MEMORY_RETRIEVED:
        for key in touched_keys(event):
            mem = state.memories.get(key)
            if mem is not None:
                mem.access_count += 1
                mem.last_access = event.ts
        return
    key = (event.namespace, event.memory_id or "")
    if kind is Kind.MEMORY_ADDED:
        mem = Memory(
            namespace=event.namespace,
            id=key[1],
            text=p["text"],
            kind=p.get("kind", "fact"),
            status=ACTIVE,
            strength=float(p.get("strength", 1.0)),
            importance=float(p.get("importance", 0.5)),
            pinned=False,
            created_seq=event.seq,
            updated_seq=event.seq,
            created_at=event.ts,
            last_access=event.ts,
            access_count=0,
            valid_from=event.ts,
            valid_to=None,
            sources=sorted(set(p.get("sources", []))),
            version=1,
            metadata=dict(p.get("metadata", {})),
        )
        state.memories[key] = mem
        _new_version(state, mem, event)
        return
    mem = state.memories.get(key)
    if mem is None:
        return
    mem.updated_seq = event.seq
    if kind in (Kind.MEMORY_UPDATED, Kind.MEMORY_EDITED, Kind.MEMORY_MERGED):
        mem.text = p["text"]
        mem.version += 1
        mem.sources = sorted(set(mem.sources) | set(p.get("sources", [])))
        mem.metadata.update(p.get("metadata", {}))
        mem.valid_from = event.ts
        mem.valid_to = None
        _new_version(state, mem, event)
    elif kind in (Kind.MEMORY_DECAYED, Kind.MEMORY_REINFORCED):
        mem.strength = float(p["strength"])
        if kind is Kind.MEMORY_REINFORCED:
            mem.last_access = event.ts
            mem.sources = sorted(set(mem.sources) | set(p.get("sources", [])))
    elif kind is Kind.MEMORY_ARCHIVED:
        _close(state, mem, event, ARCHIVED)
    elif kind is Kind.MEMORY_QUARANTINED:
        _close(state, mem, event, QUARANTINED)
    elif kind is Kind.MEMORY_DELETED:
        _close(state, mem, event, DELETED)
        if p.get("hard"):
            mem.text = ""
            for v in state.versions.get(key, []):
                v.text = ""
    elif kind is Kind.MEMORY_RESTORED:
        mem.status = ACTIVE
        mem.version += 1
        mem.valid_to = None
        mem.valid_from = event.ts
        _new_version(state, mem, event)
    elif kind is Kind.MEMORY_PINNED:
        mem.pinned = True
    elif kind is Kind.MEMORY_UNPINNED:
        mem.pinned = False


_TEXT_KINDS = (Kind.MEMORY_ADDED, Kind.MEMORY_UPDATED, Kind.MEMORY_EDITED, Kind.MEMORY_MERGED)
_NUMBER = (int, float)


def fold_problem(state: ProjectionState, event: Event) -> str | None:
    """Why `event` cannot be folded into `state` as the engine would have written it, or None.

    The engine never writes such events; an imported file can hold them (hand-edited or damaged),
    and `apply_event` would then ignore or crash on them.
    """
    kind, p = event.kind, event.payload
    if kind not in MEMORY_STATE_KINDS or event.namespace is None:
        return None
    if kind is Kind.MEMORY_RETRIEVED:
        hits = p.get("hits", [])
        if not isinstance(hits, list) or not all(isinstance(h, dict) and isinstance(h.get("id"), str) for h in hits):
            return "hits must be a list of objects with an id"
        return None
    if not event.memory_id:
        return "no memory_id"
    key = (event.namespace, event.memory_id)
    if kind is Kind.MEMORY_ADDED:
        if key in state.memories:
            return f"memory {event.memory_id} was already added"
    elif key not in state.memories:
        return f"memory {event.memory_id} was never added in {event.namespace!r}"
    if kind in _TEXT_KINDS and not isinstance(p.get("text"), str):
        return "text is missing or not text"
    if kind in (Kind.MEMORY_DECAYED, Kind.MEMORY_REINFORCED) and (
            not isinstance(p.get("strength"), _NUMBER) or isinstance(p.get("strength"), bool)):
        return "strength must be a number"
    for name in ("strength", "importance"):
        if name in p and (not isinstance(p[name], _NUMBER) or isinstance(p[name], bool)):
            return f"{name} must be a number"
    if kind is Kind.MEMORY_ADDED and "kind" in p and not isinstance(p["kind"], str):
        return "kind must be text"
    if not isinstance(p.get("sources", []), list) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in p.get("sources", [])):
        return "sources must be a list of event numbers"
    if not isinstance(p.get("metadata", {}), dict):
        return "metadata must be an object"
    return None


def fold(events: Iterable[Event], state: ProjectionState | None = None) -> ProjectionState:
    state = state or ProjectionState()
    for event in events:
        apply_event(state, event)
    return state
