"""Injected time.

Everything that needs "now" asks a Clock, so replays can simulate weeks of
decay in milliseconds and stay deterministic.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class SimulatedClock:
    """A clock that only moves when told to (replays, tests, benchmarks)."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self._now = start if start.tzinfo else start.replace(tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        if when < self._now:
            raise ValueError(f"time cannot go backwards: {when.isoformat()} < {self._now.isoformat()}")
        self._now = when

    def advance(self, delta: timedelta | str) -> None:
        self.set(self._now + (parse_duration(delta) if isinstance(delta, str) else delta))


_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(text: str) -> timedelta:
    """Parse '3d', '1w 2d', '90m', '1.5h' into a timedelta."""
    text = text.strip().lower()
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        raise ValueError(f"not a duration: {text!r} (use e.g. '3d', '12h', '1w 2d')")
    try:
        return sum((timedelta(**{_UNITS[unit]: float(n)}) for n, unit in parts), timedelta())
    except OverflowError:
        raise ValueError(f"duration too long: {text!r}") from None
