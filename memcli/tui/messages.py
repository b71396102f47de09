"""What the engine and the workers tell the app: Textual messages, posted from any thread and
handled on the UI thread with `@on` (workers never call UI methods).

Data flows one way: a writer appends to the log → the engine calls its subscribers once per
committed append (`Engine.subscribe`) → the app's subscriber posts `Committed` → the feed,
the chat and the views update. Whoever wrote (a turn, the memory worker, an edit, a replay
step, an MCP client seen through `memcli mcp`), the UI hears of it once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from textual.message import Message
from textual.screen import Screen

from memcli.core.events import Event
from memcli.core.projection import Memory


class ChatOpened(Message):
    """The opening worker has opened the chat (the app starts before it, see memcli.tui.run)."""

    def __init__(self, chat: Any) -> None:
        super().__init__()
        self.chat = chat


class Committed(Message):
    """Events the engine committed, in log order (one message per append)."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events


class ReplyProgress(Message):
    """The streamed reply so far (all of it, not the last piece), posted to the chat log: a newer
    copy waiting in the queue replaces an older one, so a model faster than the screen is drawn in
    as few steps as the UI keeps up with (see memcli.tui.chat)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.posted = time.monotonic()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ReplyProgress)


class ReplyEnded(Message):
    """The streamed reply is over (posted to the chat log after the last progress): `logged` is the
    reply as logged (None: none), `failed` the turn failed (the bubble goes)."""

    def __init__(self, logged: str | None, failed: bool = False) -> None:
        super().__init__()
        self.logged, self.failed = logged, failed


class TurnDone(Message):
    """The turn worker finished: `logged` is the reply as logged (None: no reply), `error` a user
    error (the prompt gets its text back), `tokens_per_s` and `cancelled` from the generation."""

    def __init__(self, text: str, logged: str | None, error: str | None = None, tokens_per_s: float = 0.0,
                 cancelled: bool = False) -> None:
        super().__init__()
        self.text, self.logged, self.error = text, logged, error
        self.tokens_per_s, self.cancelled = tokens_per_s, cancelled


class Status(Message):
    """Redraw the status bar; `loading`: its new loading note ("" clears it, None keeps it)."""

    def __init__(self, loading: str | None = None) -> None:
        super().__init__()
        self.loading = loading


@dataclass
class MemoriesSnapshot:
    """The current namespace's memories as the memories and retrieval views show them."""

    namespace: str
    memories: list[Memory]
    now: datetime
    states: list[Memory]
    changes: dict[str, Event | None]


class MemoriesLoaded(Message):
    def __init__(self, snapshot: MemoriesSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class HistoryLoaded(Message):
    """The stored conversation (last messages) and memory events, shown when the workbench opens."""

    def __init__(self, turns: list[Any], events: list[Event]) -> None:
        super().__init__()
        self.turns, self.events = turns, events


class OpenScreen(Message):
    """A screen built by a worker from data it loaded (screens receive plain data, never the store)."""

    def __init__(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        super().__init__()
        self.screen, self.callback = screen, callback
