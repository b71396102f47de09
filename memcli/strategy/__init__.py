"""The public strategy API: everything a memory-strategy plugin imports from memcli.

    from memcli.strategy import Strategy, Param, Candidate, Turn, MemoryView, Retrieval
    from memcli.strategy import ops   # Add, Update, Merge, Archive, ...

A strategy proposes; the engine disposes. Hooks receive a read-only view and
return candidates, operations or ranked hits; only the engine writes. The model
path goes through `MemoryView.ask_json` (schema-constrained JSON, the rules as
fallback); a strategy that wraps another creates it through `Strategy.registry`.
Rule-based tools live in the submodules `text`, `dates`, `statements`,
`forgetting`, `sessions` and `guard_rules`; ranking tools in `maxsim` (best-sentence scores)
and `rerank` (the chat model re-ranks hits). The built-in plugins (memcli_plugins)
import nothing else of memcli: an import-linter contract in pyproject.toml holds them to it.
"""

from memcli.context import ContextReport, build_context
from memcli.core import operations as ops
from memcli.core.projection import Memory
from memcli.model.base import ChatModel, Message, StructuredOutputError
from memcli.strategy.api import Strategy
from memcli.strategy.ask import FACTS_SCHEMA, listed_facts
from memcli.strategy.registry import StrategyLoadError, StrategyRegistry
from memcli.strategy.values import ROLES, Candidate, Hit, Param, ParamError, Retrieval, Turn
from memcli.strategy.view import MemoryView

__all__ = ["FACTS_SCHEMA", "ROLES", "Candidate", "ChatModel", "ContextReport", "Hit", "Memory", "MemoryView",
           "Message", "Param", "ParamError", "Retrieval", "Strategy", "StrategyLoadError", "StrategyRegistry",
           "StructuredOutputError", "Turn", "build_context", "listed_facts", "ops"]
