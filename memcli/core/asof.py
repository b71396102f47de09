"""As of a turn: a namespace's memories as they were after some point of the conversation.

A backfill writes a namespace's events long after the turns they come from, with new
sequence numbers, so "as of event 50" cannot mean "seq <= 50" for it. Every memory event
is keyed on the *turn* it belongs to instead (the message seq it was processed for: the
`turn` the session stamps on it, else its newest source turn, else the last message
logged before it), and a point in the conversation is turned into a turn: an event
number (its turn, up to that event: the events of earlier turns, and of its own turn
those logged before it), "turn N" (the N-th user message and its reply), or a time (an
ISO date, "2 days ago": the last message said by then).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from memcli.clock import parse_duration
from memcli.core.events import MEMORY_STATE_KINDS, Event, Kind
from memcli.core.projection import ProjectionState, fold
from memcli.errors import MemcliError

MESSAGES = (Kind.MESSAGE_USER.value, Kind.MESSAGE_ASSISTANT.value)
_TURN = re.compile(r"^(?:turn\s*|t)(\d+)$")
_AGO = re.compile(r"^(.+?)\s+ago$")


class AsOfError(MemcliError):
    """A point in the conversation that cannot be read (the message is the one line to show)."""


@dataclass(frozen=True)
class Point:
    """A resolved point: the last turn (message seq) it includes, and how it was read.
    For an event number (`seq`), the events of that same turn in the event's own namespace
    count only up to it (other namespaces, a backfilled one, get the whole turn)."""

    turn: int
    label: str
    seq: int | None = None
    namespace: str | None = None

    def includes(self, event: Event, message_seqs: list[int]) -> bool:
        turn = event_turn(event, message_seqs)
        return turn < self.turn or (turn == self.turn and (
            self.seq is None or event.namespace != self.namespace or event.seq <= self.seq))


def event_turn(event: Event, message_seqs: list[int]) -> int:
    """The message seq an event belongs to."""
    if event.kind.value in MESSAGES:
        return event.seq
    if isinstance(event.payload.get("turn"), int):
        return event.payload["turn"]
    sources = event.payload.get("sources") or []
    if sources:
        return max(sources)
    i = bisect.bisect_right(message_seqs, event.seq)
    return message_seqs[i - 1] if i else 0


def resolve(store: Any, text: str, now: datetime) -> Point:
    """Read an event number, "turn N" / "tN", an ISO date or "<duration> ago" as a turn."""
    value = text.strip().lower()
    messages = store.events(kinds=MESSAGES)
    seqs = [m.seq for m in messages]
    if value.lstrip("#").isdigit():
        seq = int(value.lstrip("#"))
        found = store.events(since=seq - 1, until=seq)
        if not found:
            raise AsOfError(f"there is no event #{seq} (the log ends at #{store.last_seq})")
        turn = event_turn(found[0], seqs)
        if turn == seq:  # a message: its turn, whole
            return Point(turn, f"event #{seq}")
        return Point(turn, f"event #{seq} (in the turn of message #{turn})", seq, found[0].namespace)
    match = _TURN.match(value)
    if match:
        n = int(match.group(1))
        users = [i for i, m in enumerate(messages) if m.kind is Kind.MESSAGE_USER]
        if not 1 <= n <= len(users):
            raise AsOfError(f"turn {n} does not exist: the conversation has {len(users)} user turns")
        end = users[n] - 1 if n < len(users) else len(messages) - 1  # the reply belongs to the turn
        return Point(messages[end].seq, f"turn {n} (message #{messages[end].seq})")
    when = _when(value, now)
    earlier = [m.seq for m in messages if m.ts <= when]
    if not earlier:
        raise AsOfError(f"nothing was said before {when.isoformat(timespec='minutes')}")
    return Point(earlier[-1], f"{when.isoformat(timespec='minutes')} (message #{earlier[-1]})")


def _when(value: str, now: datetime) -> datetime:
    ago = _AGO.match(value)
    if ago:
        try:
            return now - parse_duration(ago.group(1).replace("days", "d").replace("day", "d")
                                        .replace("hours", "h").replace("hour", "h")
                                        .replace("weeks", "w").replace("week", "w")
                                        .replace("minutes", "m").replace("minute", "m"))
        except ValueError:
            pass
    try:
        when = datetime.fromisoformat(value.upper() if "t" in value else value)
    except ValueError:
        raise AsOfError(f"not a point in the conversation: {value!r} (use an event number, 'turn 12', "
                        "an ISO date or '2 days ago')") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def memory_events(store: Any, namespace: str | None = None) -> tuple[list[Event], list[int]]:
    """The events that change memories (of one namespace or all), and the message seqs."""
    kinds = [k.value for k in MEMORY_STATE_KINDS]
    return store.events(kinds=kinds, namespace=namespace), [m.seq for m in store.events(kinds=MESSAGES)]


def state_as_of(store: Any, point: Point, namespace: str | None = None) -> ProjectionState:
    """The memories after every event the point includes, folded in log order."""
    events, seqs = memory_events(store, namespace)
    return fold(e for e in events if point.includes(e, seqs))
