"""Building sessions for strategy tests."""

from __future__ import annotations

from pathlib import Path

from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.session import ChatSession
from memcli.settings import Settings
from memcli.strategy.registry import StrategyRegistry


def session(settings: Settings, embedder, strategy: str, params: dict | None = None, *,
            clock: SimulatedClock | None = None, dropins: Path | None = None) -> ChatSession:
    engine = Engine(settings, clock=clock or SimulatedClock(), embedder=embedder)
    registry = StrategyRegistry(dropins or settings.data_dir.parent / "no-dropins")
    return ChatSession(engine, registry, model=None, strategy=strategy, params=params, background=False)


def close(s: ChatSession) -> None:
    s.close()
    s.engine.close()


def texts(s: ChatSession, status: str = "active") -> list[str]:
    return [m.text for m in s.engine.store.memories(s.namespace, [status])]
