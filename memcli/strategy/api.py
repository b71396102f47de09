"""Types and the base class of the strategy API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from memcli.context import ContextReport, build_context
from memcli.core import operations as ops
from memcli.errors import MemcliError
from memcli.model.base import Message

if TYPE_CHECKING:
    from memcli.strategy.view import MemoryView


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


class Strategy:
    """Base class. Subclasses set the class attributes and override the hooks they need.

    Hooks must not write anything: they return candidates, operations or hits,
    and the engine validates, logs and applies them.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, **values: Any) -> None:
        self.namespace = self.name  # where its memories live; an eval may run variants side by side
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ParamError(f"{self.name} has no parameter {', '.join(unknown)} (it has: {', '.join(known) or '-'})")
        self.p: dict[str, Any] = {n: p.default for n, p in known.items()}
        self.p.update({n: known[n].parse(v) for n, v in values.items()})

    # -- hooks -----------------------------------------------------------------------------

    def extract(self, turn: Turn, view: MemoryView) -> list[Candidate]:
        """A logged turn → candidate memories. Default: none."""
        return []

    def consolidate(self, candidates: list[Candidate], view: MemoryView) -> list[ops.Operation]:
        """Candidates + the current memories → operations. Default: add each candidate."""
        return [ops.Add(text=c.text, kind=c.kind, importance=c.importance, sources=c.sources,
                        metadata=dict(c.metadata), reason="extracted") for c in candidates]

    def decay(self, view: MemoryView) -> list[ops.Operation]:
        """Called after each turn's consolidation with `view.now`. Default: nothing decays."""
        return []

    def retrieve(self, query: str, view: MemoryView, k: int) -> Retrieval:
        """Rank memories for a query. Default: the engine's hybrid search (vector + keyword, RRF)."""
        found = view.search(query, k=k + 5)
        return Retrieval(found[:k], near_misses=found[k:], cutoff=found[k - 1].score if len(found) >= k else None)

    def recalled(self, retrieval: Retrieval, view: MemoryView) -> list[ops.Operation]:
        """Operations caused by a recall (e.g. MemoryBank's strength += 1). Default: none."""
        return []

    def build_context(
        self,
        retrieval: Retrieval,
        history: list[Message],
        user: str,
        *,
        system: str,
        count: Callable[[str], int],
        budget: int,
    ) -> ContextReport:
        """Hits + history + the user message → the messages sent to the model, within budget."""
        return build_context(system=system, memories=[h.text for h in retrieval.hits], history=history,
                             user=user, count=count, budget=budget)

    def history_window(self, messages: int | None) -> int | None:
        """How many recent messages go into the prompt, given the session's setting (None: all).

        A strategy that is its own history (full-context) answers None and cuts it itself.
        """
        return messages

    def index_options(self) -> dict[str, str]:
        """How the engine indexes this strategy's namespace: {"analyzer": "english" | "plain"}."""
        return {"analyzer": "english"}

    # -- helpers ---------------------------------------------------------------------------

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "name": cls.name, "description": cls.description, "paper": cls.paper,
            "params": [{"name": p.name, "type": p.type.__name__, "default": p.default, "min": p.min, "max": p.max,
                        "choices": list(p.choices) if p.choices else None, "help": p.help} for p in cls.params],
        }
