"""Curves over a namespace's history, read off the event log (plots draw them; nothing here draws).

- memorybank's retention R = exp(-Δt/S) of each memory over time: S and the last recall come
  from folding the namespace's events (added, reinforced, retrieved, archived…), exactly as the
  projection does, so a curve is what the strategy saw when it decided to keep or archive.
- the number of memories per status after each user turn of the conversation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from memcli.core.asof import MESSAGES, event_turn, memory_events
from memcli.core.events import Kind
from memcli.core.projection import ACTIVE, ARCHIVED, DELETED, QUARANTINED, Memory, ProjectionState, apply_event, \
    touched_keys

STATUSES = (ACTIVE, ARCHIVED, DELETED, QUARANTINED)


def retention_at(strength: float, last_access: datetime, now: datetime, unit_hours: float = 24.0) -> float:
    """Ebbinghaus retention R = exp(-Δt / S): Δt in `unit_hours` since the last recall, S = strength."""
    dt = max(0.0, (now - last_access).total_seconds() / 3600.0 / unit_hours)
    return math.exp(-dt / max(strength, 1e-9))


@dataclass
class Curve:
    """One memory's retention over time: (time, R) points, with a jump where a recall resets Δt;
    it ends where the memory stopped being active (`ended`: archived, deleted or quarantined)."""

    memory_id: str
    text: str
    strength: float
    points: list[tuple[datetime, float]] = field(default_factory=list)
    ended: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.memory_id, "text": self.text, "strength": self.strength, "ended": self.ended,
                "points": [{"t": t.isoformat(), "retention": round(r, 6)} for t, r in self.points]}


def _changes(events: list) -> dict[str, list[tuple[datetime, Memory]]]:
    """Each memory's state after every event that touched it, with the event's time, in log order."""
    state = ProjectionState()
    out: dict[str, list[tuple[datetime, Memory]]] = defaultdict(list)
    for e in events:
        apply_event(state, e)
        for key in touched_keys(e):
            mem = state.memories.get(key)
            if mem is not None:
                out[key[1]].append((e.ts, mem.copy()))
    return out


def _rank(history: list[tuple[datetime, Memory]]) -> tuple:
    last = history[-1][1]
    return (-last.strength, -len(history), last.created_seq)


def retention_curves(store: Any, namespace: str, *, unit_hours: float = 24.0, top: int = 5,
                     ids: list[str] | None = None, samples: int = 120, until: datetime | None = None) -> list[Curve]:
    """The retention curves of `ids`, or of the `top` memories (strongest at the end, then the most
    often touched, then the oldest), from the namespace's first memory event to `until` (default: its last)."""
    events, _ = memory_events(store, namespace)
    changes = _changes(events)
    if ids is not None:
        unknown = [i for i in ids if i not in changes]
        if unknown:
            raise KeyError(f"no memory {', '.join(unknown)} in {namespace}")
        chosen = list(ids)
    else:
        chosen = sorted(changes, key=lambda mid: _rank(changes[mid]))[:top]
    if not chosen:
        return []
    start = min(changes[mid][0][0] for mid in chosen)
    end = max(until or events[-1].ts, start)
    step = (end - start) / max(samples - 1, 1)
    grid = [start + step * i for i in range(samples)] if step > timedelta(0) else [start]
    return [_dedupe(_curve(changes[mid], grid, end, unit_hours)) for mid in chosen]


def _curve(history: list[tuple[datetime, Memory]], grid: list[datetime], end: datetime, unit_hours: float) -> Curve:
    """Sample R on the grid with the state in effect at each time; at each change, R just before and after it."""
    last = history[-1][1]
    curve = Curve(last.id, last.text, last.strength)
    r = lambda m, t: retention_at(m.strength, m.last_access, t, unit_hours)  # noqa: E731
    for k, (since, state) in enumerate(history):
        if k:
            before = history[k - 1][1]
            curve.points.append((since, r(before, since)))
            if state.status != ACTIVE:
                curve.ended = state.status
                return curve
        curve.points.append((since, r(state, since)))
        until = history[k + 1][0] if k + 1 < len(history) else end
        curve.points += [(t, r(state, t)) for t in grid if since < t < until or (t == until == end and t > since)]
    if last.status != ACTIVE:
        curve.ended = last.status
    return curve


def _dedupe(curve: Curve) -> Curve:
    """One point per (time, R): a recall logs a retrieval and a reinforcement at the same time."""
    points: list[tuple[datetime, float]] = []
    for p in curve.points:
        if not points or (p[0], round(p[1], 9)) != (points[-1][0], round(points[-1][1], 9)):
            points.append(p)
    curve.points = points
    return curve


def status_counts(store: Any, namespace: str) -> list[dict[str, Any]]:
    """How many memories had each status after each user turn ("turn N", as in time travel).

    Events are folded turn by turn (each event keyed on the turn it belongs to, core/asof.py),
    so a backfilled namespace counts like a live one."""
    events, message_seqs = memory_events(store, namespace)
    users = [e for e in store.events(kinds=list(MESSAGES)) if e.kind is Kind.MESSAGE_USER]
    by_turn: dict[int, list] = defaultdict(list)
    for e in events:
        by_turn[event_turn(e, message_seqs)].append(e)
    turns = sorted(by_turn)
    state, rows, done = ProjectionState(), [], 0
    for n, user in enumerate(users, 1):
        last = users[n].seq - 1 if n < len(users) else None  # the reply belongs to the user's turn
        while done < len(turns) and (last is None or turns[done] <= last):
            for e in by_turn[turns[done]]:
                apply_event(state, e)
            done += 1
        counts = dict.fromkeys(STATUSES, 0)
        for m in state.memories.values():
            counts[m.status] += 1
        rows.append({"turn": n, "message": user.seq, "ts": user.ts.isoformat(), **counts})
    return rows
