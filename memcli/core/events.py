"""The typed catalogue of event kinds and the Event record.

Every change in memcli is one of these, appended to the log first; all other
state is a projection of the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    MESSAGE_USER = "message.user"
    MESSAGE_ASSISTANT = "message.assistant"
    CONTEXT_BUILT = "context.built"
    CLOCK_ADVANCED = "clock.advanced"
    STRATEGY_SWITCHED = "strategy.switched"
    STRATEGY_ERROR = "strategy.error"
    MEMORY_EXTRACTED = "memory.extracted"
    MEMORY_ADDED = "memory.added"
    MEMORY_UPDATED = "memory.updated"
    MEMORY_MERGED = "memory.merged"
    MEMORY_DECAYED = "memory.decayed"
    MEMORY_REINFORCED = "memory.reinforced"
    MEMORY_ARCHIVED = "memory.archived"
    MEMORY_RESTORED = "memory.restored"
    MEMORY_DELETED = "memory.deleted"
    MEMORY_RETRIEVED = "memory.retrieved"
    MEMORY_EDITED = "memory.edited"
    MEMORY_PINNED = "memory.pinned"
    MEMORY_UNPINNED = "memory.unpinned"
    MEMORY_QUARANTINED = "memory.quarantined"
    MEMORY_NOOP = "memory.noop"
    MEMORY_REDACTED = "memory.redacted"
    MCP_CALL = "mcp.call"  # a tool call of an MCP client (the actor names it); its payload holds no user text


# Kinds that change the memory projection (the others are conversation or diagnostics).
MEMORY_STATE_KINDS = frozenset(
    k for k in Kind
    if k.value.startswith("memory.") and k not in (Kind.MEMORY_EXTRACTED, Kind.MEMORY_NOOP, Kind.MEMORY_REDACTED)
)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event before it is appended: the log gives it a sequence number and a time."""

    kind: Kind
    payload: dict[str, Any] = field(default_factory=dict)
    actor: str = "engine"
    namespace: str | None = None
    memory_id: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """An appended event. `seq` is monotonic and gap-free within one data dir. Its fields are the
    columns of the `events` table (`ts` in UTC, `batch` the seq of its batch's first event)."""

    seq: int = field(metadata={"primary": True})
    ts: datetime
    session_id: str | None
    kind: Kind
    actor: str
    namespace: str | None
    memory_id: str | None
    payload: dict[str, Any]
    batch: int
