"""Forgetting curves (public: used by memorybank, by replay expectations and the TUI)."""

from __future__ import annotations

from datetime import datetime

from memcli.core.curves import retention_at
from memcli.core.projection import Memory


def retention(memory: Memory, now: datetime, unit_hours: float = 24.0) -> float:
    """Ebbinghaus retention R = exp(-Δt / S): Δt in `unit_hours` since the last recall, S = strength."""
    return retention_at(memory.strength, memory.last_access, now, unit_hours)
