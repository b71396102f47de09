"""Operations: what a strategy (or the user, through the editor) asks the engine to do.

Strategies never write. They return these; the engine validates a whole batch,
turns it into events and appends them in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class _Op:
    reason: str = ""
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Add(_Op):
    text: str = ""
    kind: str = "fact"
    importance: float = 0.5
    strength: float = 1.0
    sources: tuple[int, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    quarantine: str = ""  # non-empty: stored quarantined, with this reason (never put into context)


@dataclass(frozen=True)
class Update(_Op):
    """Replace a memory's text; the old version is closed (valid_to), not lost."""

    memory_id: str = ""
    text: str = ""
    sources: tuple[int, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)  # merged into the memory's metadata


@dataclass(frozen=True)
class Merge(_Op):
    """Fold `source_ids` into `target_id` (new text); the sources are archived."""

    target_id: str = ""
    source_ids: tuple[str, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class Archive(_Op):
    memory_id: str = ""


@dataclass(frozen=True)
class Restore(_Op):
    memory_id: str = ""


@dataclass(frozen=True)
class Delete(_Op):
    """Mark deleted (restorable). `hard`: also erase its text from the log and the index."""

    memory_id: str = ""
    hard: bool = False


@dataclass(frozen=True)
class Decay(_Op):
    """Set a memory's strength/retention to a lower value."""

    memory_id: str = ""
    strength: float = 0.0


@dataclass(frozen=True)
class Reinforce(_Op):
    """Set a memory's strength to a higher value (a recall, or the fact stated again: `sources`)."""

    memory_id: str = ""
    strength: float = 1.0
    sources: tuple[int, ...] = ()


@dataclass(frozen=True)
class Edit(_Op):
    """A person changed the text by hand."""

    memory_id: str = ""
    text: str = ""


@dataclass(frozen=True)
class Pin(_Op):
    memory_id: str = ""
    pinned: bool = True


@dataclass(frozen=True)
class Quarantine(_Op):
    memory_id: str = ""


@dataclass(frozen=True)
class Noop(_Op):
    memory_id: str | None = None


Operation = Add | Update | Merge | Archive | Restore | Delete | Decay | Reinforce | Edit | Pin | Quarantine | Noop
