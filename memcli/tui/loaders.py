"""The reads behind the workbench's views and screens, run in thread workers (never on the UI
thread): each returns plain data that a message carries to the UI, so no screen queries the store.
The memory screen's history and source turns are the store's SQL reads (`memory_history`,
`source_turns`), shared with the CLI and MCP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memcli.core.events import Event, Kind
from memcli.core.projection import Memory
from memcli.tui.messages import MemoriesSnapshot

HISTORY_MESSAGES = 50  # messages shown when the workbench opens
HISTORY_EVENTS = 500  # memory events in the feed when it opens


def memories_snapshot(store: Any, namespace: str, now: datetime) -> MemoriesSnapshot:
    memories = store.memories(namespace, None)
    states = [m for m in memories if m.kind == "state" and m.status == "active"]
    return MemoriesSnapshot(namespace, memories, now, states, {m.id: last_change(store, namespace, m.id) for m in states})


def last_change(store: Any, namespace: str, memory_id: str) -> Event | None:
    """The newest event that changed a memory's text (its adding, or an update that was not only bookkeeping)."""
    events = store.events(kinds=[Kind.MEMORY_ADDED.value, Kind.MEMORY_UPDATED.value], namespace=namespace,
                          memory_id=memory_id, newest=50)
    return next((e for e in reversed(events) if e.payload.get("text") != e.payload.get("previous_text")), None)


def history(store: Any) -> tuple[list[Any], list[Event], int]:
    """(the last messages as turns, the last memory/strategy/MCP events, the last seq they cover)."""
    from memcli.strategy.view import MESSAGE_KINDS, turn_from_event

    upto = store.last_seq  # attached: the live feed follows from here, without a gap or a repeat
    turns = [turn_from_event(e) for e in store.events(kinds=MESSAGE_KINDS, newest=HISTORY_MESSAGES, until=upto)]
    events = store.events(kinds=[k.value for k in Kind if k.value.startswith(("memory.", "strategy.", "mcp.", "clock."))],
                          until=upto)[-HISTORY_EVENTS:]
    return turns, events, upto


@dataclass
class MemoryDetail:
    memory: Memory
    versions: list
    sources: list[Event]
    events: list[Event]


def memory_detail(store: Any, namespace: str, memory_id: str) -> MemoryDetail | None:
    memory = store.memory(namespace, memory_id)
    if memory is None:
        return None
    return MemoryDetail(memory, store.versions(namespace, memory_id), store.source_turns(memory.sources),
                        store.memory_history(namespace, memory_id))


def retention(store: Any, registry: Any, namespace: str, until: datetime, memory_id: str | None = None,
              top: int = 5) -> tuple[list, float] | None:
    """memorybank's curves (this memory first, then the strongest) and its threshold; None for another strategy."""
    from memcli.core.curves import retention_curves
    from memcli.plots import NotRetention, memorybank_params

    try:
        params = memorybank_params(store, namespace, registry)
    except NotRetention:
        return None
    unit = float(params["unit_hours"])
    ids = [c.memory_id for c in retention_curves(store, namespace, unit_hours=unit, top=top, samples=1)]
    if memory_id is not None:
        ids = [memory_id] + [i for i in ids if i != memory_id][:top - 1]
    return retention_curves(store, namespace, unit_hours=unit, ids=ids, until=until), float(params["threshold"])


def strategies(registry: Any, store: Any) -> tuple[dict[str, type], set[str], dict[str, str]]:
    """(the strategies that load, by name; those whose namespace is still empty; the load problems)."""
    from memcli.errors import MemcliError

    loaded = {}
    for name in registry.names():
        try:
            loaded[name] = registry.load(name)
        except MemcliError:
            pass
    return loaded, {name for name in loaded if not store.count_added(name)}, dict(registry.problems)


@dataclass
class TimeTravel:
    """A namespace's memory events (and the message seqs its points key on), and its memories now."""

    events: list[Event]
    message_seqs: list[int]
    now_memories: dict[str, Memory]
    clock_jumps: list[Event]  # clock.advanced, logged by replays' advance/at steps


def time_travel(store: Any, namespace: str) -> TimeTravel:
    from memcli.core.asof import memory_events

    events, message_seqs = memory_events(store, namespace)
    return TimeTravel(events, message_seqs, {m.id: m for m in store.memories(namespace, None)},
                      store.events(kinds=[Kind.CLOCK_ADVANCED.value]))


def comparison(store: Any, a: str, b: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two namespaces' memories aligned by source turn, and their retrievals per question."""
    from memcli.core.compare import diff, retrievals

    return diff(store, a, b), retrievals(store, a, b)
