"""Wiring: settings → engine + model + strategy registry + chat session (used by the CLI and the TUI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from memcli.clock import Clock
from memcli.core.events import Event
from memcli.engine import Engine
from memcli.model.base import ChatModel
from memcli.model.factory import build_chat_model, history_messages
from memcli.chat import Chat
from memcli.settings import Settings
from memcli.strategy.registry import StrategyRegistry


def open_chat(
    settings: Settings,
    *,
    strategy: str | None = None,
    params: dict[str, Any] | None = None,
    with_model: bool = True,
    cassette: Path | None = None,
    cassette_mode: str = "auto",
    clock: Clock | None = None,
    background: bool = True,
    on_event: Callable[[Event], None] | None = None,
) -> Chat:
    """Open the data dir for writing and start a session; nothing heavy is loaded yet."""
    engine = Engine(settings, clock=clock)
    try:
        model: ChatModel | None = (
            build_chat_model(settings, cassette=cassette, mode=cassette_mode) if with_model else None  # type: ignore[arg-type]
        )
        return Chat(engine, StrategyRegistry(), model=model, strategy=strategy or settings.strategy,
                           params=params, llm_memory=settings.llm_memory,
                           history_messages=history_messages(settings, model),
                           background=background, on_event=on_event)
    except BaseException:
        engine.close()
        raise


def close_chat(chat: Chat) -> None:
    chat.close()
    chat.engine.close()
