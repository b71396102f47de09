"""The public strategy API: what a memory-strategy plugin imports.

    from memcli.strategy import Strategy, Param, Candidate, Turn, MemoryView, Retrieval
    from memcli.strategy import ops   # Add, Update, Merge, Archive, ...

A strategy proposes; the engine disposes. Hooks receive a read-only view and
return candidates, operations or ranked hits; only the engine writes.
"""

from memcli.core import operations as ops
from memcli.core.projection import Memory
from memcli.strategy.api import ROLES, Candidate, Hit, Param, ParamError, Retrieval, Strategy, Turn
from memcli.strategy.view import MemoryView

__all__ = ["ROLES", "Candidate", "Hit", "Memory", "MemoryView", "Param", "ParamError", "Retrieval", "Strategy", "Turn", "ops"]
