"""Forgetting curves (public: used by memorybank, by replay expectations and the TUI)."""

from __future__ import annotations

import math
from datetime import datetime

from memcli.core.projection import Memory


def retention(memory: Memory, now: datetime, unit_hours: float = 24.0) -> float:
    """Ebbinghaus retention R = exp(-Δt / S): Δt in `unit_hours` since the last recall, S = strength."""
    dt = max(0.0, (now - memory.last_access).total_seconds() / 3600.0 / unit_hours)
    return math.exp(-dt / max(memory.strength, 1e-9))
