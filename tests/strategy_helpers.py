"""Building chats for strategy tests."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from memcli.chat import Chat, open_chat
from memcli.clock import SimulatedClock
from memcli.settings import Settings
from memcli.strategy.registry import StrategyRegistry

_opened: dict[int, ExitStack] = {}  # id(chat) → what closes it (open_chat's exit)


def chat(settings: Settings, embedder, strategy: str, params: dict | None = None, *,
         clock: SimulatedClock | None = None, dropins: Path | None = None) -> Chat:
    """A chat opened as production opens one (`open_chat`), memory work in the calling thread."""
    stack = ExitStack()
    opened = stack.enter_context(open_chat(
        settings, strategy=strategy, params=params, clock=clock or SimulatedClock(), embedder=embedder,
        registry=StrategyRegistry(dropins or settings.data_dir.parent / "no-dropins"), background=False))
    _opened[id(opened)] = stack
    return opened


def close(s: Chat) -> None:
    _opened.pop(id(s)).close()


def texts(s: Chat, status: str = "active") -> list[str]:
    return [m.text for m in s.engine.store.memories(s.namespace, [status])]
