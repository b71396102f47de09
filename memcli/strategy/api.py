"""The base class of the strategy API: the hooks a strategy overrides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar

from memcli.context import ContextReport, build_context
from memcli.core import operations as ops
from memcli.model.base import Message
from memcli.strategy.values import Candidate, Param, ParamError, Retrieval, Turn
from memcli.strategy.view import MemoryView

if TYPE_CHECKING:
    from memcli.strategy.registry import StrategyRegistry


class Strategy:
    """Base class. Subclasses set the class attributes and override the hooks they need.

    Hooks must not write anything: they return candidates, operations or hits,
    and the engine validates, logs and applies them.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, *, registry: StrategyRegistry | None = None, **values: Any) -> None:
        """`values`: parameter values (parsed by `params`). `registry`: the registry that creates
        this strategy (None when it is built by hand); a strategy that wraps another creates
        the inner one through it, so drop-ins and MEMCLI_PLUGINS apply to both."""
        self.namespace = self.name  # where its memories live; an eval may run variants side by side
        self.registry = registry
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
