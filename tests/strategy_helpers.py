"""Building chats for strategy tests."""

from __future__ import annotations

from pathlib import Path

from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.chat import Chat
from memcli.settings import Settings
from memcli.strategy.registry import StrategyRegistry


def chat(settings: Settings, embedder, strategy: str, params: dict | None = None, *,
         clock: SimulatedClock | None = None, dropins: Path | None = None) -> Chat:
    engine = Engine(settings, clock=clock or SimulatedClock(), embedder=embedder)
    registry = StrategyRegistry(dropins or settings.data_dir.parent / "no-dropins")
    return Chat(engine, registry, model=None, strategy=strategy, params=params, background=False)


def close(s: Chat) -> None:
    s.close()
    s.engine.close()


def texts(s: Chat, status: str = "active") -> list[str]:
    return [m.text for m in s.engine.store.memories(s.namespace, [status])]
