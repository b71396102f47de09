"""Where one conversation session ends and the next begins (RMM and MemGAS reflect per session)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memcli.strategy.values import Turn
    from memcli.strategy.view import MemoryView


def opens_session(turn: Turn, view: MemoryView, gap_hours: float) -> bool:
    """Whether `turn` starts a new session: the message before it was written by another run of
    memcli, or `gap_hours` or more before it (a LoCoMo import has a date per session)."""
    before = [t for t in view.turns(limit=2) if t.seq < turn.seq]
    if not before:
        return False
    previous = before[-1]
    if previous.session_id != turn.session_id:
        return True
    return (turn.ts - previous.ts).total_seconds() >= gap_hours * 3600
