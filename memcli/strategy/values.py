"""The value types of the strategy API: parameters, turns, candidates, hits, retrievals.

They hold data only and import nothing of memcli but the error base, so the base class
(api.py) and the read-only view (view.py) both build on them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memcli.errors import MemcliError


class ParamError(MemcliError):
    """A strategy parameter is unknown or out of range."""


@dataclass(frozen=True)
class Param:
    """A typed, documented strategy parameter that the CLI and the TUI can list and set."""

    name: str
    type: type
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None

    def parse(self, value: Any) -> Any:
        try:
            if self.type is bool and isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError(value)
                v: Any = value.lower() in ("true", "1", "yes", "on")
            else:
                v = self.type(value)
        except (TypeError, ValueError):
            raise ParamError(f"{self.name}: {value!r} is not a {self.type.__name__}") from None
        if self.min is not None and v < self.min or self.max is not None and v > self.max:
            raise ParamError(f"{self.name}: {v} is outside [{self.min}, {self.max}]")
        if self.choices is not None and v not in self.choices:
            raise ParamError(f"{self.name}: {v!r} is not one of {', '.join(map(str, self.choices))}")
        return v


@dataclass(frozen=True)
class Turn:
    """One message of the conversation, as logged (`seq` is its event's sequence number)."""

    seq: int
    role: str  # "user" or "assistant"
    text: str
    ts: datetime
    speaker: str = ""  # a display name ("Ada"); empty means the role
    session_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def who(self) -> str:
        """The speaker's name, or "User" / "Assistant"."""
        return self.speaker or self.role.capitalize()

    def stored_for(self, roles: str) -> bool:
        """Whether a strategy with the `roles` parameter keeps this message as a memory.

        "people": what people said, the user's messages and a named speaker's in an imported
        conversation (LoCoMo's two speakers), never the model's own replies, which fed back
        as memories about the user make a model copy itself; "user"; "both".
        """
        if roles == "both":
            return True
        return self.role == "user" or (roles == "people" and bool(self.speaker))


@dataclass(frozen=True)
class Candidate:
    """A memory proposed by `extract`, before consolidation decides what to do with it."""

    text: str
    kind: str = "fact"
    importance: float = 0.5
    sources: tuple[int, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


ROLES = Param("roles", str, "people", "Which messages become memories: people (the user, and named speakers of an "
              "imported conversation; not the model's replies), user, or both.", choices=("people", "user", "both"))


@dataclass(frozen=True)
class Hit:
    """A retrieved memory with the parts of its score (vector, keyword, recency, rerank, …)."""

    memory_id: str
    text: str
    score: float
    parts: dict[str, float] = field(default_factory=dict)
    sources: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.memory_id, "text": self.text, "score": round(self.score, 6),
                "parts": {k: round(v, 6) for k, v in self.parts.items()}, "sources": list(self.sources)}


@dataclass
class Retrieval:
    """What `retrieve` found: the hits above the cutoff and the near-misses just below it."""

    hits: list[Hit]
    near_misses: list[Hit] = field(default_factory=list)
    cutoff: float | None = None
    note: str = ""
    cutoff_on: str | None = None  # the hit part the cutoff compares (e.g. "vector", a cosine); None: the score
